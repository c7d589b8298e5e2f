//! [`Report::refusals`]: what stops a removal, `hard` (even with `--force`: another worktree
//! or instance inside, a mount point, names git-sandbox cannot save) or `soft` (unless
//! `--force`: uncommitted work, unpushed commits, a lock, an operation in progress, submodules,
//! nested repositories, processes).

use super::{Refusals, Report};
use crate::procs::Proc;

impl Report {
    /// Everything that stops a removal, sorted by whether `--force` overrides it.
    pub fn refusals(&self) -> Refusals {
        Refusals {
            hard: self.hard_refusals(),
            soft: self.soft_refusals(),
        }
    }

    /// Another sandbox or worktree inside, a mount point: never removed, even with `--force`.
    fn hard_refusals(&self) -> Vec<String> {
        let f = &self.found;
        let mut out = Vec::new();
        for (what, items) in [
            ("other sandbox(es) live inside it", &self.instances_inside),
            ("other git worktree(s) inside it", &f.worktrees),
            ("mount point(s) inside it", &f.mounts),
            (
                "file name(s) that are not valid UTF-8, which git-sandbox cannot save byte for byte (rename them)",
                &f.unreadable_names,
            ),
        ] {
            if !items.is_empty() {
                out.push(format!("{what}: {}", items.join(", ")));
            }
        }
        out
    }

    /// Work `--force` saves (or, for processes, `--kill` stops) before removing.
    fn soft_refusals(&self) -> Vec<String> {
        let (s, f) = (&self.status, &self.found);
        let mut out = Vec::new();
        for (n, what) in [
            (s.staged.len(), "staged change(s)"),
            (s.unstaged.len(), "unstaged change(s)"),
            (s.conflicted.len(), "unresolved conflict(s)"),
            (s.untracked.len(), "untracked file(s)"),
            (
                self.hidden.len(),
                "edit(s) hidden by --assume-unchanged/--skip-worktree",
            ),
        ] {
            if n > 0 {
                out.push(format!("{n} {what}"));
            }
        }
        if self.unmerged_unpushed > 0 {
            out.push(if s.branch.is_none() {
                format!(
                    "HEAD is detached at {} with {} commit(s) on no branch and no remote",
                    s.head.as_deref().map_or("?", |h| &h[..h.len().min(7)]),
                    self.unmerged_unpushed
                )
            } else {
                format!(
                    "{} commit(s) on no remote and no other branch{}",
                    self.unmerged_unpushed,
                    if self.never_pushed {
                        " (the branch was never pushed)"
                    } else {
                        ""
                    }
                )
            });
        }
        if let Some(reason) = &self.locked {
            out.push(if reason.is_empty() {
                "the worktree is locked".into()
            } else {
                format!("the worktree is locked ({reason})")
            });
        }
        if let Some(op) = &self.operation {
            out.push(format!(
                "{op} is in progress (`--force` saves its state too; `restore` brings it back)"
            ));
        }
        for (what, items) in [
            ("populated submodule(s)", &f.submodules),
            ("nested git repositor(ies)", &f.nested_repos),
        ] {
            if !items.is_empty() {
                out.push(format!("{what}: {}", items.join(", ")));
            }
        }
        if !self.processes.is_empty() {
            let names: Vec<String> = self.processes.iter().map(Proc::describe).collect();
            out.push(format!(
                "process(es) still running in it: {}",
                names.join("; ")
            ));
        }
        out
    }
}
