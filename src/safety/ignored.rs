//! The ignored files of a sandbox: which are git-sandbox's own (by their mark, never by their
//! name: [`crate::context::is_ours`]), and of the user's, which are disposable (deleted) and
//! which are kept in the trash, with their sizes.

use std::path::Path;

use crate::git;

/// One ignored path (a file, or a directory collapsed as `dir/`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ignored {
    pub path: String,
    pub files: u64,
    pub bytes: u64,
    /// Matches a `disposable` glob: deleted, not kept.
    pub disposable: bool,
}

/// Takes git-sandbox's own files out of `ignored` and returns them. They are recognised by
/// their mark whatever the config names now: a renamed `env_file` is the user's file if we did
/// not write it, and an env file we wrote under a previous name is still ours. They are
/// rewritten whenever the sandbox is made: never the user's work.
pub fn take_ours(dir: &Path, ignored: &mut Vec<String>) -> Vec<String> {
    let ours: Vec<String> = ignored
        .iter()
        .filter(|p| crate::context::is_ours(dir, p))
        .cloned()
        .collect();
    ignored.retain(|p| !ours.contains(p));
    ours
}

/// Sizes each ignored path and marks those matching a disposable glob.
pub fn classify(dir: &Path, ignored: &[String], disposable: &[String]) -> Vec<Ignored> {
    ignored
        .iter()
        .map(|p| {
            let (files, bytes) = git::ignored_size(dir, std::slice::from_ref(p));
            Ignored {
                path: p.clone(),
                files,
                bytes,
                disposable: is_disposable(p, disposable),
            }
        })
        .collect()
}

/// Whether an ignored path (`dir/` for a directory) lies in or is a disposable one.
pub fn is_disposable(path: &str, globs: &[String]) -> bool {
    let is_dir = path.ends_with('/');
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    parts.iter().enumerate().any(|(i, part)| {
        let part_is_dir = i + 1 < parts.len() || is_dir;
        globs.iter().any(|g| {
            let dir_only = g.ends_with('/');
            (!dir_only || part_is_dir) && crate::names::wildcard(g.trim_end_matches('/'), part)
        })
    })
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
