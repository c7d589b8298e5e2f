//! The subnets a sandbox's moved subnets must stay clear of, looked up for the renderer (the
//! rewrite itself is pure): every network's IPAM config on the engine but the instance's own
//! project's, the subnets other instances' rendered files claim (their stacks may be down
//! now and up later), and the host's own IPv4 routes (a VPN's 10.x), not the engine's bridges.
//! Whatever cannot be read adds nothing: an engine that does not answer fails at `up` anyway.

use std::path::Path;

use super::owner::PROJECT_LABEL;
use super::rewrite::Net;
use crate::registry::{Instance, Registry};

/// Every subnet taken for `inst`, whose compose project is `project`.
pub fn subnets(inst: &Instance, project: &str) -> Vec<Net> {
    let mut out = engine(project);
    out.extend(claimed(inst));
    out.extend(routes(
        &std::fs::read_to_string("/proc/net/route").unwrap_or_default(),
    ));
    out
}

/// The engine's networks' subnets, but those of `project`'s own networks.
fn engine(project: &str) -> Vec<Net> {
    let Ok(Some(ids)) = super::owner::lines(&["network", "ls", "-q"]) else {
        return Vec::new();
    };
    if ids.is_empty() {
        return Vec::new();
    }
    let format = format!(
        "{{{{index .Labels \"{PROJECT_LABEL}\"}}}}\t{{{{range .IPAM.Config}}}}{{{{.Subnet}}}} {{{{end}}}}"
    );
    let mut args = vec!["network", "inspect", "--format", &format];
    args.extend(ids.iter().map(String::as_str));
    let Ok(Some(lines)) = super::owner::lines(&args) else {
        return Vec::new();
    };
    lines
        .iter()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(p, _)| p.trim() != project)
        .flat_map(|(_, nets)| nets.split_whitespace().filter_map(Net::parse))
        .collect()
}

/// The subnets other instances' rendered files give their networks.
fn claimed(inst: &Instance) -> Vec<Net> {
    let Ok(data) = Registry::locate().and_then(|r| r.load()) else {
        return Vec::new();
    };
    data.instances
        .iter()
        .filter(|other| other.id != inst.id)
        .flat_map(|other| in_file(&other.path))
        .collect()
}

/// The subnets in the rendered file of the instance at `dir`.
fn in_file(dir: &Path) -> Vec<Net> {
    let Some(file) = super::render::existing(dir) else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&body) else {
        return Vec::new();
    };
    let Some(nets) = doc["networks"].as_object() else {
        return Vec::new();
    };
    nets.values()
        .filter_map(|n| n["ipam"]["config"].as_array())
        .flatten()
        .filter_map(|c| c["subnet"].as_str().and_then(Net::parse))
        .collect()
}

/// The host's IPv4 routes (`/proc/net/route`), not the default one nor the engine's bridges.
fn routes(table: &str) -> Vec<Net> {
    // The kernel prints each address as a native-endian number.
    let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes);
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (iface, dest, mask) = (f.first()?, hex(f.get(1)?)?, hex(f.get(7)?)?);
            let bridge = iface.starts_with("docker") || iface.starts_with("br-");
            let len = u32::from_be_bytes(mask).leading_ones();
            if bridge || len == 0 {
                return None;
            }
            Net::parse(&format!("{}/{len}", std::net::Ipv4Addr::from(dest)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hosts_routes_but_the_default_and_the_bridges() {
        let table = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
            tun0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let got: Vec<String> = super::routes(table).iter().map(|n| n.to_string()).collect();
        assert_eq!(got, ["10.0.0.0/16"]);
    }
}
