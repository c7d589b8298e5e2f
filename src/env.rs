//! The env file a sandbox carries (`.env.sandbox` by default), and the live port probe.
//!
//! The file holds `SANDBOX_SLOT`, `SANDBOX_NAME`, `SANDBOX_ID`, `COMPOSE_PROJECT_NAME` and one
//! `<PREFIX><SERVICE>_PORT` per port (groups add `_PORT_<i>` and a `_PORTS` list). Every key
//! and value is checked so that nothing can inject a line; the file is written to a temp file
//! and renamed into place, so a reader sees the old file or the new one.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;

use anyhow::{Context, Result};

use crate::config::{Config, Port, env_name};
use crate::error::UserError;
use crate::registry::Instance;

/// [`vars`] for a command run for the sandbox (setup, teardown, `exec`): with `DOCKER_HOST`
/// naming the engine its stack was recorded on (and a TLS context's certificates), so its `docker` calls go where the stack is
/// whatever the shell says (docker reads `DOCKER_HOST` before `DOCKER_CONTEXT`). Not in the env
/// file: that stays the project's view.
pub fn command_vars(cfg: &Config, inst: &Instance) -> Result<Vec<(String, String)>> {
    let mut out = vars(cfg, inst)?;
    if let Some(engine) = &inst.engine {
        out.extend(engine.vars());
    }
    Ok(out)
}

/// The variables of one instance, in file order.
pub fn vars(cfg: &Config, inst: &Instance) -> Result<Vec<(String, String)>> {
    let mut out = vec![
        ("SANDBOX_SLOT".to_string(), inst.slot.to_string()),
        ("SANDBOX_NAME".to_string(), inst.name.clone()),
        ("SANDBOX_ID".to_string(), inst.id.clone()),
        (
            "COMPOSE_PROJECT_NAME".to_string(),
            crate::compose::owner::project(inst),
        ),
    ];
    let ports = cfg.ports_for(inst.slot);
    let mut i = 0;
    while i < ports.len() {
        let p = &ports[i];
        let base = env_name(&cfg.env_prefix, &p.service);
        if p.index.is_none() {
            out.push((format!("{base}_PORT"), p.port.to_string()));
            // Where it answers, for scripts and agents (`SANDBOX_URL_BACKEND`).
            out.push((
                format!("SANDBOX_URL_{}", env_name("", &p.service)),
                url_of(inst, p.port),
            ));
            i += 1;
            continue;
        }
        let group: Vec<&Port> = ports[i..]
            .iter()
            .take_while(|q| q.service == p.service)
            .collect();
        for q in &group {
            out.push((
                format!("{base}_PORT_{}", q.index.unwrap_or(0)),
                q.port.to_string(),
            ));
        }
        let list: Vec<String> = group.iter().map(|q| q.port.to_string()).collect();
        out.push((format!("{base}_PORTS"), list.join(",")));
        i += group.len();
    }
    for (k, v) in &out {
        check_var(k, v)?;
    }
    Ok(out)
}

/// The URL a service published on `port` of the engine's host `host` answers at, from this
/// machine (`localhost` for a local engine).
pub fn url(host: &str, port: u32) -> String {
    format!("http://{host}:{port}")
}

/// The URL of `inst`'s service on `port`: on its engine's host.
pub fn url_of(inst: &Instance, port: u32) -> String {
    url(&crate::engine::of(inst).url_host(), port)
}

/// The project name an older git-sandbox derived from the id (entries without a stored
/// project keep it; [`crate::compose::owner`] chooses new ones). Compose project names allow lower-case letters, digits, `-` and `_`, and start with a
/// letter or digit. Ids are plain already ([`crate::names::id_part`]); this maps what is left
/// (upper case, `.`, ids registered by older versions).
pub fn compose_project(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(['-', '_']);
    if name.is_empty() {
        "sandbox".to_string()
    } else {
        name.to_string()
    }
}

/// A key must be a shell identifier; a value must not break out of its line.
pub fn check_var(key: &str, value: &str) -> Result<()> {
    let key_ok = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !key_ok {
        return Err(UserError::new(format!("{key:?} is not a valid variable name")).into());
    }
    if value
        .chars()
        .any(|c| c == '\n' || c == '\r' || c == '\0' || c == '\'' || c == '"' || c == '\\')
    {
        return Err(UserError::new(format!(
            "the value of {key} holds a newline, quote or backslash, which would inject into the env file: {value:?}"
        ))
        .hint("use a name without line breaks or quotes")
        .into());
    }
    Ok(())
}

/// The first line of every env file git-sandbox writes.
const HEADER: &str = "# Written by git-sandbox. Do not edit or commit: it is rewritten.\n";

/// Whether `file` is an env file git-sandbox wrote: a regular file (not a link) whose first
/// line is our header, whatever its name.
pub fn ours(file: &Path) -> bool {
    use std::io::Read;
    let is_file = std::fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_file());
    let mut head = Vec::with_capacity(HEADER.len());
    is_file
        && std::fs::File::open(file)
            .and_then(|f| f.take(HEADER.len() as u64).read_to_end(&mut head))
            .is_ok()
        && head == HEADER.as_bytes()
}

/// Writes the env file atomically. Never over a file git-sandbox did not write (a tracked
/// `.env`, the user's own): `env_file` naming one is refused, and nothing is changed.
pub fn write(path: &Path, vars: &[(String, String)]) -> Result<()> {
    let dir = path
        .parent()
        .context("the env file has no parent directory")?;
    if std::fs::symlink_metadata(path).is_ok() && !ours(path) {
        return Err(UserError::new(format!(
            "{} is not an env file git-sandbox wrote (a file of the project's or yours); it was left alone",
            path.display()
        ))
        .hint("set env_file in .sandbox.toml to a name of its own, e.g. \".env.sandbox\"")
        .into());
    }
    let mut text = String::from(HEADER);
    for (k, v) in vars {
        check_var(k, v)?;
        text.push_str(&format!("{k}={v}\n"));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".env.sandbox.")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Whether nothing listens on `port` (on any local address, IPv4 or IPv6: a dev server
/// listening only on `::1` counts). A machine without IPv6 answers for IPv4 alone.
pub fn port_free(port: u32) -> bool {
    let Ok(port) = u16::try_from(port) else {
        return false;
    };
    let v6_free = |addr: &str| match TcpListener::bind((addr, port)) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AddrInUse,
    };
    TcpListener::bind(("0.0.0.0", port)).is_ok()
        && TcpListener::bind(("127.0.0.1", port)).is_ok()
        && v6_free("::1")
        && v6_free("::")
}

/// The ports of a slot that are busy right now on the engine's host (this machine's for a
/// local engine).
pub fn busy_ports(cfg: &Config, slot: u32, engine: &crate::engine::Engine) -> Vec<Port> {
    cfg.ports_for(slot)
        .into_iter()
        .filter(|p| !crate::engine::ports::free_on(engine, p.port))
        .collect()
}
