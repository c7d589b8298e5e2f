//! `new <name> [--from REV] [--branch B] [--up]`: make a sandbox and print its path.

use anyhow::Result;

use crate::cli::NewArgs;
use crate::commands::Ctx;
use crate::config::{self, Config};
use crate::error::UserError;
use crate::git::Repo;
use crate::names;
use crate::registry::{Kind, Registry};
use crate::sandbox::{self, CreateSpec};
use crate::ui;

pub fn run(ctx: &Ctx, args: NewArgs) -> Result<i32> {
    // A Ctrl-C now stops at the next step and undoes the creation, instead of leaving half.
    crate::interrupt::catch();
    let (repo, cfg) = ctx.repo_config()?;
    let created = create_named(
        &repo,
        &cfg,
        &ctx.reg,
        &args.name,
        args.branch,
        args.from.as_deref(),
    )?;
    report_created(&created);
    print_created(&cfg, &created, args.json)?;
    if args.up {
        return super::services::up_instance(&repo, &cfg, &created.instance, false);
    }
    Ok(0)
}

/// Makes the sandbox `name` (slugged) on `branch` (default: the slug), starting a new branch
/// at `from`: what `new` does, shared with the agent hook.
pub fn create_named(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    name: &str,
    branch: Option<String>,
    from: Option<&str>,
) -> Result<sandbox::Created> {
    let slug = names::slugify(name)?;
    if slug == "local-prod" {
        return Err(
            UserError::usage("the name local-prod is reserved for the slot-0 singleton")
                .hint("use `git sandbox local-prod new`, or pick another name")
                .into(),
        );
    }
    let id = repo.instance_id(&slug);
    let path = config::expand_template(&cfg.path_template, &repo.root, &repo.name, &slug, &id);
    if path.starts_with(&repo.root) || path.starts_with(&repo.common_dir) {
        return Err(UserError::new(format!(
            "the sandbox path {} is inside the repository",
            path.display()
        ))
        .hint("set `path` in .sandbox.toml to a place outside the repo, e.g. \"../{repo}--{name}\"")
        .into());
    }
    let branch = branch.unwrap_or_else(|| slug.clone());
    let start = sandbox::start_point(repo, &branch, from)?;
    let spec = CreateSpec {
        kind: Kind::Sandbox,
        name: slug,
        id,
        path,
        branch,
        created_branch: start.is_some(),
        start,
        restoring: None,
        progress: ui::progress(),
    };
    sandbox::create(repo, cfg, reg, &spec)
}

/// `adopt PATH [--name N]`: register a worktree made by hand.
pub fn adopt(ctx: &Ctx, args: crate::cli::AdoptArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let path = ctx.cwd.join(&args.path);
    let name = match &args.name {
        Some(n) => names::slugify(n)?,
        None => {
            let base = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let plain = format!("{}--", names::id_part(&repo.name));
            let base = base
                .strip_prefix(&format!("{}--", repo.name))
                .or_else(|| base.strip_prefix(&plain))
                .unwrap_or(&base)
                .to_string();
            names::slugify(&base)?
        }
    };
    if name == "local-prod" {
        return Err(UserError::usage("the name local-prod is reserved")
            .hint("pass --name")
            .into());
    }
    let created = sandbox::adopt(&repo, &cfg, &ctx.reg, &path, &name)?;
    report_created(&created);
    print_created(&cfg, &created, args.json)?;
    Ok(0)
}

/// The data on stdout: the new sandbox's path, or with `--json` the sandbox as JSON.
fn print_created(cfg: &config::Config, created: &sandbox::Created, json: bool) -> Result<()> {
    if json {
        crate::json::print(&crate::json::sandbox::New::of(cfg, created)?)
    } else {
        ui::out(&created.instance.path.display().to_string());
        Ok(())
    }
}

/// Tells the user what `create` made and which slots it skipped.
pub fn report_created(created: &sandbox::Created) {
    report_warnings(created);
    for (slot, busy) in &created.skipped {
        let ports: Vec<String> = busy
            .iter()
            .map(|p| format!("{} ({})", p.port, p.label()))
            .collect();
        ui::info(&format!(
            "skipped slot {slot}: port(s) busy: {}",
            ports.join(", ")
        ));
    }
    let i = &created.instance;
    ui::info(&format!(
        "{} sandbox {} (slot {}) on branch {}",
        ui::paint_err(ui::Style::Green, "created"),
        i.name,
        i.slot,
        i.branch.as_deref().unwrap_or("?"),
    ));
}

/// Warns about what `create` left out (a `copy` entry through a symlink).
pub fn report_warnings(created: &sandbox::Created) {
    for w in &created.warnings {
        ui::warn(w);
    }
}
