//! `engines --json`: each Docker engine the registry's sandboxes run on (and the shell's), with
//! its sandboxes and the host ports its containers publish.

use schemars::JsonSchema;
use serde::Serialize;

use super::Version;

#[derive(Serialize, JsonSchema, Debug)]
pub struct Engines {
    pub version: Version,
    pub engines: Vec<EngineRow>,
}

/// One engine.
#[derive(Serialize, JsonSchema, Debug)]
pub struct EngineRow {
    /// The context name, the endpoint for `DOCKER_HOST`, or `local`.
    pub name: String,
    pub endpoint: String,
    /// Where its published ports answer from this machine (`localhost` for a local engine).
    pub host: String,
    pub local: bool,
    /// The engine this shell's `DOCKER_HOST`/`DOCKER_CONTEXT` names (where `new` plans ports).
    pub shell: bool,
    /// Why it did not answer; null when it did.
    pub error: Option<String>,
    /// The host ports its running containers publish (git-sandbox's or not); empty when it
    /// did not answer.
    pub busy_ports: Vec<u32>,
    pub sandboxes: Vec<EngineSandbox>,
}

/// A sandbox (or local-prod) whose stack runs, or last ran, on the engine.
#[derive(Serialize, JsonSchema, Debug)]
pub struct EngineSandbox {
    pub name: String,
    pub id: String,
    pub parent_repo: String,
    /// Whether its containers run there; null when the engine did not answer.
    pub services_up: Option<bool>,
    /// Whether the engine is recorded (false: an older entry or a stack never started, shown
    /// on the shell's engine).
    pub recorded: bool,
}
