//! Processes in other mount namespaces (a container of any engine, a devcontainer, an
//! `unshare`d shell) that can write in a directory, read from the kernel's mount tables
//! without asking any engine.
//!
//! Inside a container `/proc/<pid>/cwd` shows the container's own paths, so the directory is
//! put in the kernel's terms first: its device (`major:minor` of its `st_dev`) and its path
//! within that filesystem (from our own `/proc/self/mountinfo`: the root of the mount it is on,
//! joined with the rest of its path). Then each mount namespace other than ours
//! (`/proc/<pid>/ns/mnt`) has its `/proc/<pid>/mountinfo` read once, and counts when
//! - one of its mounts has its source at or inside the directory (`docker run -v
//!   "$PWD:/work"`, a subdirectory, a single file), read-only or not; or
//! - a mount's source is a parent of the directory and one of the namespace's processes has
//!   its cwd, root or an open file inside the directory through it (a devcontainer with the
//!   repository's parent mounted and a shell in the sandbox).
//!
//! The kernel prints a mount's root from the directory itself, so the match follows a rename:
//! the re-check of a quarantined tree sees the same containers. Processes whose namespace
//! cannot be read (another user's, a non-dumpable one) are listed as unreadable, so the caller
//! can say the check was partial.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory in the kernel's terms.
struct Target {
    dev: (u32, u32),
    /// Its path within its filesystem.
    root: PathBuf,
}

/// One line of a mountinfo table.
struct Mount {
    dev: (u32, u32),
    root: PathBuf,
    point: PathBuf,
    writable: bool,
}

/// A mount namespace other than ours that reaches the directory.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// `mnt:[4026532…]`.
    pub id: String,
    /// Its processes, lowest first.
    pub pids: Vec<u32>,
    /// How it reaches the directory (`bind mount of . at /work`).
    pub holds: String,
}

/// What the mount tables show.
#[derive(Clone, Debug, Default)]
pub struct Look {
    pub found: Vec<Namespace>,
    /// Processes whose mount namespace could not be read.
    pub unreadable: Vec<u32>,
}

/// The mount namespaces other than ours that reach `dir` (processes in `skip` aside).
pub fn look(dir: &Path, skip: &[u32]) -> Look {
    let (Some(ours), Some(target)) = (ns_of(std::process::id()), target(dir)) else {
        return Look::default();
    };
    let mut look = Look::default();
    let mut spaces: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for pid in pids().into_iter().filter(|p| !skip.contains(p)) {
        match fs::read_link(format!("/proc/{pid}/ns/mnt")) {
            Ok(ns) => {
                let ns = ns.to_string_lossy().into_owned();
                if ns != ours {
                    spaces.entry(ns).or_default().push(pid);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) if super::alive(pid) => look.unreadable.push(pid),
            Err(_) => {}
        }
    }
    for (id, pids) in spaces {
        if let Some(holds) = reaches(&target, &pids) {
            look.found.push(Namespace { id, pids, holds });
        }
    }
    look
}

/// The other places in our own namespace where `dir` or something inside it is mounted (a
/// `mount --bind` of the sandbox elsewhere): a process working there works in `dir`.
pub fn aliases(dir: &Path) -> Vec<PathBuf> {
    let Some(t) = target(dir) else {
        return Vec::new();
    };
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    parse(&text)
        .into_iter()
        .filter(|m| m.dev == t.dev && m.root.starts_with(&t.root) && !m.point.starts_with(dir))
        .map(|m| m.point)
        .collect()
}

/// The mount namespace of `pid` (`mnt:[…]`), if it can be read.
pub fn ns_of(pid: u32) -> Option<String> {
    fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// The processes in mount namespace `ns` now.
pub fn pids_in(ns: &str) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|p| ns_of(*p).as_deref() == Some(ns))
        .collect()
}

/// Every pid in `/proc`, ascending.
fn pids() -> Vec<u32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<u32> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    out.sort_unstable();
    out
}

/// `dir` as a device and a path within its filesystem, per our own mount table.
fn target(dir: &Path) -> Option<Target> {
    let dev = split_dev(fs::metadata(dir).ok()?.dev());
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let table = parse(&fs::read_to_string("/proc/self/mountinfo").ok()?);
    let m = table
        .iter()
        .filter(|m| m.dev == dev && dir.starts_with(&m.point))
        .max_by_key(|m| m.point.components().count())?;
    let rest = dir.strip_prefix(&m.point).ok()?;
    Some(Target {
        dev,
        root: m.root.join(rest),
    })
}

/// How the namespace of `pids` reaches the target, if it does (its table is read from the
/// first process that still has one).
fn reaches(t: &Target, pids: &[u32]) -> Option<String> {
    let table = pids
        .iter()
        .find_map(|p| fs::read_to_string(format!("/proc/{p}/mountinfo")).ok())
        .map(|text| parse(&text))?;
    let same_fs = || table.iter().filter(|m| m.dev == t.dev);
    if let Some(m) = same_fs().find(|m| m.root.starts_with(&t.root)) {
        let rel = m.root.strip_prefix(&t.root).unwrap_or(Path::new(""));
        let rel = if rel.as_os_str().is_empty() {
            ".".to_string()
        } else {
            rel.display().to_string()
        };
        let ro = if m.writable { "" } else { " (read-only)" };
        return Some(format!("bind mount of {rel} at {}{ro}", m.point.display()));
    }
    if !same_fs().any(|m| t.root.starts_with(&m.root)) {
        return None;
    }
    pids.iter().find_map(|&pid| through_parent(t, &table, pid))
}

/// A link of process `pid` (cwd, root, an open file) inside the target through the mount that
/// serves it in the process's table (a mount of a parent directory of the target).
fn through_parent(t: &Target, table: &[Mount], pid: u32) -> Option<String> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let mut links: Vec<(String, PathBuf)> = ["cwd", "root"]
        .iter()
        .filter_map(|l| Some((l.to_string(), fs::read_link(dir.join(l)).ok()?)))
        .collect();
    if let Ok(fds) = fs::read_dir(dir.join("fd")) {
        links.extend(
            fds.flatten()
                .filter_map(|fd| Some(("open file".to_string(), fs::read_link(fd.path()).ok()?))),
        );
    }
    links.into_iter().find_map(|(what, p)| {
        // The deepest mount point above the path serves it (the last one mounted there).
        let m = table
            .iter()
            .filter(|m| p.starts_with(&m.point))
            .max_by_key(|m| m.point.components().count())?;
        let rest = p.strip_prefix(&m.point).ok()?;
        (m.dev == t.dev && m.root.join(rest).starts_with(&t.root)).then(|| {
            format!(
                "{what} {} (pid {pid}), through the mount at {}",
                p.display(),
                m.point.display()
            )
        })
    })
}

/// The lines of a mountinfo table: `id parent major:minor root point options … - fstype …`.
fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let (major, minor) = f.get(2)?.split_once(':')?;
            Some(Mount {
                dev: (major.parse().ok()?, minor.parse().ok()?),
                root: PathBuf::from(crate::safety::scan::unescape(f.get(3)?)),
                point: PathBuf::from(crate::safety::scan::unescape(f.get(4)?)),
                writable: f.get(5)?.split(',').any(|o| o == "rw"),
            })
        })
        .collect()
}

/// Linux's `st_dev` as (major, minor).
fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mountinfo_line_is_read_with_its_escapes() {
        let t = parse(
            "36 35 98:0 /my\\040repo/sb /work rw,noatime master:1 - ext4 /dev/root rw\n\
             37 35 98:0 / /host ro,relatime - ext4 /dev/root ro\n",
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].dev, (98, 0));
        assert_eq!(t[0].root, Path::new("/my repo/sb"));
        assert_eq!(t[0].point, Path::new("/work"));
        assert!(t[0].writable && !t[1].writable);
    }

    #[test]
    fn st_dev_splits_like_the_kernel() {
        assert_eq!(split_dev(0xfe00), (254, 0));
        assert_eq!(split_dev(0x0803), (8, 3));
    }
}
