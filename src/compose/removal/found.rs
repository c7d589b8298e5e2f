//! One look at the engine for an instance's stack ([`Found`]), and its volumes sorted into
//! its own (its uuid label), anonymous ones its containers mount, and those that are not its.

use super::{LABEL, PROJECT_LABEL, VolumePlan, label_filter, lines, owner};
use crate::registry::Instance;
use anyhow::Result;

/// What the engine has of an instance: its containers, its project's, and every volume.
pub(super) struct Found {
    /// Its containers (legacy: its project's).
    pub(super) mine: Vec<String>,
    /// Containers of its project that are not its.
    pub(super) foreign: Vec<String>,
    /// Every volume: name, compose project, owner uuid.
    volumes: Vec<(String, String, String)>,
    /// The volumes its containers mount.
    mounts: Vec<String>,
    /// Its networks (legacy: its project's).
    pub(super) networks: Vec<String>,
    /// The volume names its rendered compose file fixes (`name:`, `external`); `None` when
    /// there is no rendered file to read, and no 64-hex volume can be told from such a one.
    fixed: Option<Vec<String>>,
}

impl Found {
    /// One look at the engine; `None` when docker is not installed.
    pub(super) fn look(inst: &Instance) -> Result<Option<Found>> {
        let Some((mine, foreign)) = containers(inst)? else {
            return Ok(None);
        };
        let mounts = mounts(inst, &mine)?;
        Ok(Some(Found {
            mine,
            foreign,
            volumes: volumes(inst)?,
            mounts,
            networks: lines(
                inst,
                &["network", "ls", "-q", "--filter", &label_filter(inst)],
            )?
            .unwrap_or_default(),
            fixed: fixed_names(&inst.path),
        }))
    }

    /// Whether anything of it is there to stop.
    pub(super) fn running(&self) -> bool {
        !self.mine.is_empty() || !self.networks.is_empty()
    }

    /// Sorts the volumes into its own, anonymous ones, and those that are not its.
    pub(super) fn plan(&self, inst: &Instance) -> VolumePlan {
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
            } else if is_anonymous(name)
                && mounted
                && o.is_empty()
                && self.fixed.as_ref().is_some_and(|f| !f.contains(name))
            {
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

/// Its containers (its label; an older entry's: its project's without any uuid), and the
/// containers of its project that are not its; `None` when docker is not installed.
fn containers(inst: &Instance) -> Result<Option<(Vec<String>, Vec<String>)>> {
    let format =
        format!("{{{{.ID}}}}\t{{{{.Label \"{LABEL}\"}}}}\t{{{{.Label \"{WORKING_DIR_LABEL}\"}}}}");
    let filter = format!("label={PROJECT_LABEL}={}", owner::project(inst));
    let Some(in_project) = lines(
        inst,
        &["ps", "-a", "--filter", &filter, "--format", &format],
    )?
    else {
        return Ok(None);
    };
    let uuid = inst.uuid.as_deref().filter(|_| !owner::legacy(inst));
    let (mut mine, mut foreign) = (Vec::new(), Vec::new());
    for l in &in_project {
        let mut f = l.split('\t').map(str::trim);
        let (id, o, dir) = (
            f.next().unwrap_or(""),
            f.next().unwrap_or(""),
            f.next().unwrap_or(""),
        );
        let its = match uuid {
            Some(u) => o == u,
            // An older entry's containers carry no uuid: compose's record of the directory
            // it ran in must be the sandbox's, else it is another stack under the same name.
            None => {
                o.is_empty()
                    && (dir.is_empty() || std::path::Path::new(dir).starts_with(&inst.path))
            }
        };
        if its { &mut mine } else { &mut foreign }.push(id.to_string());
    }
    // Its containers outside the project too (a compose run with another `-p`).
    if let Some(u) = uuid {
        let filter = format!("label={LABEL}={u}");
        for id in lines(inst, &["ps", "-aq", "--filter", &filter])?.unwrap_or_default() {
            if !mine.contains(&id) {
                mine.push(id);
            }
        }
    }
    Ok(Some((mine, foreign)))
}

/// compose's record of the directory a project's container was started from.
const WORKING_DIR_LABEL: &str = "com.docker.compose.project.working_dir";

/// What its project holds on the engine that is not its: containers of the project without
/// its uuid (or, an older entry, started from elsewhere) and volumes `<project>_…` that carry
/// another label (or, for a current entry, none). `None` when docker is not installed.
pub(super) fn foreign(inst: &Instance) -> Result<Option<Vec<String>>> {
    let Some((_, containers)) = containers(inst)? else {
        return Ok(None);
    };
    let mut out: Vec<String> = containers
        .iter()
        .map(|id| format!("container {}", &id[..id.len().min(12)]))
        .collect();
    let under = format!("{}_", owner::project(inst));
    let uuid = inst.uuid.as_deref().filter(|_| !owner::legacy(inst));
    for (name, _, o) in volumes(inst)? {
        let theirs = match uuid {
            Some(u) => o != u,
            None => !o.is_empty(),
        };
        if name.starts_with(&under) && theirs {
            out.push(format!("volume {name}"));
        }
    }
    Ok(Some(out))
}

/// Every volume on the engine: name, compose project, owner uuid.
fn volumes(inst: &Instance) -> Result<Vec<(String, String, String)>> {
    let format =
        format!("{{{{.Name}}}}\t{{{{.Label \"{PROJECT_LABEL}\"}}}}\t{{{{.Label \"{LABEL}\"}}}}");
    Ok(lines(inst, &["volume", "ls", "--format", &format])?
        .unwrap_or_default()
        .iter()
        .map(|l| {
            let mut f = l.split('\t').map(|s| s.trim().to_string());
            let name = f.next().unwrap_or_default();
            (
                name,
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
            )
        })
        .collect())
}

/// The volume names the rendered compose file in `dir` fixes: an `external` volume's name (or
/// key) and any `name:`. Such a volume may be 64 hex digits like an anonymous one, and is
/// never the sandbox's to delete. `None` when the file is not there or does not parse.
fn fixed_names(dir: &std::path::Path) -> Option<Vec<String>> {
    let file = crate::compose::render::existing(dir)?;
    let text = std::fs::read_to_string(file).ok()?;
    let json: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let model: serde_json::Value = serde_json::from_str(&json).ok()?;
    let mut out = Vec::new();
    if let Some(vols) = model.get("volumes").and_then(|v| v.as_object()) {
        for (key, v) in vols {
            let name = v.get("name").and_then(|n| n.as_str());
            let external = v.get("external").is_some_and(|e| e != false);
            if let Some(n) = name {
                out.push(n.to_string());
            } else if external {
                out.push(key.clone());
            }
        }
    }
    Some(out)
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
