//! The index entry by entry, saved with a snapshot and put back by `restore`.
//!
//! A tree holds only the staged *contents*. The index holds more, and all of it is the user's
//! work: an intent-to-add entry (`git add -N`: the path is known, nothing is staged), the
//! `--assume-unchanged` and `--skip-worktree` bits, a staged mode change, and the three stages
//! of an unresolved conflict (base, ours, theirs). A tree turns the first into a staged empty
//! file and cannot hold the last at all. So the snapshot also records every entry as a line
//! (`<mode> <oid> <stage> <flags>\t<path>\0`, flags `a` assume-unchanged, `s` skip-worktree,
//! `i` intent-to-add, `-` none) in a blob `entries`, beside a tree `objects/` naming each blob
//! the entries use, so they stay reachable (gc cannot take a conflict's stages away).
//! Only an index with such an entry is recorded this way (most are not: their staged tree is
//! exact, and a clean removal writes nothing more).
//!
//! [`rebuild`] writes those entries back with libgit2, stat data zeroed so git hashes every
//! file once before trusting it (a stale stat match could hide a change); the caller then
//! refreshes.

use std::path::Path;

use anyhow::{Context, Result, bail};
use git2::{IndexEntry, IndexTime, Oid, Repository};

use super::operation;

/// The message of the commit holding the entries (parent 2 of the staged-state commit).
pub const MESSAGE: &str = "git-sandbox: the index, entry by entry";

/// libgit2's flag bits.
const VALID: u16 = 0x8000;
const STAGE_SHIFT: u16 = 12;
const STAGE_MASK: u16 = 0x3000;
const SKIP_WORKTREE: u16 = 0x4000;
const INTENT_TO_ADD: u16 = 0x2000;

/// A commit recording what a tree cannot hold, or `None` when there is nothing such (the
/// staged tree is then exact, and a clean sandbox's removal pays nothing for this):
/// `entries` and `objects/` when some entry has a flag or a stage, and `admin/`, the state of
/// an operation in progress in the admin dir `admin` (see [`super::operation`]; the commits it
/// names are the commit's parents).
pub fn record(
    repo: &Repository,
    index: &git2::Index,
    sig: &git2::Signature,
    admin: Option<&Path>,
) -> Result<Option<Oid>> {
    let special = index.iter().any(|e| {
        e.flags & (VALID | STAGE_MASK) != 0
            || e.flags_extended & (SKIP_WORKTREE | INTENT_TO_ADD) != 0
    });
    record_with(repo, special.then_some(index), sig, admin)
}

/// [`record`] of an index known to hold only plain entries (no index in memory): the
/// operation's files, if any.
pub fn record_plain(
    repo: &Repository,
    sig: &git2::Signature,
    admin: Option<&Path>,
) -> Result<Option<Oid>> {
    record_with(repo, None, sig, admin)
}

/// `special`: the index, when some entry has a flag or a stage.
fn record_with(
    repo: &Repository,
    special: Option<&git2::Index>,
    sig: &git2::Signature,
    admin: Option<&Path>,
) -> Result<Option<Oid>> {
    let op = admin
        .map(|a| operation::save(repo, a))
        .transpose()?
        .flatten();
    if special.is_none() && op.is_none() {
        return Ok(None);
    }
    let mut tree = repo.treebuilder(None)?;
    if let Some(index) = special {
        let (entries, objects) = entries_and_objects(repo, index)?;
        tree.insert("entries", entries, 0o100644)?;
        tree.insert("objects", objects, 0o040000)?;
    }
    let mut parents = Vec::new();
    if let Some(saved) = op {
        tree.insert("admin", saved.tree, 0o040000)?;
        for id in saved.commits {
            parents.push(repo.find_commit(id)?);
        }
    }
    let tree = repo.find_tree(tree.write()?)?;
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    Ok(Some(repo.commit(None, sig, sig, MESSAGE, &tree, &parents)?))
}

/// The `entries` blob, and the `objects/` tree naming every blob they use.
fn entries_and_objects(repo: &Repository, index: &git2::Index) -> Result<(Oid, Oid)> {
    let mut text = Vec::new();
    let mut objects = repo.treebuilder(None)?;
    for e in index.iter() {
        let stage = (e.flags & STAGE_MASK) >> STAGE_SHIFT;
        let mut flags = String::new();
        if e.flags & VALID != 0 {
            flags.push('a');
        }
        if e.flags_extended & SKIP_WORKTREE != 0 {
            flags.push('s');
        }
        if e.flags_extended & INTENT_TO_ADD != 0 {
            flags.push('i');
        }
        if flags.is_empty() {
            flags.push('-');
        }
        text.extend_from_slice(format!("{:o} {} {stage} {flags}\t", e.mode, e.id).as_bytes());
        text.extend_from_slice(&e.path);
        text.push(0);
        // A gitlink names a commit of another repository: nothing here to keep.
        if e.mode != 0o160000 && repo.find_blob(e.id).is_ok() {
            objects.insert(e.id.to_string(), e.id, 0o100644)?;
        }
    }
    Ok((repo.blob(&text)?, objects.write()?))
}

/// One recorded entry.
struct Entry {
    mode: u32,
    id: Oid,
    stage: u16,
    flags: String,
    path: Vec<u8>,
}

fn parse(bytes: &[u8]) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for rec in bytes.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let tab = rec
            .iter()
            .position(|b| *b == b'\t')
            .context("a saved index entry has no path")?;
        let head = std::str::from_utf8(&rec[..tab]).context("a saved index entry is garbled")?;
        let f: Vec<&str> = head.split(' ').collect();
        let [mode, id, stage, flags] = f[..] else {
            bail!("a saved index entry is garbled: {head:?}");
        };
        out.push(Entry {
            mode: u32::from_str_radix(mode, 8)?,
            id: Oid::from_str(id)?,
            stage: stage.parse()?,
            flags: flags.to_string(),
            path: rec[tab + 1..].to_vec(),
        });
    }
    Ok(out)
}

/// The recorded entries' commit of a staged-state commit, if the snapshot has one (states
/// saved by older versions do not).
pub fn recorded(staged: &git2::Commit) -> Option<Oid> {
    let c = staged.parent(1).ok()?;
    (c.message().ok() == Some(MESSAGE)).then(|| c.id())
}

/// Puts back what `commit` recorded in the worktree at `worktree`: the operation's files, and
/// the index entry by entry. Returns whether it wrote the index (if not, the staged tree is
/// the index).
pub fn rebuild(worktree: &Path, commit: Oid) -> Result<bool> {
    let repo = Repository::open(worktree)?;
    let tree = repo.find_commit(commit)?.tree()?;
    if let (Some(admin), Some(saved)) = (super::gitfile_target(worktree), tree.get_name("admin")) {
        let saved = repo.find_tree(saved.id())?;
        operation::put_back(&repo, &saved, &admin)
            .context("cannot put back the operation in progress")?;
    }
    let Some(entry) = tree.get_name("entries") else {
        return Ok(false);
    };
    let entries = parse(repo.find_blob(entry.id())?.content())?;
    // An intent-to-add entry names the empty blob, which git never writes.
    repo.blob(b"")?;
    let mut index = repo.index()?;
    index.clear()?;
    for e in &entries {
        let mut flags = (e.stage << STAGE_SHIFT) & STAGE_MASK;
        flags |= u16::try_from(e.path.len().min(0xfff)).unwrap_or(0xfff);
        let mut extended = 0;
        for c in e.flags.chars() {
            match c {
                'a' => flags |= VALID,
                's' => extended |= SKIP_WORKTREE,
                'i' => extended |= INTENT_TO_ADD,
                _ => {}
            }
        }
        index
            .add(&IndexEntry {
                ctime: IndexTime::new(0, 0),
                mtime: IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: e.mode,
                uid: 0,
                gid: 0,
                file_size: 0,
                id: e.id,
                flags,
                flags_extended: extended,
                path: e.path.clone(),
            })
            .with_context(|| {
                format!(
                    "cannot put back the index entry {}",
                    String::from_utf8_lossy(&e.path)
                )
            })?;
    }
    index.write().context("cannot write the restored index")?;
    Ok(true)
}
