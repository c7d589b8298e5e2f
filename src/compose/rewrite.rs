//! Rewriting compose's model for one instance, so the project's compose file runs unedited once
//! per sandbox beside the main checkout's own stack. Pure: YAML in, YAML and notes out.
//!
//! Steps, in order:
//! 1. [`ports`]: each published host port becomes the port the plan gives it in this slot
//!    (`published` in `[ports]`, else the base, names the compose port an entry stands for); one
//!    the plan does not know is published on a port compose picks; duplicates (override files
//!    concatenate `ports:`) are dropped. Only the host side moves: the container side, and a
//!    variable used elsewhere too, keep their values ([`super::vars`]).
//!    Then [`urls`]: loopback URLs of a published port in environment values follow it.
//! 2. Sandboxes only (local-prod keeps the originals): [`container_names`] drops
//!    `container_name` and keeps the name reachable as a network alias; [`named`] scopes fixed
//!    volume and network `name:`s to the project; [`subnets`] moves fixed subnets to the
//!    sandbox's own (clear of [`For::taken`]), [`fixed_addresses`] drops the addresses that
//!    could not move, and [`refs`] makes every reference follow: addresses, `dns`,
//!    `extra_hosts`, environment values and labels. `external` stays shared on purpose.
//! 3. What cannot be rewritten (`network_mode: host`) is a blocking note.
//! 4. With the instance's uuid, [`labels`]: its label on every container, volume and network
//!    the stack creates.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use super::ports::{Entry, Host};

mod follow;
mod ip;
mod labels;
mod names;
mod refs;
mod subnets;
pub mod urls;
pub use ip::Net;
use names::{built_images, container_names, externals, fixed_addresses, named};

/// The plan's ports as the renderer needs them.
#[derive(Clone, Debug, Default)]
pub struct PortMap {
    /// This slot's ports: already the instance's, kept.
    pub mine: BTreeSet<u32>,
    /// The plan's variable names (`APP_WEB_PORT`): compose resolves them from the env file.
    pub vars: BTreeSet<String>,
    /// Per plan entry: its name, the compose port it stands for, and this slot's ports.
    pub entries: Vec<(String, u32, Vec<u32>)>,
    /// Host ports the files publish literally: the main checkout's own, mapped even when
    /// one equals a port of this slot's.
    pub literals: BTreeSet<u32>,
    /// The main checkout's published host ports → this slot's, for URLs that name them
    /// (filled from the files as written; the rewrite adds what it moved).
    pub moved: BTreeMap<u32, u32>,
}

impl PortMap {
    /// The slot's port for compose's host port `q` of `service`.
    pub fn map(&self, service: &str, q: u32) -> Option<u32> {
        if self.mine.contains(&q) && !self.literals.contains(&q) {
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

/// The instance a model is rewritten for.
pub struct For<'a> {
    /// Its compose project.
    pub project: &'a str,
    /// False for local-prod.
    pub sandbox: bool,
    /// Its uuid (absent for an entry an older git-sandbox made).
    pub uuid: Option<&'a str>,
    /// Subnets a moved one must not overlap: the engine's networks, other sandboxes' rendered
    /// files, the host's routes (looked up by the renderer; this rewrite stays pure).
    pub taken: &'a [Net],
}

/// Rewrites `doc` for an instance. Returns the notes.
pub fn apply(doc: &mut Yaml, map: &PortMap, who: &For) -> Vec<Note> {
    let mut notes = Vec::new();
    let mut moved = map.moved.clone();
    ports(doc, map, &mut moved, &mut notes);
    urls::apply(doc, &moved, &mut notes);
    if who.sandbox {
        own(doc, who, &mut notes);
    }
    host_network(doc, who.sandbox, &mut notes);
    if let Some(uuid) = who.uuid {
        labels::apply(doc, uuid);
    }
    notes
}

/// Step 2, a sandbox's own names and addresses, and every reference to them following.
fn own(doc: &mut Yaml, who: &For, notes: &mut Vec<Note>) {
    let project = who.project;
    let external = externals(doc);
    let aliases = container_names(doc, &external, notes);
    built_images(doc, notes);
    let mut names = named(doc, "volumes", project, notes);
    // A network and a volume of one fixed name: the value names the network.
    names.extend(named(doc, "networks", project, notes));
    let seed = who.uuid.unwrap_or(project);
    let (moves, mut dropped) = subnets::move_all(doc, who.taken, seed, notes);
    dropped.extend(external);
    fixed_addresses(doc, &dropped, notes);
    let hosts = follow::hosts(doc, &aliases);
    let scoped = refs::Scoped {
        names: &names,
        aliases: &aliases,
        hosts: &hosts,
        moves: &moves,
    };
    refs::apply(doc, &scoped, notes);
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
fn ports(doc: &mut Yaml, map: &PortMap, moved: &mut BTreeMap<u32, u32>, notes: &mut Vec<Note>) {
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
            let before = entry.host.clone();
            entry.host = host_for(&service, &entry, map, notes);
            if let (Host::Ports(a, b), Host::Ports(first, _)) = (&before, &entry.host)
                && first != a
            {
                for q in *a..=*b {
                    moved.entry(q).or_insert(first + (q - a));
                }
            }
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
            literals: [8000, 9000, 7777].into(),
            entries: vec![
                ("web".into(), 8000, vec![8003]),
                ("web_2".into(), 9000, vec![9103]),
            ],
            ..PortMap::default()
        }
    }

    fn at(project: &str, sandbox: bool) -> For<'_> {
        For {
            project,
            sandbox,
            uuid: None,
            taken: &[],
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
        let notes = apply(&mut doc, &map(), &at("app--a", true));
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
        let moved = web["networks"]["back"]["ipv4_address"]
            .as_str()
            .unwrap_or("");
        assert!(moved.starts_with("10.") && moved.ends_with(".5"), "{moved}");
        assert_eq!(
            doc["services"]["side"]["network_mode"].as_str(),
            Some("service:web")
        );
        assert!(doc["volumes"]["data"]["name"].is_badvalue());
        assert_eq!(doc["volumes"]["ext"]["name"].as_str(), Some("shared"));
        assert!(doc["networks"]["back"]["name"].is_badvalue());
        let subnet = doc["networks"]["back"]["ipam"]["config"][0]["subnet"].as_str();
        assert_eq!(
            subnet,
            Some(format!("{}0/24", &moved[..moved.len() - 1]).as_str())
        );
        assert!(notes.iter().all(|n| !n.blocking), "{notes:?}");
    }

    #[test]
    fn local_prod_keeps_names_and_host_networking_blocks_a_sandbox() {
        let mut doc = YamlLoader::load_from_str(MODEL).expect("yaml").remove(0);
        apply(&mut doc, &map(), &at("app-prod", false));
        assert_eq!(
            doc["services"]["web"]["container_name"].as_str(),
            Some("myweb")
        );
        assert_eq!(doc["volumes"]["data"]["name"].as_str(), Some("fixeddata"));
        assert_eq!(
            doc["networks"]["back"]["ipam"]["config"][0]["subnet"].as_str(),
            Some("172.31.250.0/24")
        );
        assert_eq!(
            doc["services"]["web"]["networks"]["back"]["ipv4_address"].as_str(),
            Some("172.31.250.5")
        );
        let mut doc = YamlLoader::load_from_str("services:\n  a: {network_mode: host}\n")
            .expect("yaml")
            .remove(0);
        let notes = apply(&mut doc, &map(), &at("p", true));
        assert!(notes.iter().any(|n| n.blocking));
    }
}
