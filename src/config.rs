//! `.sandbox.toml`: the project's optional, committed configuration, and the port plan that
//! follows from it.
//!
//! Loading proves the plan sound before anything uses it: every port of every slot
//! `0..=max_slots` (local-prod's overrides included for slot 0) lies in 1024..=65535 and no two
//! collide; otherwise the error names both owners. Unknown keys and wrong types are errors
//! naming the file, the line and the key.
//!
//! Slot `s` gets `base + s` for a single port and `base + s*stride + 0..count` for a group.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;

use crate::error::UserError;

/// The file name at the repo root.
pub const FILE_NAME: &str = ".sandbox.toml";

/// Regenerable caches `rm` deletes rather than keeps, unless `disposable` says otherwise.
pub const DEFAULT_DISPOSABLE: &[&str] = &["node_modules/", "target/", ".venv/", "__pycache__/"];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    env_prefix: Option<String>,
    max_slots: Option<u32>,
    env_file: Option<String>,
    path: Option<String>,
    #[serde(default)]
    copy: Vec<String>,
    #[serde(default)]
    protect: Vec<String>,
    disposable: Option<Vec<String>>,
    #[serde(default)]
    ports: BTreeMap<String, RawPort>,
    compose: Option<RawCompose>,
    local_prod: Option<RawLocalProd>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawPort {
    Single(i64),
    Group(RawGroup),
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    base: Option<i64>,
    count: Option<i64>,
    stride: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCompose {
    file: Option<String>,
    profile: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLocalProd {
    path: Option<String>,
    profile: Option<String>,
    #[serde(default)]
    ports: BTreeMap<String, RawPort>,
}

/// One named port or group of ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub name: String,
    pub base: u32,
    /// `None` for a single port.
    pub group: Option<Group>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub count: u32,
    pub stride: u32,
}

/// One concrete port of one slot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Port {
    /// The service name from the config.
    pub service: String,
    /// Index within a group.
    pub index: Option<u32>,
    pub port: u32,
}

impl Port {
    /// `backend` or `workers[2]`.
    pub fn label(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.service),
            None => self.service.clone(),
        }
    }
}

/// The loaded, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub env_prefix: String,
    pub max_slots: u32,
    pub env_file: String,
    pub path_template: String,
    pub copy: Vec<String>,
    pub protect: Vec<String>,
    /// Ignored directories and files `rm` deletes instead of keeping in the trash (globs
    /// matched against each path component; a trailing `/` matches directories only).
    pub disposable: Vec<String>,
    pub ports: Vec<PortSpec>,
    pub compose_file: Option<String>,
    pub compose_profile: Option<String>,
    pub local_prod_path: String,
    pub local_prod_profile: Option<String>,
    pub local_prod_ports: Vec<PortSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            env_prefix: String::new(),
            max_slots: 10,
            env_file: ".env.sandbox".into(),
            path_template: "../{repo}--{name}".into(),
            copy: Vec::new(),
            protect: Vec::new(),
            disposable: DEFAULT_DISPOSABLE.iter().map(|s| s.to_string()).collect(),
            ports: Vec::new(),
            compose_file: None,
            compose_profile: None,
            local_prod_path: "../{repo}-prod".into(),
            local_prod_profile: None,
            local_prod_ports: Vec::new(),
        }
    }
}

impl Config {
    /// Loads `<root>/.sandbox.toml`, or the defaults when there is none.
    pub fn load(root: &Path) -> Result<Config> {
        let file = root.join(FILE_NAME);
        match std::fs::read_to_string(&file) {
            Ok(text) => Config::parse(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(UserError::new(format!("cannot read {}: {e}", file.display())).into()),
        }
    }

    /// Parses and validates the text of a config file.
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.to_string().replace(
                "data did not match any variant of untagged enum RawPort",
                "a port is a number (backend = 8000) or a table ({ base = 5010, count = 4, stride = 10 })",
            );
            UserError::new(format!("{}: {}", file.display(), msg.trim_end()))
                .hint(format!("fix {} (see the README's Configuration section)", FILE_NAME))
        })?;
        let bad = |msg: String| -> anyhow::Error {
            UserError::new(format!("{}: {msg}", file.display())).into()
        };
        let mut cfg = Config::default();
        if let Some(p) = raw.env_prefix {
            if !p
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(bad(format!(
                    "env_prefix {p:?} may hold only A-Z, 0-9 and _"
                )));
            }
            cfg.env_prefix = p;
        }
        if let Some(m) = raw.max_slots {
            if !(1..=1000).contains(&m) {
                return Err(bad(format!("max_slots = {m} must be between 1 and 1000")));
            }
            cfg.max_slots = m;
        }
        if let Some(f) = raw.env_file {
            if f.is_empty() || f.contains('/') || f.contains('\\') || f == "." || f == ".." {
                return Err(bad(format!(
                    "env_file {f:?} must be a plain file name in the sandbox's root"
                )));
            }
            cfg.env_file = f;
        }
        if let Some(p) = raw.path {
            check_template(&p).map_err(|m| bad(format!("path: {m}")))?;
            cfg.path_template = p;
        }
        cfg.copy = raw.copy;
        for c in &cfg.copy {
            if c.starts_with('/') || c.split('/').any(|part| part == "..") {
                return Err(bad(format!(
                    "copy entry {c:?} must be a path inside the repo"
                )));
            }
        }
        cfg.protect = raw.protect;
        if let Some(d) = raw.disposable {
            for g in &d {
                if g.trim_end_matches('/').contains('/') || g.trim_end_matches('/').is_empty() {
                    return Err(bad(format!(
                        "disposable entry {g:?} must be one name or glob (e.g. \"node_modules/\")"
                    )));
                }
            }
            cfg.disposable = d;
        }
        cfg.ports = raw
            .ports
            .iter()
            .map(|(name, p)| port_spec(name, p, None))
            .collect::<Result<_, String>>()
            .map_err(|m| bad(format!("[ports] {m}")))?;
        if let Some(c) = raw.compose {
            cfg.compose_file = c.file;
            cfg.compose_profile = c.profile;
        }
        if let Some(lp) = raw.local_prod {
            if let Some(p) = lp.path {
                check_template(&p).map_err(|m| bad(format!("local_prod.path: {m}")))?;
                cfg.local_prod_path = p;
            }
            cfg.local_prod_profile = lp.profile;
            for name in lp.ports.keys() {
                if !raw.ports.contains_key(name) {
                    return Err(bad(format!(
                        "local_prod.ports.{name} overrides a port that [ports] does not define"
                    )));
                }
            }
            cfg.local_prod_ports = raw
                .ports
                .iter()
                .map(|(name, p)| match lp.ports.get(name) {
                    Some(o) => port_spec(name, p, Some(o)),
                    None => port_spec(name, p, None),
                })
                .collect::<Result<_, String>>()
                .map_err(|m| bad(format!("local_prod.ports: {m}")))?;
        } else {
            cfg.local_prod_ports = cfg.ports.clone();
        }
        for spec in &cfg.ports {
            let var = env_name(&cfg.env_prefix, &spec.name);
            if var.is_empty() {
                return Err(bad(format!(
                    "port name {:?} makes no variable name",
                    spec.name
                )));
            }
        }
        cfg.validate_plan().map_err(bad)?;
        Ok(cfg)
    }

    /// The ports of one slot (slot 0 is local-prod's).
    pub fn ports_for(&self, slot: u32) -> Vec<Port> {
        let specs = if slot == 0 {
            &self.local_prod_ports
        } else {
            &self.ports
        };
        let mut out = Vec::new();
        for spec in specs {
            match spec.group {
                None => out.push(Port {
                    service: spec.name.clone(),
                    index: None,
                    port: spec.base + slot,
                }),
                Some(g) => {
                    for i in 0..g.count {
                        out.push(Port {
                            service: spec.name.clone(),
                            index: Some(i),
                            port: spec.base + slot * g.stride + i,
                        });
                    }
                }
            }
        }
        out
    }

    /// Every port of every slot lies in 1024..=65535 and belongs to one owner only.
    fn validate_plan(&self) -> Result<(), String> {
        let mut owners: HashMap<u32, (u32, String)> = HashMap::new();
        for slot in 0..=self.max_slots {
            for p in self.ports_for(slot) {
                let who = if slot == 0 {
                    format!("local-prod's {}", p.label())
                } else {
                    format!("slot {slot}'s {}", p.label())
                };
                if !(1024..=65535).contains(&p.port) {
                    return Err(format!(
                        "{who} would be port {}, outside 1024..=65535; lower the base or max_slots",
                        p.port
                    ));
                }
                if let Some((_, other)) = owners.get(&p.port) {
                    return Err(format!(
                        "port {} is planned twice: {other} and {who}; move one base, or widen the stride",
                        p.port
                    ));
                }
                owners.insert(p.port, (slot, who));
            }
        }
        Ok(())
    }
}

fn port_spec(name: &str, p: &RawPort, over: Option<&RawPort>) -> Result<PortSpec, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "port name {name:?} may hold only letters, digits, - and _"
        ));
    }
    let num = |what: &str, v: i64| -> Result<u32, String> {
        u32::try_from(v)
            .ok()
            .filter(|v| *v <= 65535)
            .ok_or_else(|| format!("{name}.{what} = {v} is not a port-sized number"))
    };
    match (p, over) {
        (RawPort::Single(b), None) => Ok(PortSpec {
            name: name.into(),
            base: num("base", *b)?,
            group: None,
        }),
        (RawPort::Single(_), Some(RawPort::Single(b))) => Ok(PortSpec {
            name: name.into(),
            base: num("base", *b)?,
            group: None,
        }),
        (RawPort::Single(_), Some(RawPort::Group(_))) => Err(format!(
            "{name} is a single port; its override must be a number too"
        )),
        (RawPort::Group(g), over) => {
            let o = match over {
                None => RawGroup::default(),
                Some(RawPort::Group(o)) => o.clone(),
                Some(RawPort::Single(b)) => RawGroup {
                    base: Some(*b),
                    ..RawGroup::default()
                },
            };
            let base = o
                .base
                .or(g.base)
                .ok_or_else(|| format!("{name} needs a base"))?;
            let count = o.count.or(g.count).unwrap_or(1);
            let stride = o.stride.or(g.stride).unwrap_or(count);
            let count = num("count", count)?;
            let stride = num("stride", stride)?;
            if count == 0 {
                return Err(format!("{name}.count must be at least 1"));
            }
            if stride == 0 {
                return Err(format!("{name}.stride must be at least 1"));
            }
            Ok(PortSpec {
                name: name.into(),
                base: num("base", base)?,
                group: Some(Group { count, stride }),
            })
        }
    }
}

fn check_template(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("the template is empty".into());
    }
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("{t:?} has an unclosed {{"))?;
        let key = &rest[open + 1..open + close];
        if !matches!(key, "repo" | "name" | "id") {
            return Err(format!(
                "{t:?} uses {{{key}}}; the placeholders are {{repo}}, {{name}} and {{id}}"
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

/// Fills a path template; relative results are relative to the repo's root.
pub fn expand_template(t: &str, root: &Path, repo: &str, name: &str, id: &str) -> PathBuf {
    let s = t
        .replace("{repo}", repo)
        .replace("{name}", name)
        .replace("{id}", id);
    normalize(&root.join(s))
}

/// Lexically removes `.` and `..` from an absolute path.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// ASCII letters and digits kept (lower-cased), everything else as `_`.
pub fn word(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `<PREFIX><SERVICE>` in upper case, other characters as `_`.
pub fn env_name(prefix: &str, service: &str) -> String {
    format!("{prefix}{}", word(service).to_ascii_uppercase())
}
