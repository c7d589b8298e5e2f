//! Applying the file's fields to the defaults, one step per part, each refusing a bad value
//! with a message that names the key.

use super::Config;
use super::names::{check_template, env_name};
use super::plan::{Group, PortSpec};
use super::raw::{RawConfig, RawGroup, RawPort};

/// `env_prefix`, `max_slots`, `env_file`, `path` and `[compose]`.
pub(super) fn top_level(cfg: &mut Config, raw: &RawConfig) -> Result<(), String> {
    if let Some(p) = &raw.env_prefix {
        if !p
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!("env_prefix {p:?} may hold only A-Z, 0-9 and _"));
        }
        cfg.env_prefix = p.clone();
    }
    if let Some(m) = raw.max_slots {
        if !(1..=super::MAX_SLOTS).contains(&m) {
            return Err(format!(
                "max_slots = {m} must be between 1 and {}",
                super::MAX_SLOTS
            ));
        }
        cfg.max_slots = Some(m);
    }
    if let Some(f) = &raw.env_file {
        if f.is_empty() || f.contains('/') || f.contains('\\') || f == "." || f == ".." {
            return Err(format!(
                "env_file {f:?} must be a plain file name in the sandbox's root"
            ));
        }
        cfg.env_file = f.clone();
    }
    if let Some(p) = &raw.path {
        check_template(p).map_err(|m| format!("path: {m}"))?;
        check_own_dir(p).map_err(|m| format!("path: {m}"))?;
        cfg.path_template = p.clone();
    }
    if let Some(c) = &raw.compose {
        cfg.compose_files = compose_files(c)?;
        cfg.compose_listed = c.compose_files.is_some();
        cfg.compose_profile = c.profile.clone();
        cfg.delete_volumes = c.delete_volumes.unwrap_or(false);
        cfg.seed = match &c.seed {
            None => super::Seed::Keys(Vec::new()),
            Some(super::raw::RawSeed::Word(w)) if w == "all" => super::Seed::All,
            Some(super::raw::RawSeed::Word(w)) => {
                return Err(format!(
                    "[compose] seed = {w:?}: write \"all\" or a list of volume keys ([\"dbdata\"])"
                ));
            }
            Some(super::raw::RawSeed::Keys(k)) => super::Seed::Keys(k.clone()),
        };
    }
    if let Some(c) = &raw.commands {
        for (key, list) in [("setup", &c.setup), ("teardown", &c.teardown)] {
            if list.iter().any(|cmd| cmd.trim().is_empty()) {
                return Err(format!("[commands] {key} holds an empty command"));
            }
        }
        cfg.setup = c.setup.clone();
        cfg.teardown = c.teardown.clone();
    }
    Ok(())
}

/// `[compose] file` (one) or `compose_files` (a list, like `-f a -f b`), never both; each a
/// path inside the repo.
fn compose_files(c: &super::raw::RawCompose) -> Result<Vec<String>, String> {
    let list = match (&c.file, &c.compose_files) {
        (Some(_), Some(_)) => {
            return Err(
                "[compose] sets both file and compose_files; keep one (compose_files = [\"a.yml\", \"b.yml\"] holds several)"
                    .into(),
            );
        }
        (Some(f), None) => vec![f.clone()],
        (None, Some(list)) if list.is_empty() => {
            return Err(
                "[compose] compose_files is empty; name at least one file, or leave it out".into(),
            );
        }
        (None, Some(list)) => list.clone(),
        (None, None) => return Ok(Vec::new()),
    };
    for f in &list {
        if f.trim().is_empty() || f.starts_with('/') || f.split('/').any(|part| part == "..") {
            return Err(format!(
                "[compose] compose file {f:?} must be a path inside the repo, relative to its root"
            ));
        }
    }
    Ok(list)
}

/// A sandbox's directory is its own: the template's last part names it (`{name}` or `{id}`),
/// so no `..` or fixed name can point every sandbox at one existing place.
fn check_own_dir(t: &str) -> Result<(), String> {
    let last = t
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if last.contains("{name}") || last.contains("{id}") {
        return Ok(());
    }
    Err(format!(
        "{t:?} must end in a directory named after the sandbox, with {{name}} or {{id}} in its \
         last part (e.g. \"../{{repo}}--{{name}}\")"
    ))
}

/// `copy`, `protect` and `disposable`.
pub(super) fn lists(cfg: &mut Config, raw: &RawConfig) -> Result<(), String> {
    for c in &raw.copy {
        if c.starts_with('/') || c.split('/').any(|part| part == "..") {
            return Err(format!("copy entry {c:?} must be a path inside the repo"));
        }
    }
    cfg.copy = raw.copy.clone();
    cfg.protect = raw.protect.clone();
    if let Some(d) = &raw.disposable {
        for g in d {
            let name = g.trim_end_matches('/');
            if name.contains('/') || name.is_empty() {
                return Err(format!(
                    "disposable entry {g:?} must be one name or glob (e.g. \"node_modules/\")"
                ));
            }
        }
        cfg.disposable = d.clone();
    }
    Ok(())
}

/// `[ports]`, each of which must make a variable name.
pub(super) fn ports(cfg: &mut Config, raw: &RawConfig) -> Result<(), String> {
    cfg.ports = raw
        .ports
        .iter()
        .map(|(name, p)| port_spec(name, p, None))
        .collect::<Result<_, String>>()
        .map_err(|m| format!("[ports] {m}"))?;
    for spec in &cfg.ports {
        if env_name(&cfg.env_prefix, &spec.name).is_empty() {
            return Err(format!("port name {:?} makes no variable name", spec.name));
        }
    }
    cfg.local_prod_ports = cfg.ports.clone();
    Ok(())
}

/// `[local_prod]`: its path, profile, and overrides of ports `[ports]` defines.
pub(super) fn local_prod(cfg: &mut Config, raw: &RawConfig) -> Result<(), String> {
    let Some(lp) = &raw.local_prod else {
        return Ok(());
    };
    if let Some(p) = &lp.path {
        check_template(p).map_err(|m| format!("local_prod.path: {m}"))?;
        cfg.local_prod_path = p.clone();
    }
    cfg.local_prod_profile = lp.profile.clone();
    if let Some(name) = lp.ports.keys().find(|n| !raw.ports.contains_key(*n)) {
        return Err(format!(
            "local_prod.ports.{name} overrides a port that [ports] does not define"
        ));
    }
    cfg.local_prod_ports = raw
        .ports
        .iter()
        .map(|(name, p)| port_spec(name, p, lp.ports.get(name)))
        .collect::<Result<_, String>>()
        .map_err(|m| format!("local_prod.ports: {m}"))?;
    Ok(())
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
            published: None,
        }),
        (RawPort::Single(b0), Some(RawPort::Single(b))) => Ok(PortSpec {
            name: name.into(),
            base: num("base", *b)?,
            group: None,
            published: Some(num("base", *b0)?),
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
            let published = g.published.map(|p| num("published", p)).transpose()?;
            if let Some(p) = published
                && p == 0
            {
                return Err(format!("{name}.published must be a port, not 0"));
            }
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
                // `{ base = 8080, published = 80 }` is one port; any other table a group.
                group: (g.count.is_some() || g.stride.is_some() || published.is_none())
                    .then_some(Group { count, stride }),
                // Overridden for local-prod, it still stands for the compose file's port.
                published: published.or_else(|| over.and(g.base).and_then(|b| num("base", b).ok())),
            })
        }
    }
}
