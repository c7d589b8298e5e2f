//! The isolation lint `init` runs: what in the project's compose files, as written, would keep
//! a stack from running once per sandbox, and what sandboxes do about it. Before `up`, the
//! renderer's notes ([`super::rewrite::Note`]) say the same for the model it rewrote.
//!
//! Rewritten for every sandbox (said, nothing to do): a `container_name`, a fixed volume or
//! network `name:`, a fixed subnet, literal host ports. Shared on purpose (said): `external`.
//! Not isolable (`up` refuses): `network_mode: host`. Doubled (said, one is kept): a host port
//! that the base file and an override file both publish, since compose adds `ports:` lists up.
//! Port variables (said): one that sets only published host ports follows each sandbox's
//! port; one also used inside the network keeps its value, and only the host side moves. A
//! loopback URL of a published port in an environment value (said) follows it.
//! Shared between the main stack and every sandbox (said per service, [`shared`]): bind mounts
//! of the engine socket, of home directories, of absolute host paths, `/` and `/tmp`.

mod shared;

use std::collections::BTreeMap;
use std::path::PathBuf;

use yaml_rust2::Yaml;

use super::ports::Entry;

/// One thing the lint found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub what: String,
    pub fix: String,
    /// A sandbox's `up` refuses it (unless `--force`).
    pub collides: bool,
}

/// The findings for the compose files (the base, then overrides); an unreadable one is a
/// finding of its own.
pub fn lint(files: &[PathBuf]) -> Vec<Finding> {
    let root = files
        .first()
        .and_then(|f| f.parent())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut published: BTreeMap<(String, u32, String), String> = BTreeMap::new();
    for file in files {
        let Some(doc) = super::raw::load(file) else {
            if let Some(why) = super::raw::unreadable(file) {
                out.push(Finding {
                    what: format!("{} could not be read ({why})", file.display()),
                    fix: "nothing in it was linted: fix the YAML (`docker-compose config` shows compose's reading of it)".into(),
                    collides: true,
                });
            }
            continue;
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        services(&doc, &mut out);
        doubled(&doc, &name, &mut published, &mut out);
        shared(&doc, "volumes", &mut out);
        shared(&doc, "networks", &mut out);
        shared::shared(&doc, &root, &mut out);
        shared::bound_volumes(&doc, &root, &mut out);
    }
    variables(files, &mut out);
    urls(files, &mut out);
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert(f.what.clone()));
    out
}

/// The findings that name what stays shared between the main stack and every sandbox.
pub fn shared_only(files: &[PathBuf]) -> Vec<Finding> {
    lint(files)
        .into_iter()
        .filter(|f| f.fix.starts_with(SHARED))
        .collect()
}

/// How a "stays shared" finding's fix starts.
pub(crate) const SHARED: &str = "shared between the main stack and every sandbox";

/// Loopback URLs of a published port in environment values: each sandbox names its own.
fn urls(files: &[PathBuf], out: &mut Vec<Finding>) {
    let Ok(doc) = super::render::merged(files) else {
        return;
    };
    let Some(services) = doc["services"].as_hash() else {
        return;
    };
    // Each published port, as if moved by one: a URL that changes names one.
    let published: BTreeMap<u32, u32> = services
        .values()
        .flat_map(|s| s["ports"].as_vec().cloned().unwrap_or_default())
        .filter_map(|p| Entry::parse(&p))
        .flat_map(|e| e.host_ports(true))
        .map(|q| (q, q + 1))
        .collect();
    for (name, svc) in services {
        let values: Vec<(String, String)> = match &svc["environment"] {
            Yaml::Hash(env) => env
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                .collect(),
            Yaml::Array(env) => env
                .iter()
                .filter_map(|i| i.as_str()?.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _ => Vec::new(),
        };
        for (var, value) in values {
            if super::rewrite::urls::rewrite(&value, &published).is_some() {
                said(
                    out,
                    format!(
                        "service {}'s environment {var} ({value}) names a port the compose file publishes",
                        name.as_str().unwrap_or("?")
                    ),
                    "each sandbox's names its own port for it",
                );
            }
        }
    }
}

/// Each variable that sets a published host port: whether it follows the sandbox's port.
fn variables(files: &[PathBuf], out: &mut Vec<Finding>) {
    for (var, u) in super::vars::usage(files) {
        if u.host_ports.is_empty() {
            continue;
        }
        let services = u.host_ports.join(", ");
        if u.mixed() {
            said(
                out,
                format!(
                    "variable {var} sets {services}'s published host port and is also used in {}",
                    u.elsewhere.join(", ")
                ),
                "sandboxes keep its value there and move only the host side of the published port",
            );
        } else {
            let with = if u.host_urls.is_empty() {
                String::new()
            } else {
                format!(" (and with it {})", u.host_urls.join(", "))
            };
            said(
                out,
                format!("variable {var} sets only published host ports ({services})"),
                &format!("each sandbox sets it to its own port{with}"),
            );
        }
    }
}

fn fixed(v: &Yaml) -> Option<&str> {
    v.as_str().filter(|s| !s.contains("${"))
}

fn said(out: &mut Vec<Finding>, what: String, fix: &str) {
    out.push(Finding {
        what,
        fix: fix.to_string(),
        collides: false,
    });
}

fn services(doc: &Yaml, out: &mut Vec<Finding>) {
    let Some(services) = doc["services"].as_hash() else {
        return;
    };
    for (name, svc) in services {
        let name = name.as_str().unwrap_or("?");
        if let Some(c) = fixed(&svc["container_name"]) {
            said(
                out,
                format!("service {name} has container_name: {c}"),
                "sandboxes drop it (it stays reachable as a network alias); nothing to do",
            );
        }
        if svc["network_mode"].as_str() == Some("host") {
            out.push(Finding {
                what: format!("service {name} uses network_mode: host"),
                fix: "publish its ports instead, so each sandbox can map them; a sandbox's `up` refuses it without --force".into(),
                collides: true,
            });
        }
    }
}

/// A host port published by two files: compose concatenates the `ports:` lists.
fn doubled(
    doc: &Yaml,
    file: &str,
    seen: &mut BTreeMap<(String, u32, String), String>,
    out: &mut Vec<Finding>,
) {
    let Some(services) = doc["services"].as_hash() else {
        return;
    };
    for (name, svc) in services {
        let name = name.as_str().unwrap_or("?").to_string();
        for item in svc["ports"].as_vec().map(Vec::as_slice).unwrap_or_default() {
            let Some(e) = Entry::parse(item) else {
                continue;
            };
            let proto = e.protocol.clone().unwrap_or_else(|| "tcp".into());
            for port in e.host_ports(true) {
                let k = (name.clone(), port, proto.clone());
                match seen.get(&k) {
                    Some(first) if first != file => said(
                        out,
                        format!("service {name} publishes port {port} in both {first} and {file}"),
                        "compose adds the two `ports:` lists up and the second one fails as taken; keep it in one file (sandboxes keep one)",
                    ),
                    Some(_) => {}
                    None => {
                        seen.insert(k, file.to_string());
                    }
                }
            }
        }
    }
}

fn shared(doc: &Yaml, kind: &str, out: &mut Vec<Finding>) {
    let Some(items) = doc[kind].as_hash() else {
        return;
    };
    let one = kind.trim_end_matches('s');
    for (key, v) in items {
        let key = key.as_str().unwrap_or("?");
        if v["external"].as_bool() == Some(true) || v["external"].as_hash().is_some() {
            said(
                out,
                format!("{one} {key} is external"),
                "every sandbox shares it, on purpose (and `rm` never deletes it)",
            );
            continue;
        }
        if let Some(n) = fixed(&v["name"]) {
            said(
                out,
                format!("{one} {key} has a fixed name: {n}"),
                &format!("each sandbox gets its own (<project>_{key}); local-prod keeps {n}"),
            );
        }
        let subnets = v["ipam"]["config"]
            .as_vec()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if subnets.iter().any(|c| fixed(&c["subnet"]).is_some()) {
            said(
                out,
                format!("{one} {key} has a fixed subnet"),
                "each sandbox moves it to a free subnet of its own, with the fixed addresses in it and every reference to them; local-prod keeps it",
            );
        }
    }
}
