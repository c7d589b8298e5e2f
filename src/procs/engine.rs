//! The container engines on this machine (`docker`, `podman`), asked only when the mount
//! tables ([`super::mounts`]) found something to name or could not be read: their running
//! containers (id, name, image, main pid, bind mounts), and stopping one.
//!
//! Naming is exact: a container is the one whose main pid shares the mount namespace found.
//! An engine's bind sources are paths as given when the container was made, so they only
//! stand in for the kernel's answer where the kernel cannot be asked (a root engine seen by a
//! user who cannot read its processes). Stopping goes through the engine (`stop`), so a
//! restart policy does not start the container again.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

/// A running container.
#[derive(Clone, Debug)]
pub struct Running {
    pub engine: &'static str,
    pub id: String,
    pub name: String,
    pub image: String,
    /// Its main process, as this machine's `/proc` numbers it (0 if the engine did not say).
    pub pid: u32,
    /// Its bind mounts: (source on this machine, destination in the container).
    pub binds: Vec<(PathBuf, String)>,
    /// Its compose project (`com.docker.compose.project`), if any.
    pub project: Option<String>,
    /// The git-sandbox instance uuid it is labelled with (`dev.git-sandbox.instance`), if any.
    pub instance: Option<String>,
}

/// What the engines answered.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    /// The engines that answered.
    pub asked: Vec<&'static str>,
    pub running: Vec<Running>,
}

const ENGINES: [&str; 2] = ["docker", "podman"];

/// The running containers of every engine on PATH that answers.
pub fn running() -> Answer {
    let mut out = Answer::default();
    for engine in ENGINES {
        let Some(list) = containers(engine) else {
            continue;
        };
        out.asked.push(engine);
        for c in list {
            // `docker` may be podman's shim: one container, listed once.
            if !out.running.iter().any(|r| r.id == c.id) {
                out.running.push(c);
            }
        }
    }
    out
}

/// `ps` then `inspect` of one engine; `None` when it is absent or does not answer.
fn containers(engine: &'static str) -> Option<Vec<Running>> {
    let ids = output(Command::new(engine).args(["ps", "-q", "--no-trunc"]))?;
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if ids.is_empty() {
        return Some(Vec::new());
    }
    let json = output(Command::new(engine).arg("inspect").args(&ids))?;
    let list: Vec<Inspect> = serde_json::from_str(&json).ok()?;
    Some(list.into_iter().map(|i| i.running(engine)).collect())
}

/// Stops containers of one engine, all at once (each gets up to `grace`, then the engine kills
/// it).
pub fn stop(engine: &str, ids: &[&str], grace: Duration) -> bool {
    let secs = grace.as_secs().max(1).to_string();
    ids.is_empty() || output(Command::new(engine).args(["stop", "-t", &secs]).args(ids)).is_some()
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The parts of `inspect`'s JSON read here (docker and podman agree on them).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inspect {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    config: Option<InspectConfig>,
    #[serde(default)]
    state: Option<InspectState>,
    #[serde(default)]
    mounts: Option<Vec<InspectMount>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InspectConfig {
    #[serde(default)]
    image: String,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InspectState {
    #[serde(default)]
    pid: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InspectMount {
    #[serde(default, rename = "Type")]
    kind: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    destination: String,
}

impl Inspect {
    fn running(self, engine: &'static str) -> Running {
        Running {
            engine,
            id: self.id,
            name: self.name.trim_start_matches('/').to_string(),
            project: self
                .config
                .as_ref()
                .and_then(|c| c.labels.as_ref())
                .and_then(|l| l.get("com.docker.compose.project").cloned()),
            instance: self
                .config
                .as_ref()
                .and_then(|c| c.labels.as_ref())
                .and_then(|l| l.get(crate::compose::owner::LABEL).cloned()),
            image: self.config.map(|c| c.image).unwrap_or_default(),
            pid: self
                .state
                .and_then(|s| u32::try_from(s.pid).ok())
                .unwrap_or(0),
            binds: self
                .mounts
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.kind == "bind")
                .map(|m| (PathBuf::from(m.source), m.destination))
                .collect(),
        }
    }
}
