//! Refs from a remote: which remote is the default one, which refs it has, fetching one into a
//! remote-tracking ref, and moving a branch forward by compare-and-swap (for `new --pr`).
//!
//! `ls-remote` and `fetch` are the git CLI: they use the user's credential helpers, ssh config,
//! proxies and protocol v2 exactly as `git fetch` does, which libgit2 does not. The fetch runs
//! under the supervisor (a network transfer can run long) and writes only the ref it is given:
//! no FETCH_HEAD (parallel `new --pr` runs would race on it), no tags, no submodules.

use std::process::Stdio;

use anyhow::{Context, Result};

use super::*;

impl Repo {
    /// The remote pull requests come from: the upstream remote of the main worktree's branch
    /// (else of `main` or `master`), else `origin`, else the only remote. `None` when there
    /// is no remote, or several and none of those rules picks one.
    pub fn default_remote(&self) -> Result<Option<String>> {
        self.with_repo(default_remote_in)
    }

    /// Which of `refs` (full names) `remote` has, with their commits (`git ls-remote`).
    pub fn remote_refs(&self, remote: &str, refs: &[&str]) -> Result<Vec<(String, String)>> {
        let out = git_cmd_guarded(&self.root)
            .args(["ls-remote", "--", remote])
            .args(refs)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .context("cannot run git ls-remote")?;
        if !out.status.success() {
            return Err(UserError::new(format!(
                "cannot list the refs of remote {remote}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
            .hint(format!("check that `git ls-remote {remote}` works"))
            .into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter(|(_, name)| refs.contains(name))
            .map(|(oid, name)| (name.to_string(), oid.to_string()))
            .collect())
    }

    /// Fetches `remote`'s ref `src` into the remote-tracking ref `dst` (forced, as remote-tracking
    /// refs are); returns the commit it holds.
    pub fn fetch_ref(&self, remote: &str, src: &str, dst: &str) -> Result<String> {
        let out = git_cmd_guarded(&self.root)
            .args(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"])
            .args(["--no-recurse-submodules", "--", remote])
            .arg(format!("+{src}:{dst}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("cannot run git fetch")?;
        check(&out, &format!("git fetch {remote} {src}"))?;
        self.resolve_commit(dst)
    }

    /// Whether commit `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool> {
        let repo = self.open()?;
        let (a, d) = (
            git2::Oid::from_str(ancestor)?,
            git2::Oid::from_str(descendant)?,
        );
        Ok(a == d || repo.graph_descendant_of(d, a)?)
    }

    /// Moves local branch `name` from `from` to `to`, only if it is still at `from`.
    pub fn move_branch(&self, name: &str, from: &str, to: &str, why: &str) -> Result<()> {
        let repo = self.open()?;
        repo.reference_matching(
            &format!("refs/heads/{name}"),
            git2::Oid::from_str(to)?,
            true,
            git2::Oid::from_str(from)?,
            why,
        )
        .with_context(|| format!("cannot move branch {name} (did it change meanwhile?)"))?;
        Ok(())
    }
}

/// [`Repo::default_remote`] on an open repository.
fn default_remote_in(repo: &git2::Repository) -> Result<Option<String>> {
    let names = repo.remotes()?;
    let remotes: Vec<String> = (0..names.len())
        .filter_map(|i| names.get(i).ok().flatten())
        .map(String::from)
        .collect();
    let config = repo.config()?;
    let current = repo
        .head()
        .ok()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().ok().map(String::from));
    let candidates = current.into_iter().chain(["main".into(), "master".into()]);
    for branch in candidates {
        if let Ok(r) = config.get_string(&format!("branch.{branch}.remote"))
            && remotes.contains(&r)
        {
            return Ok(Some(r));
        }
    }
    if remotes.iter().any(|r| r == "origin") {
        return Ok(Some("origin".into()));
    }
    Ok(match remotes.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    })
}
