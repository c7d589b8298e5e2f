//! The steps of a confirmed removal, in order (see the module doc of [`crate::removal`]).
//! Each step is one function; the registry records the phase before each destructive one, so
//! a crash anywhere leaves a state `prune` rolls back ([`roll_back`]) or finishes ([`finish`]).

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::error::UserError;
use crate::fault;
use crate::git::{IndexLock, Repo};
use crate::procs;
use crate::registry::{self, Instance, Phase, Registry, Removal, State};
use crate::safety::{self, Report};
use crate::timings::step;

use super::plan::{self, Plan};
use super::state::record_state;
use super::trash::{self, TrashDir};

/// Everything the steps act on.
pub struct Job<'a> {
    pub repo: &'a Repo,
    pub reg: &'a Registry,
    pub cfg: &'a Config,
    pub inst: &'a Instance,
    /// The verified sandbox directory.
    pub path: &'a Path,
    /// Every registered instance (to find those inside).
    pub others: &'a [Instance],
    /// Its own compose volumes kept with the trash state (`trash purge` deletes them).
    pub volumes: &'a [String],
}

/// What a removal did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Done {
    /// The trash state (branch tip, reflog-only commits, uncommitted work).
    pub saved_ref: Option<String>,
    pub branch_deleted: bool,
    /// The trash directory, when something is kept in it.
    pub trash_dir: Option<std::path::PathBuf>,
    pub kept_files: u64,
    pub kept_bytes: u64,
    /// What appeared after the confirmation and joined the save (`--force`).
    pub late: Vec<String>,
    /// A process was still inside after the quarantine, so the whole tree was kept.
    pub kept_whole: bool,
}

/// Carries out a confirmed plan. `lock` is the worktree's index lock, held since the report.
pub fn carry_out(job: &Job, report: &Report, plan: &Plan, lock: IndexLock) -> Result<Done> {
    stop_processes(plan)?;
    if !plan.remove_worktree {
        unregister(job.reg, &job.inst.id, None)?;
        lock.release();
        return Ok(Done::default());
    }
    let state_ref = |stamp: &str| format!("refs/sandbox/trash/{}/{stamp}", job.inst.id);
    let trash = TrashDir::create(job.path, &job.inst.id, &stamp(), |s| {
        job.repo.ref_exists(&state_ref(s))
    })?;
    let refname = state_ref(&trash.stamp(&job.inst.id));
    step("trash dir");
    let mut removal = mark_removing(job, &trash, &refname, plan)?;
    step("registry: marked");
    let checked = quarantine_and_check(job, report, plan, &trash, &refname);
    let again = match checked {
        Ok(Checked::Saved(again)) => *again,
        Ok(Checked::Changed(why)) => return Err(put_back(job, &trash, &refname, &why, lock)),
        Err(e) => {
            // Nothing is deleted before the check: undo the move and the mark, then fail.
            if let Err(undo) = roll_back(job.repo, job.reg, job.inst, &trash, &refname) {
                return Err(e.context(format!("{undo:#}; `git sandbox prune` puts it back")));
            }
            return Err(e.context("nothing was removed"));
        }
    };
    removal.keep = keep_list(&again, plan.force);
    removal.phase = Phase::Verified;
    set_removal(job.reg, &job.inst.id, &removal)?;
    step("registry: verified");
    fault::point("rm:verified")?;
    let branch_deleted = finish(job.repo, job.reg, job.inst, &removal)?;
    lock.dissolve();
    let (kept_files, kept_bytes) = trash.kept_size();
    Ok(Done {
        saved_ref: Some(refname),
        branch_deleted,
        trash_dir: (kept_files > 0 || trash.kept().exists()).then(|| trash.dir.clone()),
        kept_files,
        kept_bytes,
        late: report.news(&again),
        kept_whole: !again.processes.is_empty(),
    })
}

/// The outcome of the second look.
enum Checked {
    /// Nothing new (or `--force`): the trash state is recorded from the quarantined tree.
    Saved(Box<Report>),
    /// Something appeared that the confirmed report did not show.
    Changed(Vec<String>),
}

/// Quarantines the tree, assesses it again, and records the trash state from it.
fn quarantine_and_check(
    job: &Job,
    report: &Report,
    plan: &Plan,
    trash: &TrashDir,
    refname: &str,
) -> Result<Checked> {
    fault::point("rm:marked")?;
    quarantine(job, trash)?;
    step("quarantine (rename)");
    fault::point("rm:moved")?;
    let again = recheck(job, trash, report)?;
    let late = report.news(&again);
    let hard = again.refusals().hard;
    if !hard.is_empty() || (!late.is_empty() && !plan.force) {
        return Ok(Checked::Changed(if hard.is_empty() { late } else { hard }));
    }
    // Saved from the quarantined tree, which nothing can reach by its old path any more, so
    // the bytes saved are the bytes that were there: no window between saving and moving.
    let first_clean = !report.has_uncommitted() && report.operation.is_none();
    record_state(job, &trash.tree(), &again, first_clean, trash, refname)?;
    step("trash state (snapshot)");
    fault::point("rm:saved")?;
    // What git cannot hold moves to `kept/` before the removal counts as verified: a file
    // that refuses to move (immutable, say) rolls everything back instead of sticking.
    trash.keep_all_or_some(&keep_list(&again, plan.force))?;
    step("keep");
    fault::point("rm:kept")?;
    Ok(Checked::Saved(Box::new(again)))
}

/// `--kill`: TERM, a grace period, then KILL; refuses if any survive.
fn stop_processes(plan: &Plan) -> Result<()> {
    if plan.kill.is_empty() {
        return Ok(());
    }
    let left = procs::stop(&plan.kill, Duration::from_secs(3));
    if left.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = left.iter().map(procs::Proc::describe).collect();
    Err(UserError::refused(format!(
        "could not stop {}; nothing was removed",
        names.join(", ")
    ))
    .hint("stop them yourself, then run rm again")
    .into())
}

/// A sortable UTC stamp for the trash state's name.
fn stamp() -> String {
    registry::now()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Records the removal in the registry (phase `marked`), refusing if another process is at it.
fn mark_removing(job: &Job, trash: &TrashDir, refname: &str, plan: &Plan) -> Result<Removal> {
    let removal = Removal {
        trash_dir: trash.dir.clone(),
        delete_branch: plan.delete_branch.as_ref().map(|(_, tip)| tip.clone()),
        saved_ref: Some(refname.to_string()),
        remove_worktree: true,
        phase: Phase::Marked,
        keep: Vec::new(),
    };
    job.reg.update(|d| {
        let e = d
            .find_mut(&job.inst.id)
            .context("the registry entry vanished during removal")?;
        if e.state != State::Ready {
            return Err(crate::error::UserError::refused(format!(
                "{} is already being created or removed by another git-sandbox",
                job.inst.id
            ))
            .hint("wait for it to finish, then try again if it is still there")
            .into());
        }
        e.state = State::Removing;
        e.pid = Some(std::process::id());
        e.removal = Some(removal.clone());
        Ok(())
    })?;
    Ok(removal)
}

fn set_removal(reg: &Registry, id: &str, removal: &Removal) -> Result<()> {
    reg.update(|d| {
        let e = d
            .find_mut(id)
            .context("the registry entry vanished during removal")?;
        e.removal = Some(removal.clone());
        Ok(())
    })
}

/// Locks git's admin entry (a directory gone from its path is what `git worktree prune`
/// drops, index and all), then renames the worktree into the trash directory (atomic, same
/// filesystem). `roll_back` unlocks; `finish` drops the entry.
fn quarantine(job: &Job, trash: &TrashDir) -> Result<()> {
    job.repo.lock_for_removal(job.inst.admin())?;
    fs::rename(job.path, trash.tree()).with_context(|| {
        format!(
            "cannot move {} into {}; nothing was removed",
            job.path.display(),
            trash.dir.display()
        )
    })?;
    job.reg.update(|d| {
        if let Some(r) = d.find_mut(&job.inst.id).and_then(|e| e.removal.as_mut()) {
            r.phase = Phase::Quarantined;
        }
        Ok(())
    })
}

/// The same assessment, on the quarantined tree (as cheap as it can prove right against the
/// confirmed report: `safety/second.rs`).
fn recheck(job: &Job, trash: &TrashDir, first: &Report) -> Result<Report> {
    let tree = trash.tree();
    let subject = safety::Subject {
        repo: job.repo,
        inst: job.inst,
        dir: &tree,
        cfg: job.cfg,
        others: job.others,
        quarantined: true,
        dry_run: false,
    };
    safety::reassess(&subject, first)
}

/// What the quarantined tree keeps: per the plan's rule, or everything when a process is
/// still inside (it may write after this check).
fn keep_list(again: &Report, force: bool) -> Vec<String> {
    plan::keep_paths(again, force)
        .into_iter()
        .chain(if again.processes.is_empty() {
            Vec::new()
        } else {
            vec![String::new()]
        })
        .collect()
}

/// Something new appeared after the confirmation: the tree goes back, the state is dropped,
/// and the removal is refused.
fn put_back(
    job: &Job,
    trash: &TrashDir,
    refname: &str,
    late: &[String],
    lock: IndexLock,
) -> anyhow::Error {
    if let Err(e) = roll_back(job.repo, job.reg, job.inst, trash, refname) {
        return e.context(format!(
            "the removal of {} was stopped because its tree changed, and putting it back failed; nothing was deleted: the tree is in {}",
            job.inst.name,
            trash.tree().display()
        ));
    }
    lock.release();
    let mut err = UserError::refused(format!(
        "refusing to remove {}: it changed after the check",
        job.inst.name
    ));
    for l in late.iter().take(10) {
        err = err.hint(format!("new: {l}"));
    }
    err.hint(
        "nothing was changed; look at the new work, then run rm again (`--force` saves it too)",
    )
    .into()
}

/// Undoes a removal that has not been verified: the tree back in place, the state ref and the
/// empty trash directory gone, the entry ready. Refuses to overwrite anything at the path.
pub fn roll_back(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    trash: &TrashDir,
    refname: &str,
) -> Result<()> {
    // A tree kept whole (a process was inside) is `kept/` itself, its `.git` link included.
    if fs::symlink_metadata(trash.tree()).is_err() && trash.kept().join(".git").is_file() {
        fs::rename(trash.kept(), trash.tree())
            .with_context(|| format!("cannot put {} back", trash.kept().display()))?;
    }
    if fs::symlink_metadata(trash.kept()).is_ok() && fs::symlink_metadata(trash.tree()).is_ok() {
        trash::overlay(&trash.kept(), &trash.tree())
            .with_context(|| format!("cannot put {} back", trash.kept().display()))?;
    }
    if fs::symlink_metadata(trash.tree()).is_ok() {
        if fs::symlink_metadata(&inst.path).is_ok() {
            return Err(UserError::new(format!(
                "{} was made again while the sandbox was being removed, so its tree stays in {}",
                inst.path.display(),
                trash.tree().display()
            ))
            .hint(format!(
                "move the new {} aside (look at what is in it first), then run `git sandbox prune` to put the sandbox back",
                inst.path.display()
            ))
            .into());
        }
        fs::rename(trash.tree(), &inst.path)
            .with_context(|| format!("cannot move the tree back to {}", inst.path.display()))?;
    }
    repo.unlock_after_removal(inst.admin())?;
    let _ = repo.delete_ref(refname);
    trash::drop_if_empty(trash);
    reg.update(|d| {
        if let Some(e) = d.find_mut(&inst.id) {
            e.state = State::Ready;
            e.pid = None;
            e.removal = None;
        }
        Ok(())
    })
}

/// The steps after verification (also `prune`'s roll-forward): keep what git cannot hold,
/// drop that one worktree's admin entry, delete the branch by compare-and-swap, unregister,
/// delete the rest of the tree. Each is safe to run again.
pub fn finish(repo: &Repo, reg: &Registry, inst: &Instance, removal: &Removal) -> Result<bool> {
    let trash = TrashDir::at(&removal.trash_dir);
    if removal.remove_worktree {
        trash.keep_all_or_some(&removal.keep)?;
        trash.keep_submodule_gitdirs(&repo.admin_dir(inst.admin()))?;
        repo.drop_admin_entry(inst.admin())?;
        step("admin entry");
        fault::point("rm:admin")?;
    }
    let mut deleted = false;
    if let (Some(tip), Some(branch)) = (&removal.delete_branch, &inst.branch) {
        deleted = repo.delete_branch_at(branch, tip)?;
        step("branch");
        fault::point("rm:branch")?;
    }
    let sweep = removal.remove_worktree.then(|| sweep_target(&trash));
    unregister(reg, &inst.id, sweep.clone().flatten())?;
    step("registry: unregistered");
    fault::point("rm:unregistered")?;
    if let Some(Some(dir)) = sweep {
        super::sweep_later(reg, &dir);
        step("sweep (spawn)");
    }
    Ok(deleted)
}

/// What is left to delete: `tree/` (or, for a removal made by an older git-sandbox, the
/// renamed directory itself).
fn sweep_target(trash: &TrashDir) -> Option<std::path::PathBuf> {
    let tree = trash.tree();
    if fs::symlink_metadata(&tree).is_ok() {
        Some(tree)
    } else if fs::symlink_metadata(trash.dir.join(".git")).is_ok() {
        Some(trash.dir.clone())
    } else {
        None
    }
}

fn unregister(reg: &Registry, id: &str, sweep: Option<std::path::PathBuf>) -> Result<()> {
    reg.update(|d| {
        d.remove(id);
        if let Some(dir) = sweep {
            d.sweep.push(dir);
        }
        Ok(())
    })
}
