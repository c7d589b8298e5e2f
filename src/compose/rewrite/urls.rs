//! Literal host URLs in environment values (step 1b of the rewrite): `localhost:<port>`,
//! `127.0.0.1:<port>`, `[::1]:<port>` and `0.0.0.0:<port>`, where `<port>` is a host port the
//! compose file publishes, become this slot's port for it (`http://localhost:8000` →
//! `http://localhost:8001`). A port the file does not publish, and any other host (a service
//! name, `db:5432`), is left as it is, and so is a service's own port in its own environment
//! when it listens on the same port inside (`5432:5432`: there `localhost` is itself). Both
//! forms of `environment:` (map and list).

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;

use super::{Note, key, note, services};
use crate::compose::ports::{Entry, Host};

/// The hosts that mean "this machine".
const LOOPBACK: &[&str] = &["localhost", "127.0.0.1", "[::1]", "0.0.0.0"];

/// Whether `s[..at]` ends with a loopback host standing alone and a colon.
pub fn loopback_before(s: &str, at: usize) -> bool {
    let Some(head) = s[..at].strip_suffix(':') else {
        return false;
    };
    LOOPBACK.iter().any(|h| {
        head.strip_suffix(h).is_some_and(|before| {
            h.starts_with('[')
                || !before
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
    })
}

/// `s` with each loopback URL's port that `moved` has replaced; `None` when nothing changed.
pub fn rewrite(s: &str, moved: &BTreeMap<u32, u32>) -> Option<String> {
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
            && loopback_before(s, i)
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
        let moved = &moved
            .iter()
            .filter(|(q, _)| !own.contains(q))
            .map(|(q, p)| (*q, *p))
            .collect();
        let mut said = |var: &str, from: &str, to: &str| {
            note(
                notes,
                format!(
                    "service {service}: environment {var}: {from} → {to} (a URL of a published port)"
                ),
            );
        };
        match svc.get_mut(&key("environment")) {
            Some(Yaml::Hash(env)) => {
                for (var, value) in env.iter_mut() {
                    if let Yaml::String(v) = value
                        && let Some(new) = rewrite(v, moved)
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
                        && let Some(new) = rewrite(value, moved)
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

/// The ports a service publishes on the same port inside (`5432:5432`, `${P}:${P}`): in its
/// own environment, `localhost:<port>` is itself, inside, where nothing moved.
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
            Some("localhost:8000"),
            "a service's own port, inside"
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}
