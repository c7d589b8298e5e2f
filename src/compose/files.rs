//! Which compose files a project's stack is made of, the way its users run compose: the
//! config's list (`[compose] file` or `compose_files`, like `-f a -f b`), else `COMPOSE_FILE`
//! (with `COMPOSE_PATH_SEPARATOR`) from the command's environment or the project's `.env`
//! (the environment wins, as in compose), else the first standard name with the override
//! file compose reads beside it. Every consumer (rendering, the lint, `init`'s plan, `down`
//! and `rm`) asks here, so they all read the same list.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::error::UserError;

/// The compose files looked for, in order, when nothing names them.
pub const CANDIDATES: &[&str] = &[
    "docker-compose.sandbox.yml",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// The override files compose reads beside a standard-named one, first found wins.
pub const OVERRIDES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Where the list of compose files came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `.sandbox.toml`'s `[compose]`.
    Config,
    /// `COMPOSE_FILE` in the command's environment.
    Environment,
    /// `COMPOSE_FILE` in the project's `.env`.
    DotEnv,
    /// A standard name found, with its override file when there is one.
    Found,
}

/// The compose files of `dir`, in order, and where the list came from. A file the list names
/// that is missing is an error naming it.
pub fn chosen(dir: &Path, cfg: &Config) -> Result<(Vec<PathBuf>, Origin)> {
    if !cfg.compose_files.is_empty() {
        let mut files: Vec<PathBuf> = cfg.compose_files.iter().map(|f| dir.join(f)).collect();
        all_there(&files, "named in .sandbox.toml ([compose])")?;
        if !cfg.compose_listed {
            files.extend(override_of(&files[0]));
        }
        return Ok((files, Origin::Config));
    }
    if let Some((files, origin)) = compose_file_var(dir) {
        let whose = match origin {
            Origin::Environment => "listed in COMPOSE_FILE (environment)",
            _ => "listed in COMPOSE_FILE (.env)",
        };
        all_there(&files, whose)?;
        return Ok((files, origin));
    }
    let file = first_candidate(dir)?;
    let mut out = vec![file.clone()];
    out.extend(override_of(&file));
    Ok((out, Origin::Found))
}

/// The override file compose reads beside a standard-named file, when there is one.
fn override_of(file: &Path) -> Option<PathBuf> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    CANDIDATES[1..]
        .contains(&name)
        .then(|| overrides_beside(file).into_iter().find(|p| p.is_file()))
        .flatten()
}

/// [`chosen`]'s files.
pub fn sources(dir: &Path, cfg: &Config) -> Result<Vec<PathBuf>> {
    Ok(chosen(dir, cfg)?.0)
}

/// The override files compose would read beside a standard-named file, in its order.
pub fn overrides_beside(file: &Path) -> Vec<PathBuf> {
    let Some(at) = file.parent() else {
        return Vec::new();
    };
    OVERRIDES.iter().map(|o| at.join(o)).collect()
}

/// The first compose file of the directory (compose's project directory is its folder).
pub fn find_file(dir: &Path, cfg: &Config) -> Result<PathBuf> {
    Ok(chosen(dir, cfg)?.0.remove(0))
}

fn first_candidate(dir: &Path) -> Result<PathBuf> {
    for c in CANDIDATES {
        let p = dir.join(c);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(UserError::new(format!(
        "no compose file in {}; looked for {}",
        dir.display(),
        CANDIDATES.join(", ")
    ))
    .hint("add one, or name them under [compose] compose_files = [\"a.yml\", \"b.yml\"] in .sandbox.toml")
    .into())
}

fn all_there(files: &[PathBuf], whose: &str) -> Result<()> {
    match files.iter().find(|f| !f.is_file()) {
        None => Ok(()),
        Some(f) => Err(UserError::new(format!(
            "the compose file {} {whose} does not exist",
            f.display()
        ))
        .hint("create it (a file git ignores comes from the main checkout: is it there?), or change the list")
        .into()),
    }
}

/// `COMPOSE_FILE` (and `COMPOSE_PATH_SEPARATOR`), each from the environment, else from the
/// project's `.env`, as compose reads them.
fn compose_file_var(dir: &Path) -> Option<(Vec<PathBuf>, Origin)> {
    let env = super::raw::dotenv(&dir.join(".env"));
    let dotenv = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let from_env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let (list, origin) = match from_env("COMPOSE_FILE") {
        Some(v) => (v, Origin::Environment),
        None => (
            dotenv("COMPOSE_FILE").filter(|v| !v.is_empty())?,
            Origin::DotEnv,
        ),
    };
    let sep = from_env("COMPOSE_PATH_SEPARATOR")
        .or_else(|| dotenv("COMPOSE_PATH_SEPARATOR").filter(|v| !v.is_empty()))
        .unwrap_or_else(|| ":".into());
    let files: Vec<PathBuf> = list
        .split(sep.as_str())
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| dir.join(f))
        .collect();
    (!files.is_empty()).then_some((files, origin))
}
