//! Bind mounts that cannot be true on a remote engine: a bind mount's source is a path of the
//! engine's host, so the worktree (or any path of this machine) would be empty there, or
//! someone else's. So is a bind in disguise: a `secrets:`/`configs:` `file:` a service uses, a
//! named volume whose `driver_opts` bind a path. `up` on a remote engine refuses them, naming
//! each service or volume and path and the ways out, unless `--force`. Named volumes (and
//! seeding them) work on any engine. A port published on the engine host's loopback is said:
//! this machine cannot reach it there.

use std::path::Path;

use anyhow::Result;
use yaml_rust2::Yaml;

use super::Engine;
use crate::error::UserError;
use crate::registry::Instance;

/// One bind mount: what makes it (`service web`, `service web, secret s`, `volume data`) and
/// its source path.
#[derive(Debug, PartialEq, Eq)]
pub struct Bind {
    pub what: String,
    pub source: String,
}

/// The bind mounts of a compose model: a service's long form `type: bind`, or a short form
/// whose source is a path (`./src:/app`, `/data:/data`, `~/x:/x`), not a volume name; and the
/// ones in disguise: a `secrets:`/`configs:` entry with `file:` that a service uses (compose
/// bind-mounts the file), and a named volume whose `driver_opts` bind a path (`type: none`,
/// `o: bind`, `device: /path`).
pub fn of_model(doc: &Yaml) -> Vec<Bind> {
    let mut out = Vec::new();
    for (name, svc) in doc["services"].as_hash().into_iter().flatten() {
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
                    what: format!("service {service}"),
                    source,
                });
            }
        }
        for kind in ["secrets", "configs"] {
            out.extend(file_refs(doc, svc, &service, kind));
        }
    }
    out.extend(bound_volumes(doc));
    out
}

/// The `file:` entries of top-level `kind` (`secrets`/`configs`) that `svc` uses (short form
/// `- name`, long form `source: name`).
fn file_refs(doc: &Yaml, svc: &Yaml, service: &str, kind: &str) -> Vec<Bind> {
    let singular = kind.trim_end_matches('s');
    let used = svc[kind]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|r| match r {
            Yaml::String(s) => Some(s.as_str()),
            Yaml::Hash(_) => r["source"].as_str(),
            _ => None,
        });
    used.filter_map(|name| {
        let file = doc[kind][name]["file"].as_str()?;
        Some(Bind {
            what: format!("service {service}, {singular} {name}"),
            source: file.to_string(),
        })
    })
    .collect()
}

/// Named volumes whose `driver_opts` bind-mount a path of the engine's host (the local driver's
/// `type: none` or `o: bind` with a `device:`); an NFS device and the like are not paths here.
fn bound_volumes(doc: &Yaml) -> Vec<Bind> {
    let mut out = Vec::new();
    for (name, vol) in doc["volumes"].as_hash().into_iter().flatten() {
        let opts = &vol["driver_opts"];
        let Some(device) = opts["device"].as_str() else {
            continue;
        };
        let bind_opt = opts["o"]
            .as_str()
            .is_some_and(|o| o.split(',').any(|x| x.trim() == "bind"));
        if bind_opt || opts["type"].as_str() == Some("none") {
            out.push(Bind {
                what: format!("volume {}", name.as_str().unwrap_or_default()),
                source: device.to_string(),
            });
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
        .map(|b| format!("  {}: bind mount of {}", b.what, b.source))
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
                    what: "service web".into(),
                    source: "./src".into()
                },
                Bind {
                    what: "service web".into(),
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
    fn binds_in_disguise() {
        let doc = model(
            "services:\n  web:\n    secrets: [s, e]\n    configs:\n      - source: c\n        target: /c\n  db:\n    image: x\nsecrets:\n  s:\n    file: ./s.txt\n  e:\n    environment: X\n  unused:\n    file: /u\nconfigs:\n  c:\n    file: /etc/c.conf\nvolumes:\n  a:\n    driver_opts: {type: none, o: bind, device: /srv/a}\n  b:\n    driver_opts: {o: \"rw,bind\", device: /srv/b}\n  nfs:\n    driver_opts: {type: nfs, o: \"addr=10.0.0.1,rw\", device: \":/x\"}\n  plain: {}\n",
        );
        let got: Vec<(String, String)> = of_model(&doc)
            .into_iter()
            .map(|b| (b.what, b.source))
            .collect();
        let want = [
            ("service web, secret s", "./s.txt"),
            ("service web, config c", "/etc/c.conf"),
            ("volume a", "/srv/a"),
            ("volume b", "/srv/b"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(w, s)| (w.to_string(), s.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn no_services_no_binds() {
        assert!(of_model(&model("x: 1\n")).is_empty());
    }
}
