//! A clean worktree proven without a spawn: what `git status` would answer, when the answer is
//! "nothing to report" (or only untracked paths), read from the index and the file system the
//! way git reads them.
//!
//! `status` and `list` ask every sandbox for its status; for a small tree, starting `git
//! status` costs more than its work (4.3 ms for 500 files, of which ~3 ms are the process).
//! The proof holds only when every step below holds; any doubt answers `None` and the caller
//! runs `git status` as before, so a dirty, odd or unreadable tree is never judged here:
//!
//! 1. the index is one this reader understands (versions 2-4, SHA-1, not split or sparse),
//!    every entry a plain stage-0 file or symlink (no flag, no submodule, no conflict);
//! 2. its cache-tree is valid at the root and names HEAD's tree (nothing staged);
//! 3. every entry's `lstat` matches the stat data git recorded (git's own check, with every
//!    field git compares: mode, size, mtime, ctime, inode, owner); an entry racily clean
//!    (modified in or after the second the index was written) or smudged is read again and
//!    hashed, as git re-reads those (`reread.rs`), only where git converts no content;
//! 4. every directory holding entries is a real directory (not a symlink) and holds nothing
//!    but the entries and their directories, the worktree's own `.git` at the top, ignored
//!    files `info/exclude` names literally (`/.env.sandbox`, the tool's own lines) while no
//!    rule of that file or of a `.gitignore` on the way could turn them back (no `!` line),
//!    and untracked paths where no ignore rule could apply to them (`untracked.rs`: named as
//!    `git status` names them; never for `rm`'s look, which lists every file).
//!
//! A branch with an upstream goes to the CLI (its ahead/behind line is git's to compute), and
//! so does a repository with replace refs (git compares the index with the replacement).

use std::fs;
use std::io::Read;
use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

use rustix::fs::{AtFlags, statat};

use super::index_flags::{Entry, each_entry, extension};
use super::{AdminHead, Repo, Scan, Status, gitfile_target};

mod dirs;
mod reread;
mod untracked;
use super::settings::Configs;
use dirs::{Dirs, Excluded, Pass};
use reread::Budget;

/// The blob id of the empty file: an entry of size 0 with another id was smudged by git
/// (racily clean when written) and must be read again.
const EMPTY_BLOB: [u8; 20] = [
    0xe6, 0x9d, 0xe2, 0x9b, 0xb2, 0xd1, 0xd6, 0x43, 0x4b, 0x8b, 0x29, 0xae, 0x77, 0x5a, 0xd8, 0xc2,
    0xe4, 0x8c, 0x53, 0x91,
];

/// Above this many entries `git status` is cheaper: the spawn the proof saves weighs less than
/// the directories it reads that git's untracked cache skips. `list` of 20 sandboxes: with
/// the proof 0.49 of git's loop at 3k files (0.54 with `git status`), but 0.89 at 25k (0.71).
const MAX_ENTRIES: u32 = 5_000;
/// From this many entries, the `lstat`s (and re-reads) run on two threads. Below, the second
/// thread costs more than it saves on two cores, where the count and the verdict run beside
/// the proof (hyperfine medians, one thread against two: 500 entries 4.66 against 4.95 ms,
/// 1,200 entries 5.39 against 5.44, 3,000 entries 7.37 against 7.34).
const TWO_THREADS_FROM: usize = 3_000;

/// The status of a linked worktree whose tracked files are proven clean, or `None` when it
/// cannot be proven here. The checks of the index come before the tree's, and the pass over the
/// directories stops at the first that fails (a tree with an ignored directory, where no
/// untracked path may be named, stops where it lists it).
/// `Scan::Full`: the ignored files listed as `rm`'s full look lists them
/// (`--untracked-files=all --ignored=matching`): the paths `info/exclude` names that exist,
/// each a file or a symlink (one naming a directory leaves the look to `git status`), and no
/// untracked path. Otherwise the untracked paths are named as `--untracked-files=normal`
/// names them, where no ignore rule could apply (`untracked.rs`). Never for a quarantined
/// tree.
pub fn proven_clean(repo: &Repo, worktree: &Path, scan: Scan) -> Option<Status> {
    let list_ignored = match scan {
        Scan::Quick | Scan::Listing => false,
        Scan::Full => true,
        Scan::Quarantined => return None,
    };
    let admin = gitfile_target(worktree)?;
    let index = admin.join("index");
    if entry_count(&index)? > MAX_ENTRIES {
        return None;
    }
    let (head, branch, tree) = head_without_upstream(repo, &admin)?;
    let mut excluded = Excluded::read(&repo.common_dir, worktree)?;
    excluded.files_only = list_ignored;
    let written = written_at(&index)?;
    let (entries, rest) = Entries::read(&index)?;
    if cache_tree_root(&rest)? != (entries.len(), tree) {
        return None;
    }
    // The config files, read once and only if a question needs them (a settled clean tree
    // never does).
    let configs = OnceLock::new();
    let configs = || configs.get_or_init(|| Configs::read(&repo.common_dir));
    let reread = entries.iter().any(|(_, e)| !settled(e, written));
    if reread && !reread::as_is(&repo.common_dir, configs(), names(&entries, &excluded)) {
        return None;
    }
    // Asked at the first path nobody vouches for.
    let rules_free = OnceLock::new();
    let others_allowed = || {
        *rules_free.get_or_init(|| {
            !list_ignored && untracked::rules_free(configs(), &excluded, names(&entries, &excluded))
        })
    };
    let mut dirs = Dirs::default();
    for (path, e) in entries.iter() {
        dirs.add(path, e);
    }
    let pass = Pass {
        excluded: &excluded,
        others_allowed: &others_allowed,
        unchanged: &|fd, name, e, budget| unchanged(e, fd, name, !settled(e, written), budget),
        // `list`'s rows already run side by side.
        two_threads: scan != Scan::Listing && entries.len() >= TWO_THREADS_FROM,
    };
    let others = dirs.pass(worktree, &pass)?;
    let untracked = untracked::shown(worktree, others, &excluded)?;
    let mut ignored = excluded.found.into_inner().ok()?;
    ignored.sort_unstable();
    Some(Status {
        head: Some(head),
        branch,
        untracked,
        ignored: if list_ignored { ignored } else { Vec::new() },
        ..Status::default()
    })
}

/// The number of entries the index's header announces.
fn entry_count(index: &Path) -> Option<u32> {
    let mut head = [0u8; 12];
    fs::File::open(index).ok()?.read_exact(&mut head).ok()?;
    (&head[..4] == b"DIRC").then(|| u32::from_be_bytes([head[8], head[9], head[10], head[11]]))
}

/// The index's entries with their paths, in the index's order, the paths in one buffer.
struct Entries {
    paths: String,
    /// Each entry with the end of its path in `paths` (it starts where the last one ended).
    list: Vec<(usize, Entry)>,
}

impl Entries {
    /// Every entry with its path, when each is plain; and the index's extensions.
    fn read(index: &Path) -> Option<(Entries, Vec<u8>)> {
        let mut entries = Entries {
            paths: String::new(),
            list: Vec::new(),
        };
        let rest = each_entry(index, |e, path| {
            let Ok(path) = std::str::from_utf8(path) else {
                return false;
            };
            entries.paths.push_str(path);
            entries.list.push((entries.paths.len(), *e));
            e.plain()
        })?;
        Some((entries, rest))
    }

    fn len(&self) -> usize {
        self.list.len()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        let mut start = 0;
        self.list.iter().map(move |(end, e)| {
            let path = self.paths.get(start..*end).unwrap_or_default();
            start = *end;
            (path, e)
        })
    }
}

/// The last component of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Every path git could read attributes from in the tree: the entries and the ignored paths
/// `excluded` names.
fn names<'a>(entries: &'a Entries, excluded: &'a Excluded) -> impl Iterator<Item = &'a str> {
    (entries.iter().map(|(p, _)| p)).chain(excluded.literal.iter().map(String::as_str))
}

type Head = (String, Option<String>, [u8; 20]);

/// HEAD's commit, branch and tree, when HEAD is born, `admin` is one of `repo`'s worktrees,
/// its branch (if any) has no upstream, and no replace ref could put another commit or tree
/// in their place; asked of the repository `repo` holds open. A per-worktree config
/// (`config.worktree`) goes to the CLI.
fn head_without_upstream(repo: &Repo, admin: &Path) -> Option<Head> {
    let worktrees = repo.common_dir.join("worktrees");
    if fs::canonicalize(admin).ok()?.parent() != Some(worktrees.as_path())
        || admin.join("config.worktree").exists()
    {
        return None;
    }
    let head = AdminHead::read(admin)?;
    repo.read(|r| {
        // A replaced commit or tree is what git compares the index with; libgit2 reads the
        // original.
        if super::graph::objects_redirected(r) {
            return None;
        }
        let (commit, branch) = match head {
            AdminHead::Branch(b) => {
                let name = format!("refs/heads/{b}");
                match r.branch_upstream_name(&name) {
                    Err(e) if e.code() == git2::ErrorCode::NotFound => {}
                    _ => return None,
                }
                (r.refname_to_id(&name).ok()?, Some(b))
            }
            AdminHead::Detached(oid) => (oid, None),
            AdminHead::Other => return None,
        };
        let tree = r.find_commit(commit).ok()?.tree_id();
        Some((commit.to_string(), branch, tree.as_bytes().try_into().ok()?))
    })
}

/// The index file's mtime (seconds), read before the file itself: a rewrite in between makes
/// more entries racy, never fewer.
fn written_at(index: &Path) -> Option<u64> {
    let m = fs::metadata(index).ok()?.modified().ok()?;
    Some(m.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// Whether entry `e` can be vouched for by its stat data: not racily clean (modified in or
/// after the second the index was written), not smudged (git zeroes the size of an entry it
/// found racy when writing the index). git reads the others again, and so does the proof.
fn settled(e: &Entry, written: u64) -> bool {
    u64::from(e.mtime.0) < written && (e.size != 0 || e.oid == EMPTY_BLOB)
}

/// Whether file `name` in the directory open as `dir` still has the stat data of entry `e`:
/// every field git's own check compares (`match_stat_data`, `ce_match_stat_basic`), the size
/// of a smudged entry aside; and, for an entry to `reread`, the blob's content.
#[allow(clippy::unnecessary_cast)] // `stat`'s field types differ between architectures
fn unchanged(e: &Entry, dir: BorrowedFd<'_>, name: &str, reread: bool, budget: &Budget) -> bool {
    let Ok(m) = statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
        return false;
    };
    let mode = m.st_mode as u32;
    let kind = mode & 0o170000;
    let mode_ok = match e.mode {
        0o100644 => kind == 0o100000 && mode & 0o100 == 0,
        0o100755 => kind == 0o100000 && mode & 0o100 != 0,
        0o120000 => kind == 0o120000,
        _ => false,
    };
    // git keeps the nanoseconds only when built to (USE_NSEC); 0 means "seconds only".
    let time = |(s, ns): (u32, u32), sec: i64, nsec: u64| {
        i64::from(s) == sec && (ns == 0 || u64::from(ns) == nsec)
    };
    let size_ok = e.size == m.st_size as u32 || (reread && e.size == 0);
    let stat_ok = mode_ok
        && size_ok
        && time(e.mtime, m.st_mtime as i64, m.st_mtime_nsec as u64)
        && time(e.ctime, m.st_ctime as i64, m.st_ctime_nsec as u64)
        && e.ino == m.st_ino as u32
        && e.uid == m.st_uid as u32
        && e.gid == m.st_gid as u32;
    stat_ok && (!reread || reread::same_content(e, dir, name, m.st_size as u64, budget))
}

/// The number of entries and the tree id of the root in the index's cache-tree, when it is
/// valid.
fn cache_tree_root(rest: &[u8]) -> Option<(usize, [u8; 20])> {
    let data = extension(rest, b"TREE")??;
    // The root's record: its empty path, then "<entries> <subtrees>\n" and its id.
    let line_end = data.iter().position(|b| *b == b'\n')?;
    let head = std::str::from_utf8(data.get(1..line_end)?).ok()?;
    let entries: i64 = head.split(' ').next()?.parse().ok()?;
    if data.first() != Some(&0) || entries < 0 {
        return None;
    }
    let id = data.get(line_end + 1..line_end + 21)?.try_into().ok()?;
    Some((usize::try_from(entries).ok()?, id))
}

#[cfg(test)]
#[path = "clean_tests.rs"]
mod tests;
