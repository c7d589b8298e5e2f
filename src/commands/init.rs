//! `init`: write a starter `.sandbox.toml` from the project's compose file.
//!
//! Each published host port becomes a named port (named after its service); the env prefix
//! comes from the repo name. Ports the compose file already takes from a variable
//! (`"${APP_WEB_PORT:-8000}:80"`) keep that variable's name, so the env file drives them as is;
//! for literal ports it says how to write them. The result must validate, and an existing file
//! is never overwritten.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use yaml_rust2::{Yaml, YamlLoader};

use crate::commands::Ctx;
use crate::compose;
use crate::config::{self, Config};
use crate::error::UserError;
use crate::ui;

/// One published host port found in the compose file.
#[derive(Debug, Clone)]
struct Found {
    service: String,
    port: u32,
    /// The variable it is read from, if any.
    var: Option<String>,
    container: String,
    /// The host address it is bound to (`127.0.0.1`), kept in the suggestion.
    ip: Option<String>,
    /// Where the plan puts it for slot 0 (the published port, unless moved; see [`place`]).
    base: u32,
}

pub fn run(ctx: &Ctx) -> Result<i32> {
    let repo = ctx.repo()?;
    let dest = repo.root.join(config::FILE_NAME);
    if dest.exists() {
        return Err(UserError::new(format!(
            "{} already exists; it was left as it is",
            dest.display()
        ))
        .hint("edit it by hand, or move it aside and run init again")
        .into());
    }
    let file = compose::find_file(&repo.root, &Config::default())?;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let docs = YamlLoader::load_from_str(&text)
        .map_err(|e| UserError::new(format!("{}: {e}", file.display())))?;
    let mut found = published_ports(docs.first().unwrap_or(&Yaml::Null));
    // tcp and udp on one port (`53:53/tcp`, `53:53/udp`) are one port of the plan.
    found.dedup_by(|a, b| a.service == b.service && a.port == b.port);
    let moved = place(&mut found, 10);
    let prefix = env_prefix(&repo.name, &found);
    let mut names: BTreeMap<String, Found> = BTreeMap::new();
    for f in &found {
        let name = match &f.var {
            Some(v)
                if v.len() > prefix.len() + "_PORT".len()
                    && v.starts_with(&prefix)
                    && v.ends_with("_PORT") =>
            {
                config::word(&v[prefix.len()..v.len() - "_PORT".len()])
            }
            _ => sanitize(&f.service),
        };
        let mut unique = name.clone();
        let mut n = 2;
        while names.contains_key(&unique) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        names.insert(unique, f.clone());
    }
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut max_slots = 10;
    let toml = loop {
        let t = render(&file_name, &prefix, max_slots, &names);
        match Config::parse(&t, &dest) {
            Ok(_) => break t,
            Err(_) if max_slots > 1 => max_slots -= 1,
            Err(e) => {
                return Err(
                    e.context("the ports in the compose file leave no room for even one sandbox")
                );
            }
        }
    };
    std::fs::write(&dest, &toml).with_context(|| format!("cannot write {}", dest.display()))?;
    ui::info(&format!(
        "wrote {} from {file_name} ({} port(s), max_slots = {max_slots})",
        dest.display(),
        names.len()
    ));
    for m in &moved {
        ui::info(&format!("  {m}"));
    }
    for (name, f) in &names {
        let var = config::env_name(&prefix, name) + "_PORT";
        if f.var.as_deref() != Some(var.as_str()) {
            let ip = f.ip.as_ref().map(|i| format!("{i}:")).unwrap_or_default();
            ui::info(&format!(
                "  in {file_name}, publish {}'s port as \"{ip}${{{var}:-{}}}:{}\" so each sandbox gets its own",
                f.service, f.port, f.container
            ));
        }
    }
    Ok(0)
}

fn render(file: &str, prefix: &str, max_slots: u32, names: &BTreeMap<String, Found>) -> String {
    let mut t = format!(
        "# Written by `git sandbox init` from {file}. See the README's Configuration section.\n\
         env_prefix = \"{prefix}\"\nmax_slots = {max_slots}\n\n[ports]\n"
    );
    for (name, f) in names {
        let from = if f.base == f.port {
            String::new()
        } else {
            format!(", published as {}", f.port)
        };
        t.push_str(&format!(
            "{name} = {}    # service {}{from}\n",
            f.base, f.service
        ));
    }
    t.push_str(&format!("\n[compose]\nfile = \"{file}\"\n"));
    t
}

/// `my-app` → `MY_APP_`, unless the compose file's port variables share another prefix.
fn env_prefix(repo: &str, found: &[Found]) -> String {
    let from_repo = config::word(&crate::names::id_part(repo))
        .to_ascii_uppercase()
        .trim_matches('_')
        .to_string();
    let from_repo = if from_repo.is_empty() {
        String::new()
    } else {
        format!("{from_repo}_")
    };
    let vars: Vec<&String> = found.iter().filter_map(|f| f.var.as_ref()).collect();
    if vars.is_empty() || vars.iter().all(|v| v.starts_with(&from_repo)) {
        return from_repo;
    }
    // The longest common prefix, cut back to an underscore.
    let first = vars[0];
    let mut len = first.len();
    for v in &vars[1..] {
        len = len.min(
            first
                .bytes()
                .zip(v.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    match first[..len].rfind('_') {
        Some(i) if vars.len() > 1 => first[..=i].to_string(),
        _ => String::new(),
    }
}

/// Fewer slots than this between two published ports, and the second one moves.
const MIN_SLOTS: u32 = 5;

/// Gives each port a base for slot 0 (local-prod's port; a sandbox in slot s gets base + s).
/// The published port, when it can be: a privileged one (below 1024) moves up by 8000 (`80`
/// → `8080`), and one so close to an earlier one that fewer than [`MIN_SLOTS`] sandboxes would
/// fit between them (`8000` and `8001`) moves past the earlier one's `max_slots` range. Ports
/// further apart keep their numbers (the caller lowers `max_slots` until the plan holds).
/// Returns what it moved, as lines for the user.
fn place(found: &mut [Found], max_slots: u32) -> Vec<String> {
    let mut taken: Vec<u32> = Vec::new();
    let mut notes = Vec::new();
    for f in found.iter_mut() {
        let mut base = if f.port < 1024 { f.port + 8000 } else { f.port };
        while let Some(&b) = taken.iter().find(|&&b| base.abs_diff(b) <= MIN_SLOTS) {
            base = b + max_slots + 1;
        }
        if base != f.port {
            let why = if f.port < 1024 {
                "below 1024 (privileged)"
            } else {
                "next to another published port, so their slots would collide"
            };
            notes.push(format!(
                "{}'s port {} is {why}: planned from {base}",
                f.service, f.port
            ));
        }
        f.base = base;
        taken.push(base);
    }
    notes
}

fn sanitize(s: &str) -> String {
    let out = config::word(s);
    if out.is_empty() { "port".into() } else { out }
}

/// Published host ports of every service, in file order.
fn published_ports(doc: &Yaml) -> Vec<Found> {
    let mut out = Vec::new();
    let Some(services) = doc["services"].as_hash() else {
        return out;
    };
    for (name, svc) in services {
        let Some(service) = name.as_str() else {
            continue;
        };
        let Some(ports) = svc["ports"].as_vec() else {
            continue;
        };
        for p in ports {
            let entry = match p {
                Yaml::String(s) => parse_short(s),
                Yaml::Integer(_) => None,
                Yaml::Hash(_) => {
                    let published = match &p["published"] {
                        Yaml::Integer(i) => Some(i.to_string()),
                        Yaml::String(s) => Some(s.clone()),
                        _ => None,
                    };
                    let target = match &p["target"] {
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::String(s) => s.clone(),
                        _ => String::new(),
                    };
                    let ip = p["host_ip"].as_str().map(String::from);
                    published
                        .and_then(|h| host_port(&h))
                        .map(|(port, var)| (port, var, target, ip))
                }
                _ => None,
            };
            if let Some((port, var, container, ip)) = entry {
                out.push(Found {
                    service: service.to_string(),
                    port,
                    var,
                    container,
                    ip,
                    base: port,
                });
            }
        }
    }
    out
}

/// `"[ip:]host:container[/proto]"`; `None` when no host port is published.
fn parse_short(s: &str) -> Option<(u32, Option<String>, String, Option<String>)> {
    let s = s.split('/').next().unwrap_or(s);
    // Split on the colons that are outside ${…}.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            '{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    if parts.len() < 2 {
        return None;
    }
    let host = parts[parts.len() - 2];
    let container = parts[parts.len() - 1].to_string();
    let ip = (parts.len() > 2).then(|| parts[..parts.len() - 2].join(":"));
    host_port(host).map(|(p, v)| (p, v, container, ip))
}

/// `8000` or `${VAR:-8000}` → the port and the variable.
fn host_port(s: &str) -> Option<(u32, Option<String>)> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        let (var, default) = inner.split_once(":-").or_else(|| inner.split_once('-'))?;
        return default
            .trim()
            .parse()
            .ok()
            .map(|p| (p, Some(var.to_string())));
    }
    s.parse().ok().map(|p| (p, None))
}
