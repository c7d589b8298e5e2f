//! Byte-exact snapshots of a worktree's uncommitted work, and putting one back.
//!
//! libgit2, not `git add`: `git add` runs clean filters and eol conversion, so a save made with
//! it is not the user's bytes (RESEARCH.md). Here every changed file's bytes go into a blob as
//! they are on disk (a symlink's target as a link), with git's executable bit; nothing touches
//! the worktree or its index file. Applying writes those same raw bytes back.
//!
//! A snapshot is one commit: its tree is the working files (tracked and untracked, not
//! ignored), parent 1 the HEAD commit, parent 2 a commit of the staged state, and parents 3…
//! commits reachable only from the worktree's HEAD reflog (so they stay reachable). The staged
//! state's own parent 2 records the index entry by entry ([`super::index_state`]): intent-to-add,
//! the assume-unchanged/skip-worktree bits and conflict stages, which no tree can hold.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};
use git2::{IndexEntry, IndexTime, Oid, Repository};

use super::index_state;
use super::run_guarded as run;

/// A worktree's whole state saved as git objects.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The commit to keep (see the module doc).
    pub commit: String,
}

/// Saves `changed` paths' bytes (relative, `/`-separated) on top of the index of the worktree
/// at `worktree`. `extra_parents` are kept reachable as parents 3…
pub fn snapshot(
    worktree: &Path,
    changed: &[String],
    extra_parents: &[String],
    message: &str,
) -> Result<Snapshot> {
    let repo = Repository::open(worktree)
        .with_context(|| format!("cannot open {}", worktree.display()))?;
    let head = repo.head()?.peel_to_commit()?;
    let mut index = repo.index().context("cannot read the worktree's index")?;
    let sig = git2::Signature::now("git-sandbox", "git-sandbox@localhost")?;
    // Every entry as it is, before the working files go in (see `index_state`).
    let admin = super::gitfile_target(worktree);
    let entries = index_state::record(&repo, &index, &sig, admin.as_deref())?;
    // The staged state. With unresolved conflicts the index has no tree; the working files
    // (conflict markers included) then stand for it.
    let staged = index.write_tree().ok();
    for rel in changed {
        put_file(&repo, &mut index, worktree, rel)?;
    }
    let work_tree = index
        .write_tree()
        .context("cannot write the working files as a tree")?;
    let staged = staged.unwrap_or(work_tree);
    let staged_tree = repo.find_tree(staged)?;
    let mut staged_parents = vec![head.clone()];
    if let Some(entries) = entries {
        staged_parents.push(repo.find_commit(entries)?);
    }
    let staged_parents: Vec<&git2::Commit> = staged_parents.iter().collect();
    let staged_commit = repo.commit(
        None,
        &sig,
        &sig,
        "git-sandbox: the staged state",
        &staged_tree,
        &staged_parents,
    )?;
    let staged_commit = repo.find_commit(staged_commit)?;
    let mut parents = vec![head, staged_commit];
    for p in extra_parents {
        if let Ok(c) = Oid::from_str(p).and_then(|o| repo.find_commit(o)) {
            parents.push(c);
        }
    }
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    let tree = repo.find_tree(work_tree)?;
    let commit = repo.commit(None, &sig, &sig, message, &tree, &refs)?;
    Ok(Snapshot {
        commit: commit.to_string(),
    })
}

/// The snapshot of a clean worktree, without its index in memory: when the caller knows the
/// status is clean (nothing staged, changed, untracked or conflicted, no hidden edit) and the
/// index holds only plain entries (no flag, stage or submodule: [`super::index_flags`]), the
/// staged state and the working files are HEAD's own tree, and the commits are those
/// [`snapshot`] would write (an operation's files included). `None`: not such a worktree (then
/// [`snapshot`]).
pub fn snapshot_of_clean(
    worktree: &Path,
    extra_parents: &[String],
    message: &str,
) -> Result<Option<Snapshot>> {
    let Some(admin) = super::gitfile_target(worktree) else {
        return Ok(None);
    };
    let plain = super::state::sha1_only(&admin)
        && super::index_flags::all_plain(&admin.join("index")) == Some(true);
    if !plain {
        return Ok(None);
    }
    let repo = Repository::open(worktree)
        .with_context(|| format!("cannot open {}", worktree.display()))?;
    let head = repo.head()?.peel_to_commit()?;
    let tree = head.tree()?;
    let sig = git2::Signature::now("git-sandbox", "git-sandbox@localhost")?;
    // The operation's files (`ORIG_HEAD` and the like), as the full snapshot keeps them.
    let mut staged_parents = vec![head.clone()];
    if let Some(entries) = index_state::record_plain(&repo, &sig, Some(&admin))? {
        staged_parents.push(repo.find_commit(entries)?);
    }
    let staged_parents: Vec<&git2::Commit> = staged_parents.iter().collect();
    let staged = repo.commit(
        None,
        &sig,
        &sig,
        "git-sandbox: the staged state",
        &tree,
        &staged_parents,
    )?;
    let mut parents = vec![head, repo.find_commit(staged)?];
    for p in extra_parents {
        if let Ok(c) = Oid::from_str(p).and_then(|o| repo.find_commit(o)) {
            parents.push(c);
        }
    }
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    let commit = repo.commit(None, &sig, &sig, message, &tree, &refs)?;
    Ok(Some(Snapshot {
        commit: commit.to_string(),
    }))
}

/// Puts one path's bytes from disk into the in-memory index (or takes it out, if gone).
fn put_file(repo: &Repository, index: &mut git2::Index, worktree: &Path, rel: &str) -> Result<()> {
    let rel = rel.trim_end_matches('/');
    let path = worktree.join(rel);
    // A conflicted path has stages 1-3; the working file replaces them all.
    let _ = index.remove_path(Path::new(rel));
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return Ok(());
    };
    let (bytes, mode) = if meta.file_type().is_symlink() {
        let target = fs::read_link(&path)?;
        (target.as_os_str().as_encoded_bytes().to_vec(), 0o120000)
    } else if meta.is_file() {
        let exec = meta.permissions().mode() & 0o100 != 0;
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        (bytes, if exec { 0o100755 } else { 0o100644 })
    } else {
        // Directories (a nested repository) and special files are kept on disk, not in git.
        return Ok(());
    };
    let id = repo.blob(&bytes)?;
    let entry = IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        id,
        flags: u16::try_from(rel.len().min(0xfff)).unwrap_or(0xfff),
        flags_extended: 0,
        path: rel.as_bytes().to_vec(),
    };
    index
        .add(&entry)
        .with_context(|| format!("cannot save {rel}"))?;
    Ok(())
}

/// Puts a snapshot's state into a fresh worktree checked out at its first parent: every file
/// that differs from that commit is written with the snapshot's raw bytes (no smudge filter,
/// no eol conversion), then the index is set to the staged state and refreshed, so staged
/// stays staged, unstaged unstaged and untracked untracked. Running it twice is harmless.
pub fn apply_snapshot(worktree: &Path, commit: &str) -> Result<()> {
    let repo = Repository::open(worktree)?;
    let snap = repo.find_commit(Oid::from_str(commit)?)?;
    let base = snap.parent(0)?.tree()?;
    let diff = repo.diff_tree_to_tree(Some(&base), Some(&snap.tree()?), None)?;
    for delta in diff.deltas() {
        let Some(rel) = delta.new_file().path().or(delta.old_file().path()) else {
            continue;
        };
        let path = worktree.join(rel);
        if delta.status() == git2::Delta::Deleted {
            let _ = fs::remove_file(&path);
            continue;
        }
        let file = delta.new_file();
        let blob = repo.find_blob(file.id())?;
        write_raw(&path, blob.content(), u32::from(file.mode()))?;
    }
    // The index alone to the staged state (entry by entry when the state recorded them),
    // then stat data back so status stays fast.
    let staged = snap.parent(1)?;
    let rebuilt = match index_state::recorded(&staged) {
        Some(entries) => index_state::rebuild(worktree, entries)?,
        None => false,
    };
    if !rebuilt {
        run(
            worktree,
            &["read-tree", &format!("{}^{{tree}}", staged.id())],
        )?;
    }
    let _ = run(worktree, &["update-index", "-q", "--refresh"]);
    Ok(())
}

fn write_raw(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    if let Ok(m) = fs::symlink_metadata(path)
        && (m.file_type().is_symlink() || !m.is_dir())
    {
        fs::remove_file(path)?;
    }
    if mode == 0o120000 {
        let target = std::ffi::OsStr::from_bytes(bytes);
        std::os::unix::fs::symlink(target, path)?;
        return Ok(());
    }
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    if mode == 0o100755 {
        let mut p = fs::metadata(path)?.permissions();
        p.set_mode(p.mode() | ((p.mode() & 0o444) >> 2));
        fs::set_permissions(path, p)?;
    }
    Ok(())
}

use std::os::unix::ffi::OsStrExt;

#[cfg(test)]
mod tests {
    use crate::git::test_git as git;

    /// A clean linked worktree: the index-free snapshot holds what the full one holds (the
    /// same trees, the same parents' trees); a flagged entry sends it to the full one.
    #[test]
    fn a_clean_worktrees_snapshot_is_the_full_ones() {
        let tmp = tempfile::tempdir().expect("tmp");
        let main = tmp.path().join("main");
        std::fs::create_dir_all(main.join("d")).expect("dir");
        std::fs::write(main.join("d/a"), "a\n").expect("a");
        git(&main, &["init", "-q"]);
        git(&main, &["add", "-A"]);
        git(&main, &["commit", "-q", "-m", "a"]);
        git(&main, &["worktree", "add", "-q", "--detach", "../wt"]);
        let wt = tmp.path().join("wt");
        let quick = super::snapshot_of_clean(&wt, &[], "m")
            .expect("ok")
            .expect("clean");
        let full = super::snapshot(&wt, &[], &[], "m").expect("full");
        let repo = git2::Repository::open(&wt).expect("open");
        let shape = |id: &str| {
            let c = repo
                .find_commit(git2::Oid::from_str(id).expect("oid"))
                .expect("c");
            let parents: Vec<_> = c.parents().map(|p| p.tree_id()).collect();
            let staged = c.parent(1).expect("staged");
            let saved = staged.parent(1).ok().map(|e| e.tree_id());
            (c.tree_id(), parents, staged.parent_count(), saved)
        };
        assert_eq!(shape(&quick.commit), shape(&full.commit));
        git(&wt, &["update-index", "--assume-unchanged", "d/a"]);
        assert!(
            super::snapshot_of_clean(&wt, &[], "m")
                .expect("ok")
                .is_none()
        );
    }
}
