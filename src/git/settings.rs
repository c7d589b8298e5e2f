//! What git reads besides the tree: its config files, its system-wide files, the environment.
//! The proof (`clean.rs`) looks at them, never parsing: any mention of a setting that could
//! change git's answer is enough to leave it to `git status`. `rm`'s quick second look
//! (`safety/second.rs`) checks the same files did not change between its two looks.

use std::path::{Path, PathBuf};

/// `$XDG_CONFIG_HOME`, or `$HOME/.config`, as git finds its global files there.
pub fn xdg_config() -> Option<PathBuf> {
    env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")))
}

/// The config files git reads here, the repository's last (a `config.worktree` was ruled out
/// by the caller).
pub fn config_files(common_dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    // git reads the variable as a boolean.
    let no_system = env("GIT_CONFIG_NOSYSTEM")
        .is_some_and(|v| !matches!(v.to_str(), Some("0" | "false" | "no" | "off")));
    if !no_system {
        match env("GIT_CONFIG_SYSTEM") {
            Some(f) => files.push(f),
            None => files.extend(system_dirs().iter().map(|d| d.join("gitconfig"))),
        }
    }
    match env("GIT_CONFIG_GLOBAL") {
        Some(g) => files.push(g),
        None => {
            files.extend(xdg_config().map(|x| x.join("git/config")));
            files.extend(env("HOME").map(|h| h.join(".gitconfig")));
        }
    }
    files.push(common_dir.join("config"));
    files
}

/// Where git's system-wide files may be: `/etc`, and the `etc` of the prefix the `git` on
/// `PATH` was installed under (`/usr/local/bin/git` reads `/usr/local/etc/gitconfig`).
pub fn system_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/etc")];
    let git = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("git"))
            .find(|g| g.is_file())
    });
    let prefix = git
        .and_then(|g| std::fs::canonicalize(g).ok())
        .and_then(|g| Some(g.parent()?.parent()?.join("etc")));
    dirs.extend(prefix.filter(|p| p != Path::new("/usr/etc") && p != Path::new("/etc")));
    dirs
}

/// A set, non-empty environment variable, as a path.
pub fn env(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The config files git reads here ([`config_files`]), each read once for all of a proof's
/// questions, and whether config came on the command line (`git -c`, in the environment).
pub struct Configs {
    /// Each file's text, lower case (an absent file: empty); `None` for one that exists but
    /// cannot be read, which says "maybe".
    texts: Vec<Option<Vec<u8>>>,
    command_line: bool,
}

impl Configs {
    pub fn read(common_dir: &Path) -> Configs {
        let texts = config_files(common_dir)
            .iter()
            .map(|p| match std::fs::read(p) {
                Ok(text) => Some(text.to_ascii_lowercase()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Vec::new()),
                Err(_) => None,
            })
            .collect();
        let command_line = ["GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"]
            .iter()
            .any(|k| env(k).is_some());
        Configs {
            texts,
            command_line,
        }
    }

    /// Whether no config came on the command line and no file mentions any of `words` (lower
    /// case: a setting's name, a section's).
    pub fn say_nothing_of(&self, words: &[&str]) -> bool {
        !self.command_line
            && self.texts.iter().all(|t| {
                t.as_ref().is_some_and(|text| {
                    !words
                        .iter()
                        .any(|w| text.windows(w.len()).any(|s| s == w.as_bytes()))
                })
            })
    }
}

/// Whether nothing is at `path` (an unreadable place counts as something).
pub fn absent(path: &Path) -> bool {
    matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}
