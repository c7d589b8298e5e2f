//! Ownership on the Docker engine by proof, never by name.
//!
//! Every instance has a random uuid (made at `new`/`adopt`/agent create/local-prod, kept
//! across `mv`, brought back by `restore`). The rendered compose model labels each container,
//! volume and network the stack creates `dev.git-sandbox.instance=<uuid>`
//! (`rewrite/labels.rs`), so stopping, "is it up", and deleting go by that label: a container
//! or volume without it is never the instance's, whatever its name or compose project.
//!
//! The compose project name is chosen once and stored in the registry: the id in compose's
//! alphabet with no `_` (so `<project>_<key>` volume names never overlap), suffixed `-2`, `-3`
//! … until no other registered instance holds it and nothing on the engine that lacks our
//! uuid carries it (or a volume or network named under it). Entries an older git-sandbox made
//! carry neither field: their project stays the one derived from the id, and the old rules
//! apply to their containers; none of their volumes is ever deleted (they carry no label).

use std::collections::BTreeSet;
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::env;
use crate::error::UserError;
use crate::registry::{Data, Instance, Registry};

/// The label that proves a container, volume or network is an instance's.
pub const LABEL: &str = "dev.git-sandbox.instance";

/// compose's own project label.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

/// A fresh random uuid (version 4 form), from the kernel when it offers one.
pub fn new_uuid() -> String {
    if let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/random/uuid") {
        let s = s.trim().to_ascii_lowercase();
        if is_uuid(&s) {
            return s;
        }
    }
    // Elsewhere: std's hasher keys are seeded from the OS's random source.
    use std::hash::{BuildHasher, Hasher};
    let word = |n: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    };
    let hex = format!(
        "{:016x}{:016x}",
        word(1),
        word(u64::from(std::process::id()))
    );
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Whether `s` is a uuid as [`new_uuid`] writes them (lower-case hex, 8-4-4-4-12).
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Whether `s` is a project name this build chooses: `[a-z0-9][a-z0-9-]*`.
pub fn is_project(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `s` is a name Docker gives volumes: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn is_volume_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The instance's compose project: the stored one, else (an older entry) the derived one.
pub fn project(inst: &Instance) -> String {
    inst.project
        .clone()
        .unwrap_or_else(|| env::compose_project(&inst.id))
}

/// Whether the instance was made by a release that had no uuid or stored project.
pub fn legacy(inst: &Instance) -> bool {
    inst.project.is_none() || inst.uuid.is_none()
}

/// The first project name tried for an id: compose's alphabet without `_`.
pub fn base(id: &str) -> String {
    let name = env::compose_project(id).replace('_', "-");
    let name = name.trim_start_matches('-');
    if name.is_empty() {
        "sandbox".into()
    } else {
        name.into()
    }
}

/// What the engine holds that is not ours: the compose projects of containers, and volume and
/// network names.
#[derive(Debug, Default, Clone)]
pub struct Claims {
    projects: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl Claims {
    /// Whether `project` is free of anything on the engine that does not carry `uuid`.
    fn frees(&self, project: &str) -> bool {
        let under = format!("{project}_");
        !self.projects.contains(project) && !self.names.iter().any(|n| n.starts_with(&under))
    }

    /// Compose projects on the engine holding something that does not carry `uuid`; `None`
    /// when the engine cannot be asked.
    pub fn of_engine(uuid: &str) -> Option<Claims> {
        let format = format!("{{{{.Label \"{PROJECT_LABEL}\"}}}}\t{{{{.Label \"{LABEL}\"}}}}");
        let named = format!("{{{{.Name}}}}\t{format}");
        let asks: [(Vec<&str>, bool); 3] = [
            (vec!["ps", "-a", "--format", &format], false),
            (vec!["volume", "ls", "--format", &named], true),
            (vec!["network", "ls", "--format", &named], true),
        ];
        // The three questions at once: `new` waits for one round trip, not three.
        let answers: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (asks.iter())
                .map(|(args, _)| s.spawn(move || lines(args)))
                .collect();
            handles.into_iter().map(|h| h.join().ok()).collect()
        });
        let mut claims = Claims::default();
        for ((_, with_name), answer) in asks.iter().zip(answers) {
            for line in answer?.ok()?.unwrap_or_default() {
                claims.add(&line, *with_name, uuid);
            }
        }
        Some(claims)
    }

    /// One line of `docker … ls`: `[name\t]project\towner`.
    fn add(&mut self, line: &str, with_name: bool, uuid: &str) {
        let mut f = line.split('\t').map(str::trim);
        let name = if with_name { f.next() } else { None };
        let (project, owner) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
        if owner == uuid {
            return;
        }
        // compose finds a project's containers by label, its volumes and networks by name
        // (`<project>_<key>`): a fixed-name volume's label claims nothing.
        if !with_name && !project.is_empty() {
            self.projects.insert(project.to_string());
        }
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            self.names.insert(n.to_string());
        }
    }
}

/// Before `up`: the instance's project checked against the engine again (it was chosen
/// without the engine's answer, or another stack took it since). Taken while nothing on the
/// engine is the instance's yet, it gets a free one (stored); taken beside things that are
/// its, `up` refuses, naming the project. An older entry is left as it is.
pub fn settle(reg: &Registry, inst: &Instance) -> Result<Instance> {
    let (Some(uuid), false) = (inst.uuid.as_deref(), legacy(inst)) else {
        return Ok(inst.clone());
    };
    let project = project(inst);
    let Some(claims) = Claims::of_engine(uuid) else {
        return Ok(inst.clone());
    };
    if claims.frees(&project) {
        return Ok(inst.clone());
    }
    let label = format!("label={LABEL}={uuid}");
    let ours = [
        &["ps", "-aq", "--filter", &label][..],
        &["volume", "ls", "-q", "--filter", &label],
    ]
    .iter()
    .any(|a| lines(a).ok().flatten().is_some_and(|l| !l.is_empty()));
    if ours {
        return Err(UserError::new(format!(
            "compose project {project} on this engine holds containers, volumes or networks that are not {}'s (no label of its own)",
            inst.name
        ))
        .hint(format!("another checkout or user runs a stack under that name: `docker ps -a --filter label={PROJECT_LABEL}={project}` shows it"))
        .into());
    }
    let changed = reg.update(|d| {
        let taken = registry_taken(d, Some(uuid));
        let e = d
            .find_mut(&inst.id)
            .context("the registry entry vanished")?;
        e.project = Some(choose(&inst.id, None, Some(&claims), &taken));
        Ok(e.clone())
    })?;
    crate::ui::warn(&format!(
        "compose project {project} is taken on this engine by another stack; {}'s is now {}",
        inst.name,
        self::project(&changed)
    ));
    Ok(changed)
}

/// The project names the registry's other instances hold (all but `uuid`'s).
pub fn registry_taken(data: &Data, uuid: Option<&str>) -> BTreeSet<String> {
    data.instances
        .iter()
        .filter(|i| uuid.is_none() || i.uuid.as_deref() != uuid)
        .map(project)
        .collect()
}

/// The project for an instance: `preferred` (a restored sandbox's own) when it is free, else
/// [`base`] of the id, suffixed `-2`, `-3` … until neither the registry nor the engine holds
/// it (the engine is not asked when `claims` is `None`).
pub fn choose(
    id: &str,
    preferred: Option<&str>,
    claims: Option<&Claims>,
    taken: &BTreeSet<String>,
) -> String {
    // Compose names volumes `<project>_<key>`: a project is free only when no registered one
    // reads as it plus `_…` or the other way round (an older entry's derived name keeps `_`).
    let clash = |p: &str, t: &str| {
        p == t || t.starts_with(&format!("{p}_")) || p.starts_with(&format!("{t}_"))
    };
    let free = |p: &str| !taken.iter().any(|t| clash(p, t)) && claims.is_none_or(|c| c.frees(p));
    if let Some(p) = preferred.filter(|p| is_project(p) && free(p)) {
        return p.to_string();
    }
    let base = base(id);
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|p| free(p))
        .unwrap_or(base)
}

/// The running containers' compose projects and owners, for "is it up".
#[derive(Debug, Default, Clone)]
pub struct Running(Vec<(String, String)>);

impl Running {
    /// Whether a container of `inst`'s runs: one carrying its uuid; for an older entry, one of
    /// its project carrying no uuid at all.
    pub fn has(&self, inst: &Instance) -> bool {
        match (&inst.uuid, legacy(inst)) {
            (Some(u), false) => self.0.iter().any(|(_, o)| o == u),
            _ => {
                let p = project(inst);
                self.0.iter().any(|(q, o)| *q == p && o.is_empty())
            }
        }
    }
}

/// The running containers (one `docker ps`). Empty when docker is not installed (nothing can
/// be running); an error naming the cause when the engine does not answer, so no caller
/// mistakes "unknown" for "down".
pub fn running() -> Result<Running, String> {
    running_with(crate::engine::docker())
}

/// [`running`] on `engine`, whatever is selected.
pub fn running_on(engine: &crate::engine::Engine) -> Result<Running, String> {
    running_with(engine.docker())
}

fn running_with(docker: std::process::Command) -> Result<Running, String> {
    let format = format!("{{{{.Label \"{PROJECT_LABEL}\"}}}}\t{{{{.Label \"{LABEL}\"}}}}");
    let lines = lines_with(docker, &["ps", "--format", &format])?.unwrap_or_default();
    Ok(Running(
        lines
            .iter()
            .map(|l| {
                let (p, o) = l.split_once('\t').unwrap_or((l, ""));
                (p.trim().to_string(), o.trim().to_string())
            })
            .collect(),
    ))
}

/// The lines `docker ARGS` prints; `None` when docker is not installed; an error naming the
/// cause when the engine does not answer.
pub fn lines(args: &[&str]) -> Result<Option<Vec<String>>, String> {
    lines_with(crate::engine::docker(), args)
}

fn lines_with(
    mut docker: std::process::Command,
    args: &[&str],
) -> Result<Option<Vec<String>>, String> {
    let out = docker.args(args).stdin(Stdio::null()).output();
    match out {
        Ok(o) if o.status.success() => Ok(Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(String::from)
                .collect(),
        )),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err.lines().map(str::trim).find(|l| !l.is_empty());
            Err(format!(
                "the Docker engine cannot be reached ({})",
                first.unwrap_or("docker failed")
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot run docker: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_random_and_well_formed() {
        let (a, b) = (new_uuid(), new_uuid());
        assert!(is_uuid(&a) && is_uuid(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(!is_uuid("x; rm -rf /"));
    }

    #[test]
    fn projects_differ_from_each_other_and_never_hold_an_underscore() {
        assert_eq!(base("repo--feat_test"), "repo--feat-test");
        assert_eq!(base("ShopX--x"), "shopx--x");
        let taken: BTreeSet<String> = ["shopx--x".to_string()].into();
        assert_eq!(choose("shopx--x", None, None, &taken), "shopx--x-2");
        // An older entry's derived name keeps `_`: `r--feat`'s `test_db` would be its `db`.
        let older: BTreeSet<String> = ["r--feat_test".to_string()].into();
        assert_eq!(choose("r--feat", None, None, &older), "r--feat-2");
        let claims = Claims {
            projects: ["my-app--x".into()].into(),
            names: ["my-app--x-2_db".into()].into(),
        };
        let none = BTreeSet::new();
        assert_eq!(
            choose("my.app--x", None, Some(&claims), &none),
            "my-app--x-3"
        );
        assert_eq!(
            choose("a--x", Some("a--x-7"), Some(&claims), &none),
            "a--x-7"
        );
        assert!(is_project("a--x-7") && !is_project("a_x") && !is_project("-a"));
    }
}
