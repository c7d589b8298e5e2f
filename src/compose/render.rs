//! The rendered compose file: the project's effective compose model, rewritten for one instance
//! ([`super::rewrite`]), in `<sandbox>/.sandbox/compose.yml`. Compose runs on it with the
//! sandbox as project directory, so the project's compose files need no edit.
//!
//! Rendering, step by step:
//! 1. [`sources`]: the compose files the project's users run ([`super::files`]).
//! 2. [`host_vars::plan`]: which port variables follow the slot (only host ports) and which
//!    keep their value (used inside the network too); a plan variable the files use for
//!    anything else refuses.
//! 3. [`model_text`]: compose's own `config` of them (variables resolved with the sandbox's
//!    env, paths absolute, overrides merged), else [`fallback`]: the YAML merged by compose's
//!    rules, merge keys resolved.
//! 4. [`super::rewrite::apply`] with this slot's [`port_map`] and, for a sandbox, the subnets
//!    it must stay clear of ([`super::taken`]); every rewrite is a note (what
//!    `compose-file --explain` lists). `env_file` values it would change are put in
//!    `environment` around it ([`env_files`]) when the model still names env files.
//! 5. [`write`]: atomically, git-ignored, never through a link or over a file git-sandbox did
//!    not write. `up` renders every time; other commands use the last one, or render it once.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use yaml_rust2::{Yaml, YamlEmitter};

use super::rewrite::{self, Note};
use super::{Tool, invocation};
use crate::config::Config;
use crate::registry::{Instance, Kind};

mod env_files;
mod fallback;
mod host_vars;
pub use fallback::merged;
pub use host_vars::port_map;

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
    let mut map = port_map(cfg, inst);
    let vars = host_vars::plan(&files, &mut map, cfg, inst, dir)?;
    let (text, refused) = model_text(tool, cfg, inst, dir, &files, &vars)?;
    let mut doc =
        super::raw::first_doc(&text).context("compose's model of the project is not YAML")?;
    let mut inlined = Vec::new();
    if let Some(project) = files.first().and_then(|f| f.parent()) {
        super::inputs::settle_env_files(&mut doc, project);
        inlined = env_files::inline(&mut doc, project, &vars.follow);
    }
    let project = super::owner::project(inst);
    let sandbox = inst.kind == Kind::Sandbox;
    let taken = if sandbox {
        super::taken::subnets(inst, &project)
    } else {
        Vec::new()
    };
    let who = rewrite::For {
        project: &project,
        sandbox,
        uuid: inst.uuid.as_deref().filter(|_| !super::owner::legacy(inst)),
        taken: &taken,
    };
    let mut notes = vars.notes;
    notes.extend(rewrite::apply(&mut doc, &map, &who));
    env_files::settle(&mut doc, inlined, &mut notes);
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

/// Step 3: compose's `config` of the files, else the files merged here ([`fallback`], with
/// compose's reason for refusing them). Variables that only publish a host port
/// (`"${PORT}:8080"`) are set to this slot's port for it, so a loopback URL of it
/// (`PUBLIC_URL: http://localhost:${PORT}`) agrees; those used inside the network too keep
/// their value ([`host_vars`]).
fn model_text(
    tool: &Tool,
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    files: &[PathBuf],
    vars: &host_vars::Vars,
) -> Result<(String, Option<String>)> {
    let out = invocation(tool, cfg, inst, dir, files)?
        .envs(vars.follow.iter().map(|(k, v)| (k, v)))
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
    let merged =
        fallback::model(files, vars).with_context(|| format!("compose refused it: {why}"))?;
    let mut s = String::new();
    YamlEmitter::new(&mut s).dump(&merged)?;
    Ok((s, Some(why)))
}

/// Step 5: the text in `<dir>/.sandbox/compose.yml`, atomically.
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
