//! The rendered compose file: the project's effective compose model, rewritten for one instance
//! ([`super::rewrite`]), in `<sandbox>/.sandbox/compose.yml`. Compose runs on it with the
//! sandbox as project directory, so the project's compose files need no edit.
//!
//! Rendering, step by step:
//! 1. [`sources`]: the compose files the project's users run ([`super::files`]).
//! 2. [`model_text`]: compose's own `config` of them (variables resolved with the sandbox's
//!    env, paths absolute, overrides merged), else the YAML merged by compose's rules.
//! 3. [`super::rewrite::apply`] with this slot's [`port_map`].
//! 4. [`write`]: atomically, git-ignored, never through a link or over a file git-sandbox did
//!    not write. `up` renders every time; other commands use the last one, or render it once.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

use super::ports::Host;
use super::rewrite::{self, Note, PortMap};
use super::{Tool, invocation};
use crate::config::{Config, env_name};
use crate::registry::{Instance, Kind};

/// The rendered file, relative to the sandbox.
pub const REL: &str = ".sandbox/compose.yml";

/// The first line of a rendered file.
const MARK: &str = "# Written by git-sandbox";

/// The header line that records the profile the stack runs with, for `down` and `rm` from a
/// broken config.
const PROFILE: &str = "# profile: ";

/// The profile recorded in the rendered file of `dir`, if any.
pub fn recorded_profile(dir: &Path) -> Option<String> {
    let file = existing(dir)?;
    let text = fs::read_to_string(file).ok()?;
    text.lines()
        .take(4)
        .find_map(|l| l.strip_prefix(PROFILE))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
}

/// The outcome of one rendering.
pub struct Rendered {
    pub file: PathBuf,
    /// What was rewritten, and what could not be.
    pub notes: Vec<Note>,
}

/// The rendered file of `dir`, when there is one git-sandbox wrote.
pub fn existing(dir: &Path) -> Option<PathBuf> {
    let file = dir.join(REL);
    ours(&file).then_some(file)
}

/// Whether `file` is a regular file starting with the mark.
pub fn ours(file: &Path) -> bool {
    fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_file())
        && fs::read_to_string(file).is_ok_and(|t| t.starts_with(MARK))
}

/// Step 1: the compose files compose itself would read for this directory ([`super::files`]).
pub use super::files::sources;

/// Renders the instance's compose file (see the module doc).
pub fn render(tool: &Tool, cfg: &Config, inst: &Instance, dir: &Path) -> Result<Rendered> {
    let files = sources(dir, cfg)?;
    let written = super::raw::ports(&files);
    let mut map = port_map(cfg, inst);
    map.literals = written
        .iter()
        .flat_map(|(_, e)| e.host_ports(false))
        .collect();
    let (text, refused) = model_text(
        tool,
        cfg,
        inst,
        dir,
        &files,
        &port_vars(&written, &map, cfg, inst, dir),
    )?;
    let mut doc =
        super::raw::first_doc(&text).context("compose's model of the project is not YAML")?;
    if let Some(project) = files.first().and_then(|f| f.parent()) {
        super::inputs::settle_env_files(&mut doc, project);
    }
    let project = super::owner::project(inst);
    let who = rewrite::For {
        project: &project,
        sandbox: inst.kind == Kind::Sandbox,
        uuid: inst.uuid.as_deref().filter(|_| !super::owner::legacy(inst)),
    };
    let mut notes = rewrite::apply(&mut doc, &map, &who);
    if let Some(why) = refused {
        notes.insert(
            0,
            Note {
                text: format!(
                    "compose's `config` refused the project ({why}): rendered from the files as written"
                ),
                blocking: false,
            },
        );
    }
    // JSON, which is YAML too: every string quoted, so compose's YAML 1.1 reader never takes
    // `2023-10-16` for a date or `0b101` for a number.
    let body = serde_json::to_string_pretty(&to_json(&doc))
        .context("cannot write the rendered compose model")?;
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let text = format!(
        "{MARK} for {} from {}: regenerated on every `git sandbox up`.\n# Edit those files, not this one.\n{PROFILE}{}\n{body}\n",
        inst.name,
        names.join(" + "),
        super::profile(cfg, inst).unwrap_or_default(),
    );
    let file = write(dir, &text)?;
    Ok(Rendered { file, notes })
}

/// The model as JSON. A real number keeps its YAML 1.1 reading: with a `.` a number, else
/// (`1e3`) the string compose's reader saw.
fn to_json(y: &Yaml) -> serde_json::Value {
    use serde_json::Value;
    match y {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => match r.parse::<f64>() {
            Ok(f) if r.contains('.') && f.is_finite() => Value::from(f),
            _ => Value::String(r.clone()),
        },
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let k = match k {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (k, to_json(v))
                })
                .collect(),
        ),
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
    }
}

/// Step 2: compose's `config` of the files, else the files merged here (with compose's reason
/// for refusing them). Variables that publish a host port (`"${PORT}:8080"`) are set to this
/// slot's port for it, so every other use of them (`PUBLIC_URL: http://localhost:${PORT}`)
/// agrees with the port.
fn model_text(
    tool: &Tool,
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    files: &[PathBuf],
    vars: &[(String, String)],
) -> Result<(String, Option<String>)> {
    let out = invocation(tool, cfg, inst, dir, files)?
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .arg("config")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run compose config")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let is_model = super::raw::first_doc(&text).is_some_and(|d| d.as_hash().is_some());
    if out.status.success() && is_model {
        return Ok((text, None));
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let why = err
        .trim()
        .lines()
        .last()
        .unwrap_or("no reason given")
        .to_string();
    let merged = merged(files).with_context(|| format!("compose refused it: {why}"))?;
    let mut s = String::new();
    YamlEmitter::new(&mut s).dump(&merged)?;
    Ok((s, Some(why)))
}

/// The variables the files publish host ports from, set to this slot's port for each (only
/// those the plan does not already set): their value from the environment, else the env
/// file, else their default, mapped like a literal port.
fn port_vars(
    written: &[(String, super::ports::Entry)],
    map: &PortMap,
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
) -> Vec<(String, String)> {
    let (_, env_file) = super::project_and_env(cfg, inst, dir);
    let dotenv = env_file
        .as_deref()
        .map(super::raw::dotenv)
        .unwrap_or_default();
    let mut out = Vec::new();
    for (service, entry) in written {
        let Host::Var(var, default) = &entry.host else {
            continue;
        };
        if map.vars.contains(var) || out.iter().any(|(v, _)| v == var) {
            continue;
        }
        let value = std::env::var(var)
            .ok()
            .or_else(|| {
                dotenv
                    .iter()
                    .find(|(k, _)| k == var)
                    .map(|(_, v)| v.clone())
            })
            .and_then(|v| v.parse::<u32>().ok())
            .or(*default);
        if let Some(port) = value.and_then(|q| map.map(service, q)) {
            out.push((var.clone(), port.to_string()));
        }
    }
    out
}

/// The files' YAML, merged by compose's rules; an error names a file that is not YAML.
pub fn merged(files: &[PathBuf]) -> Result<Yaml> {
    let mut merged: Option<Yaml> = None;
    for f in files {
        let text = fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let mut docs = YamlLoader::load_from_str(&text).map_err(|e| {
            crate::error::UserError::new(format!("{}: {e}", f.display())).hint(
                "fix the compose file; `docker compose config` shows what compose makes of it",
            )
        })?;
        let doc = if docs.is_empty() {
            Yaml::Null
        } else {
            docs.remove(0)
        };
        merged = Some(match merged {
            None => doc,
            Some(base) => merge(base, doc),
        });
    }
    Ok(merged.unwrap_or(Yaml::Null))
}

/// Compose's merge of an override onto a file: maps merge key by key, `ports`-like lists add
/// up, and anything else is replaced.
fn merge(base: Yaml, over: Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Hash(mut b), Yaml::Hash(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Yaml::Hash(b)
        }
        (Yaml::Array(mut b), Yaml::Array(o)) => {
            b.extend(o);
            Yaml::Array(b)
        }
        (_, o) => o,
    }
}

/// This slot's ports, the compose port each plan entry stands for, and the plan's variables.
pub fn port_map(cfg: &Config, inst: &Instance) -> PortMap {
    let specs = if inst.slot == 0 {
        &cfg.local_prod_ports
    } else {
        &cfg.ports
    };
    let ports = cfg.ports_for(inst.slot);
    let mut map = PortMap::default();
    for spec in specs {
        let mine: Vec<u32> = ports
            .iter()
            .filter(|p| p.service == spec.name)
            .map(|p| p.port)
            .collect();
        map.mine.extend(&mine);
        let var = env_name(&cfg.env_prefix, &spec.name);
        map.vars.insert(format!("{var}_PORT"));
        map.vars
            .extend((0..spec.count()).map(|i| format!("{var}_PORT_{i}")));
        map.entries.push((spec.name.clone(), spec.origin(), mine));
    }
    map
}

/// Step 4: the text in `<dir>/.sandbox/compose.yml`, atomically.
fn write(dir: &Path, text: &str) -> Result<PathBuf> {
    let folder = crate::context::folder(dir)?;
    let file = dir.join(REL);
    if fs::symlink_metadata(&file).is_ok() && !ours(&file) {
        bail!(
            "{} exists and git-sandbox did not write it; move it aside",
            file.display()
        );
    }
    if fs::read_to_string(&file).is_ok_and(|t| t == text) {
        return Ok(file);
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".compose.yml.")
        .tempfile_in(&folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_lists_add_up_and_maps_merge() {
        let load = |s: &str| YamlLoader::load_from_str(s).expect("yaml").remove(0);
        let m = merge(
            load("services:\n  web:\n    image: a\n    ports: ['8000:80']\n"),
            load("services:\n  web:\n    image: b\n    ports: ['9000:90']\n"),
        );
        assert_eq!(m["services"]["web"]["image"].as_str(), Some("b"));
        assert_eq!(
            m["services"]["web"]["ports"].as_vec().map(Vec::len),
            Some(2)
        );
    }
}
