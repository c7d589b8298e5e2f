//! Fixed subnets moved, not dropped (step 2c of the rewrite; local-prod keeps the originals).
//! Pure: what the engine and the other sandboxes hold comes in as [`Net`]s.
//!
//! A network's fixed `ipam.config` subnet becomes one of the sandbox's own of the same prefix
//! length: IPv4 from the private ranges (10/8 first: the engine's own default pools are in
//! 172.17-31 and 192.168), IPv6 from the unique-local fd00::/8. The first candidate is drawn
//! from a seed (the instance's uuid and the network's key), so a sandbox keeps its subnet from
//! one `up` to the next; the next ones are probed until none overlaps a taken one.
//! `gateway`, `ip_range` and `aux_addresses` move by the same offset, and so does every
//! address in the old subnet wherever it is written ([`Moves::text`]).

use std::collections::BTreeSet;

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use super::ip::{Moves, Net, pick};
use super::{Note, key, note};

/// Step 2c: every fixed subnet of the stack's own networks (not `external` ones) moved, clear
/// of `taken` and of the files' own subnets (the main checkout's stack holds those). Returns the
/// moves and the keys of networks whose subnet had to be dropped.
pub(super) fn move_all(
    doc: &mut Yaml,
    taken: &[Net],
    seed: &str,
    notes: &mut Vec<Note>,
) -> (Moves, BTreeSet<String>) {
    let mut moves = Moves::default();
    let mut dropped = BTreeSet::new();
    let Some(Yaml::Hash(nets)) = doc.as_mut_hash().and_then(|t| t.get_mut(&key("networks"))) else {
        return (moves, dropped);
    };
    let mut taken: Vec<Net> = taken.to_vec();
    for (_, v) in nets.iter() {
        for c in v["ipam"]["config"]
            .as_vec()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            taken.extend(c["subnet"].as_str().and_then(Net::parse));
        }
    }
    for (k, v) in nets.iter_mut() {
        let name = k.as_str().unwrap_or_default();
        let Yaml::Hash(v) = v else { continue };
        let external = v
            .get(&key("external"))
            .is_some_and(|e| !matches!(e, Yaml::Boolean(false) | Yaml::Null));
        if !external && !move_network(name, v, &mut taken, seed, &mut moves, notes) {
            dropped.insert(name.to_string());
        }
    }
    (moves, dropped)
}

/// Moves the fixed subnets of the network `name` (an `ipam.config` hash each); records what
/// moved in `moves`. Returns false when a fixed subnet had to be dropped instead (no free one).
fn move_network(
    name: &str,
    net: &mut Hash,
    taken: &mut Vec<Net>,
    seed: &str,
    moves: &mut Moves,
    notes: &mut Vec<Note>,
) -> bool {
    let Some(Yaml::Array(configs)) = net
        .get_mut(&key("ipam"))
        .and_then(Yaml::as_mut_hash)
        .and_then(|h| h.get_mut(&key("config")))
    else {
        return true;
    };
    let mut all = true;
    for (i, c) in configs.iter_mut().enumerate() {
        let Yaml::Hash(c) = c else { continue };
        let Some(old) = c
            .get(&key("subnet"))
            .and_then(Yaml::as_str)
            .and_then(Net::parse)
        else {
            continue;
        };
        match pick(&old, taken, &format!("{seed}/{name}/{i}")) {
            Some(new) => {
                taken.push(new);
                moves.0.push((old, new));
                note(notes, format!("network {name}: fixed subnet {old} → {new}"));
            }
            None => {
                all = false;
                note(
                    notes,
                    format!(
                        "network {name}: fixed subnet {old} dropped, no free subnet of its size (the engine picks one)"
                    ),
                );
                for k in ["subnet", "ip_range", "gateway", "aux_addresses"] {
                    c.remove(&key(k));
                }
            }
        }
    }
    configs.retain(|c| c.as_hash().is_none_or(|h| !h.is_empty()));
    for c in configs.iter_mut() {
        if let Yaml::Hash(c) = c {
            shift_config(name, c, moves, notes);
        }
    }
    all
}

/// `subnet`, `gateway`, `ip_range` and `aux_addresses` of one `ipam.config` moved.
fn shift_config(name: &str, c: &mut Hash, moves: &Moves, notes: &mut Vec<Note>) {
    for k in ["subnet", "gateway", "ip_range"] {
        if let Some(Yaml::String(v)) = c.get_mut(&key(k))
            && let Some(moved) = moves.addr(v)
        {
            if k != "subnet" {
                note(notes, format!("network {name}: {k} {v} → {moved}"));
            }
            *v = moved;
        }
    }
    if let Some(Yaml::Hash(aux)) = c.get_mut(&key("aux_addresses")) {
        for (host, v) in aux.iter_mut() {
            if let Yaml::String(v) = v
                && let Some(moved) = moves.addr(v)
            {
                let host = host.as_str().unwrap_or_default();
                note(
                    notes,
                    format!("network {name}: aux address {host} {v} → {moved}"),
                );
                *v = moved;
            }
        }
    }
}
