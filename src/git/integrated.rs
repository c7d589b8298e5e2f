//! Whether a sandbox's branch is integrated into the default branch: its work is there, so
//! the sandbox can go (`list` shows it, `prune --merged` acts on it).
//!
//! Cheapest first, per operation:
//! - reachability with libgit2 (`graph_descendant_of`): in-process, no spawn; fast-forward
//!   versus merge by a first-parent walk of the default branch back to the tip's time;
//! - squash and rebase merges by tree equality, first in-process (libgit2): does the default
//!   branch hold the branch's version of every path the branch changed? All of them: merged;
//!   none: not (no spawn, the usual case for work in progress). Only a mix needs
//!   `git merge-tree --write-tree` (the git CLI: libgit2 has no merge-ort), which merges the
//!   branch into the default branch: if the result is the default branch's own tree, the
//!   branch adds nothing to it;
//! - rebase told from squash by patch ids (`git cherry`, git CLI: libgit2 has no patch-id),
//!   only once the tree check said "integrated".

use anyhow::Result;
use git2::Oid;

use super::{Repo, run};

/// How a branch's work reached the default branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integration {
    /// The default branch was fast-forwarded over the branch's tip.
    FastForward,
    /// A merge commit brought the tip in.
    Merged,
    /// Its changes were squashed into one commit there (same tree, other commits).
    Squashed,
    /// Its commits were rebased or cherry-picked there (same patches, other ids).
    Rebased,
}

impl Integration {
    pub fn as_str(self) -> &'static str {
        match self {
            Integration::FastForward => "fast-forward",
            Integration::Merged => "merged",
            Integration::Squashed => "squashed",
            Integration::Rebased => "rebased",
        }
    }
}

/// What a branch is, measured against the default branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No commits beyond where it started: nothing to integrate.
    NoCommits,
    /// Its work is in `into` (a ref name), as `how`.
    Integrated {
        how: Integration,
        into: String,
    },
    NotIntegrated,
}

impl Repo {
    /// The default branch, local and remote-tracking, as `(ref, commit)`: the remote's HEAD
    /// (`refs/remotes/<remote>/HEAD`) if known, else `init.defaultBranch`, `main`, `master`.
    pub fn default_branch_refs(&self) -> Result<Vec<(String, String)>> {
        let repo = self.open()?;
        let remote = self.default_remote()?.unwrap_or_else(|| "origin".into());
        let from_remote_head = repo
            .find_reference(&format!("refs/remotes/{remote}/HEAD"))
            .ok()
            .and_then(|r| r.symbolic_target().ok().flatten().map(String::from))
            .and_then(|t| {
                t.strip_prefix(&format!("refs/remotes/{remote}/"))
                    .map(String::from)
            });
        let configured = repo
            .config()
            .ok()
            .and_then(|c| c.get_string("init.defaultBranch").ok());
        let names = from_remote_head
            .into_iter()
            .chain(configured)
            .chain(["main".to_string(), "master".to_string()]);
        for name in names {
            let refs: Vec<(String, String)> = [
                format!("refs/heads/{name}"),
                format!("refs/remotes/{remote}/{name}"),
            ]
            .into_iter()
            .filter_map(|r| {
                let oid = repo.refname_to_id(&r).ok()?;
                Some((r, oid.to_string()))
            })
            .collect();
            if !refs.is_empty() {
                return Ok(refs);
            }
        }
        Ok(Vec::new())
    }

    /// Whether `tip` (started at `base`) is integrated into one of `targets`.
    pub fn integration(
        &self,
        tip: &str,
        base: Option<&str>,
        targets: &[(String, String)],
    ) -> Result<Verdict> {
        let repo = self.open()?;
        let tip_oid = Oid::from_str(tip)?;
        if let Some(base) = base.and_then(|b| Oid::from_str(b).ok())
            && (tip_oid == base || repo.graph_descendant_of(base, tip_oid).unwrap_or(false))
        {
            return Ok(Verdict::NoCommits);
        }
        for (name, target) in targets {
            let target_oid = Oid::from_str(target)?;
            if target_oid == tip_oid || repo.graph_descendant_of(target_oid, tip_oid)? {
                let how = if on_first_parents(&repo, target_oid, tip_oid)? {
                    Integration::FastForward
                } else {
                    Integration::Merged
                };
                return Ok(Verdict::Integrated {
                    how,
                    into: name.clone(),
                });
            }
        }
        let mut seen = Vec::new();
        for (name, target) in targets {
            // The local and remote-tracking default branch are often one commit: merge once.
            if seen.contains(target) {
                continue;
            }
            seen.push(target.clone());
            let target_commit = repo.find_commit(Oid::from_str(target)?)?;
            let own_tree = target_commit.tree_id().to_string();
            let found = match changes_found(&repo, &target_commit, tip_oid)? {
                Found::All => true,
                Found::None => false,
                Found::Some => adds_nothing(self, target, tip, &own_tree),
            };
            if found {
                let how = if all_patches_in(self, target, tip)? {
                    Integration::Rebased
                } else {
                    Integration::Squashed
                };
                return Ok(Verdict::Integrated {
                    how,
                    into: name.clone(),
                });
            }
        }
        Ok(Verdict::NotIntegrated)
    }
}

/// How many of a branch's changes the default branch already holds.
enum Found {
    All,
    Some,
    None,
}

/// The cheap look, in-process: for each path the branch changed since it forked from
/// `target`, does `target` hold the branch's version? All: its work is there. None: it is not
/// (no spawn, the common case for work in progress). Some: only a real merge can tell.
fn changes_found(repo: &git2::Repository, target: &git2::Commit, tip: Oid) -> Result<Found> {
    let base = repo.merge_base(target.id(), tip)?;
    let base_tree = repo.find_commit(base)?.tree()?;
    let tip_tree = repo.find_commit(tip)?.tree()?;
    let target_tree = target.tree()?;
    let diff = repo.diff_tree_to_tree(Some(&base_tree), Some(&tip_tree), None)?;
    let (mut there, mut total) = (0usize, 0usize);
    for delta in diff.deltas() {
        total += 1;
        let new = delta.new_file();
        let Some(path) = new.path().or(delta.old_file().path()) else {
            continue;
        };
        let held = target_tree.get_path(path).ok().map(|e| e.id());
        let wanted = (delta.status() != git2::Delta::Deleted).then(|| new.id());
        if held == wanted {
            there += 1;
        }
    }
    Ok(match there {
        // No change at all (empty commits) adds nothing either.
        n if n == total => Found::All,
        0 => Found::None,
        _ => Found::Some,
    })
}

/// Whether `tip` is on `target`'s first-parent line (walked back to `tip`'s time).
fn on_first_parents(repo: &git2::Repository, target: Oid, tip: Oid) -> Result<bool> {
    let since = repo.find_commit(tip)?.time().seconds();
    let mut at = repo.find_commit(target)?;
    loop {
        if at.id() == tip {
            return Ok(true);
        }
        if at.time().seconds() < since {
            return Ok(false);
        }
        let Ok(parent) = at.parent(0) else {
            return Ok(false);
        };
        at = parent;
    }
}

/// Whether merging `tip` into `target` changes nothing: the merge's tree is `own_tree`.
fn adds_nothing(repo: &Repo, target: &str, tip: &str, own_tree: &str) -> bool {
    // A conflict exits 1: then the branch certainly adds something.
    run(&repo.root, &["merge-tree", "--write-tree", target, tip])
        .is_ok_and(|out| out.lines().next().is_some_and(|l| l.trim() == own_tree))
}

/// Whether every commit of `tip` since it forked has an equal patch in `target` (`git
/// cherry` marks those `-`).
fn all_patches_in(repo: &Repo, target: &str, tip: &str) -> Result<bool> {
    let out = run(&repo.root, &["cherry", target, tip])?;
    Ok(!out.trim().is_empty() && out.lines().all(|l| l.starts_with('-')))
}
