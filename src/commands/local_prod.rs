//! `local-prod new|up|down|status|logs|rm`: the slot-0 singleton of a repo.
//!
//! Every subcommand acts on the **registered** local-prod of the current repo, wherever it is
//! run from (the predecessor destroyed a sandbox by acting on the current directory), and
//! names the path it acts on when the current directory is elsewhere.

use anyhow::Result;

use crate::cli::{LocalProdCommand, LocalProdNewArgs};
use crate::commands::{Ctx, rm, services};
use crate::config::{self, Config};
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{Instance, Kind};
use crate::sandbox::{self, CreateSpec};
use crate::trust::Consent;
use crate::ui;

fn registered(ctx: &Ctx, repo: &Repo) -> Result<Instance> {
    let data = ctx.reg.load()?;
    let found = data
        .of_repo(&repo.root)
        .find(|i| i.kind == Kind::LocalProd)
        .cloned();
    let inst = found.ok_or_else(|| {
        UserError::new(format!("{} has no local-prod", repo.root.display()))
            .hint("make one with `git sandbox local-prod new`")
    })?;
    if !ctx.cwd.starts_with(&inst.path) {
        ui::info(&format!("local-prod at {}", inst.path.display()));
    }
    // Its stack is on the engine recorded at its last `up`.
    crate::engine::select_for(&inst);
    Ok(inst)
}

pub fn run(ctx: &Ctx, cmd: LocalProdCommand) -> Result<i32> {
    let repo = ctx.repo()?;
    let cfg = config_for(ctx, &repo, &cmd)?;
    match cmd {
        LocalProdCommand::New(a) => create(ctx, &repo, &cfg, a),
        LocalProdCommand::Up => {
            let inst = registered(ctx, &repo)?;
            services::up_instance(&repo, &cfg, &inst, false)
        }
        LocalProdCommand::Down(a) => {
            let inst = registered(ctx, &repo)?;
            services::down_instance(&repo, &cfg, &inst, a.volumes)
        }
        LocalProdCommand::Logs(a) => {
            let inst = registered(ctx, &repo)?;
            let mut args = vec!["logs"];
            if a.follow {
                args.push("--follow");
            }
            services::compose_run(&repo, &cfg, &inst, &args)
        }
        LocalProdCommand::Status(a) => {
            let inst = registered(ctx, &repo)?;
            super::list::show(&inst, None, a.json)
        }
        LocalProdCommand::Rm(a) => {
            let inst = registered(ctx, &repo)?;
            rm::remove(ctx, &repo, &cfg, &inst, a)
        }
    }
}

/// The config a subcommand runs with: `down` and `rm` take a broken config's safe stand-ins,
/// the rest need the file. `new` uses the config's path and copies (asked on a terminal),
/// `rm` its disposable patterns (only if approved before: its `--yes` confirms the removal,
/// nothing else).
fn config_for(ctx: &Ctx, repo: &Repo, cmd: &LocalProdCommand) -> Result<Config> {
    let mut cfg = match cmd {
        LocalProdCommand::Down(_) | LocalProdCommand::Rm(_) => Config::load_or_safe(&repo.root),
        _ => Config::load(&repo.root)?,
    };
    let consent = match cmd {
        LocalProdCommand::New(_) => Some(Consent::default()),
        LocalProdCommand::Rm(_) => Some(Consent::stored_only()),
        _ => None,
    };
    if let Some(consent) = consent {
        crate::trust::settle(&mut cfg, repo, &ctx.reg, consent);
    }
    Ok(cfg)
}

/// `local-prod new`: one per repo, at the config's `local_prod.path`, on its own branch.
fn create(ctx: &Ctx, repo: &Repo, cfg: &Config, a: LocalProdNewArgs) -> Result<i32> {
    let data = ctx.reg.load()?;
    if let Some(i) = data.of_repo(&repo.root).find(|i| i.kind == Kind::LocalProd) {
        return Err(UserError::new(format!(
            "this repo already has a local-prod at {}",
            i.path.display()
        ))
        .hint("there is one per repo; `git sandbox local-prod rm` removes it")
        .into());
    }
    // Unique per user: another repo whose directory has this name may have one too.
    let id = sandbox::free_id(repo, &data, "local-prod");
    let path = config::expand_template(
        &cfg.local_prod_path,
        &repo.root,
        &repo.name,
        "local-prod",
        &id,
    );
    let branch = a.branch.unwrap_or_else(|| "local-prod".into());
    let start = sandbox::start_point(repo, &branch, a.from.as_deref())?;
    let spec = CreateSpec {
        kind: Kind::LocalProd,
        name: "local-prod".into(),
        id,
        path,
        branch,
        created_branch: start.is_some(),
        start,
        restoring: None,
        detach: false,
        progress: ui::progress(),
        made_by: crate::registry::MadeBy::User,
    };
    let created = sandbox::create(repo, cfg, &ctx.reg, &spec)?;
    super::new::report_warnings(&created);
    ui::info(&format!(
        "created local-prod (slot 0) on branch {}",
        created.instance.branch.as_deref().unwrap_or("?")
    ));
    ui::out(&created.instance.path.display().to_string());
    Ok(0)
}
