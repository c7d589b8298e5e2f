//! `env_file:` values the rewrite would change. Compose's `config` (1.29 and v2) puts the env
//! files' variables into `environment`, but a model it did not give (the fallback renderer's,
//! or a compose that keeps `env_file:`) still names the files, and a loopback URL, a scoped
//! name, a moved address or a port variable that follows, written in one, would reach the
//! container unchanged. Around [`crate::compose::rewrite::apply`]:
//! 1. [`inline`]: each service's env-file variables not set in its `environment` go there (a
//!    port variable that follows the slot with the slot's value);
//! 2. the rewrite runs on them like on any environment value;
//! 3. [`settle`]: those it left as the file says go again; those it changed stay in
//!    `environment` (which wins over `env_file` in compose), each a note.

use std::path::Path;

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use crate::compose::rewrite::Note;

/// One variable put into a service's `environment` from its env file.
pub struct Inlined {
    service: String,
    key: String,
    /// As the file says.
    value: String,
    /// The file, relative to the project directory when in it.
    file: String,
}

fn key(s: &str) -> Yaml {
    Yaml::String(s.to_string())
}

/// Step 1 (see the module doc). `project` is compose's project directory, `follow` the port
/// variables that follow the slot and their values.
pub fn inline(doc: &mut Yaml, project: &Path, follow: &[(String, String)]) -> Vec<Inlined> {
    let mut out = Vec::new();
    let Some(Yaml::Hash(services)) = doc.as_mut_hash().and_then(|t| t.get_mut(&key("services")))
    else {
        return out;
    };
    for (name, svc) in services.iter_mut() {
        let service = name.as_str().unwrap_or_default().to_string();
        let Yaml::Hash(svc) = svc else { continue };
        for file in env_files(svc) {
            let path = project.join(&file);
            let shown = path.strip_prefix(project).unwrap_or(&path);
            let shown = shown.display().to_string();
            for (k, v) in crate::compose::raw::dotenv(&path) {
                if k.is_empty() || k.starts_with('#') || get(svc, &k).is_some() {
                    continue;
                }
                let given = follow
                    .iter()
                    .find(|(f, _)| *f == k)
                    .map_or(v.clone(), |(_, p)| p.clone());
                set(svc, &k, &given);
                out.push(Inlined {
                    service: service.clone(),
                    key: k,
                    value: v,
                    file: shown.clone(),
                });
            }
        }
    }
    out
}

/// Step 3 (see the module doc).
pub fn settle(doc: &mut Yaml, inlined: Vec<Inlined>, notes: &mut Vec<Note>) {
    let Some(Yaml::Hash(services)) = doc.as_mut_hash().and_then(|t| t.get_mut(&key("services")))
    else {
        return;
    };
    for i in inlined {
        let Some(Yaml::Hash(svc)) = services.get_mut(&key(&i.service)) else {
            continue;
        };
        match get(svc, &i.key) {
            Some(now) if now != i.value => notes.push(Note {
                text: format!(
                    "service {}: env_file {} {}={} → environment {}={now} (compose does not rewrite env files; environment wins over them)",
                    i.service, i.file, i.key, i.value, i.key
                ),
                blocking: false,
            }),
            _ => remove(svc, &i.key),
        }
    }
}

/// The service's env files, as the model names them (a string or a list of strings).
fn env_files(svc: &Hash) -> Vec<String> {
    match svc.get(&key("env_file")) {
        Some(Yaml::String(f)) => vec![f.clone()],
        Some(Yaml::Array(list)) => list
            .iter()
            .filter_map(|f| f.as_str().or_else(|| f["path"].as_str()))
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// The value of `k` in the service's `environment` (map or `K=V` list; a bare `K` counts as
/// set, compose takes it from the shell).
fn get(svc: &Hash, k: &str) -> Option<String> {
    match svc.get(&key("environment"))? {
        Yaml::Hash(env) => env.get(&key(k)).map(|v| match v {
            Yaml::String(s) | Yaml::Real(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            Yaml::Boolean(b) => b.to_string(),
            _ => String::new(),
        }),
        Yaml::Array(list) => {
            list.iter()
                .filter_map(Yaml::as_str)
                .find_map(|e| match e.split_once('=') {
                    Some((name, v)) if name == k => Some(v.to_string()),
                    None if e == k => Some(String::new()),
                    _ => None,
                })
        }
        _ => None,
    }
}

fn set(svc: &mut Hash, k: &str, v: &str) {
    let env = svc
        .entry(key("environment"))
        .or_insert_with(|| Yaml::Hash(Hash::new()));
    match env {
        Yaml::Array(list) => list.push(key(&format!("{k}={v}"))),
        Yaml::Hash(map) => {
            map.insert(key(k), key(v));
        }
        other => {
            let mut map = Hash::new();
            map.insert(key(k), key(v));
            *other = Yaml::Hash(map);
        }
    }
}

fn remove(svc: &mut Hash, k: &str) {
    let empty = match svc.get_mut(&key("environment")) {
        Some(Yaml::Hash(map)) => {
            map.remove(&key(k));
            map.is_empty()
        }
        Some(Yaml::Array(list)) => {
            list.retain(|e| e.as_str().is_none_or(|e| e.split('=').next() != Some(k)));
            list.is_empty()
        }
        _ => false,
    };
    if empty {
        svc.remove(&key("environment"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::rewrite::{For, PortMap, apply};

    #[test]
    fn only_env_file_values_the_rewrite_changes_land_in_environment() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("app.env"),
            "# URL=x\nURL=http://localhost:8000/\nSCHEMA=plain\nSET=http://localhost:8000\nAPI_PORT=8000\nDOCKER_NETWORK=fixednet\n",
        )
        .expect("write");
        let mut doc = yaml_rust2::YamlLoader::load_from_str(
            "services:\n  a:\n    image: x\n    ports: ['8000:80']\n    env_file: [app.env]\n    environment: {SET: kept}\n  b:\n    image: x\n    env_file: app.env\nnetworks:\n  n: {name: fixednet}\n",
        )
        .expect("yaml")
        .remove(0);
        let follow = [("API_PORT".to_string(), "8003".to_string())];
        let inlined = inline(&mut doc, dir.path(), &follow);
        let map = PortMap {
            literals: [8000].into(),
            entries: vec![("a".into(), 8000, vec![8003])],
            ..PortMap::default()
        };
        let who = For {
            project: "p",
            sandbox: true,
            uuid: None,
            taken: &[],
        };
        let mut notes = apply(&mut doc, &map, &who);
        settle(&mut doc, inlined, &mut notes);
        for s in ["a", "b"] {
            let env = &doc["services"][s]["environment"];
            assert_eq!(env["URL"].as_str(), Some("http://localhost:8003/"), "{s}");
            assert_eq!(env["API_PORT"].as_str(), Some("8003"), "{s}");
            assert_eq!(env["DOCKER_NETWORK"].as_str(), Some("p_n"), "{s}");
            assert!(
                env["SCHEMA"].is_badvalue(),
                "{s}: unchanged, left to env_file"
            );
            assert!(env["# URL"].is_badvalue());
        }
        let a = &doc["services"]["a"]["environment"];
        assert_eq!(a["SET"].as_str(), Some("kept"), "environment wins");
        assert!(
            notes.iter().any(|n| n.text
                == "service b: env_file app.env URL=http://localhost:8000/ → environment URL=http://localhost:8003/ (compose does not rewrite env files; environment wins over them)"),
            "{notes:?}"
        );
    }
}
