//! The one door to the Docker engine: which engine a command talks to, and every `docker` and
//! compose command built for it.
//!
//! An [`Engine`] is a name (a `docker context`'s, the endpoint itself for `DOCKER_HOST`, or
//! `local`) and its endpoint (`unix:///var/run/docker.sock`, `tcp://host:2375`, `ssh://…`).
//! The shell's engine is resolved (`resolve`) as docker does: `DOCKER_HOST`, else
//! `DOCKER_CONTEXT`, else the current context of docker's `config.json`; `default` (or none)
//! is the local socket. Only a context other than `default` costs a `docker context inspect`
//! (and one more, once a run, for its TLS).
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
pub mod resolve;
pub mod tls;

pub use resolve::{named, normal_endpoint, shell_is_explicit, well_formed};

use std::process::Command;
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
/// when their endpoints are, once normalised (`normal_endpoint`): a context and the
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
        .get_or_init(|| resolve::shell().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| UserError::new(e).into())
}

/// An engine named by its endpoint, for the unit tests.
#[cfg(test)]
pub(crate) fn at(endpoint: &str) -> Engine {
    Engine {
        name: endpoint.into(),
        endpoint: endpoint.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
