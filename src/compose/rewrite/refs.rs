//! References follow what was scoped (step 2e of the rewrite; sandboxes only). Pure.
//!
//! Per service, after names were scoped and subnets moved:
//! - fixed addresses (`ipv4_address`, `ipv6_address`), `dns:` entries and `extra_hosts`
//!   (`host:ip`, `host=ip` and the map form) in a moved subnet move by its offset;
//! - `environment` and `labels` (map and list form): a value equal to a scoped volume or network
//!   name becomes the scoped name (`DOCKER_NETWORK=appwrite`, `traefik.docker.network=appwrite`)
//!   unless it is also a host name and its key names no network or volume ([`super::follow`]);
//!   addresses in a moved subnet move wherever they sit in a value (`http://172.16.238.10:80`);
//! - `command`, `entrypoint` and `healthcheck.test`: an option's value equal to a scoped name
//!   follows it (traefik's `--providers.docker.network=appwrite`), addresses in a moved subnet
//!   move;
//! - a value naming a container_name that became an alias stays as it is (the alias answers),
//!   and says so.
//!
//! Every change is a [`Note`], so `compose-file --explain` and `up` can list it.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use super::follow::{Verdict, verdict};
use super::ip::Moves;
use super::{Note, key, note, services};

/// What was scoped, for the references to follow.
pub(super) struct Scoped<'a> {
    /// Fixed volume or network name → the sandbox's.
    pub names: &'a BTreeMap<String, String>,
    /// A container_name now an alias → its service.
    pub aliases: &'a BTreeMap<String, String>,
    /// Services, hostnames, aliases and dropped container_names ([`super::follow::hosts`]).
    pub hosts: &'a BTreeSet<String>,
    pub moves: &'a Moves,
}

/// Rewrites every service's references (see the module doc).
pub(super) fn apply(doc: &mut Yaml, s: &Scoped, notes: &mut Vec<Note>) {
    let Some(services) = services(doc) else {
        return;
    };
    for (name, svc) in services.iter_mut() {
        let service = name.as_str().unwrap_or_default().to_string();
        let Yaml::Hash(svc) = svc else { continue };
        let mut said = |what: String| note(notes, format!("service {service}: {what}"));
        addresses(svc, s.moves, &mut said);
        dns(svc, s.moves, &mut said);
        extra_hosts(svc, s.moves, &mut said);
        for section in ["environment", "labels"] {
            if let Some(v) = svc.get_mut(&key(section)) {
                values(section, v, s, &mut said);
            }
        }
        commands(svc, s, &mut said);
    }
}

/// `ipv4_address`/`ipv6_address` on each network the service joins.
fn addresses(svc: &mut Hash, moves: &Moves, said: &mut impl FnMut(String)) {
    let Some(Yaml::Hash(joined)) = svc.get_mut(&key("networks")) else {
        return;
    };
    for (net, cfg) in joined.iter_mut() {
        let net = net.as_str().unwrap_or_default();
        let Yaml::Hash(cfg) = cfg else { continue };
        for k in ["ipv4_address", "ipv6_address"] {
            if let Some(Yaml::String(a)) = cfg.get_mut(&key(k))
                && let Some(moved) = moves.addr(a)
            {
                said(format!("fixed address {a} on {net} → {moved}"));
                *a = moved;
            }
        }
    }
}

/// `dns:`, one address or a list.
fn dns(svc: &mut Hash, moves: &Moves, said: &mut impl FnMut(String)) {
    let mut one = |a: &mut Yaml| {
        if let Yaml::String(a) = a
            && let Some(moved) = moves.addr(a)
        {
            said(format!("dns {a} → {moved}"));
            *a = moved;
        }
    };
    match svc.get_mut(&key("dns")) {
        Some(Yaml::Array(list)) => list.iter_mut().for_each(&mut one),
        Some(a) => one(a),
        None => {}
    }
}

/// `extra_hosts:`, `host:ip` or `host=ip` in a list, or a map of host to ip.
fn extra_hosts(svc: &mut Hash, moves: &Moves, said: &mut impl FnMut(String)) {
    let mut one = |host: &str, ip: &str| {
        let moved = moves.addr(ip.trim_start_matches('[').trim_end_matches(']'))?;
        said(format!("extra_hosts {host} {ip} → {moved}"));
        Some(moved)
    };
    match svc.get_mut(&key("extra_hosts")) {
        Some(Yaml::Array(list)) => {
            for item in list.iter_mut() {
                let Yaml::String(entry) = item else { continue };
                let Some(at) = entry.find(['=', ':']) else {
                    continue;
                };
                let (host, ip) = (&entry[..at], &entry[at + 1..]);
                if let Some(moved) = one(host, ip) {
                    *entry = format!("{host}{}{moved}", &entry[at..=at]);
                }
            }
        }
        Some(Yaml::Hash(map)) => {
            for (host, ip) in map.iter_mut() {
                let host = host.as_str().unwrap_or_default();
                if let Yaml::String(ip) = ip
                    && let Some(moved) = one(host, ip)
                {
                    *ip = moved;
                }
            }
        }
        _ => {}
    }
}

/// `environment` or `labels`, map or `KEY=value` list.
fn values(section: &str, v: &mut Yaml, s: &Scoped, said: &mut impl FnMut(String)) {
    match v {
        Yaml::Hash(map) => {
            for (k, v) in map.iter_mut() {
                let k = k.as_str().unwrap_or_default();
                if let Yaml::String(v) = v {
                    value(section, k, v, s, said);
                }
            }
        }
        Yaml::Array(list) => {
            for item in list.iter_mut() {
                let Yaml::String(entry) = item else { continue };
                let Some((k, v)) = entry.split_once('=') else {
                    continue;
                };
                let (k, mut v) = (k.to_string(), v.to_string());
                if value(section, &k, &mut v, s, said) {
                    *entry = format!("{k}={v}");
                }
            }
        }
        _ => {}
    }
}

/// One value: a scoped name replaced, moved addresses moved, an alias said. Whether it changed.
fn value(
    section: &str,
    k: &str,
    v: &mut String,
    s: &Scoped,
    said: &mut impl FnMut(String),
) -> bool {
    match verdict(k, v, s.names, s.hosts) {
        Some(Verdict::Follow(new)) => {
            said(format!(
                "{section} {k}={v} → {new} (the sandbox's own {v}, scoped)"
            ));
            *v = new;
            return true;
        }
        Some(Verdict::Kept) => {
            said(kept(&format!("{section} {k}={v}"), v));
            return false;
        }
        None => {}
    }
    for wide in s.moves.covering(v) {
        said(format!(
            "{section} {k}: {wide} not rewritten, it holds a subnet that moved (the sandbox's is elsewhere; widen it by hand if the sandbox needs it)"
        ));
    }
    if let Some(moved) = s.moves.text(v) {
        said(format!("{section} {k}={v} → {moved} (its subnet moved)"));
        *v = moved;
        return true;
    }
    if let Some((cname, owner)) = s.aliases.iter().find(|(c, _)| names_host(v, c)) {
        said(format!(
            "{section} {k} names {cname}: kept, it reaches service {owner}'s container (a network alias now)"
        ));
    }
    false
}

/// Whether `host` stands alone in `v` (`sample-web`, `http://sample-web:8080`), not as part of
/// a longer name.
fn names_host(v: &str, host: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    v.match_indices(host).any(|(i, _)| {
        !v[..i].chars().next_back().is_some_and(part)
            && !v[i + host.len()..].chars().next().is_some_and(part)
    })
}

/// `command`, `entrypoint` and `healthcheck.test`, string or list: an option's value equal to
/// a scoped name (`--providers.docker.network=appwrite`), and addresses in a moved subnet.
fn commands(svc: &mut Hash, s: &Scoped, said: &mut impl FnMut(String)) {
    let mut one = |what: &str, item: &mut Yaml| {
        let Yaml::String(text) = item else { return };
        let (named, kept_words) = options(text, s);
        for word in kept_words {
            said(kept(
                &format!("{what}: {word}"),
                word.split_once('=').map_or("", |w| w.1),
            ));
        }
        if let Some(named) = named {
            said(format!(
                "{what}: {text} → {named} (the sandbox's own, scoped)"
            ));
            *text = named;
        }
        if let Some(moved) = s.moves.text(text) {
            said(format!("{what}: {text} → {moved} (its subnet moved)"));
            *text = moved;
        }
    };
    let mut each = |what: &str, v: Option<&mut Yaml>| match v {
        Some(Yaml::Array(list)) => list.iter_mut().for_each(|i| one(what, i)),
        Some(v) => one(what, v),
        None => {}
    };
    each("command", svc.get_mut(&key("command")));
    each("entrypoint", svc.get_mut(&key("entrypoint")));
    if let Some(Yaml::Hash(h)) = svc.get_mut(&key("healthcheck")) {
        each("healthcheck", h.get_mut(&key("test")));
    }
}

/// Why a value equal to a scoped name was kept.
fn kept(what: &str, name: &str) -> String {
    format!(
        "{what}: kept, {name} is also a service or host name here and the key names no network or volume (main's {name} is scoped away in the sandbox)"
    )
}

/// `text` with each `--option=NAME` word whose NAME is a scoped name given the new one (when
/// it follows), and the words kept.
fn options(text: &str, s: &Scoped) -> (Option<String>, Vec<String>) {
    let mut changed = false;
    let mut kept = Vec::new();
    let words: Vec<String> = text
        .split(' ')
        .map(|w| match w.split_once('=') {
            Some((opt, v)) if opt.starts_with('-') => match verdict(opt, v, s.names, s.hosts) {
                Some(Verdict::Follow(new)) => {
                    changed = true;
                    format!("{opt}={new}")
                }
                Some(Verdict::Kept) => {
                    kept.push(w.to_string());
                    w.to_string()
                }
                None => w.to_string(),
            },
            _ => w.to_string(),
        })
        .collect();
    (changed.then(|| words.join(" ")), kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::rewrite::ip::Net;
    use yaml_rust2::YamlLoader;

    const MODEL: &str = "services:
  api:
    image: x
    networks:
      back: {ipv4_address: 172.16.238.10}
    dns: [172.16.238.10, 8.8.8.8]
    extra_hosts: ['db.local:172.16.238.11', 'other=172.16.238.12', 'far:1.2.3.4']
    environment:
      DOCKER_NETWORK: appwrite
      SCHEMA: appwrite2
      UPSTREAM: http://172.16.238.10:80/x
      PEER: http://sample-web:8080
      _APP_EXECUTOR_HOST: appwrite
      ALLOWED: 172.16.0.0/16
    labels: ['traefik.docker.network=appwrite', 'x=172.16.238.10', 'traefik.http.routers.x.service=appwrite']
    command: [serve, --bind=172.16.238.10, --providers.docker.network=appwrite, appwrite]
  side:
    image: x
    dns: 172.16.238.10
    extra_hosts: {db.local: 172.16.238.11}
    environment: ['DOCKER_NETWORK=appwrite', 'VOLUME=data1']
    labels: {traefik.docker.network: appwrite}
    healthcheck: {test: 'wget -q http://172.16.238.10/'}
    command: traefik --providers.docker.network=appwrite --log.level=INFO
";

    /// The model rewritten: `appwrite` (a network and a service) and `data1` scoped,
    /// `sample-web` an alias, 172.16.238.0/24 moved to 10.7.7.0/24.
    fn rewritten() -> (Yaml, Vec<Note>) {
        let mut doc = YamlLoader::load_from_str(MODEL).expect("yaml").remove(0);
        let names: BTreeMap<String, String> = [
            ("appwrite".to_string(), "p_appwrite".to_string()),
            ("data1".to_string(), "p_data".to_string()),
        ]
        .into();
        let aliases = [("sample-web".to_string(), "web".to_string())].into();
        let net = |s| Net::parse(s).expect("net");
        let moves = Moves(vec![(net("172.16.238.0/24"), net("10.7.7.0/24"))]);
        let mut notes = Vec::new();
        // A service is also named appwrite: only keys naming a network follow.
        let hosts = ["appwrite".to_string(), "api".to_string()].into();
        let s = Scoped {
            names: &names,
            aliases: &aliases,
            hosts: &hosts,
            moves: &moves,
        };
        apply(&mut doc, &s, &mut notes);
        (doc, notes)
    }

    /// Fixed addresses, `dns` and `extra_hosts` (list form) moved with the subnet.
    fn addresses_moved(api: &Yaml) {
        assert_eq!(
            api["networks"]["back"]["ipv4_address"].as_str(),
            Some("10.7.7.10")
        );
        assert_eq!(api["dns"][0].as_str(), Some("10.7.7.10"));
        assert_eq!(api["dns"][1].as_str(), Some("8.8.8.8"));
        assert_eq!(api["extra_hosts"][0].as_str(), Some("db.local:10.7.7.11"));
        assert_eq!(api["extra_hosts"][1].as_str(), Some("other=10.7.7.12"));
        assert_eq!(api["extra_hosts"][2].as_str(), Some("far:1.2.3.4"));
    }

    /// Environment (map form): a network key follows, a host-like value and a wider subnet stay.
    fn environment_map(api: &Yaml) {
        let env = &api["environment"];
        assert_eq!(env["DOCKER_NETWORK"].as_str(), Some("p_appwrite"));
        assert_eq!(env["SCHEMA"].as_str(), Some("appwrite2"));
        assert_eq!(env["UPSTREAM"].as_str(), Some("http://10.7.7.10:80/x"));
        assert_eq!(env["PEER"].as_str(), Some("http://sample-web:8080"));
        assert_eq!(env["_APP_EXECUTOR_HOST"].as_str(), Some("appwrite"));
        assert_eq!(env["ALLOWED"].as_str(), Some("172.16.0.0/16"));
    }

    /// Labels (list form) and command options.
    fn labels_and_commands(api: &Yaml) {
        assert_eq!(
            api["labels"][2].as_str(),
            Some("traefik.http.routers.x.service=appwrite")
        );
        assert_eq!(
            api["labels"][0].as_str(),
            Some("traefik.docker.network=p_appwrite")
        );
        assert_eq!(api["labels"][1].as_str(), Some("x=10.7.7.10"));
        assert_eq!(api["command"][1].as_str(), Some("--bind=10.7.7.10"));
        assert_eq!(
            api["command"][2].as_str(),
            Some("--providers.docker.network=p_appwrite")
        );
        assert_eq!(api["command"][3].as_str(), Some("appwrite"));
    }

    /// The other forms: `dns` and `extra_hosts` as a string and a map, environment as a list,
    /// labels as a map, a healthcheck and a command as one string.
    fn other_forms(side: &Yaml) {
        assert_eq!(side["dns"].as_str(), Some("10.7.7.10"));
        assert_eq!(side["extra_hosts"]["db.local"].as_str(), Some("10.7.7.11"));
        assert_eq!(
            side["environment"][0].as_str(),
            Some("DOCKER_NETWORK=p_appwrite")
        );
        assert_eq!(side["environment"][1].as_str(), Some("VOLUME=p_data"));
        assert_eq!(
            side["labels"]["traefik.docker.network"].as_str(),
            Some("p_appwrite")
        );
        assert_eq!(
            side["healthcheck"]["test"].as_str(),
            Some("wget -q http://10.7.7.10/")
        );
        assert_eq!(
            side["command"].as_str(),
            Some("traefik --providers.docker.network=p_appwrite --log.level=INFO")
        );
    }

    /// Each rewrite, and each value kept, is a note; none blocks.
    fn notes_said(notes: &[Note]) {
        let said = |s: &str| notes.iter().any(|n| n.text.contains(s));
        assert!(said(
            "service api: environment DOCKER_NETWORK=appwrite → p_appwrite"
        ));
        assert!(said("service api: environment PEER names sample-web: kept"));
        assert!(said(
            "service api: environment _APP_EXECUTOR_HOST=appwrite: kept, appwrite is also a service"
        ));
        assert!(said(
            "service api: labels traefik.http.routers.x.service=appwrite: kept"
        ));
        assert!(said("service side: dns 172.16.238.10 → 10.7.7.10"));
        assert!(said(
            "service api: environment ALLOWED: 172.16.0.0/16 not rewritten, it holds a subnet that moved"
        ));
        assert!(notes.iter().all(|n| !n.blocking));
    }

    #[test]
    fn names_addresses_and_aliases_are_followed_in_every_form() {
        let (doc, notes) = rewritten();
        let api = &doc["services"]["api"];
        addresses_moved(api);
        environment_map(api);
        labels_and_commands(api);
        other_forms(&doc["services"]["side"]);
        notes_said(&notes);
    }
}
