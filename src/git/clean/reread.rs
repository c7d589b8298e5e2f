//! Racily clean entries read again, the way `git status` reads them.
//!
//! A file written in the second its index was written (a sandbox made a moment ago: the
//! checkout and its index land in one second), or one git smudged when it wrote the index,
//! cannot be vouched for by stat data alone. git then compares the file's content with the
//! blob the index names (`ce_compare_data`), and so does the proof: the file is read whole and
//! hashed as a blob. That equals git's check only where git would not convert the content on
//! the way in (line endings, filters, encodings); [`as_is`] answers whether nothing could, and
//! any doubt leaves the proof to `git status`.

use std::os::fd::BorrowedFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{Mode, OFlags, openat, readlinkat};
use rustix::io::Errno;

use super::super::index_flags::Entry;
use super::super::settings::{Configs, absent, env, system_dirs, xdg_config};
use super::file_name;

/// Above this many bytes re-read in one proof, `git status` answers instead.
const MAX_BYTES: u64 = 8 << 20;

/// What the proof may still read again (bytes), shared by its threads.
pub struct Budget(AtomicU64);

impl Budget {
    pub fn new() -> Budget {
        Budget(AtomicU64::new(MAX_BYTES))
    }

    /// Takes `n` bytes from the budget; `false` (and nothing taken) when it has fewer.
    fn take(&self, n: u64) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }
}

/// Whether `name` in the directory open as `dir`, of `size` bytes by its `lstat`, holds the
/// blob of entry `e`: a regular file's bytes or a symlink's target, hashed as git hashes a
/// blob. A file that changes while it is read fails the comparison.
pub fn same_content(
    e: &Entry,
    dir: BorrowedFd<'_>,
    name: &str,
    size: u64,
    budget: &Budget,
) -> bool {
    if !budget.take(size) {
        return false;
    }
    let data = if e.mode == 0o120000 {
        readlinkat(dir, name, Vec::new()).map(|t| t.into_bytes())
    } else {
        read_whole(dir, name, size)
    };
    data.is_ok_and(|d| {
        d.len() as u64 == size
            && git2::Oid::hash_object(git2::ObjectType::Blob, &d)
                .is_ok_and(|id| id.as_bytes() == e.oid)
    })
}

/// The bytes of file `name` in `dir`, read into a buffer one byte longer than the `size`
/// its `lstat` gave (a file that grew meanwhile fills it, and fails the comparison): no
/// `statx` and `lseek` per file as `read_to_end` would add, and no read past the end (a
/// regular file's read returns less than asked only at its end; a file system that returns
/// less elsewhere gives a shorter content, which fails the comparison: `git status` answers).
fn read_whole(dir: BorrowedFd<'_>, name: &str, size: u64) -> rustix::io::Result<Vec<u8>> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = openat(dir, name, flags, Mode::empty())?;
    let mut data = vec![0u8; usize::try_from(size).map_err(|_| Errno::FBIG)? + 1];
    let mut filled = 0;
    while filled < data.len() {
        let asked = data.len() - filled;
        match rustix::io::read(&fd, &mut data[filled..]) {
            Ok(n) if n < asked => {
                filled += n;
                break;
            }
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    data.truncate(filled);
    Ok(data)
}

/// Whether git takes every file's content as it is (no conversion on the way into the index,
/// so a file hashes to its blob exactly): no attributes anywhere git reads them (a
/// `.gitattributes` among `names`, `info/attributes`, the global and system files, a tree
/// named by `attr.tree` or `GIT_ATTR_SOURCE`), and no line-ending setting in any config file
/// git reads (`core.autocrlf`, `core.eol`), an include of another file, or config given on the
/// command line. A mention is enough to give up: this never parses config, it only looks.
pub fn as_is<'a>(
    common_dir: &Path,
    configs: &Configs,
    mut names: impl Iterator<Item = &'a str>,
) -> bool {
    let xdg = xdg_config();
    let mut attributes = vec![common_dir.join("info/attributes")];
    attributes.extend(xdg.as_ref().map(|x| x.join("git/attributes")));
    attributes.extend(system_dirs().iter().map(|d| d.join("gitattributes")));
    !names.any(|n| file_name(n) == ".gitattributes")
        && env("GIT_ATTR_SOURCE").is_none()
        && attributes.iter().all(|p| absent(p))
        // `attr` covers `core.attributesFile` and the `[attr]` section.
        && configs.say_nothing_of(&["autocrlf", "eol", "attr", "include"])
}
