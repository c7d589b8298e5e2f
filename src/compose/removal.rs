//! Stopping an instance's stack for `rm`, and what becomes of its volumes.
//!
//! Ownership is proven by the instance's uuid label ([`super::owner`]), never by a name: its
//! containers and networks are those carrying the label. When everything of its compose
//! project is its, compose's `down` stops them (never `--volumes`); else they are stopped
//! (`docker stop`, which keeps each container's stop signal and grace period) and removed by
//! the label, and the rest is left alone. Its **own** volumes are
//! those carrying the label. They are kept by default, recorded with the trash state (so
//! `restore` brings the stack back on them and `trash purge` deletes them); `--delete-volumes`
//! deletes them at once. Anonymous volumes its containers mount are kept too (they cannot come
//! back with `restore`); `--delete-volumes` deletes them, and the engine refuses one another
//! container still uses. A volume or container of its compose project, or mounted by it, that
//! does not carry its label is **not its**: never stopped or deleted, only reported.
//!
//! Entries an older git-sandbox made have no uuid: their containers are found by the compose
//! project label as before, and none of their volumes is deleted (none carries a label).
//!
//! An engine that cannot be reached is never taken for "nothing running": [`volume_plan`] and
//! [`down_for_removal`] fail with an error naming it, and `rm` removes nothing unless `--force`.

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result};

mod found;

use found::Found;

use super::owner::{self, LABEL, PROJECT_LABEL};
use super::{Tool, command, has_file};
use crate::config::Config;
use crate::error::UserError;
use crate::registry::Instance;
use crate::ui;

/// What `rm` would do with the volumes of an instance's stack.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VolumePlan {
    /// Volumes carrying its label: kept with the trash state, or deleted (`--delete-volumes`).
    pub own: Vec<String>,
    /// Anonymous volumes its containers mount: kept, or deleted (`--delete-volumes`).
    pub anonymous: Vec<String>,
    /// Volumes of its project or mounted by it that are not its, and why: never deleted.
    pub shared: Vec<(String, String)>,
    /// Containers of its compose project that are not its: never stopped.
    pub foreign: Vec<String>,
    /// No trash state records its kept volumes (`--keep-worktree` only unregisters it).
    pub unrecorded: bool,
}

/// Why an own volume is kept by default.
pub const KEPT: &str = "kept with the saved state: `git sandbox restore` brings it back, `git sandbox trash purge` deletes it";

/// Why an own volume is kept when no trash state records it (`--keep-worktree`).
const UNRECORDED: &str =
    "kept, labelled as its; no saved state records it: `docker volume rm` it when done";

/// Why an anonymous volume is kept by default.
const ANON_KEPT: &str = "anonymous: `restore` cannot bring it back; `docker volume rm` it when done, or use --delete-volumes";

impl VolumePlan {
    /// What `rm` would do with each volume, one line each (for the plan).
    pub fn lines(&self, delete: bool) -> Vec<String> {
        let mine = self.own.iter().chain(&self.anonymous).map(|v| {
            if delete {
                format!("delete volume {v} (--delete-volumes)")
            } else if self.own.contains(v) {
                format!("keep volume {v} ({})", self.why_kept())
            } else {
                format!("keep volume {v} ({ANON_KEPT})")
            }
        });
        let shared =
            (self.shared.iter()).map(|(v, why)| format!("keep volume {v}, not its ({why})"));
        let foreign = (self.foreign.iter())
            .map(|c| format!("leave container {c} running, not its (no label of this sandbox's)"));
        mine.chain(shared).chain(foreign).collect()
    }

    fn why_kept(&self) -> &'static str {
        if self.unrecorded { UNRECORDED } else { KEPT }
    }

    /// Each volume not deleted, and why.
    pub fn kept(&self, delete: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.shared.clone();
        if !delete {
            out.extend(
                self.own
                    .iter()
                    .map(|v| (v.clone(), self.why_kept().to_string())),
            );
            out.extend(
                self.anonymous
                    .iter()
                    .map(|v| (v.clone(), ANON_KEPT.to_string())),
            );
        }
        out
    }
}

/// What [`down_for_removal`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DownReport {
    /// Whether anything was stopped or removed.
    pub stopped: bool,
    /// Volumes deleted (`--delete-volumes`).
    pub deleted: Vec<String>,
    /// Volumes kept, and why.
    pub kept: Vec<(String, String)>,
    /// Own volumes kept with the trash state.
    pub recorded: Vec<String>,
    /// Volumes to delete once the removal is done (`--delete-volumes`).
    pub to_delete: Vec<String>,
}

impl DownReport {
    /// Says what happened, one line each.
    pub fn print(&self) {
        if self.stopped {
            ui::info("stopped its services");
        }
        if self.to_delete.is_empty() {
            self.print_volumes();
        }
    }

    /// Says what became of the volumes.
    pub fn print_volumes(&self) {
        for v in &self.deleted {
            ui::info(&format!("deleted volume {v}"));
        }
        for (v, why) in &self.kept {
            ui::info(&format!("kept volume {v} ({why})"));
        }
    }
}

/// The plan for the instance's volumes, changing nothing. Empty without a compose file (and,
/// for an older entry, nothing of its project on the engine); an error when the engine cannot
/// be reached.
pub fn volume_plan(cfg: &Config, inst: &Instance, dir: &Path) -> Result<VolumePlan> {
    if !has_file(dir, cfg) && owner::legacy(inst) {
        return Ok(VolumePlan::default());
    }
    let Some(found) = Found::look(inst)? else {
        return Ok(VolumePlan::default());
    };
    Ok(found.plan(inst))
}

/// Removes the instance's containers and networks by their labels (its uuid; an older entry's
/// compose project), for `down` when no compose file is left and for `rm`; whether there was
/// anything to stop. Containers that are not its are left alone.
/// What the instance's compose project holds on the engine that is not the instance's (see
/// `found::foreign`): compose run on that project (`down`, `ps`, `logs`, `compose --`) would
/// act on it too. Empty when docker is not installed.
pub fn foreign(inst: &Instance) -> Result<Vec<String>> {
    Ok(found::foreign(inst)?.unwrap_or_default())
}

pub fn stop_by_label(inst: &Instance) -> Result<bool> {
    let Some(found) = Found::look(inst)? else {
        return Ok(false);
    };
    stop(&found)
}

fn stop(found: &Found) -> Result<bool> {
    if !found.mine.is_empty() {
        for verb in ["stop", "rm"] {
            let mut args = vec![verb];
            args.extend(found.mine.iter().map(String::as_str));
            let out = docker(&args).with_context(|| format!("cannot run docker {verb}"))?;
            if !out.status.success() {
                anyhow::bail!("docker {verb} failed: {}", first_line(&out.stderr));
            }
        }
    }
    for n in &found.networks {
        let _ = docker(&["network", "rm", n]);
    }
    Ok(found.running())
}

/// Stops an instance's stack before removal (compose `down`, never `--volumes`, when its
/// project holds nothing else; else by its labels). Its own volumes are recorded for the trash
/// state, or, when `delete`, listed for [`delete_volumes`] once the removal is done (a removal
/// refused after this point must not have lost them). Fails, changing nothing, when the engine
/// cannot be reached.
pub fn down_for_removal(
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    delete: bool,
    unrecorded: bool,
) -> Result<DownReport> {
    // No compose file (and none rendered): two quick looks, as many as `rm` always took,
    // before the full one, which only a stack left behind needs.
    if !has_file(dir, cfg) && !anything_of(inst)? {
        return Ok(DownReport::default());
    }
    let Some(found) = Found::look(inst)? else {
        return Ok(DownReport::default());
    };
    let mut plan = found.plan(inst);
    plan.unrecorded = unrecorded;
    // compose's own `down` (dependency order, its networks) when everything of its project
    // is the instance's; by label otherwise, leaving what is not its.
    let stopped = if has_file(dir, cfg) && found.running() && found.foreign.is_empty() {
        compose_down(cfg, inst, dir)?
    } else {
        stop(&found)?
    };
    let mut report = DownReport {
        stopped,
        kept: plan.shared.clone(),
        ..DownReport::default()
    };
    if delete {
        report.to_delete = plan.own.into_iter().chain(plan.anonymous).collect();
    } else {
        report.kept = plan.kept(false);
        report.recorded = plan.own;
    }
    Ok(report)
}

/// `--delete-volumes`, after the removal: deletes the volumes [`down_for_removal`] listed; one
/// the engine refuses (another container uses it) is kept, with its reason.
pub fn delete_volumes(report: &mut DownReport) {
    for v in std::mem::take(&mut report.to_delete) {
        match docker(&["volume", "rm", &v]) {
            Ok(o) if o.status.success() => report.deleted.push(v),
            Ok(o) => report
                .kept
                .push((v, format!("not deleted: {}", first_line(&o.stderr)))),
            Err(e) => report.kept.push((v, format!("not deleted: {e}"))),
        }
    }
}

/// Whether the engine holds a container or network of the instance's (by its label).
fn anything_of(inst: &Instance) -> Result<bool> {
    let filter = label_filter(inst);
    for (endpoint, args) in [
        (
            super::socket::CONTAINERS,
            &["ps", "-aq", "--filter", &filter][..],
        ),
        (
            super::socket::NETWORKS,
            &["network", "ls", "-q", "--filter", &filter],
        ),
    ] {
        // The engine's socket when it surely is the CLI's; else the CLI.
        let found = match super::socket::labelled(endpoint, &filter) {
            Some(found) => found,
            None => lines(inst, args)?.is_some_and(|l| !l.is_empty()),
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The label filter of its containers and networks: its uuid (an older entry's project).
pub(super) fn label_filter(inst: &Instance) -> String {
    match (&inst.uuid, owner::legacy(inst)) {
        (Some(u), false) => format!("label={LABEL}={u}"),
        _ => format!("label={PROJECT_LABEL}={}", owner::project(inst)),
    }
}

/// compose `down` on its project, never `--volumes`.
fn compose_down(cfg: &Config, inst: &Instance, dir: &Path) -> Result<bool> {
    let tool = Tool::detect()?;
    let status = command(&tool, cfg, inst, dir)?
        .args(["down", "--remove-orphans"])
        .stdin(Stdio::null())
        .status()
        .context("cannot run docker compose down")?;
    if !status.success() {
        anyhow::bail!("docker compose down failed ({status})");
    }
    Ok(true)
}

fn docker(args: &[&str]) -> std::io::Result<std::process::Output> {
    crate::engine::docker()
        .args(args)
        .stdin(Stdio::null())
        .output()
}

/// The first non-empty line of a command's output, for an error message.
pub(crate) fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string()
}

/// The lines `docker ARGS` prints; `None` when neither docker nor compose is installed (then
/// nothing of the instance can be running); an error when the engine does not answer.
pub(super) fn lines(inst: &Instance, args: &[&str]) -> Result<Option<Vec<String>>> {
    match owner::lines(args) {
        Ok(None) if Tool::detect().is_ok() => Err(unreachable(inst, "docker is not on PATH")),
        Ok(l) => Ok(l),
        Err(e) => Err(unreachable(inst, &e)),
    }
}

fn unreachable(inst: &Instance, detail: &str) -> anyhow::Error {
    let hint = match &inst.engine {
        // The recorded engine is used whatever the shell says: pointing DOCKER_HOST elsewhere
        // cannot help.
        Some(e) => format!(
            "its stack runs on engine {} (recorded at `up`): make that engine reachable and try again",
            e.shown()
        ),
        None => "start Docker (or point DOCKER_HOST at it) and try again".into(),
    };
    UserError::new(format!(
        "the Docker engine cannot be reached, so the services of {} cannot be stopped ({detail})",
        inst.name
    ))
    .hint(hint)
    .hint("or pass --force to remove it anyway, leaving any of its containers running")
    .into()
}
