//! `rm`'s services step: the plan for the sandbox's stack and volumes, shown before the
//! question, and stopping it after. Its own volumes are kept with the trash state unless
//! `--delete-volumes` (or `[compose] delete_volumes = true` in a trusted repo's config).

use std::path::Path;

use anyhow::Result;

use crate::cli::RmFlags as Options;
use crate::compose::{
    self,
    removal::{DownReport, VolumePlan},
};
use crate::config::Config;
use crate::registry::Instance;
use crate::removal::plan::Plan;
use crate::ui;

/// Whether the sandbox's own volumes go at once: `--delete-volumes`, or the config's default,
/// which holds only once the user trusts the repo's config (`config::Asks`: it is the repo's,
/// not theirs, otherwise).
pub fn delete_volumes(cfg: &Config, opts: &Options) -> bool {
    opts.delete_volumes || cfg.delete_volumes
}

/// The services step. A refusal needs it only for its JSON, where an engine that cannot be
/// reached is no news (the refusal is).
pub fn services_for(
    cfg: &Config,
    inst: &Instance,
    path: &Path,
    plan: &Plan,
    opts: &Options,
    delete: bool,
) -> Result<Option<(String, Option<VolumePlan>)>> {
    match &plan.refusal {
        Some(_) if opts.json => Ok(services_step(cfg, inst, path, opts, delete).unwrap_or(None)),
        Some(_) => Ok(None),
        None => services_step(cfg, inst, path, opts, delete),
    }
}

/// The services step, with the volumes it deletes and keeps. An engine that cannot be reached
/// refuses here, before anything is asked or changed (unless `--force`).
fn services_step(
    cfg: &Config,
    inst: &Instance,
    path: &Path,
    opts: &Options,
    delete: bool,
) -> Result<Option<(String, Option<VolumePlan>)>> {
    if !compose::has_file(path, cfg) {
        return Ok(None);
    }
    let mut step = "stop its services".to_string();
    match compose::volume_plan(cfg, inst, path) {
        Ok(mut v) => {
            v.unrecorded = opts.keep_worktree;
            for l in v.lines(delete) {
                step.push_str(&format!("\n  - {l}"));
            }
            return Ok(Some((step, Some(v))));
        }
        Err(e) if opts.force => ui::warn(&format!(
            "{e:#}; removing anyway (--force): its containers may keep running"
        )),
        Err(e) => return Err(e),
    }
    Ok(Some((step, None)))
}

/// `--delete-volumes`, once the removal is done: deletes what [`stop`] listed, and says so.
pub fn delete_now(report: &mut DownReport) {
    if report.to_delete.is_empty() {
        return;
    }
    compose::removal::delete_volumes(report);
    report.print_volumes();
}

/// Stops the stack (by its labels); its volumes are deleted only by [`delete_now`].
pub fn stop(
    cfg: &Config,
    inst: &Instance,
    path: &Path,
    opts: &Options,
    delete: bool,
) -> Result<Option<DownReport>> {
    match compose::down_for_removal(cfg, inst, path, delete, opts.keep_worktree) {
        Ok(report) => {
            report.print();
            Ok(Some(report))
        }
        Err(e) if opts.force => {
            ui::warn(&format!(
                "could not stop its services ({e:#}); removing anyway (--force)"
            ));
            Ok(None)
        }
        Err(e) => Err(e.context(format!(
            "stopping the services of {} failed, so it was not removed (--force removes it anyway)",
            inst.name
        ))),
    }
}
