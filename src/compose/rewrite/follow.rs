//! Whether a value equal to a scoped volume or network name follows it (used by [`super::refs`]).
//! Pure.
//!
//! A value equal to a scoped name follows when its key names a network or volume (a `network`,
//! `volume` or `net` word in the environment variable, label key or option:
//! `DOCKER_NETWORK`, `traefik.docker.network`, `--providers.docker.network`), or when the name
//! is nobody's host name. A name that is also a service, an alias, a `hostname` or a dropped
//! `container_name` is kept under any other key (`_APP_EXECUTOR_HOST=appwrite`,
//! `_APP_DB_SCHEMA=appwrite`, `traefik.http.routers.x.service=appwrite`), with a note.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;

/// What to do with one value equal to a scoped name.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Becomes the scoped name.
    Follow(String),
    /// Kept: the name is also a host name, and the key does not name a network or volume.
    Kept,
}

/// The host names a value could mean instead of a volume or network: services, their
/// `hostname`s and network aliases, and `container_name`s dropped (`dropped`, each to its
/// service).
pub(super) fn hosts(doc: &Yaml, dropped: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = dropped.keys().cloned().collect();
    let Some(services) = doc["services"].as_hash() else {
        return out;
    };
    for (name, svc) in services {
        out.extend(name.as_str().map(String::from));
        out.extend(svc["hostname"].as_str().map(String::from));
        out.extend(svc["container_name"].as_str().map(String::from));
        if let Some(nets) = svc["networks"].as_hash() {
            for cfg in nets.values() {
                for a in cfg["aliases"].as_vec().into_iter().flatten() {
                    out.extend(a.as_str().map(String::from));
                }
            }
        }
    }
    out
}

/// The verdict for `value` under `key`, or None when it is no scoped name.
pub(super) fn verdict(
    key: &str,
    value: &str,
    names: &BTreeMap<String, String>,
    hosts: &BTreeSet<String>,
) -> Option<Verdict> {
    let new = names.get(value)?;
    if names_object(key) || !hosts.contains(value) {
        Some(Verdict::Follow(new.clone()))
    } else {
        Some(Verdict::Kept)
    }
}

/// Whether a key names a network or volume: one of its words (split at anything not a letter
/// or digit, case-insensitive) is `net` or holds `network` or `volume`.
pub(super) fn names_object(key: &str) -> bool {
    key.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .any(|w| w == "net" || w == "nets" || w.contains("network") || w.contains("volume"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    #[test]
    fn a_key_naming_a_network_or_volume_is_told_apart() {
        for k in [
            "DOCKER_NETWORK",
            "OPEN_RUNTIMES_NETWORK",
            "traefik.docker.network",
            "--providers.docker.network",
            "APP_NET",
            "dockerNetwork",
            "DATA_VOLUME",
        ] {
            assert!(names_object(k), "{k}");
        }
        for k in [
            "_APP_DB_SCHEMA",
            "_APP_EXECUTOR_HOST",
            "traefik.http.routers.x.service",
            "NETLIFY_TOKEN",
            "DOTNET_ROOT",
        ] {
            assert!(!names_object(k), "{k}");
        }
    }

    #[test]
    fn a_name_that_is_also_a_host_is_kept_unless_the_key_names_a_network() {
        let doc = YamlLoader::load_from_str(
            "services:\n  appwrite: {image: x}\n  w: {image: x, hostname: cache, networks: {b: {aliases: [store]}}}\n",
        )
        .expect("yaml")
        .remove(0);
        let dropped = [("legacy".to_string(), "w".to_string())].into();
        let hosts = hosts(&doc, &dropped);
        let names: BTreeMap<String, String> = ["appwrite", "cache", "store", "legacy", "solo"]
            .iter()
            .map(|n| (n.to_string(), format!("p_{n}")))
            .collect();
        let v = |k: &str, v: &str| verdict(k, v, &names, &hosts);
        for name in ["appwrite", "cache", "store", "legacy"] {
            assert_eq!(v("_APP_EXECUTOR_HOST", name), Some(Verdict::Kept), "{name}");
            assert_eq!(
                v("DOCKER_NETWORK", name),
                Some(Verdict::Follow(format!("p_{name}")))
            );
        }
        assert_eq!(v("ANY", "solo"), Some(Verdict::Follow("p_solo".into())));
        assert_eq!(v("DOCKER_NETWORK", "other"), None);
    }
}
