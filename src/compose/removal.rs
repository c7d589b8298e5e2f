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
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

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
}

/// Why an own volume is kept by default.
pub const KEPT: &str = "kept with the saved state: `git sandbox restore` brings it back, `git sandbox trash purge` deletes it";

/// Why an anonymous volume is kept by default.
const ANON_KEPT: &str = "anonymous: `restore` cannot bring it back; `docker volume rm` it when done, or use --delete-volumes";

impl VolumePlan {
    /// What `rm` would do with each volume, one line each (for the plan).
    pub fn lines(&self, delete: bool) -> Vec<String> {
        let mine = self.own.iter().chain(&self.anonymous).map(|v| {
            if delete {
                format!("delete volume {v} (--delete-volumes)")
            } else if self.own.contains(v) {
                format!("keep volume {v} ({KEPT})")
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

    /// Each volume not deleted, and why.
    pub fn kept(&self, delete: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.shared.clone();
        if !delete {
            out.extend(self.own.iter().map(|v| (v.clone(), KEPT.to_string())));
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
}

impl DownReport {
    /// Says what happened, one line each.
    pub fn print(&self) {
        if self.stopped {
            ui::info("stopped its services");
        }
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

/// What the engine has of an instance: its containers, its project's, and every volume.
struct Found {
    /// Its containers (legacy: its project's).
    mine: Vec<String>,
    /// Containers of its project that are not its.
    foreign: Vec<String>,
    /// Every volume: name, compose project, owner uuid.
    volumes: Vec<(String, String, String)>,
    /// The volumes its containers mount.
    mounts: Vec<String>,
    /// Its networks (legacy: its project's).
    networks: Vec<String>,
}

impl Found {
    /// One look at the engine; `None` when docker is not installed.
    fn look(inst: &Instance) -> Result<Option<Found>> {
        let project = owner::project(inst);
        let format = format!("{{{{.ID}}}}\t{{{{.Label \"{LABEL}\"}}}}");
        let filter = format!("label={PROJECT_LABEL}={project}");
        let Some(in_project) = lines(
            inst,
            &["ps", "-a", "--filter", &filter, "--format", &format],
        )?
        else {
            return Ok(None);
        };
        let mut found = Found {
            mine: Vec::new(),
            foreign: Vec::new(),
            volumes: Vec::new(),
            mounts: Vec::new(),
            networks: Vec::new(),
        };
        for l in &in_project {
            let (id, o) = l.split_once('\t').unwrap_or((l, ""));
            match (&inst.uuid, owner::legacy(inst)) {
                (Some(u), false) if o.trim() != u => found.foreign.push(id.to_string()),
                (_, true) if !o.trim().is_empty() => found.foreign.push(id.to_string()),
                _ => found.mine.push(id.to_string()),
            }
        }
        if let (Some(u), false) = (&inst.uuid, owner::legacy(inst)) {
            let ours = lines(
                inst,
                &["ps", "-aq", "--filter", &format!("label={LABEL}={u}")],
            )?;
            for id in ours.unwrap_or_default() {
                if !found
                    .mine
                    .iter()
                    .any(|m| id.starts_with(m.as_str()) || m.starts_with(&id))
                {
                    found.mine.push(id);
                }
            }
        }
        let vformat = format!(
            "{{{{.Name}}}}\t{{{{.Label \"{PROJECT_LABEL}\"}}}}\t{{{{.Label \"{LABEL}\"}}}}"
        );
        for l in lines(inst, &["volume", "ls", "--format", &vformat])?.unwrap_or_default() {
            let mut f = l.split('\t').map(|s| s.trim().to_string());
            let name = f.next().unwrap_or_default();
            let (p, o) = (f.next().unwrap_or_default(), f.next().unwrap_or_default());
            found.volumes.push((name, p, o));
        }
        found.mounts = mounts(inst, &found.mine)?;
        let filter = match (&inst.uuid, owner::legacy(inst)) {
            (Some(u), false) => format!("label={LABEL}={u}"),
            _ => format!("label={PROJECT_LABEL}={project}"),
        };
        found.networks =
            lines(inst, &["network", "ls", "-q", "--filter", &filter])?.unwrap_or_default();
        Ok(Some(found))
    }

    /// Whether anything of it is there to stop.
    fn running(&self) -> bool {
        !self.mine.is_empty() || !self.networks.is_empty()
    }

    /// Sorts the volumes into its own, anonymous ones, and those that are not its.
    fn plan(&self, inst: &Instance) -> VolumePlan {
        let project = owner::project(inst);
        let uuid = inst.uuid.as_deref().filter(|_| !owner::legacy(inst));
        let mut plan = VolumePlan {
            foreign: self.foreign.clone(),
            ..VolumePlan::default()
        };
        for (name, p, o) in &self.volumes {
            let mounted = self.mounts.contains(name);
            if uuid.is_some_and(|u| u == o) {
                plan.own.push(name.clone());
            } else if is_anonymous(name) && mounted && o.is_empty() {
                if uuid.is_some() {
                    plan.anonymous.push(name.clone());
                } else {
                    plan.shared.push((name.clone(), LEGACY.into()));
                }
            } else if *p == project || mounted {
                let why = match (o.is_empty(), uuid) {
                    (false, _) => "it carries another sandbox's label",
                    (true, None) => LEGACY,
                    (true, Some(_)) if *p == project => {
                        "it carries no label proving it is this sandbox's"
                    }
                    (true, Some(_)) => {
                        "used by its services, not made by them (external or a fixed name:)"
                    }
                };
                plan.shared.push((name.clone(), why.into()));
            }
        }
        plan
    }
}

/// Why an older entry's volumes are kept.
const LEGACY: &str = "made by an older git-sandbox: no label proves it is this sandbox's";

/// The volumes (named and anonymous) these containers mount.
fn mounts(inst: &Instance, containers: &[String]) -> Result<Vec<String>> {
    if containers.is_empty() {
        return Ok(Vec::new());
    }
    let format = "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}\n{{end}}{{end}}";
    let mut args = vec!["inspect", "--type", "container", "--format", format];
    args.extend(containers.iter().map(String::as_str));
    let mut names: Vec<String> = lines(inst, &args)?
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.trim().to_string())
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Removes the instance's containers and networks by their labels (its uuid; an older entry's
/// compose project), for `down` when no compose file is left and for `rm`; whether there was
/// anything to stop. Containers that are not its are left alone.
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
/// project holds nothing else; else by its labels), then deletes its own and anonymous volumes only when `delete`.
/// Fails, changing nothing, when the engine cannot be reached.
pub fn down_for_removal(
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    delete: bool,
) -> Result<DownReport> {
    let Some(found) = Found::look(inst)? else {
        return Ok(DownReport::default());
    };
    let plan = found.plan(inst);
    // compose's own `down` (dependency order, its networks) when everything of its project
    // is the instance's; by label otherwise, leaving what is not its.
    let stopped = if has_file(dir, cfg) && found.running() && found.foreign.is_empty() {
        compose_down(cfg, inst, dir)?
    } else {
        stop(&found)?
    };
    let mut report = DownReport {
        stopped,
        kept: plan.kept(delete),
        ..DownReport::default()
    };
    if !delete {
        report.recorded = plan.own;
        return Ok(report);
    }
    for v in plan.own.into_iter().chain(plan.anonymous) {
        match docker(&["volume", "rm", &v]) {
            Ok(o) if o.status.success() => report.deleted.push(v),
            Ok(o) => report
                .kept
                .push((v, format!("not deleted: {}", first_line(&o.stderr)))),
            Err(e) => report.kept.push((v, format!("not deleted: {e}"))),
        }
    }
    Ok(report)
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
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string()
}

/// The lines `docker ARGS` prints; `None` when neither docker nor compose is installed (then
/// nothing of the instance can be running); an error when the engine does not answer.
fn lines(inst: &Instance, args: &[&str]) -> Result<Option<Vec<String>>> {
    match owner::lines(args) {
        Ok(None) if Tool::detect().is_ok() => Err(unreachable(inst, "docker is not on PATH")),
        Ok(l) => Ok(l),
        Err(e) => Err(unreachable(inst, &e)),
    }
}

fn unreachable(inst: &Instance, detail: &str) -> anyhow::Error {
    UserError::new(format!(
        "the Docker engine cannot be reached, so the services of {} cannot be stopped ({detail})",
        inst.name
    ))
    .hint("start Docker (or point DOCKER_HOST at it) and try again")
    .hint("or pass --force to remove it anyway, leaving any of its containers running")
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_volumes_are_64_hex_digits() {
        assert!(is_anonymous(&"0a".repeat(32)));
        assert!(!is_anonymous("p--a_data"));
        assert!(!is_anonymous(&"0g".repeat(32)));
    }
}
