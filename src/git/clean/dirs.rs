//! The proof's look at the directories (step 4 of `clean.rs`): every directory holding
//! entries is a real one holding only the index's names, the worktree's own `.git`, and paths
//! `info/exclude` names literally, with no `!` rule that could make one count again.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

/// The directories holding entries, each with the names the index has in it.
#[derive(Default)]
pub struct Dirs {
    names: HashMap<String, Vec<String>>,
    /// The directories already named in their parent (the top: in none).
    entered: HashSet<String>,
    /// The directory of the last entry added (the index is sorted: a directory's entries
    /// follow one another, its subdirectories' in between).
    last: Option<String>,
}

impl Dirs {
    /// Records `path` (and its parent directories) as the index's.
    pub fn add(&mut self, path: &str) {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if self.last.as_deref() != Some(dir) {
            self.enter(dir);
            self.last = Some(dir.to_string());
        }
        if let Some(names) = self.names.get_mut(dir) {
            names.push(name.to_string());
        }
    }

    /// Registers `dir` and each of its parents not seen yet, each as a name in its parent (a
    /// directory holding only directories, `a/` of `a/b/c.txt`, included).
    fn enter(&mut self, dir: &str) {
        let mut dir = dir;
        while self.entered.insert(dir.to_string()) {
            self.names.entry(dir.to_string()).or_default();
            if dir.is_empty() {
                return;
            }
            let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
            self.names
                .entry(parent.to_string())
                .or_default()
                .push(name.to_string());
            dir = parent;
        }
    }

    /// Whether every directory is a real one holding only the index's names, the worktree's
    /// own `.git` at the top, and paths `excluded` vouches for.
    pub fn hold_nothing_else(mut self, worktree: &Path, excluded: &Excluded) -> bool {
        self.names.iter_mut().all(|(dir, names)| {
            names.sort_unstable();
            let at = worktree.join(dir);
            let real_dir = fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir());
            let Ok(rd) = fs::read_dir(&at) else {
                return false;
            };
            real_dir
                && rd.into_iter().all(|e| {
                    e.is_ok_and(|e| {
                        let name = e.file_name();
                        let Some(n) = name.to_str() else {
                            return false;
                        };
                        (dir.is_empty() && n == ".git")
                            || names.binary_search_by(|k| k.as_str().cmp(n)).is_ok()
                            || excluded.vouches(worktree, &join(dir, n))
                    })
                })
        })
    }
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
    /// Vouch for a named path only when it is a file or a symlink (`rm`'s look lists each).
    pub files_only: bool,
    /// The named paths vouched for.
    pub found: std::cell::RefCell<Vec<String>>,
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
        let literal = exclude
            .lines()
            .filter_map(|l| l.strip_prefix('/'))
            .filter(|p| {
                !p.is_empty() && !p.contains(['*', '?', '[', '\\', ' ']) && !p.ends_with('/')
            })
            .map(str::to_string)
            .collect();
        Some(Excluded {
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
            self.found.borrow_mut().push(path.to_string());
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
