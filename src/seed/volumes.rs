//! Which volumes a seed copies, from where, into what. The sandbox's side comes from its
//! rendered compose model (each volume key the stack creates, its driver, options and labels;
//! its real name `<project>_<key>`); the source side from the engine: the volume compose made
//! for that key in the main checkout's project (by compose's own labels), or local-prod's.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::docker;
use crate::compose::owner::{LABEL, PROJECT_LABEL};
use crate::config::Seed;
use crate::error::UserError;

/// compose's label naming a volume's key.
pub const VOLUME_LABEL: &str = "com.docker.compose.volume";

/// One volume of the sandbox's model, as compose would create it.
#[derive(Clone, Debug)]
pub struct Target {
    pub key: String,
    /// `<project>_<key>`.
    pub name: String,
    pub driver: Option<String>,
    pub opts: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    /// The image of a service that mounts it, for the helper containers.
    pub image: Option<String>,
}

/// The volumes of the rendered model `file` that the stack creates (not `external`).
pub fn of_model(file: &Path, project: &str) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(file)?;
    // The rendered file is JSON after its comment lines.
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let doc: Value = serde_json::from_str(&body)?;
    let mut out = Vec::new();
    let Some(vols) = doc["volumes"].as_object() else {
        return Ok(out);
    };
    for (key, v) in vols {
        if !matches!(v["external"], Value::Null | Value::Bool(false)) {
            continue;
        }
        let pairs = |v: &Value| -> Vec<(String, String)> {
            v.as_object()
                .map(|m| m.iter().map(|(k, x)| (k.clone(), text_of(x))).collect())
                .unwrap_or_default()
        };
        out.push(Target {
            key: key.clone(),
            name: format!("{project}_{key}"),
            driver: v["driver"].as_str().map(String::from),
            opts: pairs(&v["driver_opts"]),
            labels: pairs(&v["labels"]),
            image: image_mounting(&doc, key),
        });
    }
    Ok(out)
}

fn text_of(v: &Value) -> String {
    v.as_str()
        .map(String::from)
        .unwrap_or_else(|| v.to_string())
}

/// The image of the first service that mounts volume `key`.
fn image_mounting(doc: &Value, key: &str) -> Option<String> {
    let services = doc["services"].as_object()?;
    services.values().find_map(|s| {
        let mounts = s["volumes"].as_array()?;
        let uses = mounts.iter().any(|m| match m {
            Value::String(s) => s.split(':').next() == Some(key),
            _ => m["source"].as_str() == Some(key),
        });
        uses.then(|| s["image"].as_str().map(String::from))
            .flatten()
    })
}

/// The targets `seed` names, in the model's order; an error names a key the model lacks.
pub fn chosen(all: Vec<Target>, seed: &Seed) -> Result<Vec<Target>> {
    let Seed::Keys(keys) = seed else {
        return Ok(all);
    };
    if let Some(k) = keys.iter().find(|k| !all.iter().any(|t| &t.key == *k)) {
        let known: Vec<&str> = all.iter().map(|t| t.key.as_str()).collect();
        return Err(UserError::new(format!(
            "[compose] seed names volume {k:?}, which the compose file does not create"
        ))
        .hint(format!(
            "name one of: {} (external volumes are shared, never seeded)",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
        .into());
    }
    Ok(all.into_iter().filter(|t| keys.contains(&t.key)).collect())
}

/// Where a seed reads from.
#[derive(Clone, Debug)]
pub struct Origin {
    /// `main` or `local-prod`.
    pub label: String,
    /// Its compose project.
    pub project: String,
    /// The uuid its volumes carry (local-prod's), or none (the main checkout's).
    pub uuid: Option<String>,
}

/// The main checkout's compose project: the one its containers name as their working
/// directory, else compose's default for that directory (`COMPOSE_PROJECT_NAME` in its `.env`,
/// else the directory's name in compose's alphabet).
pub fn main_project(dir: &Path) -> String {
    let want = dir.display().to_string();
    let format = format!(
        "{{{{.Label \"{PROJECT_LABEL}\"}}}}\t{{{{.Label \"com.docker.compose.project.working_dir\"}}}}"
    );
    if let Ok(out) = docker(&["ps", "-a", "--format", &format]) {
        let found = out.lines().find_map(|l| {
            let (p, w) = l.split_once('\t')?;
            (w.trim() == want && !p.is_empty()).then(|| p.to_string())
        });
        if let Some(p) = found {
            return p;
        }
    }
    let env = crate::compose::raw::dotenv(&dir.join(".env"));
    if let Some((_, v)) = env
        .iter()
        .find(|(k, v)| k == "COMPOSE_PROJECT_NAME" && !v.is_empty())
    {
        return v.clone();
    }
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = base
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    name.trim_start_matches(['-', '_']).to_string()
}

/// The source volume of `key` in `origin`'s project: found by compose's labels, and only if
/// it carries no sandbox's uuid but `origin`'s own.
pub fn source(origin: &Origin, key: &str) -> Result<String> {
    let format = format!("{{{{.Name}}}}\t{{{{.Label \"{LABEL}\"}}}}");
    let out = docker(&[
        "volume",
        "ls",
        "--filter",
        &format!("label={PROJECT_LABEL}={}", origin.project),
        "--filter",
        &format!("label={VOLUME_LABEL}={key}"),
        "--format",
        &format,
    ])
    .map_err(|e| UserError::new(format!("cannot ask the Docker engine: {e}")))?;
    let found: Vec<(&str, &str)> = out
        .lines()
        .filter_map(|l| l.split_once('\t').or(Some((l, ""))))
        .map(|(n, o)| (n.trim(), o.trim()))
        .filter(|(n, o)| !n.is_empty() && origin.uuid.as_deref().unwrap_or("") == *o)
        .collect();
    match found.as_slice() {
        [(name, _)] => Ok(name.to_string()),
        [] => Err(UserError::new(format!(
            "{}'s stack (compose project {}) has no volume {key} to seed from",
            origin.label, origin.project
        ))
        .hint(format!(
            "start it once (`docker-compose up` in the {} checkout), or leave {key} out of [compose] seed",
            origin.label
        ))
        .into()),
        many => Err(UserError::new(format!(
            "{} volumes of project {} claim key {key}: {}",
            many.len(),
            origin.project,
            many.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}

/// What the engine says of the target volume: absent, or present with its uuid label.
pub fn inspect(name: &str) -> Result<Option<String>> {
    let format = format!("{{{{index .Labels \"{LABEL}\"}}}}");
    match docker(&["volume", "inspect", "--format", &format, name]) {
        Ok(owner) => Ok(Some(owner.trim().to_string())),
        Err(e) if e.to_lowercase().contains("no such volume") => Ok(None),
        Err(e) => {
            Err(UserError::new(format!("cannot ask the Docker engine about {name}: {e}")).into())
        }
    }
}

/// Running containers that mount `name`.
pub fn users(name: &str, running_only: bool) -> Result<Vec<String>> {
    let filter = format!("volume={name}");
    let mut args = vec!["ps", "--filter", &filter, "--format", "{{.Names}}"];
    if !running_only {
        args.insert(1, "-a");
    }
    let out =
        docker(&args).map_err(|e| UserError::new(format!("cannot ask the Docker engine: {e}")))?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Creates `t` as compose would (its driver, options, labels, compose's own labels) so
/// compose takes it as the stack's, plus the sandbox's uuid.
pub fn create(t: &Target, project: &str, uuid: &str, version: &str) -> Result<(), String> {
    let mut args: Vec<String> = vec!["volume".into(), "create".into()];
    if let Some(d) = &t.driver {
        args.extend(["--driver".into(), d.clone()]);
    }
    for (k, v) in &t.opts {
        args.extend(["--opt".into(), format!("{k}={v}")]);
    }
    let mut labels = t.labels.clone();
    labels.retain(|(k, _)| k != LABEL);
    labels.push((LABEL.into(), uuid.into()));
    labels.push((PROJECT_LABEL.into(), project.into()));
    labels.push((VOLUME_LABEL.into(), t.key.clone()));
    labels.push(("com.docker.compose.version".into(), version.into()));
    for (k, v) in labels {
        args.extend(["--label".into(), format!("{k}={v}")]);
    }
    args.push(t.name.clone());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    docker(&a).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Vec<Target> {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("compose.yml");
        std::fs::write(&file, format!("# Written by git-sandbox\n{text}")).expect("write");
        of_model(&file, "app--a").expect("model")
    }

    #[test]
    fn targets_are_the_volumes_the_stack_creates_under_its_project() {
        let t = model(
            r#"{"services": {"db": {"image": "pg:16", "volumes": ["dbdata:/var/lib/x:rw"]},
                "w": {"image": "w", "volumes": [{"type": "volume", "source": "cache", "target": "/c"}]}},
               "volumes": {"dbdata": {"driver_opts": {"type": "tmpfs", "o": "size=1m"},
                                      "labels": {"a": "b"}},
                           "cache": {}, "shared": {"external": true, "name": "s"}}}"#,
        );
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["app--a_dbdata", "app--a_cache"]);
        assert_eq!(t[0].image.as_deref(), Some("pg:16"));
        assert_eq!(t[1].image.as_deref(), Some("w"));
        assert!(t[0].opts.contains(&("o".into(), "size=1m".into())));
        let only = chosen(t.clone(), &Seed::Keys(vec!["dbdata".into()])).expect("known");
        assert_eq!(only.len(), 1);
        let err = chosen(t, &Seed::Keys(vec!["shared".into()])).expect_err("external");
        assert!(err.to_string().contains("does not create"), "{err}");
    }

    #[test]
    fn main_project_is_composes_default_for_the_directory() {
        let dir = tempfile::tempdir().expect("tmp");
        let main = dir.path().join("My.App_1");
        std::fs::create_dir(&main).expect("dir");
        assert_eq!(main_project(&main), "myapp_1");
        std::fs::write(main.join(".env"), "COMPOSE_PROJECT_NAME=custom\n").expect("env");
        assert_eq!(main_project(&main), "custom");
    }
}
