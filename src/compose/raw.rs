//! The project's compose files as written, before compose resolves them: every `ports:` list
//! anywhere in them (under a service, or in an `x-` block an anchor reuses), with the service
//! it is under ("" outside `services:`). The renderer learns from them which host ports are
//! literal (the main checkout's own) and which come from variables.

use std::fs;
use std::path::{Path, PathBuf};

use yaml_rust2::Yaml;

use super::ports::Entry;

/// The first document of a YAML text; `None` when it is not YAML or empty.
pub fn first_doc(text: &str) -> Option<Yaml> {
    super::load::load(text)
        .ok()
        .and_then(|mut d| (!d.is_empty()).then(|| d.remove(0)))
}

/// Why `file` cannot be read as YAML, when it cannot (a missing file is not said here).
pub fn unreadable(file: &Path) -> Option<String> {
    let text = fs::read_to_string(file).ok()?;
    super::load::load(&text).err().map(|e| e.to_string())
}

/// The first document of a YAML file; `None` when it cannot be read or is not YAML.
pub fn load(file: &Path) -> Option<Yaml> {
    first_doc(&fs::read_to_string(file).ok()?)
}

/// The `KEY=VALUE` lines of an env file (`export ` and quotes taken off), in order; empty when
/// it cannot be read.
pub fn dotenv(file: &Path) -> Vec<(String, String)> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().split_once('='))
        .map(|(k, v)| {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            (
                k.trim().trim_start_matches("export ").to_string(),
                v.to_string(),
            )
        })
        .collect()
}

/// Each `ports:` entry of the files, with its service.
pub fn ports(files: &[PathBuf]) -> Vec<(String, Entry)> {
    let mut out = Vec::new();
    for doc in files.iter().filter_map(|f| load(f)) {
        walk(&doc, "", true, &mut out);
    }
    out
}

fn walk(y: &Yaml, service: &str, top: bool, out: &mut Vec<(String, Entry)>) {
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                match (k.as_str(), v) {
                    (Some("ports"), Yaml::Array(list)) => out.extend(
                        list.iter()
                            .filter_map(Entry::parse)
                            .map(|e| (service.to_string(), e)),
                    ),
                    (Some("services"), Yaml::Hash(services)) if top => {
                        for (name, svc) in services {
                            walk(svc, name.as_str().unwrap_or_default(), false, out);
                        }
                    }
                    _ => walk(v, service, false, out),
                }
            }
        }
        Yaml::Array(a) => a.iter().for_each(|v| walk(v, service, false, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::ports::Host;

    #[test]
    fn ports_in_anchors_and_services_are_found() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("c.yml");
        fs::write(
            &f,
            "x-web: &web\n  ports: [\"${WEB_PORT:-30500}:8080\"]\nservices:\n  web:\n    <<: *web\n  metrics:\n    ports: [\"30301:8080\"]\n",
        )
        .expect("write");
        let found = ports(&[f]);
        assert!(
            found
                .iter()
                .any(|(s, e)| s.is_empty() && e.host == Host::Var("WEB_PORT".into(), Some(30500)))
        );
        assert!(
            found
                .iter()
                .any(|(s, e)| s == "metrics" && e.host == Host::Ports(30301, 30301))
        );
    }
}
