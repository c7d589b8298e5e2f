//! `new --pr N`: a pull request (GitHub's `refs/pull/N/head`) or merge request (GitLab's
//! `refs/merge-requests/N/head`) taken in as the local branch `pr-N`. No `gh` or `glab`: the
//! refs are plain git, so it works with any remote that carries them.
//!
//! Steps, each changing nothing until the previous one succeeded:
//! 1. The default remote (`Repo::default_remote`).
//! 2. Which of the two refs it has (`ls-remote`); neither: an error naming both.
//! 3. Fetch that one into the remote-tracking ref `refs/remotes/<remote>/pr/N` (GitLab:
//!    `…/mr/N`), the usual place for them. Being on a remote-tracking ref, the request's
//!    commits count as pushed: `rm` of the sandbox deletes the branch when nothing was added.
//! 4. The branch: absent, it is made at the fetched commit by `sandbox::create` (so a failed
//!    `new` deletes it again); at the commit or ahead of it, used as it is; behind it,
//!    fast-forwarded by compare-and-swap; diverged, refused. A branch checked out in some
//!    worktree is never moved. Local commits on `pr-N` are never lost.

use anyhow::Result;

use crate::error::UserError;
use crate::git::Repo;
use crate::ui;

/// A pull request taken in, ready for `sandbox::create`.
pub struct PullRequest {
    /// `pr-N`.
    pub branch: String,
    /// Make the branch at this commit (it did not exist); `None`: use it as it is.
    pub start: Option<String>,
}

/// The branch a pull request number is taken into.
pub fn branch_name(n: u64) -> String {
    format!("pr-{n}")
}

/// Whether `branch` is one `new --pr` takes requests into (`pr-N`): its commits are the
/// request's author's, whoever's machine holds the branch.
pub fn is_branch(branch: &str) -> bool {
    branch
        .strip_prefix("pr-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Fetches pull/merge request `n` and gets its branch ready (see the module doc).
pub fn take_in(repo: &Repo, n: u64) -> Result<PullRequest> {
    let branch = branch_name(n);
    let remote = repo.default_remote()?.ok_or_else(|| {
        UserError::new("no remote to fetch the pull request from")
            .hint("add one (`git remote add origin URL`), or set the default branch's upstream")
    })?;
    let github = format!("refs/pull/{n}/head");
    let gitlab = format!("refs/merge-requests/{n}/head");
    let found = repo.remote_refs(&remote, &[&github, &gitlab])?;
    // Both (a mirror of each?): GitHub's.
    let src = found.iter().map(|(name, _)| name).find(|n| **n == github);
    let Some(src) = src.or(found.first().map(|(name, _)| name)) else {
        return Err(UserError::new(format!(
            "pull request {n} is not on remote {remote}: it has neither {github} (GitHub) nor {gitlab} (GitLab)"
        ))
        .hint(format!(
            "check the number, and that {remote} is the repository the request was made against"
        ))
        .into());
    };
    let kind = if *src == github { "pr" } else { "mr" };
    let tracking = format!("refs/remotes/{remote}/{kind}/{n}");
    ui::info(&format!("fetching {src} from {remote} into {tracking}"));
    let head = repo.fetch_ref(&remote, src, &tracking)?;
    let start = settle_branch(repo, &branch, &head, &tracking)?;
    refuse_checked_out(repo, n, &branch)?;
    Ok(PullRequest { branch, start })
}

/// The request's branch, up to date, but checked out in another worktree: `--pr` fixes the
/// branch (`--branch` cannot go with it), so the way on is that worktree.
fn refuse_checked_out(repo: &Repo, n: u64, branch: &str) -> Result<()> {
    let Some(at) = repo.branch_checked_out_at(branch)? else {
        return Ok(());
    };
    Err(UserError::new(format!(
        "pull request {n}'s branch {branch} is already checked out at {}",
        at.display()
    ))
    .hint(format!(
        "work on it there (`cd \"{}\"`), or switch that worktree to another branch and run this again",
        at.display()
    ))
    .into())
}

/// Step 4: what to do with an existing `branch` given the fetched `head` (in `tracking`).
fn settle_branch(repo: &Repo, branch: &str, head: &str, tracking: &str) -> Result<Option<String>> {
    let Some(tip) = repo.branch_tip(branch)? else {
        return Ok(Some(head.to_string()));
    };
    if repo.is_ancestor(head, &tip)? {
        if tip != head {
            ui::info(&format!(
                "branch {branch} already holds the request's head and commits of its own; using it as it is"
            ));
        }
        return Ok(None);
    }
    if !repo.is_ancestor(&tip, head)? {
        return Err(UserError::new(format!(
            "branch {branch} has commits the pull request does not, and the request has moved on: \
             updating it would lose them"
        ))
        .hint(format!(
            "keep them under another name (`git branch -m {branch} {branch}-mine`) and run this again"
        ))
        .into());
    }
    if let Some(at) = repo.branch_checked_out_at(branch)? {
        return Err(UserError::new(format!(
            "branch {branch} is behind the pull request but checked out at {}; it was not updated",
            at.display()
        ))
        .hint(format!(
            "fast-forward it there (`git merge --ff-only {tracking}`), or remove that worktree"
        ))
        .into());
    }
    repo.move_branch(branch, &tip, head, "git-sandbox: new --pr (fast-forward)")?;
    ui::info(&format!(
        "fast-forwarded branch {branch} to the request's head"
    ));
    Ok(None)
}
