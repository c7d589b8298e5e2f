//! The compose inputs step of `up` and `compose-file`: the ignored files the stack reads,
//! brought from the main checkout (said), a required one that cannot be brought refusing
//! `up` before compose runs; and, at a sandbox's first `up`, what stays shared with the main
//! stack (said once per worktree, recorded in its admin dir).

use std::path::Path;

use anyhow::Result;

use crate::compose;
use crate::config::Config;
use crate::git::Repo;
use crate::registry::Instance;
use crate::ui;

/// Brings the ignored inputs `path` lacks from the main checkout and says so; the report's
/// `missing` is for the caller to refuse on.
pub fn bring(repo: &Repo, cfg: &Config, path: &Path) -> Result<compose::inputs::Report> {
    let report = compose::inputs::bring_along(&repo.root, path, cfg)?;
    if let Some(line) = report.summary() {
        ui::info(&line);
    }
    for s in &report.skipped {
        ui::warn(s);
    }
    Ok(report)
}

/// `up`'s step: [`bring`], then a refusal naming each required input still missing.
pub fn bring_or_refuse(repo: &Repo, cfg: &Config, inst: &Instance, path: &Path) -> Result<()> {
    match bring(repo, cfg, path)?.refusal(&inst.name) {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The lint's "stays shared" lines for the sandbox's compose files, each said at the first
/// `up` that finds it (not at every `up`).
pub fn say_shared_once(cfg: &Config, path: &Path) {
    let Ok(files) = compose::files::sources(path, cfg) else {
        return;
    };
    let said = crate::git::said(path);
    let new: Vec<String> = compose::lint::shared_only(&files)
        .into_iter()
        .map(|f| format!("{}: {}", f.what, f.fix))
        .filter(|l| !said.contains(l))
        .collect();
    if new.is_empty() {
        return;
    }
    for l in &new {
        ui::info(&format!("  isolation: {l}"));
    }
    if let Err(e) = crate::git::mark_said(path, &new) {
        ui::detail(&format!("could not record what was said: {e}"));
    }
}
