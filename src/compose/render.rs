//! The rendered compose file: the project's effective compose model, rewritten for one instance
//! ([`super::rewrite`]), in `<sandbox>/.sandbox/compose.yml`. Compose runs on it with the
//! sandbox as project directory, so the project's compose files need no edit.
//!
//! Rendering, step by step:
//! 1. [`sources`]: the compose file, plus its `*.override.yml` when compose would read one.
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

use super::rewrite::{self, Note, PortMap};
use super::{Tool, find_file, invocation};
use crate::config::{Config, env_name};
use crate::env;
use crate::registry::{Instance, Kind};

/// The rendered file, relative to the sandbox.
pub const REL: &str = ".sandbox/compose.yml";

/// The first line of a rendered file.
const MARK: &str = "# Written by git-sandbox";

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

/// Step 1: the compose files compose itself would read for this directory: a standard-named
/// file brings its `.override` beside it, as `docker compose up` in the main checkout does.
pub fn sources(dir: &Path, cfg: &Config) -> Result<Vec<PathBuf>> {
    let file = find_file(dir, cfg)?;
    let mut out = vec![file.clone()];
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let standard = super::CANDIDATES[1..].contains(&name);
    if standard {
        let stem = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('.'))
            .map(|(s, _)| s.to_string())
            .unwrap_or_default();
        if let Some(o) = ["yml", "yaml"]
            .iter()
            .map(|ext| dir.join(format!("{stem}.override.{ext}")))
            .find(|p| p.is_file())
        {
            out.push(o);
        }
    }
    Ok(out)
}

/// Renders the instance's compose file (see the module doc).
pub fn render(tool: &Tool, cfg: &Config, inst: &Instance, dir: &Path) -> Result<Rendered> {
    let files = sources(dir, cfg)?;
    let text = model_text(tool, cfg, inst, dir, &files)?;
    let mut doc = YamlLoader::load_from_str(&text)
        .ok()
        .and_then(|mut d| (!d.is_empty()).then(|| d.remove(0)))
        .context("compose's model of the project is not YAML")?;
    let project = env::compose_project(&inst.id);
    let notes = rewrite::apply(
        &mut doc,
        &port_map(cfg, inst),
        &project,
        inst.kind == Kind::Sandbox,
    );
    let mut body = String::new();
    YamlEmitter::new(&mut body)
        .dump(&doc)
        .context("cannot write the rendered compose model")?;
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let text = format!(
        "{MARK} for {} from {}: regenerated on every `git sandbox up`.\n# Edit those files, not this one.\n{}\n",
        inst.name,
        names.join(" + "),
        body.trim_start_matches("---").trim_start()
    );
    let file = write(dir, &text)?;
    Ok(Rendered { file, notes })
}

/// Step 2: compose's `config` of the files, else the files merged here.
fn model_text(
    tool: &Tool,
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    files: &[PathBuf],
) -> Result<String> {
    let out = invocation(tool, cfg, inst, dir, files)?
        .arg("config")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run compose config")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let is_model = YamlLoader::load_from_str(&text)
        .is_ok_and(|d| d.first().is_some_and(|d| d.as_hash().is_some()));
    if out.status.success() && is_model {
        return Ok(text);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let merged = merged(files).with_context(|| {
        format!(
            "compose refused it: {}",
            err.trim().lines().last().unwrap_or("no reason given")
        )
    })?;
    let mut s = String::new();
    YamlEmitter::new(&mut s).dump(&merged)?;
    Ok(s)
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
    let folder = dir.join(".sandbox");
    match fs::symlink_metadata(&folder) {
        Ok(m) if !m.file_type().is_dir() => bail!("{} is not a directory", folder.display()),
        Ok(_) => {}
        Err(_) => fs::create_dir(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?,
    }
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
