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
}

impl Found {
    /// One look at the engine; `None` when docker is not installed.
    pub(super) fn look(inst: &Instance) -> Result<Option<Found>> {
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
        found.networks = lines(
            inst,
            &["network", "ls", "-q", "--filter", &label_filter(inst)],
        )?
        .unwrap_or_default();
        Ok(Some(found))
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
