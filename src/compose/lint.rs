//! The isolation lint: what in a compose file keeps it from running once per sandbox beside
//! the main checkout's own stack. Read from the compose file as written, where a value taken
//! from a variable (`${WEB_PORT:-8000}`) is still told apart from a literal one.
//!
//! Some of it collides (a second stack fails, or takes over the first one's port): a fixed
//! `container_name`, a literal published host port, `network_mode: host`, a fixed subnet.
//! Some of it is shared on purpose or by accident and only said: a volume or network with a
//! fixed `name:` or `external: true` (every sandbox then sees the same data).

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

/// One thing the lint found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub what: String,
    pub fix: String,
    /// A second stack would fail or take over the first one's: `up` refuses (unless
    /// `--force`).
    pub collides: bool,
}

/// The findings for the compose file at `file` (none when it cannot be read).
pub fn lint(file: &Path) -> Vec<Finding> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Ok(docs) = YamlLoader::load_from_str(&text) else {
        return Vec::new();
    };
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    services(doc, &mut out);
    shared(doc, "volumes", &mut out);
    shared(doc, "networks", &mut out);
    out
}

fn fixed(v: &Yaml) -> Option<&str> {
    v.as_str().filter(|s| !s.contains("${"))
}

fn services(doc: &Yaml, out: &mut Vec<Finding>) {
    let Some(services) = doc["services"].as_hash() else {
        return;
    };
    for (name, svc) in services {
        let name = name.as_str().unwrap_or("?");
        if let Some(c) = fixed(&svc["container_name"]) {
            out.push(Finding {
                what: format!("service {name} has container_name: {c}"),
                fix: format!("drop it (compose names the container <project>-{name}-1), or write \"${{COMPOSE_PROJECT_NAME}}-{name}\""),
                collides: true,
            });
        }
        if svc["network_mode"].as_str() == Some("host") {
            out.push(Finding {
                what: format!("service {name} uses network_mode: host"),
                fix: "publish its ports instead, so each sandbox can map them".into(),
                collides: true,
            });
        }
        for p in svc["ports"].as_vec().map(Vec::as_slice).unwrap_or_default() {
            if let Some(port) = literal_host_port(p) {
                out.push(Finding {
                    what: format!("service {name} publishes host port {port} as a literal"),
                    fix: format!(
                        "take it from the plan's variable, e.g. \"${{…_PORT:-{port}}}:…\" (`git sandbox init` names it)"
                    ),
                    collides: true,
                });
            }
        }
    }
}

/// The host port of a `ports:` entry when it is a literal number.
fn literal_host_port(p: &Yaml) -> Option<String> {
    let host = match p {
        Yaml::String(s) => {
            let s = s.split('/').next().unwrap_or(s);
            let parts: Vec<&str> = s.rsplitn(3, ':').collect();
            (parts.len() >= 2).then(|| parts[1].to_string())?
        }
        Yaml::Hash(_) => match &p["published"] {
            Yaml::Integer(i) => i.to_string(),
            Yaml::String(s) => s.clone(),
            _ => return None,
        },
        _ => return None,
    };
    (!host.is_empty() && host.chars().all(|c| c.is_ascii_digit() || c == '-')).then_some(host)
}

fn shared(doc: &Yaml, kind: &str, out: &mut Vec<Finding>) {
    let Some(items) = doc[kind].as_hash() else {
        return;
    };
    let one = kind.trim_end_matches('s');
    for (key, v) in items {
        let key = key.as_str().unwrap_or("?");
        if let Some(n) = fixed(&v["name"]) {
            out.push(Finding {
                what: format!("{one} {key} has a fixed name: {n}"),
                fix: format!(
                    "every sandbox shares it; drop `name:` to give each its own (<project>_{key})"
                ),
                collides: false,
            });
        }
        if v["external"].as_bool() == Some(true) {
            out.push(Finding {
                what: format!("{one} {key} is external"),
                fix: "every sandbox shares it (and `rm` never deletes it)".into(),
                collides: false,
            });
        }
        let subnets = v["ipam"]["config"]
            .as_vec()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if subnets.iter().any(|c| fixed(&c["subnet"]).is_some()) {
            out.push(Finding {
                what: format!("{one} {key} has a fixed subnet"),
                fix: "a second stack cannot create an overlapping network; drop `ipam` or take the subnet from a variable".into(),
                collides: true,
            });
        }
    }
}
