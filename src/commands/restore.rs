//! `restore NAME [--list] [--from STATE]` and `trash list|purge`: the saved states a forced
//! `rm` (or `--delete-branch`) left under `refs/sandbox/trash/<instance id>/<timestamp>`.
//!
//! A saved state is one commit: its tree the working files, parent 1 the branch tip, parent 2
//! the staged state, and its message the sandbox's name, branch and kind, where HEAD was and
//! the branch's config. Restoring makes the sandbox anew (branch, worktree, slot, ports, env
//! file) with HEAD where it was (its branch, another branch, or detached at the saved commit),
//! then puts the index and the working files back, so staged, unstaged and untracked files
//! return as they were, and the branch's upstream config if it went with the branch. The
//! state also names the sandbox's uuid, compose project and kept volumes: the restored
//! sandbox gets the same uuid and project, so `up` runs it on the same volumes. Saved states
//! (`commands/trash.rs`) stay until `trash purge` deletes them.

use anyhow::Result;

use crate::cli::RestoreArgs;
use crate::commands::Ctx;
use crate::config;
use crate::error::UserError;
use crate::git::Repo;
use crate::json::sandbox as json;
use crate::names;
use crate::registry::{Kind, Restoring};
use crate::removal::trash;
use crate::sandbox::{self, CreateSpec};

use super::saved::{Saved, states_of};
use crate::ui;

/// A container still writing in the kept files (a forced `rm` kept the tree whole around
/// it): what it wrote after the restore moved them would stay behind, so the restore waits.
fn refuse_writers(s: &Saved) -> Result<()> {
    let Some(kept) = s
        .trash_dir
        .as_deref()
        .map(|d| trash::TrashDir::at(d).kept())
    else {
        return Ok(());
    };
    if std::fs::symlink_metadata(&kept).is_err() {
        return Ok(());
    }
    let (procs, _) = crate::procs::working_in(&kept, &kept, None);
    let writers: Vec<String> = procs
        .iter()
        .filter(|p| p.ns.is_some())
        .map(crate::procs::Proc::describe)
        .collect();
    if writers.is_empty() {
        return Ok(());
    }
    Err(UserError::refused(format!(
        "refusing to restore {}: still working in its kept files ({}): {}",
        s.name,
        kept.display(),
        writers.join("; ")
    ))
    .hint("stop it (`docker stop NAME` for a container), then restore again: nothing was changed")
    .into())
}

pub fn restore(ctx: &Ctx, args: RestoreArgs) -> Result<i32> {
    let (repo, mut cfg) = ctx.repo_config()?;
    let consent = crate::lifecycle::Consent {
        yes: args.setup.yes,
        never_ask: false,
    };
    let slug = names::slugify(&args.name)?;
    let states = saved_of(&repo, &slug)?;
    if args.list {
        for s in &states {
            ui::out(&format!(
                "{}  {}  branch {}",
                s.refname, s.saved_at, s.branch
            ));
        }
        return Ok(0);
    }
    let s = choose(&states, args.from.as_deref(), &slug)?;
    let head = Head::of(&repo, s, &slug)?;
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, consent);
    let spec = spec_for(ctx, &repo, &cfg, s, &head, &slug)?;
    let kept = s
        .trash_dir
        .as_deref()
        .map(|d| trash::TrashDir::at(d).kept_size())
        .unwrap_or((0, 0));
    refuse_writers(s)?;
    let mut created = sandbox::create(&repo, &cfg, &ctx.reg, &spec)?;
    keep_base(ctx, s, &mut created.instance)?;
    put_back_branch_config(&repo, s, &head);
    announce(s, &head, &created);
    let inst = &created.instance;
    let set_up =
        super::setup::after_create(&repo, &cfg, &ctx.reg, inst, consent, args.setup.no_setup);
    let code = if set_up { 0 } else { 1 };
    if !args.json {
        ui::out(&inst.path.display().to_string());
        return Ok(code);
    }
    let from = json::Saved {
        state_ref: s.refname.clone(),
        commit: s.commit.clone(),
        saved_at: s.saved_at.clone(),
        trash_dir: s.trash_dir.as_ref().map(|d| d.display().to_string()),
        kept_files: kept.0,
        kept_bytes: kept.1,
        branch_recreated: spec.start.is_some() && !spec.detach,
        volumes: s.volumes.clone(),
    };
    crate::json::print(&json::Restore::of(&cfg, &created, from)?)?;
    Ok(code)
}

/// The saved states of `slug` in this repo; an error saying where to look when there is none.
fn saved_of(repo: &Repo, slug: &str) -> Result<Vec<Saved>> {
    let states = states_of(repo, slug, &repo.instance_id(slug))?;
    if states.is_empty() {
        return Err(UserError::new(format!(
            "nothing of {slug:?} is saved in {}",
            repo.root.display()
        ))
        .hint("`git sandbox trash list` shows every saved state")
        .into());
    }
    Ok(states)
}

/// The sandbox to make anew: its name, kind, path (the trusted template), HEAD as it was, and
/// the state it is restored from (with its identity on the engine).
fn spec_for(
    ctx: &Ctx,
    repo: &Repo,
    cfg: &crate::config::Config,
    s: &Saved,
    head: &Head,
    slug: &str,
) -> Result<CreateSpec> {
    let id = sandbox::free_id(repo, &ctx.reg.load()?, slug);
    let template = if s.kind == Kind::LocalProd {
        &cfg.local_prod_path
    } else {
        &cfg.path_template
    };
    let name = if s.name.is_empty() {
        slug.to_string()
    } else {
        s.name.clone()
    };
    let path = config::expand_template(template, &repo.root, &repo.name, &name, &id);
    Ok(CreateSpec {
        kind: s.kind,
        name,
        id,
        path,
        branch: head.branch.clone(),
        created_branch: head.created_branch,
        start: head.start.clone(),
        detach: head.detached,
        restoring: Some(Restoring {
            state: s.commit.clone(),
            trash_dir: s.trash_dir.clone(),
            applied: false,
            uuid: s.uuid.clone(),
            project: s.project.clone(),
            engine: s.engine.clone(),
        }),
        progress: ui::progress(),
        made_by: crate::registry::MadeBy::User,
    })
}

/// Says what came back: the sandbox, where its HEAD is, the state kept, its volumes.
fn announce(s: &Saved, head: &Head, created: &sandbox::Created) {
    super::new::report_created(created);
    if let (true, Some(at)) = (head.detached, &head.start) {
        ui::info(&format!(
            "its HEAD is detached at {}, as it was",
            &at[..at.len().min(12)]
        ));
    }
    ui::info(&format!(
        "restored from {} (kept; `git sandbox trash purge` deletes it)",
        s.refname
    ));
    volumes_note(s, &created.instance);
}

/// Says whether the state's volumes are the restored sandbox's again: the same uuid and
/// compose project (another may have taken the project since).
fn volumes_note(s: &Saved, inst: &crate::registry::Instance) {
    if s.volumes.is_empty() {
        return;
    }
    let list = s.volumes.join(", ");
    if inst.uuid == s.uuid && inst.project == s.project {
        ui::info(&format!(
            "its volumes are its again ({list}): `git sandbox up` starts it on them"
        ));
    } else {
        ui::warn(&format!(
            "its volumes ({list}) could not be given back (its compose project or identity is taken now); they stay with {}",
            s.refname
        ));
    }
}

/// The newest saved state, or the one `--from` names.
fn choose<'a>(states: &'a [Saved], from: Option<&str>, slug: &str) -> Result<&'a Saved> {
    let chosen = match from {
        None => states.last(),
        Some(f) => states
            .iter()
            .find(|s| s.refname == f || s.refname.ends_with(&format!("/{f}"))),
    };
    chosen.ok_or_else(|| {
        UserError::new(format!(
            "no saved state {:?} for {slug}",
            from.unwrap_or("")
        ))
        .hint(format!("`git sandbox restore {slug} --list` shows them"))
        .into()
    })
}

/// What the restored worktree's HEAD is, and the branch the registry records.
struct Head {
    /// Checked out (on a branch), or only recorded (detached).
    branch: String,
    /// Where to create `branch`, or (detached) the commit to check out.
    start: Option<String>,
    detached: bool,
    created_branch: bool,
}

impl Head {
    /// As it was at the removal: on its branch, on another branch, or detached at the saved
    /// commit. The registry keeps the sandbox's own branch (and whether the tool made it)
    /// unless HEAD is on another branch, which the tool did not make.
    fn of(repo: &Repo, s: &Saved, slug: &str) -> Result<Head> {
        let own = if s.sandbox_branch.is_empty() {
            slug.to_string()
        } else {
            s.sandbox_branch.clone()
        };
        if s.branch.is_empty() {
            let tip = saved_tip(repo, s)?;
            return Ok(Head {
                branch: own,
                start: Some(tip),
                detached: true,
                created_branch: s.created_branch,
            });
        }
        Ok(Head {
            start: start_point(repo, s, &s.branch)?,
            detached: false,
            created_branch: s.created_branch && (s.sandbox_branch.is_empty() || own == s.branch),
            branch: s.branch.clone(),
        })
    }
}

/// The branch's saved `branch.<name>.*` config, back on the branch restored as it was (a
/// section it has now is kept). A failure only warns: the sandbox is back.
fn put_back_branch_config(repo: &Repo, s: &Saved, head: &Head) {
    if head.detached || (!s.sandbox_branch.is_empty() && s.sandbox_branch != head.branch) {
        return;
    }
    if let Err(e) = repo.restore_branch_config(&head.branch, &s.branch_config) {
        ui::warn(&format!(
            "could not put back the config of branch {}: {e:#}",
            head.branch
        ));
    }
}

/// The saved HEAD commit (parent 1 of the state).
fn saved_tip(repo: &Repo, s: &Saved) -> Result<String> {
    let parents = repo.commit_parents(&s.commit)?;
    match parents.first() {
        Some(tip) => Ok(tip.clone()),
        None => anyhow::bail!("{} is not a saved state git-sandbox made", s.refname),
    }
}

/// `None` when `branch` already points at the saved tip; the tip to create it at when it is
/// gone; an error when it has moved on (restoring would hide that work).
fn start_point(repo: &Repo, s: &Saved, branch: &str) -> Result<Option<String>> {
    let tip = saved_tip(repo, s)?;
    match repo.branch_tip(branch)? {
        Some(cur) if cur == tip => Ok(None),
        Some(cur) => Err(UserError::new(format!(
            "branch {branch} now points at {}, not at the saved tip {}",
            &cur[..cur.len().min(12)],
            &tip[..tip.len().min(12)]
        ))
        .hint(format!(
            "rename or delete that branch first, or check the state out by hand: git worktree add ../x {}",
            s.refname
        ))
        .into()),
        None => Ok(Some(tip)),
    }
}

/// The restored sandbox starts where the removed one did (`base_commit`), not at its saved
/// tip: its commits stay its own for `list`, `rm` and `prune --merged`.
fn keep_base(ctx: &Ctx, s: &Saved, inst: &mut crate::registry::Instance) -> Result<()> {
    if s.base_commit.is_empty() || inst.base_commit.as_deref() == Some(s.base_commit.as_str()) {
        return Ok(());
    }
    inst.base_commit = Some(s.base_commit.clone());
    ctx.reg.update(|d| {
        if let Some(e) = d.find_mut(&inst.id) {
            e.base_commit = Some(s.base_commit.clone());
        }
        Ok(())
    })
}
