//! The removal plan: a pure function of the loss report, the instance and the flags. The same
//! plan is shown for `--dry-run`, asked about, and carried out.

use crate::cli::RmFlags;
use crate::procs::Proc;
use crate::registry::Instance;
use crate::safety::Report;

/// Why the removal stops.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Refusal {
    /// `--force` does not override it.
    pub hard: bool,
    pub reasons: Vec<String>,
}

/// What the removal will do, in order.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Plan {
    pub refusal: Option<Refusal>,
    /// Processes to stop first (`--kill`).
    pub kill: Vec<Proc>,
    /// Snapshot uncommitted work into the trash state.
    pub save_snapshot: bool,
    /// Paths (relative) moved into the trash directory's `kept/`.
    pub keep: Vec<String>,
    /// Ignored paths deleted (disposable).
    pub dispose: Vec<String>,
    /// The branch to delete and the tip it must still have.
    pub delete_branch: Option<(String, String)>,
    /// Why the branch is kept, when it is.
    pub notes: Vec<String>,
    pub remove_worktree: bool,
    pub force: bool,
}

/// Decides what removing `inst` would do given `report` and `flags`.
pub fn decide(inst: &Instance, report: &Report, flags: &RmFlags) -> Plan {
    let mut notes = Vec::new();
    let mut refusal = refusal(report, flags);
    let delete_branch = if flags.keep_worktree {
        None
    } else {
        branch_fate(inst, report, flags, &mut notes)
    };
    let kill = if flags.kill {
        spare_own_pipeline(report, &mut refusal)
    } else {
        Vec::new()
    };
    Plan {
        refusal,
        kill,
        save_snapshot: !flags.keep_worktree && report.has_uncommitted(),
        keep: keep_paths(report, flags.force),
        dispose: report
            .ignored
            .iter()
            .filter(|i| i.disposable)
            .map(|i| i.path.clone())
            .collect(),
        delete_branch,
        notes,
        remove_worktree: !flags.keep_worktree,
        force: flags.force,
    }
}

/// `--kill`'s processes: all that work inside but the stages of this command's own pipeline
/// (`rm --kill 2>&1 | tee log`), which are never stopped; one that holds a file open inside
/// (`tee` writing `log` there) refuses the removal, whatever the flags.
fn spare_own_pipeline(report: &Report, refusal: &mut Option<Refusal>) -> Vec<Proc> {
    let own = crate::procs::own_pipeline();
    let (mine, kill): (Vec<Proc>, Vec<Proc>) = report
        .processes
        .iter()
        .cloned()
        .partition(|p| own.contains(&p.pid));
    if !mine.is_empty() {
        let names: Vec<String> = mine.iter().map(Proc::describe).collect();
        let reason = format!(
            "this command's own pipeline writes in it ({}): run it without a stage that writes into the sandbox",
            names.join("; ")
        );
        match refusal {
            Some(r) => {
                r.hard = true;
                r.reasons.insert(0, reason);
            }
            None => {
                *refusal = Some(Refusal {
                    hard: true,
                    reasons: vec![reason],
                })
            }
        }
    }
    kill
}

fn refusal(report: &Report, flags: &RmFlags) -> Option<Refusal> {
    if flags.keep_worktree {
        return None;
    }
    let r = report.refusals();
    if !r.hard.is_empty() {
        return Some(Refusal {
            hard: true,
            reasons: r.hard,
        });
    }
    // `--kill` answers the processes; `--delete-branch` the branch's own unpushed commits
    // (its tip is in the trash state).
    let soft: Vec<String> = r
        .soft
        .into_iter()
        .filter(|s| !(flags.kill && s.starts_with("process(es)")))
        .filter(|s| !(flags.delete_branch && s.contains("commit(s) on no remote and no other")))
        .collect();
    (!soft.is_empty() && !flags.force).then_some(Refusal {
        hard: false,
        reasons: soft,
    })
}

/// The branch is deleted only if the tool made it and all of it is pushed or merged (or
/// `--delete-branch`); its tip is in the trash state either way.
fn branch_fate(
    inst: &Instance,
    report: &Report,
    flags: &RmFlags,
    notes: &mut Vec<String>,
) -> Option<(String, String)> {
    let on = report.status.branch.clone();
    if on.is_none() || on != inst.branch {
        if let Some(b) = &inst.branch {
            notes.push(format!("keeping branch {b}: the worktree is not on it"));
        }
        return None;
    }
    let b = on.unwrap_or_default();
    if flags.delete_branch || (inst.created_branch && report.unmerged_unpushed == 0) {
        return report.status.head.clone().map(|h| (b, h));
    }
    notes.push(if !inst.created_branch {
        format!("keeping branch {b}: git-sandbox did not create it")
    } else if report.never_pushed {
        format!(
            "keeping branch {b}: it was never pushed ({} commit(s) on no remote); push it or delete it yourself",
            report.unmerged_unpushed
        )
    } else {
        format!(
            "keeping branch {b}: {} commit(s) are not pushed",
            report.unmerged_unpushed
        )
    });
    None
}

/// What goes into `kept/`: ignored files that are not disposable, what git cannot store
/// (special files, empty directories, odd permissions), and with `--force` nested
/// repositories and submodule checkouts. Paths inside another kept path are dropped.
pub fn keep_paths(report: &Report, force: bool) -> Vec<String> {
    let f = &report.found;
    let mut all: Vec<String> = report
        .kept_ignored()
        .map(|i| i.path.trim_end_matches('/').to_string())
        .chain(f.specials.iter().cloned())
        .chain(f.empty_dirs.iter().cloned())
        .collect();
    if force {
        all.extend(f.nested_repos.iter().cloned());
        all.extend(f.submodules.iter().cloned());
    }
    let disposable: Vec<String> = report
        .ignored
        .iter()
        .filter(|i| i.disposable)
        .map(|i| i.path.trim_end_matches('/').to_string())
        .collect();
    all.retain(|p| !disposable.iter().any(|d| under(p, d)));
    all.sort();
    all.dedup();
    let mut out: Vec<String> = Vec::new();
    for p in all {
        if !out.iter().any(|k| under(&p, k)) {
            out.push(p);
        }
    }
    // Odd permissions last: a directory kept only for its mode must come after its children.
    let mut modes: Vec<String> = f
        .odd_modes
        .iter()
        .filter(|p| !out.iter().any(|k| under(p, k)))
        .filter(|p| !disposable.iter().any(|d| under(p, d)))
        .cloned()
        .collect();
    modes.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    out.extend(modes);
    out
}

/// Whether `p` is `dir` or inside it.
fn under(p: &str, dir: &str) -> bool {
    p == dir || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}
