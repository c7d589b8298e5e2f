//! The JSON contract for scripts and agents: every `--json` output as a typed struct, and the
//! JSON Schemas published under `schema/` in the repository.
//!
//! Invariants:
//! - Every output is one object whose first field is `"version": 1` ([`Version`]); fields are
//!   only ever added. A change that would alter or drop a field needs version 2.
//! - The schemas are generated from these types (`schemars`); `git-sandbox __schema --out DIR`
//!   writes them, and a test fails when the committed `schema/*.json` differ from what the
//!   types generate, so the published contract cannot drift from the code.
//! - stdout holds only the JSON; messages stay on stderr.

pub mod engines;
pub mod rm;
pub mod sandbox;
pub mod seed;
pub mod urls;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use crate::commands::list::Row;
use crate::config::Port;
use crate::ui;

/// The shape version every JSON output carries: always `1` for this shape.
#[derive(Clone, Copy, Debug, Default)]
pub struct Version;

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u32(1)
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The shape version: 1. Fields are only ever added to a version.",
            "type": "integer",
            "const": 1
        })
    }
}

/// `list --json`: every sandbox of this repo (or of every repo with `--all`).
#[derive(Serialize, JsonSchema)]
pub struct List {
    pub version: Version,
    pub sandboxes: Vec<Row>,
}

/// `status --json` and `local-prod status --json`: one sandbox in detail.
#[derive(Serialize, JsonSchema)]
pub struct Status {
    pub version: Version,
    pub sandbox: Row,
}

/// `env --json`: the sandbox's environment, as the env file holds it.
#[derive(Serialize, JsonSchema)]
pub struct Env {
    pub version: Version,
    pub env: BTreeMap<String, String>,
}

/// `ports --json`: the port plan, slot by slot, and which ports are busy now.
#[derive(Serialize, JsonSchema)]
pub struct Ports {
    pub version: Version,
    pub slots: Vec<PlanSlot>,
    /// The slots a sandbox of this repo may take (`1..=slot_limit`): `max_slots`, else as many
    /// as the port plan fits; null when the repo has no ports (no limit).
    pub slot_limit: Option<u32>,
}

/// One slot of the port plan.
#[derive(Serialize, JsonSchema)]
pub struct PlanSlot {
    pub slot: u32,
    /// The instance id holding the slot, if any.
    pub owner: Option<String>,
    pub ports: Vec<PlanPort>,
}

/// One planned port and whether something listens on it now.
#[derive(Serialize, JsonSchema)]
pub struct PlanPort {
    #[serde(flatten)]
    pub port: Port,
    pub busy: bool,
}

/// Prints `value` as pretty JSON on stdout.
pub fn print<T: Serialize>(value: &T) -> Result<()> {
    ui::out(&serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Every published schema: its file name under `schema/`, and the schema.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("list.json", schema_for::<List>()),
        ("status.json", schema_for::<Status>()),
        ("env.json", schema_for::<Env>()),
        ("ports.json", schema_for::<Ports>()),
        ("new.json", schema_for::<sandbox::New>()),
        ("restore.json", schema_for::<sandbox::Restore>()),
        ("rm.json", schema_for::<rm::Rm>()),
        ("urls.json", schema_for::<urls::Urls>()),
        ("seed.json", schema_for::<seed::Seed>()),
        ("volumes.json", schema_for::<seed::Volumes>()),
        ("engines.json", schema_for::<engines::Engines>()),
    ]
}

/// The draft 2020-12 schema of `T`, where every property is required: the outputs always
/// carry every field (`null` when there is no value), so a consumer can rely on it.
fn schema_for<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(all_required))
        .into_generator()
        .into_root_schema_for::<T>()
}

fn all_required(schema: &mut Schema) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(serde_json::Value::Object(props)) = obj.get("properties") {
        let keys = props
            .keys()
            .cloned()
            .map(serde_json::Value::String)
            .collect();
        obj.insert("required".into(), serde_json::Value::Array(keys));
    }
}

/// `__schema [--out DIR]`: prints every schema (one object keyed by file name), or writes
/// them into `DIR`, one file each.
pub fn schema_command(out: Option<&Path>) -> Result<i32> {
    let all = schemas();
    let Some(dir) = out else {
        let map: BTreeMap<&str, &Schema> = all.iter().map(|(n, s)| (*n, s)).collect();
        print(&map)?;
        return Ok(0);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, schema) in &all {
        let text = format!("{}\n", serde_json::to_string_pretty(schema)?);
        let file = dir.join(name);
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(0)
}
