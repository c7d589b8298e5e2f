//! The proof's pass over the directories (steps 3 and 4 of `clean.rs`), each opened once:
//! every directory holding entries is a real one holding the index's names, the worktree's
//! own `.git`, paths `info/exclude` names literally (with no `!` rule that could make one
//! count again) and, where the caller allows, other paths it returns; and each of its files
//! is unchanged.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::{Dir as Listing, Mode, OFlags, open};

use super::super::index_flags::Entry;
use super::reread::Budget;

/// What the pass over the directories checks besides their names.
pub struct Pass<'a> {
    pub excluded: &'a Excluded,
    /// Whether paths nobody vouches for may be there (they are returned; asked at the first
    /// one); otherwise the first one ends the pass.
    pub others_allowed: &'a (dyn Fn() -> bool + Sync),
    /// Whether an entry's file still is what the index holds, given the directory open as
    /// the first argument: (directory, name, entry, budget).
    pub unchanged: &'a (dyn Fn(BorrowedFd<'_>, &str, &Entry, &Budget) -> bool + Sync),
    /// On two threads.
    pub two_threads: bool,
}

/// One directory holding entries: the index's names in it (its files and subdirectories),
/// and its files' entries.
#[derive(Default)]
struct Held<'a> {
    names: Vec<&'a str>,
    files: Vec<(&'a str, &'a Entry)>,
}

/// The directories holding entries, each with the names the index has in it; the paths
/// borrowed from the index's entries.
#[derive(Default)]
pub struct Dirs<'a> {
    held: HashMap<&'a str, Held<'a>>,
    /// The directories already named in their parent (the top: in none).
    entered: HashSet<&'a str>,
    /// The directory of the last entry added (the index is sorted: a directory's entries
    /// follow one another, its subdirectories' in between).
    last: Option<&'a str>,
}

impl<'a> Dirs<'a> {
    /// Records the entry at `path` (and its parent directories) as the index's.
    pub fn add(&mut self, path: &'a str, e: &'a Entry) {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if self.last != Some(dir) {
            self.enter(dir);
            self.last = Some(dir);
        }
        if let Some(held) = self.held.get_mut(dir) {
            held.names.push(name);
            held.files.push((name, e));
        }
    }

    /// Registers `dir` and each of its parents not seen yet, each as a name in its parent (a
    /// directory holding only directories, `a/` of `a/b/c.txt`, included).
    fn enter(&mut self, dir: &'a str) {
        let mut dir = dir;
        while self.entered.insert(dir) {
            self.held.entry(dir).or_default();
            if dir.is_empty() {
                return;
            }
            let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
            self.held.entry(parent).or_default().names.push(name);
            dir = parent;
        }
    }

    /// One pass over the directories: each is a real one, holding the index's names, the
    /// worktree's own `.git` at the top, paths the exclude file vouches for, and (when
    /// allowed) others; each of its files is unchanged. Returns the others (sorted), `None`
    /// when anything failed (or a directory could not be read, or a name is not UTF-8).
    pub fn pass(self, worktree: &Path, p: &Pass<'_>) -> Option<Vec<String>> {
        let mut held: Vec<(&str, Held<'_>)> = self.held.into_iter().collect();
        let budget = Budget::new();
        let mut others = if p.two_threads {
            // Two halves of about as many files each.
            let total: usize = held.iter().map(|(_, h)| h.files.len()).sum();
            let mut seen = 0;
            let cut = held
                .iter()
                .position(|(_, h)| {
                    seen += h.files.len();
                    seen * 2 >= total
                })
                .unwrap_or(0);
            let (first, second) = held.split_at_mut(cut);
            std::thread::scope(|s| {
                let other = s.spawn(|| each(worktree, second, p, &budget));
                let mine = each(worktree, first, p, &budget);
                let mut theirs = other.join().ok()??;
                theirs.extend(mine?);
                Some(theirs)
            })?
        } else {
            each(worktree, &mut held, p, &budget)?
        };
        others.sort_unstable();
        Some(others)
    }
}

/// [`Dirs::pass`] over `held`.
fn each(
    worktree: &Path,
    held: &mut [(&str, Held<'_>)],
    p: &Pass<'_>,
    budget: &Budget,
) -> Option<Vec<String>> {
    let mut others = Vec::new();
    for (dir, h) in held {
        h.names.sort_unstable();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = open(worktree.join(*dir), flags, Mode::empty()).ok()?;
        let mut listing = Listing::new(fd).ok()?;
        while let Some(e) = listing.read() {
            let e = e.ok()?;
            let n = e.file_name().to_str().ok()?;
            let known = n == "."
                || n == ".."
                || (dir.is_empty() && n == ".git")
                || h.names.binary_search(&n).is_ok();
            if known {
                continue;
            }
            let path = join(dir, n);
            if !p.excluded.vouches(worktree, &path) {
                if !(p.others_allowed)() {
                    return None;
                }
                others.push(path);
            }
        }
        let fd = listing.fd().ok()?;
        if !h.files.iter().all(|(n, e)| (p.unchanged)(fd, n, e, budget)) {
            return None;
        }
    }
    Some(others)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The paths `$GIT_COMMON_DIR/info/exclude` names literally (`/.env.sandbox`), when neither it
/// nor the top `.gitignore` has a `!` rule (which could make one of them count again).
pub struct Excluded {
    pub literal: Vec<String>,
    /// Every rule of `info/exclude` is one of `literal` (blank lines and comments aside): no
    /// pattern there could ignore another path.
    pub only_literal: bool,
    /// Vouch for a named path only when it is a file or a symlink (`rm`'s look lists each).
    pub files_only: bool,
    /// The named paths vouched for.
    pub found: std::sync::Mutex<Vec<String>>,
}

impl Excluded {
    pub fn read(common: &Path, worktree: &Path) -> Option<Excluded> {
        let exclude = fs::read_to_string(common.join("info/exclude")).unwrap_or_default();
        let top = match fs::read_to_string(worktree.join(".gitignore")) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(_) => return None,
        };
        if exclude
            .lines()
            .chain(top.lines())
            .any(|l| l.starts_with('!'))
        {
            return None;
        }
        let is_literal = |p: &&str| {
            !p.is_empty()
                && !p.contains(['*', '?', '[', '\\', ' '])
                && !p.contains(char::is_control)
                && !p.ends_with('/')
        };
        let literal: Vec<String> = exclude
            .lines()
            .filter_map(|l| l.strip_prefix('/'))
            .filter(is_literal)
            .map(str::to_string)
            .collect();
        let rules = exclude
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        Some(Excluded {
            only_literal: rules.count() == literal.len(),
            literal,
            files_only: false,
            found: Default::default(),
        })
    }

    /// Whether git ignores everything at `path` (a name the index does not have): a path
    /// named literally, or a real directory on the way to such paths holding only them
    /// (`.sandbox/` with the tool's `context.md`), with no `.gitignore` of its own.
    fn vouches(&self, worktree: &Path, path: &str) -> bool {
        if self.literal.iter().any(|l| l == path) {
            let kind_ok = !self.files_only
                || fs::symlink_metadata(worktree.join(path)).is_ok_and(|m| !m.is_dir());
            let Ok(mut found) = self.found.lock() else {
                return false;
            };
            found.push(path.to_string());
            return kind_ok && no_negation_above(worktree, path);
        }
        let prefix = format!("{path}/");
        if !self.literal.iter().any(|l| l.starts_with(&prefix)) {
            return false;
        }
        let at = worktree.join(path);
        fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir())
            && fs::read_dir(&at).is_ok_and(|rd| {
                rd.into_iter().all(|e| {
                    e.is_ok_and(|e| {
                        e.file_name().to_str().is_some_and(|n| {
                            n != ".gitignore"
                                && n != ".git"
                                && self.vouches(worktree, &join(path, n))
                        })
                    })
                })
            })
    }
}

/// Whether no `.gitignore` in a directory between the top and `path` has a `!` rule (the
/// top's was read with `info/exclude`).
fn no_negation_above(worktree: &Path, path: &str) -> bool {
    let mut dir = String::new();
    for part in path
        .split('/')
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .skip(1)
        .rev()
    {
        dir = join(&dir, part);
        match fs::read_to_string(worktree.join(&dir).join(".gitignore")) {
            Ok(s) if s.lines().any(|l| l.starts_with('!')) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return false,
        }
    }
    true
}
