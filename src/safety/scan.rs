//! A walk of a sandbox's files for what `git status` does not show: nested repositories and
//! worktrees, mount points, special files (FIFOs, sockets, devices), empty directories, and
//! permissions git would not bring back.
//!
//! The walk never follows a link and never enters another filesystem. It skips the root's own
//! `.git` file and the disposable ignored directories (whose contents are deleted, and whose
//! deletion itself never enters a nested `.git` or another filesystem, see
//! [`crate::removal::sweep`]). Mount points are also read from `/proc/self/mountinfo`, because a
//! bind mount of the same filesystem has the same `st_dev`.
//!
//! It also sums up what it saw as a [`Stamp`]: a digest of every entry's path and stat data
//! (device, inode, mode, links, size, mtime and ctime to the nanosecond), in any order, so a
//! later walk of the same tree proves nothing in it changed (`safety/second.rs`).

mod walker;

use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use walker::{Queue, Rules, Walker};

/// What the walk found, as paths relative to the root (`/`-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    /// Directories holding their own `.git` directory (a repository of their own).
    pub nested_repos: Vec<String>,
    /// Directories whose `.git` file names a linked worktree's admin dir (of any repository).
    pub worktrees: Vec<String>,
    /// Populated submodules (a `.git` file naming a `modules/` dir).
    pub submodules: Vec<String>,
    /// Mount points at or under the root.
    pub mounts: Vec<String>,
    /// FIFOs, sockets and device files: git cannot store them.
    pub specials: Vec<String>,
    /// Directories with nothing in them: git cannot store them.
    pub empty_dirs: Vec<String>,
    /// Files and directories whose permissions git would not restore.
    pub odd_modes: Vec<String>,
    /// Names that are not valid UTF-8 (shown lossily): they cannot be saved byte for byte yet.
    pub unreadable_names: Vec<String>,
    /// The digest of what the walk saw (not part of any report).
    #[serde(skip)]
    pub stamp: Stamp,
}

/// A digest of a walk: the wrapping sum of a 128-bit hash of each entry's path and stat data,
/// and the number of entries, so the order entries are listed in does not matter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    pub sum: u128,
    pub entries: u64,
    /// An entry changed (ctime) too close to `since` to tell a later change of the same size
    /// in the same clock tick from none: a stamp that cannot prove the tree unchanged.
    pub unsettled: bool,
}

/// How close to `since` a change time must be to count as unsettled: a clock tick of the
/// kernel's coarse clock (at most 10 ms) with room to spare, or two seconds on a filesystem
/// that stores whole seconds.
const TICK: Duration = Duration::from_millis(100);
const COARSE_TICK: Duration = Duration::from_secs(2);

impl Stamp {
    /// Adds one entry: its path (relative), and its stat data (`full`: also size and times,
    /// not for a skipped entry, whose contents are not looked at).
    fn add(&mut self, rel: &[u8], m: &fs::Metadata, full: bool, since: Option<SystemTime>) {
        // The stat data as one block of bytes: each hash takes it in one write (a write per
        // field cost as much as the hashing itself on a 25k-file tree).
        let fields = [
            m.dev(),
            m.ino(),
            u64::from(m.mode()),
            m.nlink(),
            m.size(),
            m.mtime().cast_unsigned(),
            m.mtime_nsec().cast_unsigned(),
            m.ctime().cast_unsigned(),
            m.ctime_nsec().cast_unsigned(),
            (u64::from(m.uid()) << 32) | u64::from(m.gid()),
        ];
        let used = if full { fields.len() } else { 3 };
        let mut stat = [0u8; 80];
        for (chunk, f) in stat.chunks_exact_mut(8).zip(&fields[..used]) {
            chunk.copy_from_slice(&f.to_le_bytes());
        }
        let hash = |seed: u8| {
            let mut h = DefaultHasher::new();
            h.write_u8(seed);
            h.write_usize(rel.len());
            h.write(rel);
            h.write(&stat[..used * 8]);
            h.finish()
        };
        let v = (u128::from(hash(1)) << 64) | u128::from(hash(2));
        self.sum = self.sum.wrapping_add(v);
        self.entries += 1;
        if let Some(since) = since.filter(|_| full) {
            self.unsettled |= changed_near(m, since);
        }
    }
}

/// Whether `m` changed (its ctime, which no one can set back) after `since` or within a clock
/// tick before it.
fn changed_near(m: &fs::Metadata, since: SystemTime) -> bool {
    let (Ok(secs), Ok(nanos)) = (u64::try_from(m.ctime()), u32::try_from(m.ctime_nsec())) else {
        return true;
    };
    let ctime = UNIX_EPOCH + Duration::new(secs, nanos);
    let tick = if nanos == 0 { COARSE_TICK } else { TICK };
    since.checked_sub(tick).is_none_or(|edge| ctime >= edge)
}

/// Walks `root`, skipping the relative paths in `skip` (directories, `/`-terminated or not).
/// `since`: when the look this walk belongs to began (its stamp is unsettled if anything
/// changed from a tick before then on).
pub fn walk(root: &Path, skip: &[String], since: Option<SystemTime>) -> Found {
    let mut found = Found::default();
    let Ok(meta) = fs::symlink_metadata(root) else {
        return found;
    };
    let mask = umask();
    let rules = Rules {
        dev: meta.dev(),
        skip: skip
            .iter()
            .map(|s| s.trim_end_matches('/').to_string())
            .collect(),
        file_mode: 0o666 & !mask,
        exec_mode: 0o777 & !mask,
        since,
    };
    let queue = Queue::new(root.to_path_buf());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let parts: Vec<(Stamp, Found)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| s.spawn(|| Walker::new(&rules).run(&queue)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (stamp, part) in parts {
        found.stamp.sum = found.stamp.sum.wrapping_add(stamp.sum);
        found.stamp.entries += stamp.entries;
        found.stamp.unsettled |= stamp.unsettled;
        found.merge(part);
    }
    // A walker that died leaves directories unread: never a stamp that proves anything.
    found.stamp.unsettled |= !queue.drained();
    found.mounts.extend(mounts_under(root));
    found.sort();
    found
}

impl Found {
    fn merge(&mut self, other: Found) {
        self.nested_repos.extend(other.nested_repos);
        self.worktrees.extend(other.worktrees);
        self.submodules.extend(other.submodules);
        self.mounts.extend(other.mounts);
        self.specials.extend(other.specials);
        self.empty_dirs.extend(other.empty_dirs);
        self.odd_modes.extend(other.odd_modes);
        self.unreadable_names.extend(other.unreadable_names);
    }

    /// In path order, whichever walker found what.
    fn sort(&mut self) {
        for v in [
            &mut self.nested_repos,
            &mut self.worktrees,
            &mut self.submodules,
            &mut self.specials,
            &mut self.empty_dirs,
            &mut self.odd_modes,
            &mut self.unreadable_names,
        ] {
            v.sort();
        }
        self.mounts.sort();
        self.mounts.dedup();
    }
}

/// Mount points at or under `root`, from `/proc/self/mountinfo` (catches bind mounts of the
/// same filesystem), relative to `root` (`.` for the root itself).
pub fn mounts_under(root: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(field) = line.split(' ').nth(4) else {
            continue;
        };
        let point = PathBuf::from(unescape(field));
        if let Ok(rel) = point.strip_prefix(root) {
            let rel = rel.to_string_lossy().into_owned();
            out.push(if rel.is_empty() { ".".into() } else { rel });
        }
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
pub(crate) fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let (b'\\', Some(d)) = (b[i], octal) {
            out.push(
                d.iter()
                    .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')),
            );
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The process's umask, from `/proc/self/status` (022 when it cannot be read).
fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    /// A change at or after the look began is unsettled; one well before it is not; the
    /// stamp changes with a same-size rewrite, and not with nothing.
    #[test]
    fn stamps_tell_changes_and_unsettled_ones() {
        let tmp = tempfile::tempdir().expect("tmp");
        let d = tmp.path();
        std::fs::create_dir(d.join("sub")).expect("dir");
        std::fs::write(d.join("sub/a"), "aaaa").expect("write");
        let now = SystemTime::now();
        assert!(super::walk(d, &[], Some(now)).stamp.unsettled);
        let later = now + Duration::from_secs(5);
        let first = super::walk(d, &[], Some(later)).stamp;
        assert!(!first.unsettled);
        assert_eq!(super::walk(d, &[], None).stamp.sum, first.sum);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(d.join("sub/a"), "bbbb").expect("rewrite");
        assert_ne!(super::walk(d, &[], None).stamp.sum, first.sum);
    }
}
