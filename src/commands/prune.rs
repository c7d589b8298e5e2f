//! `prune [--dry-run] [--all]`: repair the registry and the repo's worktree entries.
//!
//! Finishes or rolls back what a crash interrupted (see `sandbox/repair.rs`), drops entries whose
//! directory vanished (with git's entry only when git itself would: not locked, not pointing at
//! an existing directory, not linked to by a renamed one), sweeps what removals left queued, and reports worktrees git knows that are not sandboxes, and the reverse. It
//! never touches a worktree that is not a registered sandbox.

use std::fs;

use anyhow::Result;

use crate::cli::PruneArgs;
use crate::commands::Ctx;
use crate::git::{self, Repo};
use crate::registry::{Instance, State};
use crate::sandbox::{self, Repair};
use crate::ui;

pub fn run(ctx: &Ctx, args: PruneArgs) -> Result<i32> {
    if args.merged {
        return super::merged::run(ctx, args.dry_run, args.yes);
    }
    let here = ctx.repo();
    let data = ctx.reg.load()?;
    let scope: Vec<Instance> = match &here {
        _ if args.all => data.instances.clone(),
        Ok(repo) => data.of_repo(&repo.root).cloned().collect(),
        Err(_) => return ctx.repo().map(|_| 1),
    };
    let verb = |done: &str, would: &str| {
        if args.dry_run {
            would.to_string()
        } else {
            done.to_string()
        }
    };
    let mut changed = 0;
    for inst in &scope {
        let repo = Repo::discover(&inst.parent_repo).ok();
        changed += if inst.state != State::Ready || inst.moving.is_some() {
            repair_one(ctx, repo.as_ref(), inst, args.dry_run, &verb)?
        } else {
            drop_vanished(ctx, repo.as_ref(), inst, args.dry_run, &verb)?
        };
    }
    changed += sweep_queue(ctx, args.dry_run, &verb)?;
    if !args.dry_run {
        let repo_parent = here.as_ref().ok().and_then(|r| r.root.parent());
        drop_empty_trash_dirs(&scope, repo_parent);
    }
    if let Ok(repo) = &here {
        report_mismatches(ctx, repo)?;
    }
    if changed == 0 {
        ui::info("nothing to prune");
    }
    Ok(0)
}

/// Finishes or rolls back what a crash left of one instance; 1 if it did (or would).
fn repair_one(
    ctx: &Ctx,
    repo: Option<&Repo>,
    inst: &Instance,
    dry_run: bool,
    verb: &dyn Fn(&str, &str) -> String,
) -> Result<usize> {
    let Some(repo) = repo else {
        ui::warn(&format!(
            "{} is {:?} but its repo {} is gone; left alone",
            inst.id,
            inst.state,
            inst.parent_repo.display()
        ));
        return Ok(0);
    };
    let Some(r) = sandbox::repair(repo, &ctx.reg, inst, dry_run)? else {
        ui::info(&format!(
            "{} is busy in a running git-sandbox; left alone",
            inst.id
        ));
        return Ok(0);
    };
    ui::info(&match r {
        Repair::RolledBackCreation(id) => format!(
            "{} the interrupted creation of {id}",
            verb("rolled back", "would roll back")
        ),
        Repair::CompletedCreation(id) => format!(
            "{} the interrupted creation of {id} (its tree holds work)",
            verb("completed", "would complete")
        ),
        Repair::RolledBackRemoval(id) => format!(
            "{} the interrupted removal of {id}: its directory is back in place",
            verb("cancelled", "would cancel")
        ),
        Repair::FinishedRemoval(id) => format!(
            "{} the interrupted removal of {id}",
            verb("finished", "would finish")
        ),
        Repair::FinishedMove(id) => format!(
            "{} the interrupted rename of {id}",
            verb("finished", "would finish")
        ),
        Repair::RolledBackMove(id) => format!(
            "{} the interrupted rename of {id}: its old name and path are back",
            verb("rolled back", "would roll back")
        ),
    });
    Ok(1)
}

/// Drops the entry of a ready instance whose directory is gone (and git's entry, if that is
/// safe: see [`admin_fate`]); 1 if it did (or would).
fn drop_vanished(
    ctx: &Ctx,
    repo: Option<&Repo>,
    inst: &Instance,
    dry_run: bool,
    verb: &dyn Fn(&str, &str) -> String,
) -> Result<usize> {
    if fs::symlink_metadata(&inst.path).is_ok() {
        // An `rm` killed before it marked the entry leaves only its index lock: ours, with a
        // dead pid. Clearing it (and nothing git itself holds) makes git usable there again.
        if let Some(repo) = repo.filter(|_| !dry_run)
            && git::clear_stale_index_lock(&repo.admin_dir(inst.admin()), false)
        {
            ui::info(&format!(
                "cleared the lock a killed git-sandbox left in {}",
                inst.path.display()
            ));
            return Ok(1);
        }
        return Ok(0);
    }
    ui::info(&format!(
        "{} {}: its directory {} is gone",
        verb("dropped", "would drop"),
        inst.id,
        inst.path.display()
    ));
    if dry_run {
        return Ok(1);
    }
    if let Some(repo) = repo {
        match admin_fate(repo, inst) {
            None => repo.drop_admin_entry(inst.admin())?,
            Some(why) => ui::warn(&format!(
                "kept git's worktree entry {}: {why}",
                inst.admin()
            )),
        }
    }
    let id = inst.id.clone();
    ctx.reg.update(|d| {
        d.remove(&id);
        Ok(())
    })?;
    Ok(1)
}

/// Deletes what removals left queued; the number of entries.
fn sweep_queue(ctx: &Ctx, dry_run: bool, verb: &dyn Fn(&str, &str) -> String) -> Result<usize> {
    let data = ctx.reg.load()?;
    for dir in &data.sweep {
        ui::info(&format!(
            "{} {}",
            verb("swept", "would sweep"),
            dir.display()
        ));
        if !dry_run && let Err(e) = crate::removal::sweep_now(&ctx.reg, dir) {
            ui::warn(&format!("{e:#}"));
        }
    }
    Ok(data.sweep.len())
}

/// Removes empty trash directories beside the sandboxes (a removal killed before it recorded
/// anything leaves one). `remove_dir` deletes only what is empty.
fn drop_empty_trash_dirs(scope: &[Instance], repo_parent: Option<&std::path::Path>) {
    let mut parents: Vec<&std::path::Path> = scope
        .iter()
        .flat_map(|i| [i.path.parent(), i.parent_repo.parent()])
        .flatten()
        .chain(repo_parent)
        .collect();
    parents.sort();
    parents.dedup();
    for dir in parents {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(crate::registry::TRASH_PREFIX)
            {
                let _ = fs::remove_dir(e.path());
            }
        }
    }
}

/// Says where git and the registry disagree in this repo (and changes nothing).
fn report_mismatches(ctx: &Ctx, repo: &Repo) -> Result<()> {
    let data = ctx.reg.load()?;
    let registered: Vec<&Instance> = data.of_repo(&repo.root).collect();
    for (id, target) in repo.admin_entries() {
        if !registered.iter().any(|i| i.admin() == id) {
            let at = target
                .map(|t| t.display().to_string())
                .unwrap_or_else(|| "?".into());
            ui::info(&format!(
                "note: git has worktree {id} at {at}, which is not a sandbox (left alone)"
            ));
        }
    }
    for i in registered {
        if i.state == State::Ready
            && fs::symlink_metadata(&i.path).is_ok()
            && fs::symlink_metadata(repo.admin_dir(i.admin())).is_err()
        {
            ui::warn(&format!(
                "{} is registered at {}, but git has no worktree entry for it (left alone)",
                i.id,
                i.path.display()
            ));
        }
    }
    Ok(())
}

/// Whether git's admin entry of a sandbox whose directory vanished may go: `None` if so, else
/// why not. As careful as git: never a locked worktree (an unmounted drive), never one whose
/// `gitdir` names an existing directory, never one a directory beside it still links to (the
/// worktree was renamed), and only an entry that names the vanished path.
fn admin_fate(repo: &Repo, inst: &Instance) -> Option<String> {
    let admin = repo.admin_dir(inst.admin());
    if fs::symlink_metadata(&admin).is_err() {
        return None;
    }
    if let Some(reason) = repo.lock_reason(inst.admin()) {
        return Some(format!(
            "the worktree is locked ({reason}); if its drive is unmounted, mount it; otherwise `git worktree unlock` it first"
        ));
    }
    let target = git::admin_target(&admin);
    match &target {
        Some(t) if fs::symlink_metadata(t).is_ok() => {
            return Some(format!(
                "it names {}, which exists: `git sandbox adopt {}` registers it again",
                t.display(),
                t.display()
            ));
        }
        Some(t) if t != &inst.path => {
            return Some(format!("it names {}, not the sandbox's path", t.display()));
        }
        _ => {}
    }
    let canonical_admin = fs::canonicalize(&admin).ok();
    let siblings = inst.path.parent().and_then(|p| fs::read_dir(p).ok());
    for e in siblings.into_iter().flatten().flatten() {
        let linked = git::gitfile_target(&e.path()).and_then(|p| fs::canonicalize(p).ok());
        if linked.is_some() && linked == canonical_admin {
            return Some(format!(
                "{} still links to it (a renamed worktree): `git worktree repair {}` then `git sandbox adopt`",
                e.path().display(),
                e.path().display()
            ));
        }
    }
    None
}
