//! One sandbox's git look for `list` and `status`. The two spawns run side by side, `git
//! status` and the unpushed count (`rev-list`, the commit-graph's walk: on a deep history it
//! costs as much as the status), and while they run, in-process, the answers that read only
//! the repository: the integration verdict of the HEAD read just before, and the default
//! branch, once per repository and only when a row needs it.
//!
//! The count and the verdict are for the HEAD (and branch) read before the spawns. When the
//! status then reports another one (a commit or a checkout between the two looks), both are
//! measured again from the status's own: never an answer about another commit.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::Result;

use crate::config::Config;
use crate::git::{self, Repo};
use crate::registry::Instance;

/// A parent repository, read once for all its sandboxes' rows: its config, the commits its
/// remote-tracking refs point at, and (on first use) its default branch.
pub struct Parent {
    pub repo: Repo,
    pub cfg: Config,
    default: OnceLock<Option<git::DefaultBranch>>,
    remote_tips: Vec<String>,
}

impl Parent {
    pub fn of(repo: Repo, cfg: Config) -> Parent {
        let remote_tips = repo.remote_tips();
        Parent {
            repo,
            cfg,
            default: OnceLock::new(),
            remote_tips,
        }
    }

    fn default_branch(&self) -> Option<&git::DefaultBranch> {
        self.default
            .get_or_init(|| self.repo.default_branch().ok().flatten())
            .as_ref()
    }

    /// Whether `oid` is a remote-tracking ref's commit (pushed: nothing to count).
    fn is_remote_tip(&self, oid: &str) -> bool {
        self.remote_tips.iter().any(|t| t == oid)
    }
}

/// What was measured beside the status, for the HEAD and branch read before it.
struct Early {
    head: String,
    branch: Option<String>,
    /// `None` when the count's thread died: counted again.
    count: Option<Result<u32>>,
    integrated: Option<String>,
}

/// What was measured beside one status.
pub struct Look {
    early: Option<Early>,
}

/// The look at sandbox `i` (verified by the caller): its status, and what was measured
/// beside it.
pub fn look(parent: &Parent, i: &Instance) -> (Result<git::Status>, Look) {
    let dir: &Path = &i.path;
    let head = git::worktree_head(dir);
    let branch = git::worktree_branch(dir);
    std::thread::scope(|s| {
        let count = head.as_deref().map(|h| {
            let pushed = parent.is_remote_tip(h);
            s.spawn(move || {
                if pushed {
                    Ok(0)
                } else {
                    parent.repo.unpushed_count(h, &[])
                }
            })
        });
        let status = s.spawn(|| git::status(dir, git::Scan::Quick));
        let integrated = head
            .as_deref()
            .and_then(|h| integrated(parent, branch.as_deref(), h, i));
        let status = status
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("git status did not finish")));
        let count = count.and_then(|c| c.join().ok());
        let early = head.clone().map(|head| Early {
            head,
            branch: branch.clone(),
            count,
            integrated,
        });
        (status, Look { early })
    })
}

impl Look {
    /// Whether the status saw the HEAD and branch measured beside it.
    fn same(&self, st: &git::Status) -> Option<&Early> {
        self.early
            .as_ref()
            .filter(|e| st.head.as_ref() == Some(&e.head) && st.branch == e.branch)
    }

    /// Commits on no remote-tracking ref: none when the branch is level with or behind its
    /// upstream, the count taken beside the status when the status saw the same HEAD, else
    /// counted again from the status's HEAD.
    pub fn unpushed(&mut self, parent: &Parent, st: &git::Status) -> Option<Result<u32>> {
        if st.upstream.is_some() && st.ahead == 0 {
            return Some(Ok(0));
        }
        let head = st.head.as_ref()?;
        let same = self.same(st).is_some();
        let early = self.early.as_mut().and_then(|e| e.count.take());
        Some(match early {
            Some(count) if same => count,
            _ if parent.is_remote_tip(head) => Ok(0),
            _ => parent.repo.unpushed_count(head, &[]),
        })
    }

    /// How the status's HEAD is integrated into the default branch (see `git::Verdict`).
    pub fn integrated(&self, parent: &Parent, st: &git::Status, i: &Instance) -> Option<String> {
        if let Some(e) = self.same(st) {
            return e.integrated.clone();
        }
        integrated(parent, st.branch.as_deref(), st.head.as_deref()?, i)
    }
}

/// How `tip` (on `branch`) is integrated into the default branch, if it is.
fn integrated(parent: &Parent, branch: Option<&str>, tip: &str, i: &Instance) -> Option<String> {
    let subject = git::Subject {
        branch,
        tip,
        base: i.base_commit.as_deref(),
    };
    let default = parent.default_branch()?;
    match parent.repo.integration(&subject, default).ok()? {
        git::Verdict::Integrated { how, .. } => Some(how.as_str().to_string()),
        _ => None,
    }
}
