//! The paths a project's compose files read, as written: the compose files themselves (and
//! those they `include:` or `extends:` from), the project's `.env`, each service's `env_file:` (a string, a list, or `{path:, required:}`),
//! the top-level `secrets:`/`configs:` `file:`s (required when a service uses them), and bind
//! mount sources (`./x:/y`, `{type: bind, source:}`). Variables are resolved from the
//! command's environment, then the project's `.env`, then their defaults; only paths inside
//! the repo are kept, relative to its root.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use yaml_rust2::Yaml;

/// What an input is to the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    ComposeFile,
    DotEnv,
    EnvFile,
    Secret(String),
    Config(String),
    Bind,
}

impl What {
    /// `env_file`, `secret db_pass`, …, for the user.
    pub fn label(&self) -> String {
        match self {
            What::ComposeFile => "compose file".into(),
            What::DotEnv => "the project's .env".into(),
            What::EnvFile => "env_file".into(),
            What::Secret(n) => format!("secret {n}'s file"),
            What::Config(n) => format!("config {n}'s file"),
            What::Bind => "bind mount source".into(),
        }
    }
}

/// One path the stack reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Relative to the repo's root.
    pub rel: PathBuf,
    pub what: What,
    /// The service that reads it, when one does.
    pub service: Option<String>,
    /// `up` cannot go on without it (compose refuses).
    pub required: bool,
}

/// The inputs of `files` (compose files under `root`), first mention of each path kept.
pub fn inputs(root: &Path, files: &[PathBuf]) -> Vec<Input> {
    let Some(project) = files.first().and_then(|f| f.parent()) else {
        return Vec::new();
    };
    let mut vars: BTreeMap<String, String> = super::super::raw::dotenv(&project.join(".env"))
        .into_iter()
        .collect();
    vars.insert("PWD".into(), project.to_string_lossy().into_owned());
    let at = Place {
        root,
        project,
        vars: &vars,
    };
    let mut out = Vec::new();
    for f in files {
        at.push(
            &mut out,
            &f.to_string_lossy(),
            What::ComposeFile,
            None,
            true,
        );
    }
    at.push(&mut out, ".env", What::DotEnv, None, false);
    let doc = super::super::render::merged(files).unwrap_or(Yaml::Null);
    if let Some(services) = doc["services"].as_hash() {
        for (name, svc) in services {
            let name = name.as_str().unwrap_or("?");
            env_files(&at, svc, name, &mut out);
            if let Some(file) = key(svc, "extends")["file"].as_str() {
                at.push(&mut out, file, What::ComposeFile, Some(name), true);
            }
            binds(&at, svc, name, &mut out);
        }
    }
    for item in doc["include"]
        .as_vec()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let paths: Vec<&Yaml> = match &item["path"] {
            Yaml::Array(list) => list.iter().collect(),
            Yaml::BadValue => vec![item],
            one => vec![one],
        };
        for p in paths.into_iter().filter_map(Yaml::as_str) {
            at.push(&mut out, p, What::ComposeFile, None, true);
        }
    }
    top_level(&at, &doc, "secrets", &mut out);
    top_level(&at, &doc, "configs", &mut out);
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|i| seen.insert(i.rel.clone()));
    out
}

/// Where paths are resolved.
struct Place<'a> {
    root: &'a Path,
    project: &'a Path,
    vars: &'a BTreeMap<String, String>,
}

impl Place<'_> {
    /// The path inside the repo a compose value names, if it names one.
    fn rel(&self, raw: &str) -> Option<PathBuf> {
        let value = interpolate(raw, self.vars);
        if value.is_empty() || value.starts_with('~') {
            return None;
        }
        let joined = self.project.join(&value);
        let mut norm = PathBuf::new();
        for c in joined.components() {
            match c {
                Component::ParentDir => {
                    norm.pop();
                }
                Component::CurDir => {}
                other => norm.push(other),
            }
        }
        let rel = norm.strip_prefix(self.root).ok()?;
        (!rel.as_os_str().is_empty()).then(|| rel.to_path_buf())
    }

    fn push(
        &self,
        out: &mut Vec<Input>,
        raw: &str,
        what: What,
        service: Option<&str>,
        required: bool,
    ) {
        if let Some(rel) = self.rel(raw) {
            out.push(Input {
                rel,
                what,
                service: service.map(String::from),
                required,
            });
        }
    }
}

/// A service's key, also through a merge key (`<<: *base` or a list of them).
fn key<'y>(svc: &'y Yaml, k: &str) -> &'y Yaml {
    let own = &svc[k];
    if !own.is_badvalue() {
        return own;
    }
    match &svc["<<"] {
        Yaml::Array(list) => list
            .iter()
            .map(|b| key(b, k))
            .find(|v| !v.is_badvalue())
            .unwrap_or(own),
        base @ Yaml::Hash(_) => key(base, k),
        _ => own,
    }
}

fn env_files(at: &Place, svc: &Yaml, name: &str, out: &mut Vec<Input>) {
    let items: Vec<&Yaml> = match key(svc, "env_file") {
        Yaml::Array(list) => list.iter().collect(),
        one => vec![one],
    };
    for item in items {
        let (path, required) = match item {
            Yaml::String(s) => (s.as_str(), true),
            Yaml::Hash(_) => (
                item["path"].as_str().unwrap_or_default(),
                item["required"].as_bool().unwrap_or(true),
            ),
            _ => continue,
        };
        at.push(out, path, What::EnvFile, Some(name), required);
    }
}

fn binds(at: &Place, svc: &Yaml, name: &str, out: &mut Vec<Input>) {
    for v in key(svc, "volumes")
        .as_vec()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if let Some(source) = bind_source(v) {
            at.push(out, &source, What::Bind, Some(name), false);
        }
    }
}

/// The host path of a bind mount entry (short `./x:/y[:ro]` or long `type: bind`); `None` for a
/// named or anonymous volume.
pub fn bind_source(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => {
            let (source, _) = s.split_once(':')?;
            source
                .starts_with(['.', '/', '~', '$'])
                .then(|| source.to_string())
        }
        Yaml::Hash(_) if v["type"].as_str() == Some("bind") => {
            v["source"].as_str().map(String::from)
        }
        _ => None,
    }
}

/// `secrets:`/`configs:` entries with a `file:`; required when a service uses them (compose
/// refuses a used one whose file is missing), named after the first such service.
fn top_level(at: &Place, doc: &Yaml, kind: &str, out: &mut Vec<Input>) {
    let Some(items) = doc[kind].as_hash() else {
        return;
    };
    for (k, v) in items {
        let Some(name) = k.as_str() else { continue };
        let Some(file) = v["file"].as_str() else {
            continue;
        };
        let user = users(doc, kind, name);
        let what = if kind == "secrets" {
            What::Secret(name.into())
        } else {
            What::Config(name.into())
        };
        at.push(out, file, what, user.as_deref(), user.is_some());
    }
}

/// The first service whose `secrets:`/`configs:` list names `name`.
fn users(doc: &Yaml, kind: &str, name: &str) -> Option<String> {
    doc["services"]
        .as_hash()?
        .iter()
        .find_map(|(svc_name, svc)| {
            let uses = key(svc, kind)
                .as_vec()?
                .iter()
                .any(|u| u.as_str() == Some(name) || u["source"].as_str() == Some(name));
            uses.then(|| svc_name.as_str().unwrap_or("?").to_string())
        })
}

/// Compose's variable syntax with the values known here (the environment first): `$$`,
/// `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR:+alt}`.
pub fn interpolate(s: &str, vars: &BTreeMap<String, String>) -> String {
    // `${PWD}` is the project's directory, never the caller's.
    let lookup = |k: &str| match k {
        "PWD" => vars.get(k).cloned(),
        _ => std::env::var(k).ok().or_else(|| vars.get(k).cloned()),
    };
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            out.push_str(&braced(&body[..end], &lookup));
            rest = &body[end + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            out.push_str(&lookup(&after[..end]).unwrap_or_default());
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    out
}

fn braced(body: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (name, op) = body.split_at(end);
    let value = lookup(name);
    let set = value.as_deref().is_some_and(|v| !v.is_empty());
    if let Some(d) = op.strip_prefix(":-") {
        return if set {
            value.unwrap_or_default()
        } else {
            d.into()
        };
    }
    if let Some(d) = op.strip_prefix('-') {
        return value.unwrap_or_else(|| d.into());
    }
    if let Some(alt) = op.strip_prefix(":+") {
        return if set { alt.into() } else { String::new() };
    }
    if let Some(alt) = op.strip_prefix('+') {
        return if value.is_some() {
            alt.into()
        } else {
            String::new()
        };
    }
    value.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_env_files_secrets_and_binds_inside_the_repo() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        let f = root.join("compose.yml");
        std::fs::write(
            &f,
            "x-base: &base\n  env_file: [common.env, {path: opt.env, required: false}]\n\
             services:\n  web:\n    <<: *base\n    secrets: [pw]\n    volumes:\n      - ./conf:/etc/conf:ro\n      - data:/data\n      - /var/run/docker.sock:/var/run/docker.sock\n      - type: bind\n        source: ${CONF_DIR:-./more}\n        target: /more\n\
             secrets:\n  pw:\n    file: ./secrets/pw.txt\n  unused:\n    file: ../outside.txt\n",
        )
        .expect("write");
        let found = inputs(root, &[f]);
        let get = |p: &str| found.iter().find(|i| i.rel == Path::new(p)).cloned();
        assert_eq!(get("compose.yml").map(|i| i.what), Some(What::ComposeFile));
        assert!(
            get("common.env").is_some_and(|i| i.required && i.service.as_deref() == Some("web"))
        );
        assert!(get("opt.env").is_some_and(|i| !i.required));
        assert!(get("secrets/pw.txt").is_some_and(|i| i.required));
        assert!(get("conf").is_some_and(|i| i.what == What::Bind && !i.required));
        assert!(get("more").is_some());
        assert!(
            found
                .iter()
                .all(|i| !i.rel.starts_with("var") && !i.rel.starts_with(".."))
        );
    }

    #[test]
    fn interpolation_follows_compose() {
        let vars: BTreeMap<String, String> = [("A".to_string(), "x".to_string())].into();
        assert_eq!(
            interpolate("${A}/${GS_NOPE:-d}/$A/$$A/${GS_NOPE-e}", &vars),
            "x/d/x/$A/e"
        );
    }
}
