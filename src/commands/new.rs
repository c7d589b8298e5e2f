//! `new <name> [--from REV] [--branch B] [--up] [--pr N] [-- CMD…]`: make a sandbox and print
//! its path; with a CMD, print the path on stderr and become CMD inside the sandbox.

use anyhow::Result;

use std::path::{Path, PathBuf};

use crate::cli::NewArgs;
use crate::commands::Ctx;
use crate::config::{self, Config};
use crate::error::UserError;
use crate::git::{self, Repo};
use crate::names::{self, NewName};
use crate::pr;
use crate::registry::{Kind, MadeBy, Registry};
use crate::sandbox::{self, CreateSpec};
use crate::ui;

pub fn run(ctx: &Ctx, args: NewArgs) -> Result<i32> {
    // A Ctrl-C now stops at the next step and undoes the creation, instead of leaving half.
    crate::interrupt::catch();
    let (repo, mut cfg) = ctx.repo_config()?;
    let name = new_name(&args)?;
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, consent(args.setup));
    let created = create(ctx, &repo, &cfg, &args, name)?;
    report_created(&created);
    let inst = &created.instance;
    if args.command.is_empty() {
        print_created(&cfg, &created, args.json)?;
    } else {
        ui::info(&inst.path.display().to_string());
    }
    if !set_up(&repo, &cfg, &ctx.reg, inst, args.setup) {
        // Kept, as the user may want to look inside; not started, and not "done".
        return Ok(1);
    }
    if args.up {
        let code = super::services::up_instance_with(
            &repo,
            &cfg,
            inst,
            &super::services::Up {
                seed: !args.no_seed,
                ..super::services::Up::plain(false)
            },
        )?;
        if code != 0 || args.command.is_empty() {
            return Ok(code);
        }
    }
    if args.command.is_empty() {
        return Ok(0);
    }
    become_command(&cfg, inst, &args.command)
}

/// Creates the sandbox `new` asked for: from a pull request (`--pr`), or on its branch.
fn create(
    ctx: &Ctx,
    repo: &Repo,
    cfg: &Config,
    args: &NewArgs,
    name: NewName,
) -> Result<sandbox::Created> {
    let (branch, start) = match args.pr {
        Some(n) => {
            // Checked before anything is fetched; `create` checks again.
            let id = sandbox::free_id(repo, &ctx.reg.load()?, &name.slug);
            sandbox_path(repo, cfg, &name.slug, &id)?;
            let pr = pr::take_in(repo, n)?;
            (pr.branch, pr.start)
        }
        None => {
            let branch = args.branch.clone().unwrap_or(name.branch);
            let start = start_for(repo, &branch, args.from.as_deref(), &ctx.cwd)?;
            (branch, start)
        }
    };
    create_at(repo, cfg, &ctx.reg, &name.slug, branch, start, MadeBy::User)
}

/// Becomes `command` inside the sandbox; returns only if it cannot be started.
fn become_command(
    cfg: &Config,
    inst: &crate::registry::Instance,
    command: &[String],
) -> Result<i32> {
    let vars = crate::env::vars(cfg, inst)?;
    // The command (an agent, a dev server) runs git at once: no helper of ours holds the
    // index's lock under it.
    crate::git::stop_heal_helper(&inst.path);
    let err = crate::launch::exec(command, &inst.path, &vars);
    Err(super::services::cannot_start(command, &err)
        .hint(format!(
            "the sandbox {} was kept at {}; `git sandbox rm {}` removes it",
            inst.name,
            inst.path.display(),
            inst.name
        ))
        .into())
}

/// The project's setup commands in the new sandbox (`--no-setup` skips, `--yes` trusts once).
pub(super) fn set_up(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    inst: &crate::registry::Instance,
    flags: crate::cli::SetupFlags,
) -> bool {
    super::setup::after_create(repo, cfg, reg, inst, consent(flags), flags.no_setup)
}

/// `--yes` approves the config's requests for this run; else asked on a terminal.
pub(super) fn consent(flags: crate::cli::SetupFlags) -> crate::trust::Consent {
    crate::trust::Consent {
        yes: flags.yes,
        never_ask: false,
    }
}

/// Where a new branch starts (`None`: the branch exists and is used as it is). Without
/// `--from`, at the HEAD of the worktree the command runs in: `new` inside a sandbox starts from
/// that sandbox's HEAD, not the main worktree's.
fn start_for(repo: &Repo, branch: &str, from: Option<&str>, here: &Path) -> Result<Option<String>> {
    let start = sandbox::start_point(repo, branch, from)?;
    if from.is_some() {
        return Ok(start);
    }
    Ok(start.map(|main_head| git::head_at(here, &repo.common_dir).unwrap_or(main_head)))
}

/// Makes the sandbox `name.slug` on `name.branch` (`names::for_new`; the agent hook's
/// `--branch-prefix` names the branch `PREFIX<name>`), starting a new branch at `from`
/// (default: the HEAD of `here`): what `new` does, shared with the agent hook (which says it
/// `made_by` it).
pub fn create_as(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    name: &names::NewName,
    here: &Path,
    from: Option<&str>,
    made_by: MadeBy,
) -> Result<sandbox::Created> {
    reserved(&name.slug)?;
    let start = start_for(repo, &name.branch, from, here)?;
    create_at(
        repo,
        cfg,
        reg,
        &name.slug,
        name.branch.clone(),
        start,
        made_by,
    )
}

/// Creates sandbox `slug` on `branch`, new at `start` or existing when `start` is `None`.
fn create_at(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    slug: &str,
    branch: String,
    start: Option<String>,
    made_by: MadeBy,
) -> Result<sandbox::Created> {
    let data = reg.load()?;
    if let Some(inst) = data.of_repo(&repo.root).find(|i| i.name == slug) {
        return Err(UserError::new(format!(
            "sandbox {slug} already exists, at {}",
            inst.path.display()
        ))
        .hint(format!(
            "go there with `cd \"$(git sandbox path {slug})\"`, or pick another name"
        ))
        .into());
    }
    let id = sandbox::free_id(repo, &data, slug);
    let path = sandbox_path(repo, cfg, slug, &id)?;
    let spec = CreateSpec {
        kind: Kind::Sandbox,
        name: slug.to_string(),
        id,
        path,
        branch,
        created_branch: start.is_some(),
        start,
        restoring: None,
        detach: false,
        progress: ui::progress(),
        made_by,
    };
    sandbox::create(repo, cfg, reg, &spec)
}

fn reserved(slug: &str) -> Result<()> {
    if slug == "local-prod" {
        return Err(
            UserError::usage("the name local-prod is reserved for the slot-0 singleton")
                .hint("use `git sandbox local-prod new`, or pick another name")
                .into(),
        );
    }
    if crate::cli::command_words().iter().any(|w| w == slug) {
        return Err(UserError::usage(format!(
            "the name {slug} is a git-sandbox command: `sb {slug}` would run the command, not go to the sandbox"
        ))
        .hint(format!("pick another name, e.g. {slug}-work"))
        .into());
    }
    Ok(())
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
    reserved(&name.slug)?;
    Ok(name)
}

/// Where the sandbox goes: the path template, confined (`sandbox::confine`), not taken.
fn sandbox_path(repo: &Repo, cfg: &Config, slug: &str, id: &str) -> Result<PathBuf> {
    let path = config::expand_template(&cfg.path_template, &repo.root, &repo.name, slug, id);
    sandbox::confine(repo, &path)?;
    Ok(path)
}

/// The data on stdout: the new sandbox's path, or with `--json` the sandbox as JSON.
pub(super) fn print_created(
    cfg: &config::Config,
    created: &sandbox::Created,
    json: bool,
) -> Result<()> {
    if json {
        crate::json::print(&crate::json::sandbox::New::of(cfg, created)?)
    } else {
        ui::out(&created.instance.path.display().to_string());
        Ok(())
    }
}

/// Tells the user what `create` made and which slots it skipped.
pub fn report_created(created: &sandbox::Created) {
    report_made(created, "created");
}

/// [`report_created`] with the verb (`created`, `adopted`), and whether the branch was
/// reused.
pub(super) fn report_made(created: &sandbox::Created, verb: &str) {
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
    let branch = i.branch.as_deref().unwrap_or("?");
    let on = if i.branch.is_none() {
        "on a detached HEAD".to_string()
    } else if i.created_branch && verb == "created" {
        format!("on the new branch {branch}")
    } else if verb != "created" {
        format!("on branch {branch}")
    } else {
        format!("on the existing branch {branch} (reused, not created)")
    };
    ui::info(&format!(
        "{} sandbox {} (slot {}) {on}",
        ui::paint_err(ui::Style::Green, verb),
        i.name,
        i.slot,
    ));
}

/// Warns about what `create` left out (a `copy` entry through a symlink).
pub fn report_warnings(created: &sandbox::Created) {
    for w in &created.warnings {
        ui::warn(w);
    }
}
