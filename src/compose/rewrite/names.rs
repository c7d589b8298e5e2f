//! The sandbox's own names (step 2 of the rewrite; local-prod keeps the originals): container
//! names to aliases, built images untagged, fixed volume and network names scoped to the
//! project (each old name and its new one returned, for [`super::refs`]), fixed addresses
//! dropped where their subnet could not be moved, nothing of the sandbox's on an external
//! network.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use super::{Note, key, note, services};

/// The keys of the external networks: shared with other stacks, so no alias or fixed address
/// of a sandbox's may go there.
pub(super) fn externals(doc: &Yaml) -> BTreeSet<String> {
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
pub(super) fn built_images(doc: &mut Yaml, notes: &mut Vec<Note>) {
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
/// Returns each dropped name and its service.
pub(super) fn container_names(
    doc: &mut Yaml,
    external: &BTreeSet<String>,
    notes: &mut Vec<Note>,
) -> BTreeMap<String, String> {
    let Some(services) = services(doc) else {
        return BTreeMap::new();
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
    owners
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

/// Step 2b: fixed `name:`s of top-level `kind` (volumes, networks) scoped to the project.
/// Returns each fixed name and the name it became, for the references to follow.
pub(super) fn named(
    doc: &mut Yaml,
    kind: &str,
    project: &str,
    notes: &mut Vec<Note>,
) -> BTreeMap<String, String> {
    let mut scoped = BTreeMap::new();
    let Yaml::Hash(top) = doc else {
        return scoped;
    };
    let Some(Yaml::Hash(items)) = top.get_mut(&key(kind)) else {
        return scoped;
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
            scoped.insert(n.clone(), own);
            v.remove(&key("name"));
        }
    }
    scoped
}

/// Step 2d: a fixed address on a network whose subnet was dropped goes too, and on an
/// external network (the main checkout's stack holds it there).
pub(super) fn fixed_addresses(doc: &mut Yaml, nets: &BTreeSet<String>, notes: &mut Vec<Note>) {
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
