//! The tree-level looks of `integrated`: does the default branch hold a branch's changes,
//! modes included (in-process first, `git merge-tree` only for a mix), how it got there (first
//! parents, patch ids), and whether a branch's commits are on any other ref.

use anyhow::Result;
use git2::{Oid, Repository};

use crate::git::{Repo, run};

/// How many of a branch's changes the default branch already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// The branch changes nothing since it forked (empty commits, or changes undone).
    Empty,
    All,
    Some,
    None,
}

/// The cheap look, in-process: for each path the branch changed since it forked from
/// `target`, does `target` hold the branch's version, mode included? All: its work is there.
/// None: it is not (no spawn, the common case for work in progress). Some: only a real merge
/// can tell. No change at all: [`Found::Empty`], never "all".
/// `base`: where the branch forked from `target` (`Repo::fork_point`).
pub fn changes_found(
    repo: &Repository,
    target: &git2::Commit,
    tip: Oid,
    base: Oid,
) -> Result<Found> {
    let base_tree = repo.find_commit(base)?.tree()?;
    let tip_tree = repo.find_commit(tip)?.tree()?;
    let target_tree = target.tree()?;
    let mut opts = git2::DiffOptions::new();
    // A file turned into a link is one change of that path, not a delete and an add.
    opts.include_typechange(true).include_typechange_trees(true);
    let diff = repo.diff_tree_to_tree(Some(&base_tree), Some(&tip_tree), Some(&mut opts))?;
    let (mut there, mut total) = (0usize, 0usize);
    for delta in diff.deltas() {
        total += 1;
        let new = delta.new_file();
        let Some(path) = new.path().or(delta.old_file().path()) else {
            continue;
        };
        let held = target_tree
            .get_path(path)
            .ok()
            .map(|e| (e.id(), e.filemode()));
        let wanted =
            (delta.status() != git2::Delta::Deleted).then(|| (new.id(), i32::from(new.mode())));
        if held == wanted {
            there += 1;
        }
    }
    Ok(match there {
        _ if total == 0 => Found::Empty,
        n if n == total => Found::All,
        0 => Found::None,
        _ => Found::Some,
    })
}

/// Whether `tip` is on `target`'s first-parent line (walked back to `tip`'s time).
pub fn on_first_parents(repo: &Repository, target: Oid, tip: Oid) -> Result<bool> {
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
/// `git merge-tree --write-tree` (libgit2 has no merge-ort) merges modes too.
pub fn adds_nothing(repo: &Repo, target: &str, tip: &str, own_tree: &str) -> bool {
    // A conflict exits 1: then the branch certainly adds something.
    run(&repo.root, &["merge-tree", "--write-tree", target, tip])
        .is_ok_and(|out| out.lines().next().is_some_and(|l| l.trim() == own_tree))
}

/// Whether every commit of `tip` since it forked has an equal patch in `target` (`git
/// cherry` marks those `-`).
pub fn all_patches_in(repo: &Repo, target: &str, tip: &str) -> Result<bool> {
    let out = run(&repo.root, &["cherry", target, tip])?;
    Ok(!out.trim().is_empty() && out.lines().all(|l| l.starts_with('-')))
}

/// Whether no ref but `own` (the branch itself) and git-sandbox's own saved states reaches
/// `tip`: its commits are only on this branch.
pub fn only_here(repo: &Repository, own: Option<&str>, tip: Oid) -> Result<bool> {
    for r in repo.references()? {
        let Ok(r) = r else { continue };
        let name = r.name().unwrap_or("");
        if Some(name) == own || name.starts_with("refs/sandbox/") {
            continue;
        }
        let Some(at) = r.resolve().ok().and_then(|r| r.target()) else {
            continue;
        };
        if at == tip || repo.graph_descendant_of(at, tip).unwrap_or(false) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `target` undid some of the branch's work after it was merged: a path the branch
/// changed from `base` to `tip` that `target` holds as it was at `base` (absent, for a file
/// the branch added). A path changed again since is not undone: the work evolved.
pub fn undone(repo: &Repository, base: Oid, tip: Oid, target: Oid) -> Result<bool> {
    let base_tree = repo.find_commit(base)?.tree()?;
    let tip_tree = repo.find_commit(tip)?.tree()?;
    let target_tree = repo.find_commit(target)?.tree()?;
    let mut opts = git2::DiffOptions::new();
    opts.include_typechange(true).include_typechange_trees(true);
    let diff = repo.diff_tree_to_tree(Some(&base_tree), Some(&tip_tree), Some(&mut opts))?;
    let entry = |path: &std::path::Path| {
        target_tree
            .get_path(path)
            .ok()
            .map(|e| (e.id(), e.filemode()))
    };
    for delta in diff.deltas() {
        let (old, new) = (delta.old_file(), delta.new_file());
        let Some(path) = new.path().or(old.path()) else {
            continue;
        };
        let side = |f: git2::DiffFile| f.exists().then(|| (f.id(), i32::from(f.mode())));
        let held = entry(path);
        if held == side(old) && held != side(new) {
            return Ok(true);
        }
    }
    Ok(false)
}
