//! Stopping an instance's stack for `rm`, and which of its volumes that may delete.
//!
//! `compose down --volumes` deletes every volume the compose file declares, a fixed `name:` one
//! included whatever `-p` is, so a database volume shared by local-prod and the sandboxes would
//! go with any sandbox's `rm`. So `rm` runs `down` without `--volumes` and then deletes only the
//! instance's **own** volumes: labelled `com.docker.compose.project=<project>`, named compose's
//! default `<project>_<key>` (`key` from the `com.docker.compose.volume` label), and not the name
//! of a volume the compose model declares with a fixed `name:` or `external`. (A fixed-name volume
//! carries the label of whichever project created it first, so the label alone proves nothing.)
//! Anonymous volumes mounted by the project's containers (what `down --volumes` also removed) are
//! own too; the engine refuses to delete one still used by any other container. Everything else
//! is **shared** and never deleted. The model comes from `compose/model.rs`; when it cannot be
//! read, no named volume counts as own.
//!
//! An engine that cannot be reached is never taken for "nothing running": [`volume_plan`] and
//! [`down_for_removal`] fail with an error naming it, and `rm` removes nothing unless `--force`.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use super::model::{Declared, Model, read_model};
use super::{Tool, command, has_file};
use crate::config::Config;
use crate::env;
use crate::error::UserError;
use crate::registry::Instance;
use crate::ui;
use Declared::{External, Fixed, Own};

/// What `rm` would do with the volumes of an instance's compose project.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VolumePlan {
    /// The instance's own volumes: deleted by `rm` unless `--keep-volumes`.
    pub own: Vec<String>,
    /// Volumes it uses or created that are, or may be, shared, and why: never deleted.
    pub shared: Vec<(String, String)>,
}

impl VolumePlan {
    /// What `rm` would do with each volume, one line each (for `--dry-run`).
    pub fn lines(&self, keep_volumes: bool) -> Vec<String> {
        let own = self.own.iter().map(|v| {
            if keep_volumes {
                format!("keep volume {v} (--keep-volumes)")
            } else {
                format!("delete volume {v}")
            }
        });
        let shared = (self.shared.iter()).map(|(v, why)| format!("keep shared volume {v} ({why})"));
        own.chain(shared).collect()
    }
}

/// What [`down_for_removal`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DownReport {
    /// Whether `down` ran (the project had containers or networks).
    pub stopped: bool,
    /// Own volumes deleted.
    pub deleted: Vec<String>,
    /// Shared volumes left alone, and why.
    pub shared: Vec<(String, String)>,
    /// Own volumes not deleted, and why (`--keep-volumes`, or the engine's refusal).
    pub kept: Vec<(String, String)>,
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
        for (v, why) in &self.shared {
            ui::info(&format!("kept shared volume {v} ({why})"));
        }
        for (v, why) in &self.kept {
            ui::warn(&format!("kept volume {v} ({why})"));
        }
    }
}

/// The instance's volumes as own vs shared, changing nothing. Empty without a compose file or
/// when the project has neither containers nor volumes; an error when the engine cannot be
/// reached.
pub fn volume_plan(cfg: &Config, inst: &Instance, dir: &Path) -> Result<VolumePlan> {
    if !has_file(dir, cfg) {
        return Ok(VolumePlan::default());
    }
    match project_containers(inst)? {
        Some(containers) => plan(cfg, inst, dir, &containers),
        None => Ok(VolumePlan::default()),
    }
}

/// The plan, reading the compose model only when the project has containers or volumes.
fn plan(cfg: &Config, inst: &Instance, dir: &Path, containers: &[String]) -> Result<VolumePlan> {
    let project = env::compose_project(&inst.id);
    let Some(volumes) = engine_volumes(inst)? else {
        return Ok(VolumePlan::default());
    };
    if containers.is_empty() && !volumes.iter().any(|v| v.project == project) {
        return Ok(VolumePlan::default());
    }
    let model = read_model(cfg, inst, dir);
    let mut plan = classify(&project, model.as_ref(), &volumes);
    for v in anonymous_mounts(inst, containers)? {
        if !plan.own.contains(&v) && !plan.shared.iter().any(|(n, _)| *n == v) {
            plan.own.push(v);
        }
    }
    Ok(plan)
}

/// The anonymous volumes (64 hex digits, no name given) mounted by these containers.
fn anonymous_mounts(inst: &Instance, containers: &[String]) -> Result<Vec<String>> {
    if containers.is_empty() {
        return Ok(Vec::new());
    }
    let format = "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}\n{{end}}{{end}}";
    let mut args = vec!["inspect", "--type", "container", "--format", format];
    args.extend(containers.iter().map(String::as_str));
    let mut names: Vec<String> = docker_lines(inst, &args)?
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.trim().to_string())
        .filter(|n| is_anonymous(n))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The ids of the project's containers, running or not (see [`docker_lines`] for `None`).
/// Removes the project's containers and networks by their compose labels (what `down` does),
/// for when no compose file is left; whether there was anything to stop.
pub fn stop_by_label(inst: &Instance) -> Result<bool> {
    let filter = format!(
        "label=com.docker.compose.project={}",
        env::compose_project(&inst.id)
    );
    let containers = project_containers(inst)?.unwrap_or_default();
    let networks =
        docker_lines(inst, &["network", "ls", "-q", "--filter", &filter])?.unwrap_or_default();
    for c in &containers {
        let out = docker(&["rm", "-f", c]).context("cannot run docker rm")?;
        if !out.status.success() {
            anyhow::bail!("docker rm -f {c} failed: {}", first_line(&out.stderr));
        }
    }
    for n in &networks {
        let _ = docker(&["network", "rm", n]);
    }
    Ok(!containers.is_empty() || !networks.is_empty())
}

fn project_containers(inst: &Instance) -> Result<Option<Vec<String>>> {
    let filter = format!(
        "label=com.docker.compose.project={}",
        env::compose_project(&inst.id)
    );
    docker_lines(inst, &["ps", "-aq", "--filter", &filter])
}

/// Stops an instance's stack before removal: `down` (never `--volumes`), then deletes its own
/// volumes unless `keep_volumes`. Fails, changing nothing, when the engine cannot be reached.
pub fn down_for_removal(
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    keep_volumes: bool,
) -> Result<DownReport> {
    if !has_file(dir, cfg) {
        // No compose file left to run compose on: the stack is stopped by its labels, never
        // left running behind a removed sandbox.
        return Ok(DownReport {
            stopped: stop_by_label(inst)?,
            ..DownReport::default()
        });
    }
    let Some(containers) = project_containers(inst)? else {
        return Ok(DownReport::default());
    };
    let plan = plan(cfg, inst, dir, &containers)?;
    let filter = format!(
        "label=com.docker.compose.project={}",
        env::compose_project(&inst.id)
    );
    let running = !containers.is_empty()
        || docker_lines(inst, &["network", "ls", "-q", "--filter", &filter])?
            .is_some_and(|n| !n.is_empty());
    let mut report = DownReport {
        shared: plan.shared,
        ..DownReport::default()
    };
    if running {
        let tool = Tool::detect()?;
        let status = command(&tool, cfg, inst, dir)?
            .args(["down", "--remove-orphans"])
            .stdin(Stdio::null())
            .status()
            .context("cannot run docker compose down")?;
        if !status.success() {
            anyhow::bail!("docker compose down failed ({status})");
        }
        report.stopped = true;
    }
    for v in plan.own {
        if keep_volumes {
            report.kept.push((v, "--keep-volumes".into()));
            continue;
        }
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
fn docker_lines(inst: &Instance, args: &[&str]) -> Result<Option<Vec<String>>> {
    let out = match docker(args) {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && Tool::detect().is_err() => {
            return Ok(None);
        }
        Err(e) => return Err(unreachable(inst, &format!("cannot run docker: {e}"))),
    };
    if !out.status.success() {
        return Err(unreachable(inst, &first_line(&out.stderr)));
    }
    Ok(Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect(),
    ))
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

/// One volume the engine has: its name, and its compose project and key labels.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EngineVolume {
    name: String,
    project: String,
    key: String,
}

/// Every volume on the engine (one `docker volume ls`).
fn engine_volumes(inst: &Instance) -> Result<Option<Vec<EngineVolume>>> {
    let format = "{{.Name}}\t{{.Label \"com.docker.compose.project\"}}\t{{.Label \"com.docker.compose.volume\"}}";
    let lines = docker_lines(inst, &["volume", "ls", "--format", format])?;
    Ok(lines.map(|lines| {
        lines
            .iter()
            .map(|l| {
                let mut f = l.split('\t').map(str::trim);
                EngineVolume {
                    name: f.next().unwrap_or_default().to_string(),
                    project: f.next().unwrap_or_default().to_string(),
                    key: f.next().unwrap_or_default().to_string(),
                }
            })
            .filter(|v| !v.name.is_empty())
            .collect()
    }))
}

/// Sorts the engine's volumes that concern the project into own and shared.
fn classify(project: &str, model: Option<&Model>, volumes: &[EngineVolume]) -> VolumePlan {
    let mut plan = VolumePlan::default();
    let declared_shared = |name: &str| -> Option<&'static str> {
        model?.values().find_map(|d| match d {
            Fixed(Some(n)) if n == name => Some("fixed name:"),
            External(n) if n == name => Some("external: true"),
            _ => None,
        })
    };
    for v in volumes {
        if let Some(why) = declared_shared(&v.name) {
            plan.shared.push((v.name.clone(), why.into()));
            continue;
        }
        if v.project != project {
            continue;
        }
        let default_name = v.name == format!("{project}_{}", v.key);
        let why = match model {
            None => Some("the compose model could not be read".to_string()),
            Some(_) if !default_name => Some(format!(
                "not named {project}_<key>: created under a fixed name, so it may be shared"
            )),
            Some(m) => match m.get(&v.key) {
                None | Some(Own) => None,
                Some(_) => Some("the compose file now declares it shared".to_string()),
            },
        };
        match why {
            Some(why) => plan.shared.push((v.name.clone(), why)),
            None => plan.own.push(v.name.clone()),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{parse_model, tests::FILE};

    fn vol(name: &str, project: &str, key: &str) -> EngineVolume {
        EngineVolume {
            name: name.into(),
            project: project.into(),
            key: key.into(),
        }
    }

    #[test]
    fn anonymous_volumes_are_64_hex_digits() {
        assert!(is_anonymous(&"0a".repeat(32)));
        assert!(!is_anonymous("p--a_data"));
        assert!(!is_anonymous(&"0g".repeat(32)));
    }

    #[test]
    fn only_default_named_volumes_of_the_project_are_own() {
        let m = parse_model("p--a", FILE).expect("model");
        let volumes = [
            vol("p--a_data", "p--a", "data"),
            // A fixed-name volume this sandbox happened to create first.
            vol("shared_pgdata", "p--a", "pg"),
            vol("oldext", "", ""),
            vol("ext", "p--lp", "ext"),
            vol("p--b_data", "p--b", "data"),
            vol("fixed_elsewhere", "p--a", "gone"),
            vol("p--a_gone", "p--a", "gone"),
        ];
        let plan = classify("p--a", Some(&m), &volumes);
        assert_eq!(plan.own, ["p--a_data", "p--a_gone"]);
        let shared: Vec<&str> = plan.shared.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            shared,
            ["shared_pgdata", "oldext", "ext", "fixed_elsewhere"]
        );
        assert_eq!(plan.shared[0].1, "fixed name:");
        assert_eq!(plan.shared[1].1, "external: true");
        // No model: nothing is own.
        let plan = classify("p--a", None, &volumes);
        assert!(plan.own.is_empty());
    }
}
