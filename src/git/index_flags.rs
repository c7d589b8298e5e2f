//! The index's flagged entries (`--assume-unchanged`, `--skip-worktree`), read as a stream.
//!
//! `rm` asks only for the few flagged entries, twice; libgit2 would load every entry of the
//! index into memory (25,000 entries: ~5 MiB and ~25 ms each time). This reads the file in one
//! pass through a small buffer and keeps only flagged paths; and whether every entry is a
//! plain one (the snapshot of a clean sandbox then needs no index in memory at all). It understands index versions 2,
//! 3 and 4 with SHA-1 names; anything else (another version, SHA-256, a split or sparse index,
//! a short file) answers `None`, and the caller falls back to libgit2.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// `--assume-unchanged` (assume-valid), in an entry's flags.
const ASSUME_VALID: u16 = 0x8000;
/// The entry has extended flags (version 3 and later).
const EXTENDED: u16 = 0x4000;
/// `--skip-worktree`, in an entry's extended flags.
const SKIP_WORKTREE: u16 = 0x4000;
/// stat data (10 x u32) + SHA-1.
const STAT_AND_OID: usize = 40 + 20;
/// A directory entry of a sparse index.
const DIR_MODE: u32 = 0o040000;
/// A submodule's commit.
const GITLINK_MODE: u32 = 0o160000;
/// A conflict stage, in an entry's flags.
const STAGE_MASK: u16 = 0x3000;
/// `git add -N`, in an entry's extended flags.
const INTENT_TO_ADD: u16 = 0x2000;

/// One flagged entry: its path and the blob id the index holds.
pub struct Flagged {
    pub path: Vec<u8>,
    pub oid: [u8; 20],
}

/// The flagged entries of the index file `index`, or `None` when this reader cannot say.
pub fn flagged(index: &Path) -> Option<Vec<Flagged>> {
    let mut out = Vec::new();
    each_entry(index, |e, path| {
        if e.hidden() && e.mode & 0o170000 != DIR_MODE {
            out.push(Flagged {
                path: path.to_vec(),
                oid: e.oid,
            });
        }
        true
    })?;
    Some(out)
}

/// Whether every entry of the index is a plain one: stage 0, no flag (assume-unchanged,
/// skip-worktree, intent-to-add), no submodule. `None` when this reader cannot say.
pub fn all_plain(index: &Path) -> Option<bool> {
    let mut plain = true;
    each_entry(index, |e, _| {
        plain &= e.plain();
        true
    })?;
    Some(plain)
}

/// Calls `f` with each entry and its path, in one pass through a small buffer, and returns
/// the extensions after the entries (the last 20 bytes are the checksum). `f` returning
/// `false` stops the read (`None`).
pub(super) fn each_entry(
    index: &Path,
    mut f: impl FnMut(&Entry, &[u8]) -> bool,
) -> Option<Vec<u8>> {
    let mut r = BufReader::with_capacity(64 * 1024, File::open(index).ok()?);
    let mut head = [0u8; 12];
    r.read_exact(&mut head).ok()?;
    if &head[..4] != b"DIRC" {
        return None;
    }
    let version = u32::from_be_bytes(head[4..8].try_into().ok()?);
    let count = u32::from_be_bytes(head[8..12].try_into().ok()?);
    if !(2..=4).contains(&version) {
        return None;
    }
    let mut path = Vec::new();
    for _ in 0..count {
        let e = entry(&mut r, version, &mut path)?;
        if !f(&e, &path) {
            return None;
        }
    }
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).ok()?;
    // A split index ("link") keeps entries elsewhere; a sparse one ("sdir") has directory
    // entries: either way, this reader has not seen the whole index.
    if extension(&rest, b"link")?.is_some() || extension(&rest, b"sdir")?.is_some() {
        return None;
    }
    Some(rest)
}

/// One index entry (`Documentation/gitformat-index.txt`).
#[derive(Clone, Copy)]
pub(super) struct Entry {
    /// ctime s, ctime ns, mtime s, mtime ns, dev, ino (`stat` data, 32 bits each).
    pub ctime: (u32, u32),
    pub mtime: (u32, u32),
    pub ino: u32,
    pub uid: u32,
    pub gid: u32,
    /// The file's size, truncated to 32 bits.
    pub size: u32,
    pub mode: u32,
    pub oid: [u8; 20],
    flags: u16,
    extended: u16,
}

impl Entry {
    /// A stage-0 entry of a file or symlink with no flag (assume-unchanged, skip-worktree,
    /// intent-to-add): what a worktree's stat data alone can vouch for.
    pub fn plain(&self) -> bool {
        self.flags & (ASSUME_VALID | STAGE_MASK) == 0
            && self.extended & (SKIP_WORKTREE | INTENT_TO_ADD) == 0
            && self.mode & 0o170000 != GITLINK_MODE
    }

    /// `--assume-unchanged` or `--skip-worktree`.
    fn hidden(&self) -> bool {
        self.flags & ASSUME_VALID != 0 || self.extended & SKIP_WORKTREE != 0
    }
}

/// Reads one entry; `path` holds the previous entry's path (version 4 compresses against it)
/// and is replaced by this one's.
fn entry(r: &mut impl BufRead, version: u32, path: &mut Vec<u8>) -> Option<Entry> {
    let mut fixed = [0u8; STAT_AND_OID + 2];
    r.read_exact(&mut fixed).ok()?;
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(
            fixed.get(i * 4..i * 4 + 4)?.try_into().ok()?,
        ))
    };
    let mode = word(6)?;
    let oid: [u8; 20] = fixed[40..60].try_into().ok()?;
    let flags = u16::from_be_bytes(fixed[60..62].try_into().ok()?);
    let mut len = fixed.len();
    let mut extended = 0u16;
    if flags & EXTENDED != 0 {
        if version < 3 {
            return None;
        }
        let mut x = [0u8; 2];
        r.read_exact(&mut x).ok()?;
        extended = u16::from_be_bytes(x);
        len += 2;
    }
    if version == 4 {
        let strip = varint(r)?;
        path.truncate(path.len().checked_sub(strip)?);
        read_to_nul(r, path)?;
    } else {
        path.clear();
        read_to_nul(r, path)?;
        // The name, its NUL, then NULs up to a multiple of 8 bytes.
        let used = len + path.len() + 1;
        let pad = (8 - used % 8) % 8;
        let mut skip = [0u8; 8];
        r.read_exact(&mut skip[..pad]).ok()?;
    }
    Some(Entry {
        ctime: (word(0)?, word(1)?),
        mtime: (word(2)?, word(3)?),
        ino: word(5)?,
        uid: word(7)?,
        gid: word(8)?,
        size: word(9)?,
        mode,
        oid,
        flags,
        extended,
    })
}

/// Appends bytes up to (not including) the next NUL.
fn read_to_nul(r: &mut impl BufRead, out: &mut Vec<u8>) -> Option<()> {
    r.read_until(0, out).ok()?;
    (out.pop() == Some(0)).then_some(())
}

/// git's offset varint (`varint.c`): 7 bits a byte, high bit "more", plus one per extra byte.
fn varint(r: &mut impl Read) -> Option<usize> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b).ok()?;
    let mut v = usize::from(b[0] & 0x7f);
    while b[0] & 0x80 != 0 {
        r.read_exact(&mut b).ok()?;
        v = v.checked_add(1)?.checked_shl(7)? | usize::from(b[0] & 0x7f);
    }
    Some(v)
}

/// The data of extension `sig` in `rest` (the bytes after the entries; the last 20 are the
/// checksum): `Some(None)` when it is not there, `None` when the extensions cannot be read.
pub(super) fn extension<'a>(rest: &'a [u8], sig: &[u8; 4]) -> Option<Option<&'a [u8]>> {
    let mut at = 0;
    while rest.len().saturating_sub(at) > 20 {
        let name = rest.get(at..at + 4)?;
        let size = u32::from_be_bytes(rest.get(at + 4..at + 8)?.try_into().ok()?) as usize;
        let data = rest.get(at + 8..at.checked_add(8 + size)?)?;
        if name == sig.as_slice() {
            return Some(Some(data));
        }
        at = at.checked_add(8 + size)?;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use crate::git::test_git as git;

    /// Versions 2, 3 and 4 (prefix-compressed paths), with flagged and unflagged entries:
    /// the stream reader finds exactly the flagged ones.
    #[test]
    fn finds_the_flagged_entries_in_every_version() {
        let tmp = tempfile::tempdir().expect("tmp");
        let d = tmp.path();
        git(d, &["init", "-q"]);
        for name in ["a.txt", "dir/long-name-b.txt", "dir/long-name-c.txt", "z"] {
            let p = d.join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
            std::fs::write(&p, name).expect("write");
        }
        git(d, &["add", "-A"]);
        git(
            d,
            &["update-index", "--assume-unchanged", "dir/long-name-b.txt"],
        );
        for version in ["2", "3", "4"] {
            git(d, &["update-index", "--index-version", version]);
            if version != "2" {
                git(d, &["update-index", "--skip-worktree", "z"]);
            }
            let got = super::flagged(&d.join(".git/index")).expect("readable");
            let mut paths: Vec<String> = got
                .iter()
                .map(|f| String::from_utf8_lossy(&f.path).into_owned())
                .collect();
            paths.sort();
            let want: &[&str] = if version == "2" {
                &["dir/long-name-b.txt"]
            } else {
                &["dir/long-name-b.txt", "z"]
            };
            assert_eq!(paths, want, "version {version}");
        }
    }
}
