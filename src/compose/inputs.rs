//! Everything the stack reads comes along: the compose inputs git ignores in the main
//! checkout (override files compose would load, the project's `.env`, `env_file:`s, secret and
//! config files, bind-mounted files and directories inside the repo) are brought into a
//! sandbox the way `copy` does (copy-on-write where the filesystem can, never over a file
//! there, never through a symbolic link), and `init` records them in `.worktreeinclude`.
//!
//! [`bring_along`], step by step:
//! 1. The compose files and `.env` the main checkout's stack reads ([`super::files`]), brought
//!    first: they decide which files the sandbox's stack is made of.
//! 2. The inputs of the sandbox's own compose files ([`find`]).
//! 3. Each one missing in the sandbox: brought when the main checkout has it and git ignores
//!    it there; else, when compose cannot go without it, reported as [`Missing`].

mod find;
pub mod include;

pub use find::{Input, What, bind_source, inputs};

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::error::UserError;
use crate::sandbox::Copied;

/// What [`bring_along`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// The paths brought, relative to the root.
    pub brought: Vec<PathBuf>,
    pub copied: Copied,
    /// Inputs that could not be brought, with the reason (links, unreadable files).
    pub skipped: Vec<String>,
    /// Required inputs missing in the sandbox, that the main checkout cannot give.
    pub missing: Vec<Missing>,
}

/// A required input the sandbox lacks.
#[derive(Debug)]
pub struct Missing {
    pub input: Input,
    pub why: Why,
}

/// Why a required input could not be brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Why {
    /// The main checkout has none either.
    Nowhere,
    /// The main checkout has it, but git does not ignore it there (untracked, or committed on
    /// another branch only).
    NotIgnored,
    /// Its path in the main checkout goes through a symbolic link, which is never followed.
    ThroughLink,
}

/// Whether `rel` exists in `root`, reached through real directories only.
fn present(root: &Path, rel: &Path) -> bool {
    let mut at = root.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        at.push(part);
        if !std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
            return false;
        }
    }
    std::fs::symlink_metadata(root.join(rel)).is_ok()
}

/// The compose inputs the main checkout's stack reads that git ignores there and that exist
/// there: what `init` records in `.worktreeinclude`.
pub fn ignored_in_main(root: &Path, files: &[PathBuf]) -> Result<Vec<Input>> {
    let found: Vec<Input> = inputs(root, files)
        .into_iter()
        .filter(|i| present(root, &i.rel))
        .collect();
    let rels: Vec<PathBuf> = found.iter().map(|i| i.rel.clone()).collect();
    let ignored = crate::git::ignored(root, &rels)?;
    Ok(found
        .into_iter()
        .filter(|i| ignored.contains(&i.rel))
        .collect())
}

/// Brings the main checkout's (`root`) ignored compose inputs that `sandbox` lacks (see the
/// module doc).
pub fn bring_along(root: &Path, sandbox: &Path, cfg: &Config) -> Result<Report> {
    let mut report = Report::default();
    if sandbox == root {
        return Ok(report);
    }
    // Step 1: what decides the sandbox's compose files.
    let main_files = super::files::sources(root, cfg).unwrap_or_default();
    let own = Path::new(&cfg.env_file);
    let first: Vec<Input> = inputs(root, &main_files)
        .into_iter()
        .filter(|i| matches!(i.what, What::ComposeFile | What::DotEnv) && i.rel != own)
        // The sandbox's own list (step 2) says which of them it cannot go without.
        .map(|i| Input {
            required: false,
            ..i
        })
        .collect();
    bring(root, sandbox, first, &mut report)?;
    // Step 2: the inputs of the sandbox's own files (a missing listed file is `up`'s error).
    let Ok(files) = super::files::sources(sandbox, cfg) else {
        return Ok(report);
    };
    let found = inputs(sandbox, &files)
        .into_iter()
        // The sandbox's env file is git-sandbox's to write, never the main checkout's copy.
        .filter(|i| i.rel != own)
        .collect();
    bring(root, sandbox, found, &mut report)?;
    Ok(report)
}

/// Step 3 for `found`: each input missing in the sandbox brought, or reported.
fn bring(root: &Path, sandbox: &Path, found: Vec<Input>, report: &mut Report) -> Result<()> {
    let lacking: Vec<Input> = found
        .into_iter()
        .filter(|i| std::fs::symlink_metadata(sandbox.join(&i.rel)).is_err())
        .collect();
    let in_main: Vec<PathBuf> = lacking
        .iter()
        .filter(|i| present(root, &i.rel))
        .map(|i| i.rel.clone())
        .collect();
    let ignored = crate::git::ignored(root, &in_main)?;
    for input in lacking {
        if ignored.contains(&input.rel) {
            match crate::sandbox::bring_one(root, sandbox, &input.rel, &mut report.copied) {
                Ok(true) => report.brought.push(input.rel.clone()),
                Ok(false) => {}
                Err(why) => report.skipped.push(format!(
                    "{} ({}) was not brought from the main checkout: {why}",
                    input.rel.display(),
                    input.what.label()
                )),
            }
        } else if !input.required {
            if in_main.contains(&input.rel) && input.what == What::ComposeFile {
                report.skipped.push(format!(
                    "{} is in the main checkout, neither committed nor ignored: not brought (commit it, or list it in .worktreeinclude)",
                    input.rel.display()
                ));
            }
        } else {
            let why = if in_main.contains(&input.rel) {
                Why::NotIgnored
            } else if std::fs::symlink_metadata(root.join(&input.rel)).is_ok() {
                Why::ThroughLink
            } else {
                Why::Nowhere
            };
            report.missing.push(Missing { input, why });
        }
    }
    Ok(())
}

impl Report {
    /// One line for the user, when anything was brought.
    pub fn summary(&self) -> Option<String> {
        if self.brought.is_empty() {
            return None;
        }
        let names: Vec<String> = self
            .brought
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let how = self.copied.summary().unwrap_or_default();
        Some(format!(
            "brought from the main checkout (git ignores them, the stack reads them): {} [{how}]",
            names.join(", ")
        ))
    }

    /// The refusal of `up` when a required input is missing, naming each, its service and the
    /// fix; nothing has run yet.
    pub fn refusal(&self, sandbox_name: &str) -> Option<UserError> {
        let first = self.missing.first()?;
        let lines: Vec<String> = self
            .missing
            .iter()
            .map(|m| {
                let who = m
                    .input
                    .service
                    .as_deref()
                    .map(|s| format!(" of service {s}"))
                    .unwrap_or_default();
                let why = match m.why {
                    Why::NotIgnored => {
                        "the main checkout has it, but git does not ignore it there, so it is not brought"
                    }
                    Why::ThroughLink => {
                        "in the main checkout it lies behind a symbolic link, which is never followed"
                    }
                    Why::Nowhere => "the main checkout has none either",
                };
                format!(
                    "{} {}{who} is missing ({why})",
                    m.input.what.label(),
                    m.input.rel.display()
                )
            })
            .collect();
        let fix = if first.why == Why::NotIgnored {
            format!(
                "commit {} on this branch, or add it to .worktreeinclude or copy = [...] and run `git sandbox copy {sandbox_name}`",
                first.input.rel.display()
            )
        } else if first.why == Why::ThroughLink {
            format!(
                "put {} in the sandbox yourself (copy the file, not the link)",
                first.input.rel.display()
            )
        } else {
            format!(
                "create {} in the main checkout (git sandbox brings ignored inputs along at `up`), or in the sandbox; an env_file may be marked `required: false`",
                first.input.rel.display()
            )
        };
        Some(
            UserError::new(format!(
                "not starting the services of {sandbox_name}: {}",
                lines.join("; ")
            ))
            .hint(fix),
        )
    }
}

/// The model's `env_file:` entries in the form every compose reads (compose v1 and v2 before
/// 2.24 refuse `{path:, required:}`): each a path string, an optional one that is missing
/// left out. Paths are relative to `project`, compose's project directory.
pub fn settle_env_files(doc: &mut yaml_rust2::Yaml, project: &Path) {
    use yaml_rust2::Yaml;
    let Yaml::Hash(top) = doc else { return };
    let Some(Yaml::Hash(services)) = top.get_mut(&Yaml::String("services".into())) else {
        return;
    };
    let key = Yaml::String("env_file".into());
    for (_, svc) in services.iter_mut() {
        let Yaml::Hash(svc) = svc else { continue };
        let Some(Yaml::Array(list)) = svc.get(&key).cloned() else {
            continue;
        };
        let kept: Vec<Yaml> = list
            .into_iter()
            .filter_map(|item| match &item {
                Yaml::Hash(_) => {
                    let path = item["path"].as_str()?.to_string();
                    let optional = item["required"].as_bool() == Some(false);
                    let there = project.join(&path).exists();
                    (there || !optional).then_some(Yaml::String(path))
                }
                _ => Some(item),
            })
            .collect();
        if kept.is_empty() {
            svc.remove(&key);
        } else {
            svc.insert(key.clone(), Yaml::Array(kept));
        }
    }
}
