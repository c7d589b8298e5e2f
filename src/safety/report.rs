//! The report of one look ([`Report`]): what removing a sandbox would lose or touch, and
//! what a second look found that the first did not.

use crate::git::Status;
use crate::procs::{self, Proc};
use crate::registry::Pushed;

use super::{Ignored, scan, second};

/// What would be lost or touched.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub status: Status,
    /// Edits hidden by `--assume-unchanged` / `--skip-worktree`.
    pub hidden: Vec<String>,
    /// Commits reachable from HEAD and from no remote-tracking ref.
    pub unpushed: u32,
    /// Of those, how many are on no other local branch either (lost if the branch went).
    pub unmerged_unpushed: u32,
    /// The branch has no upstream, no push recorded, and no remote has a branch of its name.
    pub never_pushed: bool,
    /// Remote-tracking refs named after the branch, on any remote (`backup/feature`).
    pub remote_refs: Vec<String>,
    /// HEAD is still the commit the sandbox started at: no commits of its own.
    pub at_base: bool,
    /// Commits only the worktree's HEAD reflog reaches (kept in the trash state).
    pub reflog_only: Vec<String>,
    pub locked: Option<String>,
    /// A merge, rebase, cherry-pick, revert, `am` or bisect in progress (its state is in the
    /// admin dir removal deletes; the snapshot keeps it).
    pub operation: Option<String>,
    /// Nested repositories, worktrees, submodules, mounts, special files, empty dirs, modes.
    pub found: scan::Found,
    /// Registered instances whose directory is inside this one.
    pub instances_inside: Vec<String>,
    /// Processes with their cwd or an open file inside, and containers (other mount
    /// namespaces) with a bind mount of it or of something inside it.
    pub processes: Vec<Proc>,
    /// How far the look for containers could see.
    pub process_check: procs::Check,
    pub ignored: Vec<Ignored>,
    /// What the pre-push hook last recorded.
    pub pushed: Option<Pushed>,
    /// What a second look compares with (`second.rs`); not part of any report.
    #[serde(skip)]
    pub baseline: Option<second::Baseline>,
}

/// Why a removal stops.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Refusals {
    /// Stop it even with `--force`.
    pub hard: Vec<String>,
    /// Stop it unless `--force` (processes: unless `--force` or `--kill`).
    pub soft: Vec<String>,
}

impl Report {
    /// Whether there is uncommitted work to snapshot.
    pub fn has_uncommitted(&self) -> bool {
        !self.status.is_clean() || !self.hidden.is_empty()
    }

    /// Paths whose bytes go into the snapshot.
    pub fn changed_paths(&self) -> Vec<String> {
        let s = &self.status;
        let mut v: Vec<String> = s
            .unstaged
            .iter()
            .chain(&s.untracked)
            .chain(&s.conflicted)
            .chain(&self.hidden)
            .filter(|p| !p.ends_with('/'))
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Ignored paths kept in the trash (not disposable).
    pub fn kept_ignored(&self) -> impl Iterator<Item = &Ignored> {
        self.ignored.iter().filter(|i| !i.disposable)
    }

    /// What in `again` (the same tree assessed later) the confirmed report did not show.
    pub fn news(&self, again: &Report) -> Vec<String> {
        let mut out = Vec::new();
        let mut added = |what: &str, before: &[String], after: &[String]| {
            for p in after {
                if !before.contains(p) {
                    out.push(format!("{what}: {p}"));
                }
            }
        };
        let (a, b) = (&self.status, &again.status);
        added("staged", &a.staged, &b.staged);
        added("unstaged", &a.unstaged, &b.unstaged);
        added("conflicted", &a.conflicted, &b.conflicted);
        added("untracked", &a.untracked, &b.untracked);
        added("hidden edit", &self.hidden, &again.hidden);
        added(
            "nested repository",
            &self.found.nested_repos,
            &again.found.nested_repos,
        );
        added("worktree", &self.found.worktrees, &again.found.worktrees);
        added("submodule", &self.found.submodules, &again.found.submodules);
        added(
            "sandbox inside",
            &self.instances_inside,
            &again.instances_inside,
        );
        if a.head != b.head {
            out.push(format!(
                "HEAD moved from {} to {}",
                short(a.head.as_deref()),
                short(b.head.as_deref())
            ));
        }
        if a.branch != b.branch {
            out.push("the checked-out branch changed".into());
        }
        if let Some(op) = again
            .operation
            .as_ref()
            .filter(|o| self.operation.as_ref() != Some(o))
        {
            out.push(format!("{op} started"));
        }
        for p in &again.processes {
            // A namespace is the same one whichever of its processes stands for it.
            let known = |q: &Proc| q.pid == p.pid || (p.ns.is_some() && q.ns == p.ns);
            if !self.processes.iter().any(known) {
                out.push(format!("process {}", p.describe()));
            }
        }
        out
    }
}

fn short(oid: Option<&str>) -> String {
    oid.map(|o| o[..o.len().min(12)].to_string())
        .unwrap_or_else(|| "(none)".into())
}
