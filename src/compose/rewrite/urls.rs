//! Literal host URLs in environment values (step 1b of the rewrite): `localhost:<port>`,
//! `127.0.0.1:<port>`, `[::1]:<port>`, `0.0.0.0:<port>`, and the host as a container reaches it
//! (`host.docker.internal`, the default bridge's gateway `172.17.0.1`, and any name a service's
//! `extra_hosts` maps to `host-gateway`), where `<port>` is a host port the compose file
//! publishes (one port or inside a published range), become this slot's port for it
//! (`http://localhost:8000` → `http://localhost:8001`). A port the file does not publish, and
//! any other host (a service name, `db:5432`), is left as it is. A service's own port in its
//! own environment (`31300:31300` with `LOCAL_DOMAIN=localhost:31300`) follows too, and the
//! note says so: such a value is almost always handed out to browsers and clients on the host;
//! only a container talking to itself would want the inside port. Both forms of
//! `environment:` (map and list).
use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;

use super::{Note, key, note, services};
use crate::compose::ports::{Entry, Host};

/// The hosts that mean "this machine", from a shell on it or from a container.
const LOOPBACK: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "[::1]",
    "0.0.0.0",
    "host.docker.internal",
    "172.17.0.1",
    "host-gateway",
];

/// Whether `s[..at]` ends with a loopback host standing alone and a colon.
pub fn loopback_before(s: &str, at: usize) -> bool {
    host_before(s, at, &[])
}

/// Whether `s[..at]` ends with a loopback host, or one of `extra`, standing alone and a colon.
fn host_before(s: &str, at: usize, extra: &[String]) -> bool {
    let Some(head) = s[..at].strip_suffix(':') else {
        return false;
    };
    let alone = |h: &str| {
        head.strip_suffix(h).is_some_and(|before| {
            h.starts_with('[')
                || !before
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
    };
    LOOPBACK.iter().any(|h| alone(h)) || extra.iter().any(|h| alone(h))
}

/// `s` with each loopback URL's port that `moved` has replaced; `None` when nothing changed.
pub fn rewrite(s: &str, moved: &BTreeMap<u32, u32>) -> Option<String> {
    rewrite_with(s, moved, &[])
}

/// [`rewrite`], with `extra` host names meaning the host too.
fn rewrite_with(s: &str, moved: &BTreeMap<u32, u32>, extra: &[String]) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    let mut i = 0;
    while i < b.len() {
        let end = (i..b.len())
            .find(|&j| !b[j].is_ascii_digit())
            .unwrap_or(b.len());
        if end > i
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && host_before(s, i, extra)
            && let Some(to) = s[i..end]
                .parse::<u32>()
                .ok()
                .and_then(|p| moved.get(&p).filter(|to| **to != p))
        {
            out.push_str(&s[at..i]);
            out.push_str(&to.to_string());
            at = end;
        }
        i = end.max(i + 1);
    }
    (at > 0).then(|| {
        out.push_str(&s[at..]);
        out
    })
}

/// Step 1b: every service's environment values (see the module doc).
pub(super) fn apply(doc: &mut Yaml, moved: &BTreeMap<u32, u32>, notes: &mut Vec<Note>) {
    if moved.is_empty() {
        return;
    }
    let Some(services) = services(doc) else {
        return;
    };
    for (name, svc) in services.iter_mut() {
        let service = name.as_str().unwrap_or_default().to_string();
        let Yaml::Hash(svc) = svc else { continue };
        let own = own_ports(svc, moved);
        let extra = gateway_names(svc);
        let mut said = |var: &str, from: &str, to: &str| {
            let mine = own.iter().any(|p| names_port(from, *p));
            let why = if mine {
                "a URL of a published port; the service's own port, followed as the host's: only the container talking to itself would want the inside one"
            } else {
                "a URL of a published port"
            };
            note(
                notes,
                format!("service {service}: environment {var}: {from} → {to} ({why})"),
            );
        };
        match svc.get_mut(&key("environment")) {
            Some(Yaml::Hash(env)) => {
                for (var, value) in env.iter_mut() {
                    if let Yaml::String(v) = value
                        && let Some(new) = rewrite_with(v, moved, &extra)
                    {
                        said(var.as_str().unwrap_or_default(), v, &new);
                        *v = new;
                    }
                }
            }
            Some(Yaml::Array(env)) => {
                for item in env.iter_mut() {
                    if let Yaml::String(v) = item
                        && let Some((var, value)) = v.split_once('=')
                        && let Some(new) = rewrite_with(value, moved, &extra)
                    {
                        said(var, value, &new);
                        *v = format!("{var}={new}");
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether `s` holds `:<port>` with the port standing alone.
fn names_port(s: &str, port: u32) -> bool {
    let p = format!(":{port}");
    s.match_indices(&p).any(|(i, _)| {
        !s[i + p.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// The names a service's `extra_hosts` maps to `host-gateway` (list or map form): the host.
fn gateway_names(svc: &yaml_rust2::yaml::Hash) -> Vec<String> {
    match svc.get(&key("extra_hosts")) {
        Some(Yaml::Array(list)) => list
            .iter()
            .filter_map(|e| {
                let e = e.as_str()?;
                let at = e.find(['=', ':'])?;
                (e[at + 1..].trim() == "host-gateway").then(|| e[..at].trim().to_string())
            })
            .collect(),
        Some(Yaml::Hash(map)) => map
            .iter()
            .filter(|(_, ip)| ip.as_str() == Some("host-gateway"))
            .filter_map(|(h, _)| h.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// The container ports a service publishes on the same number outside (`5432:5432`, the host
/// side already moved by `moved`): the one case where `localhost:<port>` in its own
/// environment could be itself.
fn own_ports(svc: &yaml_rust2::yaml::Hash, moved: &BTreeMap<u32, u32>) -> BTreeSet<u32> {
    let Some(Yaml::Array(list)) = svc.get(&key("ports")) else {
        return BTreeSet::new();
    };
    list.iter()
        .filter_map(Entry::parse)
        .filter_map(|e| {
            let target = e.target.parse::<u32>().ok()?;
            let Host::Ports(h, _) = e.host else {
                return None;
            };
            (moved.get(&target) == Some(&h) || h == target).then_some(target)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_of_published_ports_move() {
        let moved: BTreeMap<u32, u32> = [(8000, 8003), (5432, 5435)].into();
        let cases = [
            (
                "http://localhost:8000/api",
                Some("http://localhost:8003/api"),
            ),
            (
                "127.0.0.1:8000,[::1]:8000",
                Some("127.0.0.1:8003,[::1]:8003"),
            ),
            ("http://0.0.0.0:5432", Some("http://0.0.0.0:5435")),
            (
                "postgres://u@localhost:5432/db",
                Some("postgres://u@localhost:5435/db"),
            ),
            ("http://localhost:80001", None),
            ("http://localhost:9000", None),
            ("db:5432", None),
            ("http://mylocalhost:8000", None),
            ("http://web.localhost:8000", None),
            ("http://localhost:8000x", Some("http://localhost:8003x")),
            ("10.127.0.0.1:8000", None),
            (
                "http://host.docker.internal:8000",
                Some("http://host.docker.internal:8003"),
            ),
            ("http://172.17.0.1:5432/", Some("http://172.17.0.1:5435/")),
            ("http://myhost.docker.internal:8000", None),
            ("http://10.172.17.0.1:8000", None),
        ];
        for (from, to) in cases {
            assert_eq!(rewrite(from, &moved).as_deref(), to, "{from}");
        }
        assert!(!loopback_before("1127.0.0.1:", 11));
    }

    #[test]
    fn both_environment_forms_are_rewritten_and_said() {
        let mut doc = yaml_rust2::YamlLoader::load_from_str(
            "services:\n  a:\n    environment: {URL: 'http://localhost:8000', DB: 'db:8000'}\n  db:\n    ports: ['8003:8000']\n    environment: {SELF: 'localhost:8000'}\n  b:\n    environment: ['URL=http://127.0.0.1:8000/x', 'N=8000']\n",
        )
        .expect("yaml")
        .remove(0);
        let mut notes = Vec::new();
        apply(&mut doc, &[(8000, 8003)].into(), &mut notes);
        let a = &doc["services"]["a"]["environment"];
        assert_eq!(a["URL"].as_str(), Some("http://localhost:8003"));
        assert_eq!(a["DB"].as_str(), Some("db:8000"));
        let b = &doc["services"]["b"]["environment"];
        assert_eq!(b[0].as_str(), Some("URL=http://127.0.0.1:8003/x"));
        assert_eq!(b[1].as_str(), Some("N=8000"));
        assert_eq!(
            doc["services"]["db"]["environment"]["SELF"].as_str(),
            Some("localhost:8003"),
            "a service's own port follows as the host's"
        );
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.text.contains("SELF") && n.text.contains("the service's own port")),
            "{notes:?}"
        );
    }

    #[test]
    fn a_gateway_name_and_a_port_in_a_published_range_follow() {
        let mut doc = yaml_rust2::YamlLoader::load_from_str(
            "services:\n  a:\n    extra_hosts: ['dockerhost:host-gateway']\n    environment: ['U=http://dockerhost:31501', 'V=http://otherhost:31501']\n  b:\n    extra_hosts: {gw: host-gateway}\n    environment: {U: 'gw:31502'}\n",
        )
        .expect("yaml")
        .remove(0);
        let moved = (31500..=31502).map(|q| (q, q + 100)).collect();
        let mut notes = Vec::new();
        apply(&mut doc, &moved, &mut notes);
        let a = &doc["services"]["a"]["environment"];
        assert_eq!(a[0].as_str(), Some("U=http://dockerhost:31601"));
        assert_eq!(a[1].as_str(), Some("V=http://otherhost:31501"));
        assert_eq!(
            doc["services"]["b"]["environment"]["U"].as_str(),
            Some("gw:31602")
        );
    }

    #[test]
    fn urls_on_a_port_inside_a_published_range_and_a_same_number_port_follow() {
        let mut doc = yaml_rust2::YamlLoader::load_from_str(
            "services:\n  app:\n    image: x\n    ports: ['127.0.0.1:31300:31300', '31500-31502:31500-31502']\n    environment: ['LOCAL_DOMAIN=localhost:31300', 'RTC=http://127.0.0.1:31501/x']\n",
        )
        .expect("yaml")
        .remove(0);
        let map = crate::compose::rewrite::PortMap {
            literals: [31300, 31500, 31501, 31502].into(),
            entries: vec![
                ("app".into(), 31300, vec![31310]),
                ("app_2".into(), 31500, vec![31510, 31511, 31512]),
            ],
            ..crate::compose::rewrite::PortMap::default()
        };
        let who = crate::compose::rewrite::For {
            project: "p",
            sandbox: true,
            uuid: None,
            taken: &[],
        };
        let notes = crate::compose::rewrite::apply(&mut doc, &map, &who);
        let env = &doc["services"]["app"]["environment"];
        assert_eq!(
            env[0].as_str(),
            Some("LOCAL_DOMAIN=localhost:31310"),
            "{notes:?}"
        );
        assert_eq!(
            env[1].as_str(),
            Some("RTC=http://127.0.0.1:31511/x"),
            "{notes:?}"
        );
    }
}
