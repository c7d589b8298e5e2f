//! The MCP tools: each one's input (a type, so its JSON Schema is derived), the command line
//! of `git-sandbox` it runs, and the published schema (`schema/*.json`) its output follows.
//! A removal is a dry run unless `dry_run: false` is passed, and is never forced.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// The most log lines a `logs` call returns.
pub const MAX_LOG_LINES: u32 = 1000;
/// The most bytes of logs (or messages) a call returns: the end is kept.
pub const MAX_TEXT: usize = 64 * 1024;

/// `create`: a new sandbox, as `git sandbox new`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Create {
    /// The sandbox's name, written as a branch (`feature/login`); optional with `pr`.
    pub name: Option<String>,
    /// Start the new branch at this revision (default: HEAD).
    pub from: Option<String>,
    /// Take pull/merge request N in (branch `pr-N`).
    #[schemars(range(min = 1))]
    pub pr: Option<u64>,
}

/// `list`: this repository's sandboxes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct List {
    /// Every repository's sandboxes, not only this one's.
    #[serde(default)]
    pub all: bool,
}

/// A tool that acts on one sandbox.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Named {
    /// The sandbox's name (as `list` shows it).
    pub name: String,
}

/// `remove`: the plan first, the removal when asked.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remove {
    /// The sandbox's name.
    pub name: String,
    /// Only say what removing would do (the default). `false` removes it through the same
    /// gate as `git sandbox rm --yes`: never forced, refused when work would be lost.
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

/// `logs`: the end of its services' logs.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    /// The sandbox's name.
    pub name: String,
    /// The last N lines of each service (default 100, at most 1000).
    #[schemars(range(min = 1, max = 1000))]
    pub tail: Option<u32>,
}

/// The JSON Schema of `T` as an MCP input schema.
fn input<T: JsonSchema>() -> Arc<JsonObject> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    match serde_json::to_value(schema) {
        Ok(Value::Object(o)) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The published schema `file` (`schema/<file>`) as an output schema.
fn output(file: &str) -> Option<Arc<JsonObject>> {
    crate::json::schemas()
        .into_iter()
        .find(|(f, _)| *f == file)
        .and_then(|(_, s)| match serde_json::to_value(s) {
            Ok(Value::Object(o)) => Some(Arc::new(o)),
            _ => None,
        })
}

fn tool(
    name: &'static str,
    what: &'static str,
    schema: Arc<JsonObject>,
    out: Option<&str>,
) -> Tool {
    let mut t = Tool::new(name, what, schema);
    if let Some(o) = out.and_then(output) {
        t = t.with_raw_output_schema(o);
    }
    t
}

fn read_only(t: Tool) -> Tool {
    t.with_annotations(ToolAnnotations::new().read_only(true))
}

/// Every tool, in the order `tools/list` gives them.
pub fn all() -> Vec<Tool> {
    vec![
        tool(
            "create",
            "Make a sandbox (git sandbox new): branch, worktree, slot, ports, env file. Returns it as schema/new.json.",
            input::<Create>(),
            Some("new.json"),
        ),
        read_only(tool(
            "list",
            "This repository's sandboxes with their state (schema/list.json).",
            input::<List>(),
            Some("list.json"),
        )),
        read_only(tool(
            "status",
            "One sandbox in detail (schema/status.json).",
            input::<Named>(),
            Some("status.json"),
        )),
        tool(
            "remove",
            "Remove a sandbox without losing work. By default a dry run: the report and plan come back as data (schema/rm.json). With dry_run: false it is removed through the same gate as `git sandbox rm --yes`, never forced; a refusal is a tool error carrying the reasons.",
            input::<Remove>(),
            Some("rm.json"),
        ),
        tool(
            "up",
            "Start the sandbox's compose services (detached).",
            input::<Named>(),
            None,
        ),
        tool(
            "down",
            "Stop the sandbox's compose services (volumes kept).",
            input::<Named>(),
            None,
        ),
        read_only(tool(
            "logs",
            "The last lines of the sandbox's services' logs (bounded).",
            input::<Logs>(),
            None,
        )),
        read_only(tool(
            "urls",
            "http://localhost (or the remote engine's host) URLs of the sandbox's ports (schema/urls.json).",
            input::<Named>(),
            Some("urls.json"),
        )),
    ]
}

/// A name as an argument: never one clap would read as an option (`new`, `up` and `logs`
/// take what follows `--` as a command, so `--` cannot be used to end the options).
fn plain(name: String) -> Result<String, String> {
    if name.starts_with('-') || name.trim().is_empty() {
        return Err(format!(
            "invalid name {name:?}: a sandbox name never starts with `-` and is not empty"
        ));
    }
    Ok(name)
}

/// The `git-sandbox` command line of a tool call, or why the arguments are wrong.
pub fn argv(tool: &str, args: Value) -> Result<Vec<String>, String> {
    fn parse<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, String> {
        serde_json::from_value(v).map_err(|e| format!("invalid arguments: {e}"))
    }
    let named = |args: Value| parse::<Named>(args).and_then(|a| plain(a.name));
    let s = String::from;
    Ok(match tool {
        "create" => {
            let a: Create = parse(args)?;
            if a.name.is_none() && a.pr.is_none() {
                return Err("invalid arguments: `name` is required unless `pr` is given".into());
            }
            let mut v = vec![s("new"), s("--json")];
            if let Some(p) = a.pr {
                v.extend([s("--pr"), p.to_string()]);
            }
            if let Some(f) = a.from {
                v.push(format!("--from={f}"));
            }
            if let Some(n) = a.name {
                v.push(plain(n)?);
            }
            v
        }
        "list" => {
            let a: List = parse(args)?;
            let mut v = vec![s("list"), s("--json")];
            if a.all {
                v.push(s("--all"));
            }
            v
        }
        "status" | "urls" => vec![s("status"), s("--json"), named(args)?],
        "remove" => {
            let a: Remove = parse(args)?;
            let how = if a.dry_run { "--dry-run" } else { "--yes" };
            vec![s("rm"), s("--json"), s(how), plain(a.name)?]
        }
        "up" => vec![s("up"), named(args)?],
        "down" => vec![s("down"), named(args)?],
        "logs" => {
            let a: Logs = parse(args)?;
            // `tail: 0` is no lines (compose's own `--tail 0`); colour codes mean nothing
            // to an agent, so compose is asked for none.
            let n = a.tail.unwrap_or(100).min(MAX_LOG_LINES);
            let name = plain(a.name)?;
            vec![
                s("logs"),
                s("--tail"),
                n.to_string(),
                name,
                s("--"),
                s("--no-color"),
            ]
        }
        other => return Err(format!("no tool named {other:?}")),
    })
}
