//! The renderer's fallback, when compose's `config` refuses the project: the files' YAML with
//! their merge keys resolved ([`crate::compose::merge_keys`]), merged by compose's rules, the
//! `x-` blocks taken out, the variables that follow the slot set to its ports, and the host
//! side of ports whose variable keeps its value resolved to that value, so the rewrite can
//! move it. What is left of `${…}` compose resolves at `up`, with the same env.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use yaml_rust2::Yaml;

use super::host_vars::Vars;
use crate::compose::merge_keys;
use crate::compose::ports::{Entry, Host};

/// The model built from the files themselves (see the module doc).
pub fn model(files: &[PathBuf], vars: &Vars) -> Result<Yaml> {
    let mut doc = merged(files)?;
    merge_keys::drop_extensions(&mut doc);
    let follow = |name: &str| {
        vars.follow
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    substitute(&mut doc, &follow);
    kept_hosts(&mut doc, vars);
    Ok(doc)
}

/// The files' YAML, merge keys resolved, merged by compose's rules; an error names a file that
/// is not YAML.
pub fn merged(files: &[PathBuf]) -> Result<Yaml> {
    let mut merged: Option<Yaml> = None;
    for f in files {
        let text = fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let mut docs = crate::compose::load::load(&text).map_err(|e| {
            crate::error::UserError::new(format!("{}: {e}", f.display())).hint(
                "fix the compose file; `docker compose config` shows what compose makes of it",
            )
        })?;
        let doc = if docs.is_empty() {
            Yaml::Null
        } else {
            merge_keys::resolve(docs.remove(0))
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

/// Every string of `y` with the variables `value` knows replaced.
fn substitute(y: &mut Yaml, value: &dyn Fn(&str) -> Option<String>) {
    match y {
        Yaml::String(s) if s.contains('$') => *s = crate::compose::vars::substitute(s, value),
        Yaml::Array(a) => a.iter_mut().for_each(|v| substitute(v, value)),
        Yaml::Hash(h) => h.iter_mut().for_each(|(_, v)| substitute(v, value)),
        _ => {}
    }
}

/// A published port whose host side is a variable that keeps its value: that value, literal.
fn kept_hosts(doc: &mut Yaml, vars: &Vars) {
    let Yaml::Hash(top) = doc else { return };
    let Some(Yaml::Hash(services)) = top.get_mut(&Yaml::String("services".into())) else {
        return;
    };
    for svc in services.values_mut() {
        let Yaml::Hash(svc) = svc else { continue };
        let Some(Yaml::Array(list)) = svc.get_mut(&Yaml::String("ports".into())) else {
            continue;
        };
        for item in list.iter_mut() {
            let Some(mut e) = Entry::parse(item) else {
                continue;
            };
            let Host::Var(v, _) = &e.host else { continue };
            if let Some((_, q)) = vars.kept.iter().find(|(k, _)| k == v) {
                e.host = Host::Ports(*q, *q);
                *item = e.to_yaml();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Yaml {
        yaml_rust2::YamlLoader::load_from_str(s)
            .expect("yaml")
            .remove(0)
    }

    #[test]
    fn override_lists_add_up_and_maps_merge() {
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

    #[test]
    fn merge_keys_resolve_and_only_host_sides_move() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("compose.yml");
        fs::write(
            &f,
            "x-svc: &svc\n  image: i\n  x-doc: \"${USER^^}\"\nservices:\n  db:\n    <<: *svc\n    ports: [\"${DB_PORT:-5432}:${DB_PORT:-5432}\"]\n  web:\n    <<: *svc\n    ports: [\"${WEB_PORT:-8000}:80\"]\n    environment: {URL: \"http://localhost:${WEB_PORT}\", DB: \"db:${DB_PORT}\", HOME: \"$$HOME\"}\n",
        )
        .expect("write");
        let vars = Vars {
            follow: vec![("WEB_PORT".into(), "8001".into())],
            kept: vec![("DB_PORT".into(), 5432)],
            notes: Vec::new(),
        };
        let doc = model(&[f], &vars).expect("model");
        assert!(doc["x-svc"].is_badvalue());
        let web = &doc["services"]["web"];
        assert_eq!(web["image"].as_str(), Some("i"));
        assert!(web["x-doc"].is_badvalue() && web["<<"].is_badvalue());
        assert_eq!(web["ports"][0].as_str(), Some("8001:80"));
        assert_eq!(
            web["environment"]["URL"].as_str(),
            Some("http://localhost:8001")
        );
        assert_eq!(web["environment"]["DB"].as_str(), Some("db:${DB_PORT}"));
        assert_eq!(web["environment"]["HOME"].as_str(), Some("$$HOME"));
        assert_eq!(
            doc["services"]["db"]["ports"][0].as_str(),
            Some("5432:${DB_PORT:-5432}")
        );
    }
}
