//! `init`: write a starter `.sandbox.toml` from the project's compose file.
//!
//! Reads compose's own model of the project (`compose config`: overrides merged, variables
//! resolved from the project's `.env`), else the YAML files merged by compose's rules. Each
//! published host port becomes a named port (named after its service), runs of adjacent ports
//! of one service a group; the env prefix comes from the repo name. Ports the compose file
//! takes from a variable (`"${APP_WEB_PORT:-8000}:80"`) keep that variable's name. Literal
//! ports need no edit: sandboxes run a rendered copy with their own ports
//! ([`crate::compose::render`]). The isolation lint says what else sandboxes rewrite. The
//! result must validate, and an existing file is never overwritten.

mod files;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use yaml_rust2::Yaml;

use crate::commands::Ctx;
use crate::compose;
use crate::compose::ports::{Entry, Host};
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
    /// The host address it is bound to (`127.0.0.1`), kept in the suggestion.
    ip: Option<String>,
    /// Where the plan puts it for slot 0 (the published port, unless moved; see [`place`]).
    base: u32,
    /// Adjacent ports of the service, from `port` on (a group when more than one).
    count: u32,
}

pub fn run(ctx: &Ctx, given: &[PathBuf]) -> Result<i32> {
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
    let chosen = files::choose(&repo.root, &ctx.cwd, given)?;
    let files = chosen.files.clone();
    ui::info(&format!("read {}", chosen.names()));
    let doc = model(&repo.root, &files)?;
    let mut found = published_ports(&doc, &raw_vars(&files));
    // tcp and udp on one port (`53:53/tcp`, `53:53/udp`) are one port of the plan.
    found.sort_by(|a, b| (&a.service, a.port).cmp(&(&b.service, b.port)));
    found.dedup_by(|a, b| a.service == b.service && a.port == b.port);
    let mut found = group_adjacent(found);
    let moved = place(&mut found, 10);
    let (prefix, clashes) = free_prefix(&repo.name, &found, &files);
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
    let file_name = chosen.names();
    let mut max_slots = 10;
    let toml = loop {
        let t = render(&chosen, &prefix, max_slots, &names);
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
    if let Some(c) = clashes {
        ui::info(&format!("  {c}"));
    }
    files::tell(&repo.root, &chosen);
    for f in compose::lint::lint(&files) {
        let line = format!("{}: {}", f.what, f.fix);
        if f.collides {
            ui::warn(&line);
        } else {
            ui::info(&format!("  isolation: {line}"));
        }
    }
    Ok(0)
}

fn render(
    chosen: &files::Chosen,
    prefix: &str,
    max_slots: u32,
    names: &BTreeMap<String, Found>,
) -> String {
    let mut t = format!(
        "# Written by `git sandbox init` from {}. See the README's Configuration section.\n\
         env_prefix = \"{prefix}\"\nmax_slots = {max_slots}\n\n[ports]\n",
        chosen.names()
    );
    for (name, f) in names {
        let published = (f.base != f.port).then(|| format!("published = {}", f.port));
        let group = (f.count > 1).then(|| format!("count = {0}, stride = {0}", f.count));
        let value = match [published.clone(), group]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
        {
            extra if extra.is_empty() => f.base.to_string(),
            extra => format!("{{ base = {}, {} }}", f.base, extra.join(", ")),
        };
        let ports = if f.count > 1 {
            format!("ports {}-{}", f.port, f.port + f.count - 1)
        } else {
            format!("port {}", f.port)
        };
        t.push_str(&format!(
            "{name} = {value}    # service {}, {ports}\n",
            f.service
        ));
    }
    t.push('\n');
    t.push_str(&chosen.section());
    t
}

/// The env prefix (see [`env_prefix`]) when none of the project's own variables, but the port
/// variables the plan takes over, starts with it; else the first free one (and why, for the
/// user).
fn free_prefix(
    repo: &str,
    found: &[Found],
    files: &[std::path::PathBuf],
) -> (String, Option<String>) {
    let vars = compose::project_vars::ProjectVars::read(files);
    let (wanted, from_repo) = env_prefix(repo, found);
    let prefix = vars.free_prefix(&[&wanted, &from_repo]);
    if prefix == wanted {
        return (prefix, None);
    }
    let why = why_not(&prefix, &wanted, &vars.clashes(&wanted));
    (prefix, Some(why))
}

/// Why the env prefix is not the one wanted: the project's variables it would override (at
/// most six named). No prefix at all is said as such, not as `""`.
fn why_not(prefix: &str, wanted: &str, clashes: &[String]) -> String {
    let mut named = clashes
        .iter()
        .take(6)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if clashes.len() > 6 {
        named.push_str(&format!(" and {} more", clashes.len() - 6));
    }
    if wanted.is_empty() {
        return format!(
            "env_prefix is {prefix:?}, not none (the compose file's own port variable names): the plan's variables would then be the project's own names ({named}), and a sandbox's port variables must never override them"
        );
    }
    format!(
        "env_prefix is {prefix:?}, not {wanted:?}: the project's own {named} start(s) with {wanted:?}, and a sandbox's port variables must never override them"
    )
}

/// `my-app` → `MY_APP_`, unless the compose file's port variables share another prefix; and
/// the repo's own.
fn env_prefix(repo: &str, found: &[Found]) -> (String, String) {
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
        return (from_repo.clone(), from_repo);
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
    let common = match first[..len].rfind('_') {
        Some(i) if vars.len() > 1 => first[..=i].to_string(),
        _ => String::new(),
    };
    (common, from_repo)
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
    let mut notes = Vec::new();
    let mut taken: Vec<(u32, u32)> = Vec::new();
    // The compose file's own ports: the main checkout's stack publishes them, so no sandbox's
    // port may be one of them.
    let origins: Vec<(u32, u32)> = found.iter().map(|f| (f.port, f.count)).collect();
    let past_origins = origins.iter().map(|(p, c)| p + c).max().unwrap_or(0);
    for f in found.iter_mut() {
        let mut base = if f.port < 1024 { f.port + 8000 } else { f.port };
        // Each entry's first MIN_SLOTS slots, [base, base + (MIN_SLOTS+1) * count).
        let near = |b: u32, c: u32, base: u32| {
            base < b + (MIN_SLOTS + 1) * c && b < base + (MIN_SLOTS + 1) * f.count
        };
        let on_origin = |base: u32| {
            (base + f.count..base + (MIN_SLOTS + 1) * f.count)
                .any(|p| origins.iter().any(|&(o, c)| (o..o + c).contains(&p)))
        };
        loop {
            if let Some(&(b, c)) = taken.iter().find(|&&(b, c)| near(b, c, base)) {
                base = b + (max_slots + 1) * c;
            } else if on_origin(base) {
                base = base.max(past_origins);
                base += 1;
            } else {
                break;
            }
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
        taken.push((base, f.count));
    }
    notes
}

fn sanitize(s: &str) -> String {
    let out = config::word(s);
    if out.is_empty() { "port".into() } else { out }
}

/// Compose's own model of the project (see the module doc).
fn model(root: &std::path::Path, files: &[std::path::PathBuf]) -> Result<Yaml> {
    if let Some(doc) = compose::config_of(root, files).and_then(|t| compose::raw::first_doc(&t)) {
        return Ok(doc);
    }
    compose::render::merged(files)
}

/// The variables the files read host ports from, by service and default port.
fn raw_vars(files: &[std::path::PathBuf]) -> BTreeMap<(String, u32), String> {
    compose::raw::ports(files)
        .into_iter()
        .filter_map(|(service, e)| match e.host {
            Host::Var(v, Some(p)) => Some(((service, p), v)),
            _ => None,
        })
        .collect()
}

/// Every service's `ports:` entries.
fn entries(doc: &Yaml) -> Vec<(String, Entry)> {
    let Some(services) = doc["services"].as_hash() else {
        return Vec::new();
    };
    services
        .iter()
        .filter_map(|(name, svc)| Some((name.as_str()?.to_string(), svc["ports"].as_vec()?)))
        .flat_map(|(name, ports)| {
            ports
                .iter()
                .filter_map(Entry::parse)
                .map(move |e| (name.clone(), e))
        })
        .collect()
}

/// Published host ports of every service.
fn published_ports(doc: &Yaml, vars: &BTreeMap<(String, u32), String>) -> Vec<Found> {
    let mut out = Vec::new();
    for (service, e) in entries(doc) {
        for port in e.host_ports(true) {
            let var = match &e.host {
                Host::Var(v, _) => Some(v.clone()),
                _ => vars.get(&(service.clone(), port)).cloned(),
            };
            out.push(Found {
                service: service.clone(),
                port,
                var,
                ip: e.ip.clone(),
                base: port,
                count: 1,
            });
        }
    }
    out
}

/// Runs of adjacent literal ports of one service (`9000`, `9001`) become one group.
fn group_adjacent(found: Vec<Found>) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for f in found {
        if let Some(last) = out.last_mut()
            && last.service == f.service
            && last.var.is_none()
            && f.var.is_none()
            && last.ip == f.ip
            && last.port + last.count == f.port
        {
            last.count += 1;
            continue;
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_wanted_prefix_is_said_as_none() {
        let clashes: Vec<String> = (1..=8).map(|i| format!("V{i}")).collect();
        let why = super::why_not("SBX_", "", &clashes);
        assert!(!why.contains("\"\""), "{why}");
        assert!(why.contains("not none"), "{why}");
        assert!(why.contains("V6 and 2 more"), "{why}");
        let why = super::why_not("APP_SBX_", "APP_", &["APP_X".into()]);
        assert!(
            why.contains("not \"APP_\": the project's own APP_X"),
            "{why}"
        );
    }
}
