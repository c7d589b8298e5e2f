//! One sandbox's git look for `list` and `status`: its status on a thread of its own (one `git
//! status` spawn; for a small tree, proven in-process by `git/clean.rs`: clean but for any
//! untracked paths), and while it runs, in-process, the answers that read only the
//! repository: the unpushed count (the commit-graph's walk, `git/graph.rs`), the integration
//! verdict of the HEAD read beside it, and the default branch, once per repository and only
//! when a row needs it.
//!
//! The count and the verdict are for the HEAD (and branch) read beside the status. When the
//! status reports another one (a commit or a checkout between the two reads), both are
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

    /// Whether `branch` is on a remote or has an upstream (`git::branch_on_remote`).
    fn on_remote(&self, branch: &str, dir: &Path) -> bool {
        self.repo
            .branch_on_remote(branch)
            .unwrap_or_else(|| git::branch_on_remote(dir, branch))
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
    count: Option<Result<u32>>,
    integrated: Option<String>,
    /// Whether the branch is on a remote or has an upstream (`git::branch_on_remote`).
    on_remote: bool,
}

/// What was measured beside one status.
pub struct Look {
    early: Option<Early>,
}

/// The look at sandbox `i` (verified by the caller): its status, and what was measured
/// beside it. `many`: one of several looked at side by side. The status starts first: it is
/// the long pole, and the HEAD read after it is checked against its own (`Look::same`).
pub fn look(parent: &Parent, i: &Instance, many: bool) -> (Result<git::Status>, Look) {
    let dir: &Path = &i.path;
    let scan = if many {
        git::Scan::Listing
    } else {
        git::Scan::Quick
    };
    std::thread::scope(|s| {
        let status = s.spawn(move || git::status_of_look(&parent.repo, dir, scan));
        let head = parent
            .repo
            .worktree_head(dir)
            .or_else(|| git::worktree_head(dir));
        let branch = git::worktree_branch(dir);
        crate::timings::step("look: head/branch");
        let count = head.as_deref().map(|h| {
            if parent.is_remote_tip(h) {
                Ok(0)
            } else {
                parent.repo.unpushed_count(h)
            }
        });
        crate::timings::step("look: count");
        // The verdict walks the history too, after the count on this same thread, with the
        // repository it holds open: on a thread of its own it opened one more (every config
        // file read again) and took a core from the status (`status` of a sandbox 5,000
        // commits behind with a commit of its own: 4.2 ms that way, 3.9 this one).
        let integrated = head
            .as_deref()
            .and_then(|h| integrated(parent, branch.as_deref(), h, i));
        crate::timings::step("look: integrated");
        let on_remote = branch.as_deref().is_some_and(|b| parent.on_remote(b, dir));
        crate::timings::step("look: on a remote");
        let status = status
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("git status did not finish")));
        let early = head.map(|head| Early {
            head,
            branch,
            count,
            integrated,
            on_remote,
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

    /// Commits on no remote-tracking ref: the count taken beside the status when the status
    /// saw the same HEAD, else counted again from the status's HEAD. Never from the upstream's
    /// ahead count: an upstream can be a local branch, or gone from the remote.
    pub fn unpushed(&mut self, parent: &Parent, st: &git::Status) -> Option<Result<u32>> {
        let head = st.head.as_ref()?;
        let same = self.same(st).is_some();
        let early = self.early.as_mut().and_then(|e| e.count.take());
        Some(match early {
            Some(count) if same => count,
            _ if parent.is_remote_tip(head) => Ok(0),
            _ => parent.repo.unpushed_count(head),
        })
    }

    /// Whether the status's branch is on a remote or has an upstream.
    pub fn on_remote(&self, parent: &Parent, st: &git::Status, dir: &Path) -> bool {
        match (self.same(st), st.branch.as_deref()) {
            (_, None) => false,
            (Some(e), Some(_)) => e.on_remote,
            (None, Some(b)) => parent.on_remote(b, dir),
        }
    }

    /// How the status's HEAD is integrated into the default branch (see `git::Verdict`).
    pub fn integrated(&self, parent: &Parent, st: &git::Status, i: &Instance) -> Option<String> {
        if let Some(e) = self.same(st) {
            return e.integrated.clone();
        }
        integrated(parent, st.branch.as_deref(), st.head.as_deref()?, i)
    }
}

/// What the verdict measures: `tip` on `branch`, from where sandbox `i` was made.
fn subject<'a>(branch: Option<&'a str>, tip: &'a str, i: &'a Instance) -> git::Subject<'a> {
    git::Subject {
        branch,
        tip,
        base: i.base_commit.as_deref(),
    }
}

/// How `tip` (on `branch`) is integrated into the default branch, if it is.
fn integrated(parent: &Parent, branch: Option<&str>, tip: &str, i: &Instance) -> Option<String> {
    let subject = subject(branch, tip, i);
    // No commits of its own: nothing to ask of the default branch (found on first use).
    if subject.at_its_start() {
        return None;
    }
    let default = parent.default_branch()?;
    match parent.repo.integration(&subject, default).ok()? {
        git::Verdict::Integrated { how, .. } => Some(how.as_str().to_string()),
        _ => None,
    }
}
