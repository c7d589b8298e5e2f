//! Rewriting compose's model for one instance, so the project's compose file runs unedited once
//! per sandbox beside the main checkout's own stack. Pure: YAML in, YAML and notes out.
//!
//! Steps, in order:
//! 1. [`ports`]: each published host port becomes the port the plan gives it in this slot
//!    (`published` in `[ports]`, else the base, names the compose port an entry stands for); one
//!    the plan does not know is published on a port compose picks; duplicates (override files
//!    concatenate `ports:`) are dropped.
//! 2. Sandboxes only (local-prod keeps the originals): [`container_names`] drops
//!    `container_name` and keeps the name reachable as a network alias; [`named`] scopes fixed
//!    volume and network `name:`s to the project, and drops fixed subnets with the fixed
//!    addresses in them. `external` stays shared on purpose.
//! 3. What cannot be rewritten (`network_mode: host`) is a blocking note.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use super::ports::{Entry, Host};

/// The plan's ports as the renderer needs them.
#[derive(Clone, Debug, Default)]
pub struct PortMap {
    /// This slot's ports: already the instance's, kept.
    pub mine: BTreeSet<u32>,
    /// The plan's variable names (`APP_WEB_PORT`): compose resolves them from the env file.
    pub vars: BTreeSet<String>,
    /// Per plan entry: its name, the compose port it stands for, and this slot's ports.
    pub entries: Vec<(String, u32, Vec<u32>)>,
}

impl PortMap {
    /// The slot's port for compose's host port `q` of `service`.
    pub fn map(&self, service: &str, q: u32) -> Option<u32> {
        if self.mine.contains(&q) {
            return Some(q);
        }
        let word = crate::config::word(service);
        let hit = |named: bool| {
            self.entries
                .iter()
                .filter(|(name, origin, ports)| {
                    q >= *origin
                        && ((q - origin) as usize) < ports.len()
                        && (!named || *name == word)
                })
                .map(|(_, origin, ports)| ports[(q - origin) as usize])
                .next()
        };
        hit(true).or_else(|| hit(false))
    }
}

/// What the renderer did or could not do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    /// It would collide with another stack: `up` refuses unless `--force`.
    pub blocking: bool,
}

fn note(notes: &mut Vec<Note>, text: String) {
    notes.push(Note {
        text,
        blocking: false,
    });
}

fn key(s: &str) -> Yaml {
    Yaml::String(s.to_string())
}

/// Rewrites `doc` for an instance of compose project `project`; `sandbox` is false for
/// local-prod. Returns the notes.
pub fn apply(doc: &mut Yaml, map: &PortMap, project: &str, sandbox: bool) -> Vec<Note> {
    let mut notes = Vec::new();
    ports(doc, map, &mut notes);
    if sandbox {
        let external = externals(doc);
        container_names(doc, &external, &mut notes);
        built_images(doc, &mut notes);
        named(doc, "volumes", project, &mut notes);
        let mut dropped = named(doc, "networks", project, &mut notes);
        dropped.extend(external);
        fixed_addresses(doc, &dropped, &mut notes);
    }
    host_network(doc, sandbox, &mut notes);
    notes
}

fn services(doc: &mut Yaml) -> Option<&mut Hash> {
    match doc {
        Yaml::Hash(h) => match h.get_mut(&key("services")) {
            Some(Yaml::Hash(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Step 1: published host ports → this slot's.
fn ports(doc: &mut Yaml, map: &PortMap, notes: &mut Vec<Note>) {
    let Some(services) = services(doc) else {
        return;
    };
    for (name, svc) in services.iter_mut() {
        let service = name.as_str().unwrap_or_default().to_string();
        let Yaml::Hash(svc) = svc else { continue };
        let Some(Yaml::Array(list)) = svc.get_mut(&key("ports")) else {
            continue;
        };
        let mut out: Vec<Yaml> = Vec::new();
        let mut seen = Vec::new();
        for item in list.iter() {
            let Some(mut entry) = Entry::parse(item) else {
                out.push(item.clone());
                continue;
            };
            entry.host = host_for(&service, &entry, map, notes);
            if seen.contains(&entry) {
                note(
                    notes,
                    format!(
                        "service {service} publishes {} twice (override files add up `ports:` lists): once is kept",
                        entry.target
                    ),
                );
                continue;
            }
            seen.push(entry.clone());
            out.push(entry.to_yaml());
        }
        *list = out;
    }
}

fn host_for(service: &str, entry: &Entry, map: &PortMap, notes: &mut Vec<Note>) -> Host {
    let (a, b) = match &entry.host {
        Host::Ports(a, b) => (*a, *b),
        Host::Var(v, _) if map.vars.contains(v) => return entry.host.clone(),
        Host::Var(_, Some(d)) => (*d, *d),
        other => return other.clone(),
    };
    let mapped: Vec<Option<u32>> = (a..=b).map(|q| map.map(service, q)).collect();
    let all: Option<Vec<u32>> = mapped.iter().copied().collect();
    match all {
        Some(ports) if ports.windows(2).all(|w| w[1] == w[0] + 1) => {
            let (first, last) = (ports[0], ports[ports.len() - 1]);
            if first != a {
                note(
                    notes,
                    format!(
                        "service {service}: host port {} → {}",
                        span(a, b),
                        span(first, last)
                    ),
                );
            }
            Host::Ports(first, last)
        }
        _ => {
            note(
                notes,
                format!(
                    "service {service}: host port {} is not in the plan, so compose picks a free one (add it to [ports] in .sandbox.toml to fix it)",
                    span(a, b)
                ),
            );
            Host::Ephemeral
        }
    }
}

fn span(a: u32, b: u32) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

/// The keys of the external networks: shared with other stacks, so no alias or fixed address
/// of a sandbox's may go there.
fn externals(doc: &Yaml) -> BTreeSet<String> {
    doc["networks"]
        .as_hash()
        .map(|h| {
            h.iter()
                .filter(|(_, v)| {
                    !matches!(
                        v["external"],
                        Yaml::BadValue | Yaml::Null | Yaml::Boolean(false)
                    )
                })
                .filter_map(|(k, _)| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Step 2a': a service that is built and names its image would tag the main checkout's image
/// with the sandbox's code: the image name goes, and compose names it `<project>_<service>`.
fn built_images(doc: &mut Yaml, notes: &mut Vec<Note>) {
    let Some(services) = services(doc) else {
        return;
    };
    for (name, svc) in services.iter_mut() {
        let Yaml::Hash(svc) = svc else { continue };
        if svc.contains_key(&key("build"))
            && let Some(Yaml::String(image)) = svc.remove(&key("image"))
        {
            note(
                notes,
                format!(
                    "service {}: built here, so its image {image} is not tagged (the main checkout's stays its own)",
                    name.as_str().unwrap_or_default()
                ),
            );
        }
    }
}

/// Step 2a: `container_name` dropped, kept reachable as an alias on the service's networks
/// (not on external ones, which other stacks share); `network_mode: container:<name>` of such
/// a name points at its service.
fn container_names(doc: &mut Yaml, external: &BTreeSet<String>, notes: &mut Vec<Note>) {
    let Some(services) = services(doc) else {
        return;
    };
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for (name, svc) in services.iter_mut() {
        let service = name.as_str().unwrap_or_default().to_string();
        let Yaml::Hash(svc) = svc else { continue };
        let Some(Yaml::String(cname)) = svc.remove(&key("container_name")) else {
            continue;
        };
        note(
            notes,
            format!("service {service}: container_name {cname} dropped (kept as a network alias)"),
        );
        if !svc.contains_key(&key("network_mode")) {
            alias(svc, &cname, external);
        }
        owners.insert(cname, service);
    }
    for svc in services.values_mut() {
        let Yaml::Hash(svc) = svc else { continue };
        if let Some(Yaml::String(mode)) = svc.get_mut(&key("network_mode"))
            && let Some(target) = mode.strip_prefix("container:")
            && let Some(owner) = owners.get(target)
        {
            *mode = format!("service:{owner}");
        }
    }
}

/// Adds `name` to the aliases of each network of the service (`default` when it lists none),
/// but the external ones.
fn alias(svc: &mut Hash, name: &str, external: &BTreeSet<String>) {
    let nets = svc
        .entry(key("networks"))
        .or_insert_with(|| Yaml::Array(vec![key("default")]));
    if let Yaml::Array(list) = nets {
        let mut h = Hash::new();
        for n in list.iter() {
            h.insert(n.clone(), Yaml::Null);
        }
        *nets = Yaml::Hash(h);
    }
    let Yaml::Hash(nets) = nets else { return };
    for (net, cfg) in nets.iter_mut() {
        if net.as_str().is_some_and(|n| external.contains(n)) {
            continue;
        }
        if !matches!(cfg, Yaml::Hash(_)) {
            *cfg = Yaml::Hash(Hash::new());
        }
        let Yaml::Hash(cfg) = cfg else { continue };
        let aliases = cfg
            .entry(key("aliases"))
            .or_insert_with(|| Yaml::Array(Vec::new()));
        if let Yaml::Array(a) = aliases
            && !a.contains(&key(name))
        {
            a.push(key(name));
        }
    }
}

/// Step 2b: fixed `name:`s of top-level `kind` (volumes, networks) scoped to the project, and
/// fixed subnets dropped. Returns the keys whose subnets were dropped.
fn named(doc: &mut Yaml, kind: &str, project: &str, notes: &mut Vec<Note>) -> BTreeSet<String> {
    let mut dropped = BTreeSet::new();
    let Yaml::Hash(top) = doc else {
        return dropped;
    };
    let Some(Yaml::Hash(items)) = top.get_mut(&key(kind)) else {
        return dropped;
    };
    let one = kind.trim_end_matches('s');
    for (k, v) in items.iter_mut() {
        let k = k.as_str().unwrap_or_default().to_string();
        let Yaml::Hash(v) = v else { continue };
        let external = v
            .get(&key("external"))
            .is_some_and(|e| !matches!(e, Yaml::Boolean(false) | Yaml::Null));
        if external {
            continue;
        }
        let own = format!("{project}_{k}");
        if let Some(Yaml::String(n)) = v.get(&key("name"))
            && *n != own
        {
            note(notes, format!("{one} {k}: fixed name {n} → {own}"));
            v.remove(&key("name"));
        }
        if drop_subnets(v, &format!("{project}/{k}")) {
            note(
                notes,
                format!("{one} {k}: fixed subnet dropped (the engine picks a free one)"),
            );
            dropped.insert(k);
        }
    }
    dropped
}

/// Removes `subnet`, `ip_range`, `gateway` and `aux_addresses` from an `ipam.config`. An
/// IPv6 subnet becomes a /64 of its own in the unique-local range, drawn from `seed` (the
/// engine has no IPv6 pool to pick from).
fn drop_subnets(net: &mut Hash, seed: &str) -> bool {
    let Some(Yaml::Hash(ipam)) = net.get_mut(&key("ipam")) else {
        return false;
    };
    let Some(Yaml::Array(configs)) = ipam.get_mut(&key("config")) else {
        return false;
    };
    let mut any = false;
    for c in configs.iter_mut() {
        let Yaml::Hash(c) = c else { continue };
        let v6 = c
            .get(&key("subnet"))
            .and_then(Yaml::as_str)
            .is_some_and(|s| s.contains(':'));
        for k in ["subnet", "ip_range", "gateway", "aux_addresses"] {
            any |= c.remove(&key(k)).is_some();
        }
        if v6 {
            c.insert(key("subnet"), Yaml::String(unique_local(seed)));
        }
    }
    configs.retain(|c| c.as_hash().is_none_or(|h| !h.is_empty()));
    if configs.is_empty() {
        ipam.remove(&key("config"));
    }
    any
}

/// `fdXX:XXXX:XXXX:XXXX::/64`, from a hash of `seed` (FNV-1a: stable across runs).
fn unique_local(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let g = |i: u32| (h >> (48 - 16 * i)) & 0xffff;
    format!(
        "fd{:02x}:{:04x}:{:04x}:{:04x}::/64",
        g(0) & 0xff,
        g(1),
        g(2),
        g(3)
    )
}

/// Step 2c: a fixed address on a network whose subnet was dropped goes too, and on an
/// external network (the main checkout's stack holds it there).
fn fixed_addresses(doc: &mut Yaml, nets: &BTreeSet<String>, notes: &mut Vec<Note>) {
    if nets.is_empty() {
        return;
    }
    let Some(services) = services(doc) else {
        return;
    };
    for (name, svc) in services.iter_mut() {
        let service = name.as_str().unwrap_or_default().to_string();
        let Some(Yaml::Hash(joined)) = svc.as_mut_hash().and_then(|s| s.get_mut(&key("networks")))
        else {
            continue;
        };
        for (net, cfg) in joined.iter_mut() {
            let net = net.as_str().unwrap_or_default();
            let Yaml::Hash(cfg) = cfg else { continue };
            if !nets.contains(net) {
                continue;
            }
            for k in ["ipv4_address", "ipv6_address"] {
                if let Some(Yaml::String(a)) = cfg.remove(&key(k)) {
                    note(
                        notes,
                        format!(
                            "service {service}: fixed address {a} on {net} dropped (reach it by its service name)"
                        ),
                    );
                }
            }
        }
    }
}

/// Step 3: host networking shares the host's ports; nothing can rewrite that.
fn host_network(doc: &mut Yaml, sandbox: bool, notes: &mut Vec<Note>) {
    let Some(services) = services(doc) else {
        return;
    };
    for (name, svc) in services.iter() {
        if svc["network_mode"].as_str() == Some("host") {
            notes.push(Note {
                text: format!(
                    "service {} uses network_mode: host, which cannot be given its own ports (publish its ports instead)",
                    name.as_str().unwrap_or_default()
                ),
                blocking: sandbox,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::{YamlEmitter, YamlLoader};

    const MODEL: &str = "services:
  web:
    image: x
    container_name: myweb
    ports:
      - {published: 8000, target: 80}
      - 127.0.0.1:9000:9000/tcp
      - {published: 8000, target: 80}
      - 7777:7777
    networks:
      back: {ipv4_address: 172.31.250.5}
  side:
    image: x
    network_mode: container:myweb
volumes:
  data: {name: fixeddata}
  ext: {external: true, name: shared}
networks:
  back:
    name: fixednet
    ipam: {config: [{subnet: 172.31.250.0/24}]}
";

    fn map() -> PortMap {
        PortMap {
            mine: [8003, 9103].into(),
            vars: BTreeSet::new(),
            entries: vec![
                ("web".into(), 8000, vec![8003]),
                ("web_2".into(), 9000, vec![9103]),
            ],
        }
    }

    fn out(doc: &Yaml) -> String {
        let mut s = String::new();
        YamlEmitter::new(&mut s).dump(doc).expect("emits");
        s
    }

    #[test]
    fn a_sandbox_gets_its_ports_and_its_own_names() {
        let mut doc = YamlLoader::load_from_str(MODEL).expect("yaml").remove(0);
        let notes = apply(&mut doc, &map(), "app--a", true);
        let web = &doc["services"]["web"];
        let ports: Vec<Entry> = web["ports"]
            .as_vec()
            .expect("ports")
            .iter()
            .filter_map(Entry::parse)
            .collect();
        assert_eq!(ports.len(), 3, "{}", out(&doc));
        assert_eq!(ports[0].host, Host::Ports(8003, 8003));
        assert_eq!(ports[1].host, Host::Ports(9103, 9103));
        assert_eq!(ports[1].ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(ports[2].host, Host::Ephemeral);
        assert!(web["container_name"].is_badvalue());
        assert_eq!(
            web["networks"]["back"]["aliases"][0].as_str(),
            Some("myweb")
        );
        assert!(web["networks"]["back"]["ipv4_address"].is_badvalue());
        assert_eq!(
            doc["services"]["side"]["network_mode"].as_str(),
            Some("service:web")
        );
        assert!(doc["volumes"]["data"]["name"].is_badvalue());
        assert_eq!(doc["volumes"]["ext"]["name"].as_str(), Some("shared"));
        assert!(doc["networks"]["back"]["name"].is_badvalue());
        assert!(doc["networks"]["back"]["ipam"]["config"].is_badvalue());
        assert!(notes.iter().all(|n| !n.blocking), "{notes:?}");
    }

    #[test]
    fn local_prod_keeps_names_and_host_networking_blocks_a_sandbox() {
        let mut doc = YamlLoader::load_from_str(MODEL).expect("yaml").remove(0);
        apply(&mut doc, &map(), "app-prod", false);
        assert_eq!(
            doc["services"]["web"]["container_name"].as_str(),
            Some("myweb")
        );
        assert_eq!(doc["volumes"]["data"]["name"].as_str(), Some("fixeddata"));
        let mut doc = YamlLoader::load_from_str("services:\n  a: {network_mode: host}\n")
            .expect("yaml")
            .remove(0);
        let notes = apply(&mut doc, &map(), "p", true);
        assert!(notes.iter().any(|n| n.blocking));
    }
}
