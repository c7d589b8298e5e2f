//! A merge, rebase, cherry-pick, revert, `am` or bisect in progress in a worktree: its state
//! lives in the worktree's admin dir (`MERGE_HEAD`, `rebase-merge/`, `sequencer/`, the
//! per-worktree `refs/bisect/`…), which removing the worktree deletes. Losing it turns a merge
//! into an ordinary commit and a rebase into a detached HEAD with no plan.
//!
//! So `rm` names the operation (and refuses unless `--force`), and the snapshot keeps those
//! files as a tree `admin/` ([`save`]), with every object they name kept reachable (commits as
//! parents, trees and blobs in `names/`); `restore` writes them back into the new worktree's
//! admin dir ([`put_back`]), so `git status` says "you are still merging" again. The
//! worktree's own settings there (`config.worktree`, `info/sparse-checkout`) come along.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use git2::{ObjectType, Oid, Repository, TreeBuilder};

/// Files and directories of an operation, relative to the admin dir.
const FILES: &[&str] = &[
    "MERGE_HEAD",
    "MERGE_MSG",
    "MERGE_MODE",
    "MERGE_AUTOSTASH",
    "AUTO_MERGE",
    "SQUASH_MSG",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "REBASE_HEAD",
    "ORIG_HEAD",
    "rebase-merge",
    "rebase-apply",
    "sequencer",
    "refs",
    // Not an operation, but the worktree's own too: `git config --worktree`, sparse-checkout.
    "config.worktree",
    "info",
];

/// The operation in progress in the worktree whose admin dir is `admin`, if any.
pub fn in_progress(admin: &Path) -> Option<&'static str> {
    let has = |p: &str| fs::symlink_metadata(admin.join(p)).is_ok();
    let bisect = fs::read_dir(admin).is_ok_and(|rd| {
        rd.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("BISECT_"))
    });
    [
        (has("MERGE_HEAD"), "a merge"),
        (
            has("rebase-merge") || has("rebase-apply/rebasing"),
            "a rebase",
        ),
        (has("rebase-apply"), "a `git am`"),
        (has("CHERRY_PICK_HEAD"), "a cherry-pick"),
        (has("REVERT_HEAD"), "a revert"),
        (has("sequencer"), "a cherry-pick or revert sequence"),
        (bisect, "a bisect"),
    ]
    .into_iter()
    .find_map(|(on, what)| on.then_some(what))
}

/// What [`save`] made: the `admin/` tree, and the commits its files name.
pub struct Saved {
    pub tree: Oid,
    pub commits: Vec<Oid>,
}

/// The operation's files of `admin` as a tree (with `names/` keeping every tree and blob they
/// name), or `None` when there are none.
pub fn save(repo: &Repository, admin: &Path) -> Result<Option<Saved>> {
    let mut names = Vec::new();
    let mut root = repo.treebuilder(None)?;
    for name in FILES {
        add(repo, &admin.join(name), name, &mut root, &mut names)?;
    }
    for e in fs::read_dir(admin)?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with("BISECT_") {
            add(repo, &e.path(), &n, &mut root, &mut names)?;
        }
    }
    if root.is_empty() {
        return Ok(None);
    }
    names.sort();
    names.dedup();
    let mut commits = Vec::new();
    let mut kept = repo.treebuilder(None)?;
    for id in names {
        match repo.find_object(id, None).ok().and_then(|o| o.kind()) {
            Some(ObjectType::Commit) => commits.push(id),
            Some(ObjectType::Tree) => kept.insert(id.to_string(), id, 0o040000).map(drop)?,
            Some(ObjectType::Blob) => kept.insert(id.to_string(), id, 0o100644).map(drop)?,
            _ => {}
        }
    }
    if !kept.is_empty() {
        root.insert("names", kept.write()?, 0o040000)?;
    }
    Ok(Some(Saved {
        tree: root.write()?,
        commits,
    }))
}

/// Adds the file or directory `path` to `tb` as `name`, collecting the object ids it names.
fn add(
    repo: &Repository,
    path: &Path,
    name: &str,
    tb: &mut TreeBuilder,
    names: &mut Vec<Oid>,
) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.is_dir() {
        let mut sub = repo.treebuilder(None)?;
        for e in fs::read_dir(path)?.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            add(repo, &e.path(), &n, &mut sub, names)?;
        }
        if !sub.is_empty() {
            tb.insert(name, sub.write()?, 0o040000)?;
        }
    } else if meta.is_file() {
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        names.extend(object_names(&bytes));
        tb.insert(name, repo.blob(&bytes)?, 0o100644)?;
    }
    Ok(())
}

/// Every 40- or 64-digit hex word in `bytes`.
fn object_names(bytes: &[u8]) -> Vec<Oid> {
    bytes
        .split(|b| !b.is_ascii_hexdigit())
        .filter(|w| w.len() == 40 || w.len() == 64)
        .filter_map(|w| Oid::from_str(std::str::from_utf8(w).ok()?).ok())
        .collect()
}

/// Writes the saved `admin/` tree into `admin`, leaving alone any file already there.
pub fn put_back(repo: &Repository, tree: &git2::Tree, admin: &Path) -> Result<()> {
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        if name == "names" {
            continue;
        }
        write_entry(repo, &entry, &admin.join(name))?;
    }
    Ok(())
}

fn write_entry(repo: &Repository, entry: &git2::TreeEntry, path: &Path) -> Result<()> {
    match entry.kind() {
        Some(ObjectType::Tree) => {
            fs::create_dir_all(path)?;
            let sub = repo.find_tree(entry.id())?;
            for e in sub.iter() {
                if let Ok(n) = e.name() {
                    write_entry(repo, &e, &path.join(n))?;
                }
            }
        }
        Some(ObjectType::Blob) if fs::symlink_metadata(path).is_err() => {
            let blob = repo.find_blob(entry.id())?;
            fs::write(path, blob.content())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        _ => {}
    }
    Ok(())
}
