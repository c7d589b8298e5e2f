//! The Docker engine's API over its local unix socket, for the two quick questions `rm` asks
//! about every sandbox, compose file or not: is any container, is any network labelled as
//! its? The `docker` CLI is a Go program of ~20 MiB resident and ~20 ms a start; asked twice,
//! it made `rm`'s peak memory twice `git worktree remove`'s and cost 40 ms.
//!
//! Used only where the CLI would ask that same socket: the run's selected engine (the
//! sandbox's recorded one) is a `unix://` socket; none selected, `docker` on `PATH`, no
//! `DOCKER_HOST` other than a `unix://` one, no `DOCKER_CONTEXT`, and no current context in
//! the CLI's `config.json`. Any answer but a 200 with a JSON array is `None`, and the caller asks the
//! CLI as before.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Containers (stopped ones too) with a label.
pub const CONTAINERS: &str = "/containers/json?all=1&filters=";
/// Networks with a label.
pub const NETWORKS: &str = "/networks?filters=";

/// Whether the engine holds anything at `endpoint` matching `filter` (`label=KEY=VALUE`, the
/// CLI's form); `None` when the socket cannot say.
pub fn labelled(endpoint: &str, filter: &str) -> Option<bool> {
    let label = filter.strip_prefix("label=")?;
    let json = format!("{{\"label\":[{}]}}", serde_json::to_string(label).ok()?);
    let body = get(&socket()?, &format!("{endpoint}{}", encode(&json)))?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "[]" => Some(false),
        s if s.starts_with("[{") => Some(true),
        _ => None,
    }
}

/// The socket the CLI would use, if that is surely the default one. An engine selected for the
/// run (the sandbox's recorded one, `engine/`) decides alone: its socket, or the CLI.
fn socket() -> Option<PathBuf> {
    if let Some(engine) = crate::engine::selected() {
        return engine.endpoint.strip_prefix("unix://").map(PathBuf::from);
    }
    if std::env::var_os("DOCKER_CONTEXT").is_some() || !on_path("docker") {
        return None;
    }
    let path = match std::env::var("DOCKER_HOST") {
        Ok(h) => PathBuf::from(h.strip_prefix("unix://")?),
        Err(std::env::VarError::NotPresent) => PathBuf::from("/var/run/docker.sock"),
        Err(_) => return None,
    };
    let config = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    match std::fs::read_to_string(config.join("config.json")) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            let ctx = v.get("currentContext").and_then(|c| c.as_str());
            ctx.is_none_or(|c| c.is_empty() || c == "default")
                .then_some(path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(path),
        Err(_) => None,
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p)
            .any(|d| std::fs::metadata(d.join(program)).is_ok_and(|m| m.is_file()))
    })
}

/// `GET target` over HTTP/1.0 (the engine closes the connection, no chunking); the body of a
/// 200 answer.
fn get(socket: &PathBuf, target: &str) -> Option<String> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {target} HTTP/1.0\r\nHost: docker\r\n\r\n").ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8(answer).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split(' ').nth(1)?;
    (status == "200").then(|| body.to_string())
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
