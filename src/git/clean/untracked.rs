//! Untracked paths named as `git status --untracked-files=normal` names them, where no ignore
//! rule could apply to them.
//!
//! `list` asks every sandbox for its status, and a sandbox being worked on holds a new file or
//! two. Where git could ignore nothing but the paths `info/exclude` names literally (no
//! `.gitignore` in the tree, no global excludes file, no pattern in `info/exclude`), every
//! other path is untracked, and git names it as follows:
//! - a file or a symlink: its path;
//! - a directory holding a file or a symlink, at any depth: its path and a `/` (one line);
//! - a directory holding only directories: nothing.
//!
//! Anything else (a nested repository or `.git`, a `.gitignore`, a path under one the exclude
//! file names, a socket or fifo, an unreadable directory, a name that is not UTF-8) leaves the
//! look to `git status`.

use std::fs;
use std::path::Path;

use super::super::settings::{Configs, absent, xdg_config};
use super::dirs::Excluded;
use super::file_name;

/// Whether no ignore rule could apply to a path the index does not have (and the exclude
/// file does not name): every rule of `info/exclude` literal, no `.gitignore` among `names`
/// (the index's paths), and none outside the tree ([`no_global_rules`]).
pub fn rules_free<'a>(
    configs: &Configs,
    excluded: &Excluded,
    mut names: impl Iterator<Item = &'a str>,
) -> bool {
    excluded.only_literal && !names.any(|n| is_special(file_name(n))) && no_global_rules(configs)
}

/// `others` (paths the index does not have and nobody vouches for, sorted, where
/// [`rules_free`] held) as git names them, or `None` when git might see them otherwise.
pub fn shown(worktree: &Path, others: Vec<String>, excluded: &Excluded) -> Option<Vec<String>> {
    let mut shown = Vec::with_capacity(others.len());
    for path in others {
        let under_literal = excluded.literal.iter().any(|l| {
            l.strip_prefix(path.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        });
        if under_literal || is_special(file_name(&path)) {
            return None;
        }
        let m = fs::symlink_metadata(worktree.join(&path)).ok()?;
        if m.is_dir() {
            if holds_a_file(&worktree.join(&path))? {
                shown.push(format!("{path}/"));
            }
        } else if m.is_file() || m.is_symlink() {
            shown.push(path);
        } else {
            return None;
        }
    }
    Some(shown)
}

/// A name git reads rules or a repository from.
fn is_special(name: &str) -> bool {
    name == ".gitignore" || name == ".git"
}

/// Whether no excludes file outside the tree could hold a rule: no `core.excludesFile` in any
/// config git reads (nor an include that could set one, nor config on the command line), and
/// no default global file (`$XDG_CONFIG_HOME/git/ignore`); and names compare as bytes (no
/// `core.ignoreCase`).
fn no_global_rules(configs: &Configs) -> bool {
    xdg_config().is_none_or(|x| absent(&x.join("git/ignore")))
        // `core.ignoreCase` matches names regardless of case: `README.MD` is the tracked
        // `README.md` to git, and a `.GIT` directory is skipped.
        && configs.say_nothing_of(&["excludesfile", "include", "ignorecase"])
}

/// Whether directory `dir` holds a file or a symlink at any depth (`Some(false)`: only
/// directories), as git's look stops at the first; `None` for anything git might see
/// otherwise (see the module's doc). Each directory is read whole before the answer: a
/// `.gitignore` read after a file could have ignored it.
fn holds_a_file(dir: &Path) -> Option<bool> {
    let mut file = false;
    let mut subdirs = Vec::new();
    for e in fs::read_dir(dir).ok()? {
        let e = e.ok()?;
        if is_special(e.file_name().to_str()?) {
            return None;
        }
        let kind = e.file_type().ok()?;
        if kind.is_file() || kind.is_symlink() {
            file = true;
        } else if kind.is_dir() {
            subdirs.push(e.path());
        } else {
            return None;
        }
    }
    if file {
        return Some(true);
    }
    for d in subdirs {
        if holds_a_file(&d)? {
            return Some(true);
        }
    }
    Some(false)
}
