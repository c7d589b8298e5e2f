//! Bind mounts that cannot be true on a remote engine: a bind mount's source is a path of the
//! engine's host, so the worktree (or any path of this machine) would be empty there, or
//! someone else's. `up` on a remote engine refuses them, naming each service and path and the
//! ways out, unless `--force`. Named volumes (and seeding them) work on any engine. A port
//! published on the engine host's loopback is said: this machine cannot reach it there.

use std::path::Path;

use anyhow::Result;
use yaml_rust2::Yaml;

use super::Engine;
use crate::error::UserError;
use crate::registry::Instance;

/// One bind mount: its service and its source path.
#[derive(Debug, PartialEq, Eq)]
pub struct Bind {
    pub service: String,
    pub source: String,
}

/// The bind mounts of a compose model: long form `type: bind`, or a short form whose source
/// is a path (`./src:/app`, `/data:/data`, `~/x:/x`), not a volume name.
pub fn of_model(doc: &Yaml) -> Vec<Bind> {
    let Some(services) = doc["services"].as_hash() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, svc) in services {
        let service = name.as_str().unwrap_or_default().to_string();
        for v in svc["volumes"].as_vec().into_iter().flatten() {
            let source = match v {
                Yaml::String(s) => short_source(s),
                Yaml::Hash(_) if v["type"].as_str() == Some("bind") => {
                    v["source"].as_str().map(String::from)
                }
                _ => None,
            };
            if let Some(source) = source {
                out.push(Bind {
                    service: service.clone(),
                    source,
                });
            }
        }
    }
    out
}

fn short_source(s: &str) -> Option<String> {
    let source = s.split(':').next()?;
    source
        .starts_with(['/', '.', '~'])
        .then(|| source.to_string())
}

/// The services of a compose model that publish a port on a loopback address of the engine's
/// host (`127.0.0.1:8080:80`, long form `host_ip: 127.0.0.1`): on a remote engine, nothing
/// on this machine reaches them.
pub fn loopback(doc: &Yaml) -> Vec<String> {
    let Some(services) = doc["services"].as_hash() else {
        return Vec::new();
    };
    let is_loop = |ip: &str| ip.starts_with("127.") || ip == "::1" || ip == "[::1]";
    let mut out = Vec::new();
    for (name, svc) in services {
        let hit = svc["ports"]
            .as_vec()
            .into_iter()
            .flatten()
            .any(|p| match p {
                Yaml::String(s) => {
                    s.matches(':').count() >= 2
                        && is_loop(s.rsplitn(3, ':').last().unwrap_or_default())
                }
                Yaml::Hash(_) => p["host_ip"].as_str().is_some_and(is_loop),
                _ => false,
            });
        if hit {
            out.push(name.as_str().unwrap_or_default().to_string());
        }
    }
    out
}

/// Refuses `up` of `inst` on a remote `engine` while its rendered file bind-mounts paths of
/// this machine, unless `force` (then each is a warning).
pub fn check(engine: &Engine, inst: &Instance, file: &Path, force: bool) -> Result<()> {
    if engine.is_local() {
        return Ok(());
    }
    let doc = crate::compose::raw::load(file).unwrap_or(Yaml::Null);
    let lo = loopback(&doc);
    if !lo.is_empty() {
        crate::ui::warn(&format!(
            "{} publish(es) ports on a loopback address of engine {}'s host: only that host reaches them, not this machine (publish on all addresses to use SANDBOX_URL_* from here)",
            lo.join(", "),
            engine.shown()
        ));
    }
    let binds = of_model(&doc);
    if binds.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = binds
        .iter()
        .map(|b| format!("  service {}: bind mount of {}", b.service, b.source))
        .collect();
    if force {
        crate::ui::warn(&format!(
            "engine {} runs on another host: these bind mounts name paths of that host, not this machine's (--force):\n{}",
            engine.shown(),
            lines.join("\n")
        ));
        return Ok(());
    }
    Err(UserError::new(format!(
        "not starting the services of {} on engine {}: a bind mount there mounts a path of the engine's host, not of this machine:\n{}",
        inst.name,
        engine.shown(),
        lines.join("\n")
    ))
    .hint("use a named volume instead (seeded with `[compose] seed`), or a sync tool your project chooses (mutagen, docker compose watch, rsync) to carry the files there")
    .hint(format!("or run it on the local engine: `git sandbox up {} --engine local`", inst.name))
    .hint("or pass --force to start it anyway, with those paths as the engine's host has them")
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Yaml {
        crate::compose::raw::first_doc(text).unwrap_or(Yaml::Null)
    }

    #[test]
    fn binds_short_and_long() {
        let doc = model(
            "services:\n  web:\n    volumes:\n      - ./src:/app\n      - data:/var/lib\n      - type: bind\n        source: /srv/x\n        target: /x\n      - type: volume\n        source: v\n        target: /v\n  db:\n    image: x\n",
        );
        let b = of_model(&doc);
        assert_eq!(
            b,
            vec![
                Bind {
                    service: "web".into(),
                    source: "./src".into()
                },
                Bind {
                    service: "web".into(),
                    source: "/srv/x".into()
                },
            ]
        );
    }

    #[test]
    fn loopback_ports_short_and_long() {
        let doc = model(
            "services:\n  a:\n    ports: [\"127.0.0.1:8080:80\"]\n  b:\n    ports: [\"8081:80\"]\n  c:\n    ports:\n      - target: 80\n        published: \"8082\"\n        host_ip: 127.0.0.1\n  d:\n    ports:\n      - target: 80\n        published: \"8083\"\n",
        );
        assert_eq!(loopback(&doc), vec!["a".to_string(), "c".to_string()]);
    }

    #[test]
    fn no_services_no_binds() {
        assert!(of_model(&model("x: 1\n")).is_empty());
    }
}
