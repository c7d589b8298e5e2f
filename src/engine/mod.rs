//! The one door to the Docker engine: which engine a command talks to, and every `docker` and
//! compose command built for it.
//!
//! An [`Engine`] is a name (a `docker context`'s, the endpoint itself for `DOCKER_HOST`, or
//! `local`) and its endpoint (`unix:///var/run/docker.sock`, `tcp://host:2375`, `ssh://…`).
//! The shell's engine is resolved as docker does: `DOCKER_HOST`, else `DOCKER_CONTEXT`, else
//! the current context of docker's `config.json`; `default` (or none) is the local socket.
//! Only a context other than `default` costs a `docker context inspect`.
//!
//! `up` records the engine in the registry (`Instance::engine`); every later command on the
//! instance [`select`]s it, and every `docker`/compose command is built by [`docker`] or
//! [`apply`] for the selected engine: `DOCKER_HOST` set to its endpoint, `DOCKER_CONTEXT`
//! removed, whatever the shell says now (a TLS context's certificates with it: `tls`).
//! Nothing selected (a command about no instance, an entry older than the field): the shell's
//! engine, as before. `ports` asks a remote engine's host which ports are busy; `mounts`
//! refuses bind mounts of this machine on a remote engine. Engines are one when their
//! endpoints are, normalised (`tcp://h` is `tcp://h:2375`).

pub mod choose;
pub mod mounts;
pub mod ports;
pub mod tls;

use std::process::{Command, Stdio};
use std::sync::{OnceLock, RwLock};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::error::UserError;
use crate::registry::Instance;

/// docker's own default endpoint on Linux.
pub const LOCAL_ENDPOINT: &str = "unix:///var/run/docker.sock";
/// The name of the local engine (docker's `default` context).
pub const LOCAL: &str = "local";

/// A Docker engine: what people call it and where docker reaches it. Two are the same engine
/// when their endpoints are, once normalised ([`normal_endpoint`]): a context and the
/// `DOCKER_HOST` naming its endpoint, `tcp://h` and `tcp://h:2375`.
#[derive(Serialize, Deserialize, Clone, Debug, schemars::JsonSchema)]
pub struct Engine {
    /// The context name, the endpoint for `DOCKER_HOST`, or `local`.
    pub name: String,
    /// `unix://…`, `tcp://host:port`, `ssh://user@host`…
    pub endpoint: String,
}

impl PartialEq for Engine {
    fn eq(&self, other: &Engine) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Engine {}

impl std::hash::Hash for Engine {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

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

impl Engine {
    /// What identifies it: its endpoint, normalised.
    pub fn key(&self) -> String {
        normal_endpoint(&self.endpoint)
    }

    /// The local engine: docker's default socket.
    pub fn local() -> Engine {
        Engine {
            name: LOCAL.into(),
            endpoint: LOCAL_ENDPOINT.into(),
        }
    }

    /// Whether its containers run on this machine (a unix socket, or TCP to a loopback address).
    pub fn is_local(&self) -> bool {
        match self.host() {
            None => true,
            Some(h) => matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1"),
        }
    }

    /// The host name or address of a remote endpoint (`tcp://h:p`, `ssh://u@h:p`); `None` for a
    /// socket or pipe.
    pub fn host(&self) -> Option<String> {
        let (scheme, rest) = self.endpoint.split_once("://")?;
        if !matches!(scheme, "tcp" | "ssh" | "http" | "https") {
            return None;
        }
        let authority = rest.split('/').next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        (!host.is_empty()).then(|| host.to_string())
    }

    /// Where its published ports answer from this machine: `localhost`, or the engine's host.
    pub fn url_host(&self) -> String {
        match self.host() {
            Some(h) if !self.is_local() => {
                if h.contains(':') {
                    format!("[{h}]")
                } else {
                    h
                }
            }
            _ => "localhost".into(),
        }
    }

    /// `docker` for this engine.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        self.apply(&mut cmd);
        cmd
    }

    /// Points `cmd` (docker, compose, a seeding helper) at this engine, with its context's
    /// TLS certificates ([`tls`]).
    pub fn apply(&self, cmd: &mut Command) {
        self.apply_with(cmd, tls::of(self).as_ref());
    }

    fn apply_with(&self, cmd: &mut Command, tls: Option<&tls::Tls>) {
        cmd.env_remove("DOCKER_CONTEXT");
        if tls.is_some_and(|t| !t.verify) {
            cmd.env_remove("DOCKER_TLS_VERIFY");
        }
        for (k, v) in self.vars_with(tls) {
            cmd.env(k, v);
        }
    }

    /// The variables that point a command at this engine: `DOCKER_HOST`, and its context's
    /// TLS when it has some (setup and teardown get them too).
    pub fn vars(&self) -> Vec<(String, String)> {
        self.vars_with(tls::of(self).as_ref())
    }

    fn vars_with(&self, tls: Option<&tls::Tls>) -> Vec<(String, String)> {
        let mut out = vec![("DOCKER_HOST".to_string(), self.endpoint.clone())];
        out.extend(tls.map(tls::Tls::vars).unwrap_or_default());
        out
    }

    /// `local`, or `name (endpoint)` when they differ.
    pub fn shown(&self) -> String {
        if self.name == self.endpoint || self.name == LOCAL && self.endpoint == LOCAL_ENDPOINT {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.endpoint)
        }
    }
}

static SELECTED: RwLock<Option<Engine>> = RwLock::new(None);
static SHELL: OnceLock<Result<Engine, String>> = OnceLock::new();

/// From now on, docker and compose commands of this run go to `engine`.
pub fn select(engine: &Engine) {
    if let Ok(mut s) = SELECTED.write() {
        *s = Some(engine.clone());
    }
}

/// Selects the engine `inst`'s stack runs on: the one recorded at `up`; none recorded (an
/// older entry, a stack never started), the shell's environment as it is.
pub fn select_for(inst: &Instance) {
    if let Ok(mut s) = SELECTED.write() {
        s.clone_from(&inst.engine);
    }
}

/// The engine of an instance: the recorded one, else the shell's (an entry older than the
/// field, or one never started), else local.
pub fn of(inst: &Instance) -> Engine {
    inst.engine
        .clone()
        .or_else(|| shell().ok())
        .unwrap_or_else(Engine::local)
}

/// The selected engine, if a command selected one.
pub fn selected() -> Option<Engine> {
    SELECTED.read().ok().and_then(|s| s.clone())
}

/// `docker` for the selected engine; nothing selected, the shell's environment as it is.
pub fn docker() -> Command {
    let mut cmd = Command::new("docker");
    apply(&mut cmd);
    cmd
}

/// Points `cmd` at the selected engine; nothing selected, leaves the shell's environment.
pub fn apply(cmd: &mut Command) {
    if let Some(e) = selected() {
        e.apply(cmd);
    }
}

/// The engine docker would use in this shell.
pub fn shell() -> Result<Engine> {
    SHELL
        .get_or_init(|| resolve_shell().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| UserError::new(e).into())
}

/// Whether the shell names an engine explicitly (`DOCKER_HOST` or `DOCKER_CONTEXT` set).
pub fn shell_is_explicit() -> bool {
    ["DOCKER_HOST", "DOCKER_CONTEXT"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

fn resolve_shell() -> Result<Engine> {
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

    fn at(endpoint: &str) -> Engine {
        Engine {
            name: endpoint.into(),
            endpoint: endpoint.into(),
        }
    }

    #[test]
    fn hosts_of_endpoints() {
        assert_eq!(
            at("tcp://10.1.2.3:2375").host().as_deref(),
            Some("10.1.2.3")
        );
        assert_eq!(at("ssh://me@build-1:22").host().as_deref(), Some("build-1"));
        assert_eq!(at("ssh://build-1").host().as_deref(), Some("build-1"));
        assert_eq!(
            at("tcp://[fd00::2]:2375").host().as_deref(),
            Some("fd00::2")
        );
        assert_eq!(at("unix:///var/run/docker.sock").host(), None);
        assert_eq!(at("npipe:////./pipe/docker_engine").host(), None);
    }

    #[test]
    fn local_and_remote() {
        assert!(Engine::local().is_local());
        assert!(at("tcp://127.0.0.1:2375").is_local());
        assert!(!at("tcp://10.1.2.3:2375").is_local());
        assert_eq!(Engine::local().url_host(), "localhost");
        assert_eq!(at("tcp://10.1.2.3:2375").url_host(), "10.1.2.3");
        assert_eq!(at("tcp://[fd00::2]:2375").url_host(), "[fd00::2]");
        assert_eq!(Engine::local().shown(), "local");
    }

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

    #[test]
    fn commands_name_the_engine() {
        let cmd = at("tcp://10.1.2.3:2375").docker();
        let envs: Vec<_> = cmd.get_envs().collect();
        assert!(envs.contains(&(
            std::ffi::OsStr::new("DOCKER_HOST"),
            Some(std::ffi::OsStr::new("tcp://10.1.2.3:2375"))
        )));
        assert!(envs.contains(&(std::ffi::OsStr::new("DOCKER_CONTEXT"), None)));
    }
}
