//! The variables of one rendering, from the compose files as written ([`crate::compose::vars`]):
//! only host ports move. A variable that sets published host ports and nothing else (bar a
//! loopback URL of that port) follows the slot: compose's `config` runs with it set to the
//! slot's port, so `PUBLIC_URL: http://localhost:${PORT}` agrees. One that is also used inside
//! the network (a container port, `db:${DB_PORT}`, a command) keeps its value; the rewrite moves
//! the host side of its published port only. The plan's own variables (`<PREFIX><NAME>_PORT`)
//! come from the env file; a config whose plan variable the files use for anything but a host
//! port is refused. Also: the main checkout's published host ports → this slot's, for the
//! literal URLs the rewrite moves. Each case is a note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::compose::ports::Host;
use crate::compose::rewrite::{Note, PortMap};
use crate::compose::vars::{self, Usage};
use crate::config::{Config, env_name};
use crate::error::UserError;
use crate::registry::Instance;

/// What one rendering does with the project's port variables.
#[derive(Debug, Default)]
pub struct Vars {
    /// Set to this slot's port for compose's `config` (and substituted by the fallback).
    pub follow: Vec<(String, String)>,
    /// Keeping their value (the main checkout's), with it.
    pub kept: Vec<(String, u32)>,
    pub notes: Vec<Note>,
}

/// This slot's ports, the compose port each plan entry stands for, and the plan's variables.
pub fn port_map(cfg: &Config, inst: &Instance) -> PortMap {
    let specs = if inst.slot == 0 {
        &cfg.local_prod_ports
    } else {
        &cfg.ports
    };
    let ports = cfg.ports_for(inst.slot);
    let mut map = PortMap::default();
    for spec in specs {
        let mine: Vec<u32> = ports
            .iter()
            .filter(|p| p.service == spec.name)
            .map(|p| p.port)
            .collect();
        map.mine.extend(&mine);
        let var = env_name(&cfg.env_prefix, &spec.name);
        map.vars.insert(format!("{var}_PORT"));
        map.vars
            .extend((0..spec.count()).map(|i| format!("{var}_PORT_{i}")));
        map.entries.push((spec.name.clone(), spec.origin(), mine));
    }
    map
}

/// Sorts the files' port variables (see the module doc), filling `map`'s literal and moved
/// ports; refuses a plan variable the files use for something else.
pub fn plan(
    files: &[PathBuf],
    map: &mut PortMap,
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
) -> Result<Vars> {
    let usage = vars::usage(files);
    refuse_collisions(&usage, map, cfg)?;
    let main_value = main_values(cfg, inst, dir);
    let written = crate::compose::raw::ports(files);
    let mut out = Vars::default();
    for (service, entry) in &written {
        let (var, default) = match &entry.host {
            Host::Var(var, default) => (var, *default),
            _ => {
                for q in entry.host_ports(false) {
                    map.literals.insert(q);
                    if let Some(p) = map.map(service, q) {
                        map.moved.entry(q).or_insert(p);
                    }
                }
                continue;
            }
        };
        let Some(q) = main_value(var).or(default) else {
            continue;
        };
        let to = map.map(service, q);
        if let Some(p) = to {
            map.moved.entry(q).or_insert(p);
        }
        let u = usage.get(var).cloned().unwrap_or_default();
        if map.vars.contains(var) || out.kept.iter().any(|(k, _)| k == var) {
            continue;
        }
        if u.mixed() {
            map.literals.insert(q);
            out.kept.push((var.clone(), q));
            out.notes.push(kept_note(var, q, to, &u));
        } else if let Some(p) = to
            && !out.follow.iter().any(|(k, _)| k == var)
        {
            out.follow.push((var.clone(), p.to_string()));
            out.notes.push(follow_note(var, q, p, &u));
        }
    }
    Ok(out)
}

/// A variable's value for the main checkout's stack: the environment, else the env file
/// compose reads (the project's `.env`).
fn main_values(cfg: &Config, inst: &Instance, dir: &Path) -> impl Fn(&str) -> Option<u32> {
    let (_, env_file) = crate::compose::project_and_env(cfg, inst, dir);
    let dotenv = env_file
        .as_deref()
        .map(crate::compose::raw::dotenv)
        .unwrap_or_default();
    move |var: &str| {
        std::env::var(var)
            .ok()
            .or_else(|| {
                dotenv
                    .iter()
                    .find(|(k, _)| k == var)
                    .map(|(_, v)| v.clone())
            })
            .and_then(|v| v.trim().parse::<u32>().ok())
    }
}

fn follow_note(var: &str, q: u32, p: u32, u: &Usage) -> Note {
    let with = if u.host_urls.is_empty() {
        String::new()
    } else {
        format!(", and with it {}", u.host_urls.join(", "))
    };
    Note {
        text: format!(
            "variable {var} sets only published host ports ({}): it follows the slot, {q} → {p}{with}",
            u.host_ports.join(", ")
        ),
        blocking: false,
    }
}

fn kept_note(var: &str, q: u32, to: Option<u32>, u: &Usage) -> Note {
    let host = match to {
        Some(p) => format!("{q} → {p}"),
        None => format!("{q} → a port compose picks"),
    };
    Note {
        text: format!(
            "variable {var} sets {}'s published host port and is also used in {}: it keeps its value {q}; only the host side moves ({host})",
            u.host_ports.join(", "),
            u.elsewhere.join(", ")
        ),
        blocking: false,
    }
}

/// A plan variable (`<PREFIX><NAME>_PORT`, `_PORT_<i>`, `_PORTS`) that the files use for
/// anything but a host port: the env file would change it there too.
fn refuse_collisions(usage: &BTreeMap<String, Usage>, map: &PortMap, cfg: &Config) -> Result<()> {
    let lists = map
        .entries
        .iter()
        .map(|(name, _, _)| format!("{}_PORTS", env_name(&cfg.env_prefix, name)));
    for var in map.vars.iter().cloned().chain(lists) {
        let Some(u) = usage.get(&var).filter(|u| !u.elsewhere.is_empty()) else {
            continue;
        };
        return Err(UserError::new(format!(
            "the plan's port variable {var} (env_prefix {:?} in .sandbox.toml) is also the compose files' own {var}, used in {}: every sandbox would change it there too",
            cfg.env_prefix,
            u.elsewhere.join(", ")
        ))
        .hint("set env_prefix in .sandbox.toml to a prefix that none of the compose files' variables starts with (as `git sandbox init` chooses), or rename that port")
        .into());
    }
    Ok(())
}
