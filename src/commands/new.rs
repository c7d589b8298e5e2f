//! `new <name> [--from REV] [--branch B] [--up] [--pr N] [-- CMD…]`: make a sandbox and print
//! its path; with a CMD, print the path on stderr and become CMD inside the sandbox.

use anyhow::Result;

use crate::cli::NewArgs;
use crate::commands::Ctx;
use crate::config::{self, Config};
use crate::error::UserError;
use crate::git::Repo;
use crate::names::{self, NewName};
use crate::pr;
use crate::registry::Kind;
use crate::sandbox::{self, CreateSpec};
use crate::ui;

pub fn run(ctx: &Ctx, args: NewArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let name = new_name(&args)?;
    let id = sandbox::free_id(&repo, &ctx.reg.load()?, &name.slug);
    let path = sandbox_path(&repo, &cfg, &name.slug, &id)?;
    let (branch, start) = match args.pr {
        Some(n) => {
            let pr = pr::take_in(&repo, n)?;
            (pr.branch, pr.start)
        }
        None => {
            let branch = args.branch.clone().unwrap_or(name.branch);
            let start = sandbox::start_point(&repo, &branch, args.from.as_deref())?;
            (branch, start)
        }
    };
    let spec = CreateSpec {
        kind: Kind::Sandbox,
        name: name.slug,
        id,
        path,
        branch,
        created_branch: start.is_some(),
        start,
        restoring: None,
        progress: ui::progress(),
    };
    let created = sandbox::create(&repo, &cfg, &ctx.reg, &spec)?;
    report_created(&created);
    let inst = &created.instance;
    if args.command.is_empty() {
        ui::out(&inst.path.display().to_string());
    } else {
        ui::info(&inst.path.display().to_string());
    }
    if args.up {
        let code = super::services::up_instance(&repo, &cfg, inst, false)?;
        if code != 0 {
            return Ok(code);
        }
    }
    if args.command.is_empty() {
        return Ok(0);
    }
    let vars = crate::env::vars(&cfg, inst)?;
    let err = crate::launch::exec(&args.command, &inst.path, &vars);
    Err(super::services::cannot_start(&args.command, &err)
        .hint(format!(
            "the sandbox {} was kept at {}; `git sandbox rm {}` removes it",
            inst.name,
            inst.path.display(),
            inst.name
        ))
        .into())
}

/// The slug and branch: the name as written (`names::for_new`), or with `--pr N` the branch
/// `pr-N` and the name (default `pr-N`) only as the sandbox's name.
fn new_name(args: &NewArgs) -> Result<NewName> {
    let name = match (&args.name, args.pr) {
        (_, Some(n)) => NewName {
            slug: names::slugify(args.name.as_deref().unwrap_or(&pr::branch_name(n)))?,
            branch: pr::branch_name(n),
        },
        (Some(name), None) => names::for_new(name)?,
        (None, None) => {
            return Err(UserError::usage("no name given")
                .hint("git sandbox new NAME, or git sandbox new --pr N")
                .into());
        }
    };
    if name.slug == "local-prod" {
        return Err(
            UserError::usage("the name local-prod is reserved for the slot-0 singleton")
                .hint("use `git sandbox local-prod new`, or pick another name")
                .into(),
        );
    }
    Ok(name)
}

/// Where the sandbox goes: the path template, outside the repository, not taken (checked
/// before anything is fetched; `create` checks again).
fn sandbox_path(repo: &Repo, cfg: &Config, slug: &str, id: &str) -> Result<std::path::PathBuf> {
    let path = config::expand_template(&cfg.path_template, &repo.root, &repo.name, slug, id);
    if path.starts_with(&repo.root) || path.starts_with(&repo.common_dir) {
        return Err(UserError::new(format!(
            "the sandbox path {} is inside the repository",
            path.display()
        ))
        .hint("set `path` in .sandbox.toml to a place outside the repo, e.g. \"../{repo}--{name}\"")
        .into());
    }
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(UserError::new(format!("{} already exists", path.display()))
            .hint("remove or rename it, pick another name, or set `path` in .sandbox.toml")
            .into());
    }
    Ok(path)
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
    ui::out(&created.instance.path.display().to_string());
    Ok(0)
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
