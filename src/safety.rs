//! What removing a sandbox would lose, computed before anything is touched.
//!
//! The report lists staged and unstaged changes, untracked files, commits on no remote-tracking
//! ref (no upstream counts as never pushed), a lock, populated submodules, and, as
//! information, ignored files (count and size). [`Report::blockers`] are the reasons `rm`
//! refuses without `--force`; unpushed commits are not among them because the branch that holds
//! them is kept.

use std::path::Path;

use anyhow::Result;

use crate::git::{self, Repo, Status};
use crate::registry::Instance;

/// What would be lost.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub status: Status,
    /// Commits reachable from HEAD and from no remote-tracking ref.
    pub unpushed: u32,
    /// Of those, how many are on no other local branch either (lost if the branch went).
    pub unmerged_unpushed: u32,
    /// The branch has no upstream and no commit of it beyond the base is on a remote.
    pub never_pushed: bool,
    pub locked: Option<String>,
    pub submodules: Vec<String>,
    pub ignored_files: u64,
    pub ignored_bytes: u64,
    /// What the pre-push hook last recorded.
    pub pushed: Option<crate::registry::Pushed>,
}

impl Report {
    /// Reasons to refuse a removal without `--force`.
    pub fn blockers(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.status;
        if !s.staged.is_empty() {
            out.push(format!("{} staged change(s)", s.staged.len()));
        }
        if !s.unstaged.is_empty() {
            out.push(format!("{} unstaged change(s)", s.unstaged.len()));
        }
        if !s.conflicted.is_empty() {
            out.push(format!("{} unresolved conflict(s)", s.conflicted.len()));
        }
        if !s.untracked.is_empty() {
            out.push(format!("{} untracked file(s)", s.untracked.len()));
        }
        if self.unmerged_unpushed > 0 && self.status.branch.is_none() {
            out.push(format!(
                "HEAD is detached with {} commit(s) on no branch and no remote",
                self.unmerged_unpushed
            ));
        } else if self.unmerged_unpushed > 0 {
            out.push(format!(
                "{} commit(s) on no remote and no other branch{}",
                self.unmerged_unpushed,
                if self.never_pushed {
                    " (the branch was never pushed)"
                } else {
                    ""
                }
            ));
        }
        if let Some(reason) = &self.locked {
            if reason.is_empty() {
                out.push("the worktree is locked".into());
            } else {
                out.push(format!("the worktree is locked ({reason})"));
            }
        }
        if !self.submodules.is_empty() {
            out.push(format!(
                "populated submodule(s): {}",
                self.submodules.join(", ")
            ));
        }
        out
    }

    /// Whether there is uncommitted or untracked work to save before a forced removal.
    pub fn has_uncommitted(&self) -> bool {
        !self.status.is_clean()
    }

    /// The report as lines for the user.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.status;
        let list = |what: &str, files: &[String], out: &mut Vec<String>| {
            if files.is_empty() {
                return;
            }
            out.push(format!("  {} {what}:", files.len()));
            for f in files.iter().take(20) {
                out.push(format!("    {f}"));
            }
            if files.len() > 20 {
                out.push(format!("    … and {} more", files.len() - 20));
            }
        };
        list("staged", &s.staged, &mut out);
        list("unstaged", &s.unstaged, &mut out);
        list("conflicted", &s.conflicted, &mut out);
        list("untracked", &s.untracked, &mut out);
        if self.unpushed > 0 {
            out.push(format!(
                "  {} commit(s) on no remote{}",
                self.unpushed,
                if self.never_pushed {
                    " (the branch was never pushed)"
                } else {
                    ""
                }
            ));
        } else if self.never_pushed {
            out.push("  the branch was never pushed (it has no commits of its own)".into());
        }
        if let Some(p) = &self.pushed {
            out.push(format!(
                "  last pushed {} to {} {}",
                p.at, p.remote, p.remote_ref
            ));
        }
        if s.upstream.is_some() && s.ahead > 0 {
            out.push(format!(
                "  {} commit(s) ahead of {}",
                s.ahead,
                s.upstream.as_deref().unwrap_or("")
            ));
        }
        if let Some(r) = &self.locked {
            out.push(format!(
                "  locked{}",
                if r.is_empty() {
                    String::new()
                } else {
                    format!(": {r}")
                }
            ));
        }
        for sm in &self.submodules {
            out.push(format!("  populated submodule: {sm}"));
        }
        if self.ignored_files > 0 {
            out.push(format!(
                "  (information) {} ignored file(s), {} — not saved by a forced removal",
                self.ignored_files,
                human_bytes(self.ignored_bytes)
            ));
        }
        out
    }
}

/// Assesses a verified sandbox directory. Reachability (`rev-list`) runs beside `status`,
/// and is skipped when HEAD is itself a remote-tracking tip.
/// `env_file` is the sandbox's own env file: ignored, but git-sandbox's, not the user's work.
pub fn assess(repo: &Repo, inst: &Instance, path: &Path, env_file: &str) -> Result<Report> {
    let head = git::worktree_head(path);
    let branch = git::worktree_branch(path);
    let (status, reach) = std::thread::scope(|s| {
        let reach = s.spawn(|| lost_commits(repo, head.as_deref(), branch.as_deref()));
        let status = git::status(path, git::Scan::Full);
        (status, reach.join())
    });
    let mut status = status?;
    status.ignored.retain(|p| p != env_file);
    let (unpushed, unmerged_unpushed) = match reach {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("checking which commits are pushed failed"),
    };
    let never_pushed = status.upstream.is_none() && inst.pushed.is_none();
    let (ignored_files, ignored_bytes) = git::ignored_size(path, &status.ignored);
    Ok(Report {
        unpushed,
        unmerged_unpushed,
        never_pushed,
        locked: repo.lock_reason(inst.admin()),
        submodules: git::populated_submodules(path),
        ignored_files,
        ignored_bytes,
        pushed: inst.pushed.clone(),
        status,
    })
}

/// Commits reachable from `head` on no remote-tracking ref, and how many of those are on no
/// other local branch either (lost if the branch went).
fn lost_commits(repo: &Repo, head: Option<&str>, branch: Option<&str>) -> Result<(u32, u32)> {
    let Some(head) = head else {
        return Ok((0, 0));
    };
    if repo.is_remote_tip(head) {
        return Ok((0, 0));
    }
    let unpushed = repo.unpushed_count(head, &[])?;
    if unpushed == 0 {
        return Ok((0, 0));
    }
    let mut elsewhere = Vec::new();
    if let Some(b) = branch {
        // For --branches, --exclude patterns are matched without refs/heads/.
        elsewhere.push(format!("--exclude={b}"));
    }
    elsewhere.push("--branches".to_string());
    elsewhere.extend(repo.main_head());
    Ok((unpushed, repo.unpushed_count(head, &elsewhere)?))
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
