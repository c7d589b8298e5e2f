//! Which engine a name means: `DOCKER_HOST`, `DOCKER_CONTEXT` or docker's current context for
//! the shell, `--engine X` (an endpoint, `local`/`default`, a context), each endpoint normalised
//! so one engine has one key; and whether a recorded engine is well formed.

use std::process::{Command, Stdio};

use anyhow::Result;

use super::{Engine, LOCAL, LOCAL_ENDPOINT};
use crate::error::UserError;

/// An endpoint as docker reaches it, so one engine has one key: a `tcp://` endpoint without a
/// port gets docker's default (2375, which docker uses with or without TLS); a trailing `/`
/// goes. Anything else is kept as written.
pub fn normal_endpoint(x: &str) -> String {
    let x = x.trim().trim_end_matches('/');
    let Some(rest) = x.strip_prefix("tcp://") else {
        return x.to_string();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, p)| p);
    let slash = if path.is_empty() { "" } else { "/" };
    if after_host.contains(':') || authority.is_empty() {
        x.to_string()
    } else {
        format!("tcp://{authority}:2375{slash}{path}")
    }
}

/// Whether the shell names an engine explicitly (`DOCKER_HOST` or `DOCKER_CONTEXT` set).
pub fn shell_is_explicit() -> bool {
    ["DOCKER_HOST", "DOCKER_CONTEXT"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// The engine docker would use in this shell, resolved as docker does.
pub(super) fn shell() -> Result<Engine> {
    if let Some(h) = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
        return named(&h);
    }
    let context = std::env::var("DOCKER_CONTEXT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(current_context);
    match context {
        None => Ok(Engine::local()),
        Some(c) => named(&c),
    }
}

/// The engine `--engine X` names: an endpoint (`tcp://…`, `ssh://…`, `unix://…`), `local` or
/// `default`, or a docker context.
pub fn named(x: &str) -> Result<Engine> {
    let x = x.trim();
    if x.is_empty() || x.contains(['\n', '\0']) {
        return Err(UserError::usage(format!("{x:?} is not an engine"))
            .hint("name a docker context, `local`, or an endpoint such as tcp://host:2375")
            .into());
    }
    if x == LOCAL || x == "default" {
        return Ok(Engine::local());
    }
    if x.contains("://") {
        let endpoint = normal_endpoint(x);
        return Ok(Engine {
            name: endpoint.clone(),
            endpoint,
        });
    }
    let endpoint = normal_endpoint(&context_endpoint(x)?);
    Ok(Engine {
        name: x.into(),
        endpoint,
    })
}

/// Whether a recorded engine is one git-sandbox could have written: a name and an endpoint
/// with a scheme, neither empty nor holding a control character (a hand-edited registry).
pub fn well_formed(e: &Engine) -> bool {
    let plain = |s: &str| !s.is_empty() && !s.chars().any(char::is_control) && !s.starts_with('-');
    plain(&e.name) && plain(&e.endpoint) && e.endpoint.contains("://")
}

/// A docker context's endpoint, from `docker context inspect`.
fn context_endpoint(name: &str) -> Result<String> {
    let out = Command::new("docker")
        .args([
            "context",
            "inspect",
            "--format",
            "{{.Endpoints.docker.Host}}",
            name,
        ])
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let host = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if host.is_empty() {
                Ok(LOCAL_ENDPOINT.into())
            } else {
                Ok(host)
            }
        }
        Ok(o) => Err(UserError::new(format!(
            "docker context {name:?} cannot be read: {}",
            crate::compose::removal::first_line(&o.stderr)
        ))
        .hint("see `docker context ls`; or name the engine by its endpoint (tcp://host:2375, ssh://user@host)")
        .into()),
        Err(e) => Err(UserError::new(format!(
            "cannot run docker to read context {name:?}: {e}"
        ))
        .into()),
    }
}

/// The current context docker's `config.json` names (`DOCKER_CONFIG`, else `~/.docker`),
/// unless it is `default`.
fn current_context() -> Option<String> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let name = json.get("currentContext")?.as_str()?;
    (!name.is_empty() && name != "default").then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::at;

    #[test]
    fn names_resolve_without_docker() {
        assert_eq!(named("local").ok(), Some(Engine::local()));
        assert_eq!(named("default").ok(), Some(Engine::local()));
        assert_eq!(named("tcp://h:1").ok(), Some(at("tcp://h:1")));
        assert!(named("").is_err());
        assert!(named("a\nb").is_err());
    }

    #[test]
    fn default_ports_are_one_engine() {
        assert_eq!(normal_endpoint("tcp://h"), "tcp://h:2375");
        assert_eq!(normal_endpoint("tcp://h/"), "tcp://h:2375");
        assert_eq!(normal_endpoint("tcp://h:2376"), "tcp://h:2376");
        assert_eq!(normal_endpoint("tcp://[fd00::2]"), "tcp://[fd00::2]:2375");
        assert_eq!(normal_endpoint("tcp://[fd00::2]:1"), "tcp://[fd00::2]:1");
        assert_eq!(normal_endpoint("ssh://me@h"), "ssh://me@h");
        assert_eq!(normal_endpoint(LOCAL_ENDPOINT), LOCAL_ENDPOINT);
        assert_eq!(at("tcp://h"), at("tcp://h:2375"));
        assert_ne!(at("tcp://h"), at("tcp://h:2376"));
        let context = Engine {
            name: "build".into(),
            endpoint: "tcp://h".into(),
        };
        assert_eq!(context, at("tcp://h:2375"));
        assert_eq!(
            named("tcp://h").ok().map(|e| e.endpoint),
            Some("tcp://h:2375".into())
        );
    }

    #[test]
    fn recorded_engines_are_checked() {
        assert!(well_formed(&Engine::local()));
        assert!(well_formed(&at("tcp://h:1")));
        assert!(!well_formed(&at("h:1")));
        assert!(!well_formed(&at("tcp://h\n:1")));
        assert!(!well_formed(&at("-H tcp://h")));
    }
}
