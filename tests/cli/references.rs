//! References follow what was scoped, on the real engine: the checked-in fixtures
//! (`tests/fixtures/refs-names`: a fixed network and volume name given by value in the
//! environment and in labels, a container_name reached by name; `tests/fixtures/refs-subnet`:
//! a fixed subnet whose fixed address is a `dns:` server, an `extra_hosts` entry and a URL in
//! the environment) run unedited from the main checkout (plain `docker-compose up -d`) and from
//! three sandboxes at once (two of them started at the same moment). Inside each stack's containers every value points at that stack's
//! own network, volume, address and containers, and no two stacks share any of them.

use std::path::Path;
use std::process::Command;

use crate::common::TestEnv;
use crate::services::{Cleanup, docker_ready};
use crate::volumes::docker;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const SANDBOXES: [&str; 3] = ["a", "b", "c"];

/// `docker ARGS`'s output, trimmed; fails the test when docker does.
pub(crate) fn dk(args: &[&str]) -> String {
    String::from_utf8_lossy(&docker(args).stdout)
        .trim()
        .to_string()
}

/// Removes what a crashed earlier run may have left under a fixture's fixed names.
pub(crate) fn clear(container: Option<&str>, network: &str, volume: Option<&str>) {
    let mut runs: Vec<Vec<&str>> = vec![vec!["network", "rm", network]];
    if let Some(c) = container {
        runs.insert(0, vec!["rm", "-f", c]);
    }
    if let Some(v) = volume {
        runs.push(vec!["volume", "rm", "-f", v]);
    }
    for args in runs {
        let _ = Command::new("docker").args(&args).output();
    }
}

/// A repo holding the fixture `name`, its main stack up as its users start it, and three
/// sandboxes up beside it. Returns the compose project of each stack, main's first.
pub(crate) fn three_beside_main(t: &TestEnv, name: &str) -> Vec<String> {
    let dir = Path::new(FIXTURES).join(name);
    for f in std::fs::read_dir(&dir).expect("fixture").flatten() {
        std::fs::copy(f.path(), t.repo.join(f.file_name())).expect("fixture");
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "the project"]);
    let out = t
        .program("docker-compose", &t.repo)
        .args(["up", "-d"])
        .output()
        .expect("docker-compose");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.ok(&t.repo, &["init"]);
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "init"]);
    // a alone, then b and c started at once: each renders while the other does.
    t.ok(&t.repo, &["new", "a", "--up"]);
    t.ok(&t.repo, &["new", "b"]);
    t.ok(&t.repo, &["new", "c"]);
    let ups: Vec<_> = ["b", "c"]
        .iter()
        .map(|s| {
            t.cmd(&t.repo)
                .args(["up", s])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn up")
        })
        .collect();
    for up in ups {
        let out = up.wait_with_output().expect("up");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let reg = t.registry();
    let mut projects = vec![t.repo_name()];
    for s in SANDBOXES {
        let inst = reg["instances"]
            .as_array()
            .and_then(|l| l.iter().find(|i| i["name"] == s))
            .unwrap_or_else(|| panic!("{s} is not registered: {reg}"));
        projects.push(inst["project"].as_str().expect("project").to_string());
    }
    projects
}

/// The one container of `service` in compose project `project`.
pub(crate) fn container(project: &str, service: &str) -> String {
    let id = dk(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ]);
    assert_eq!(id.lines().count(), 1, "{project}/{service}: {id:?}");
    id
}

pub(crate) fn inside(id: &str, args: &[&str]) -> String {
    let mut all = vec!["exec", id, "/busybox"];
    all.extend(args);
    dk(&all)
}

/// The value of `key` in the container's environment, as its processes see it.
pub(crate) fn env_of(id: &str, key: &str) -> String {
    let env = inside(id, &["env"]);
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {env}"))
        .to_string()
}

pub(crate) fn inspect(id: &str, format: &str) -> String {
    dk(&["inspect", "--format", format, id])
}

pub(crate) fn all_differ(what: &str, values: &[String]) {
    let mut v = values.to_vec();
    v.sort();
    v.dedup();
    assert_eq!(v.len(), values.len(), "{what} shared: {values:?}");
}

#[test]
fn names_given_by_value_follow_each_sandboxs_own_network_and_volume() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("rfn{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    clear(
        Some("refs-names-web"),
        "refs-names-net",
        Some("refs-names-data"),
    );
    let projects = three_beside_main(&t, "refs-names");
    let (mut nets, mut vols, mut webs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, p) in projects.iter().enumerate() {
        let (app, web) = (container(p, "app"), container(p, "web"));
        let net = env_of(&app, "DOCKER_NETWORK");
        let vol = env_of(&app, "DATA_VOLUME");
        if i == 0 {
            assert_eq!(
                (net.as_str(), vol.as_str()),
                ("refs-names-net", "refs-names-data")
            );
        } else {
            assert!(
                net.starts_with(p.as_str()) && vol.starts_with(p.as_str()),
                "{p}: {net} {vol}"
            );
        }
        // The values name what this stack's containers really use.
        let joined = inspect(
            &app,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        );
        assert_eq!(joined, net, "{p}: app joins {joined}, its env says {net}");
        let mounts = inspect(&app, "{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}");
        assert_eq!(mounts, format!("{vol}:/data"), "{p}");
        let argv = inside(&app, &["cat", "/proc/1/cmdline"]).replace('\0', " ");
        let argv = argv.trim_end();
        assert!(
            argv.ends_with(&format!(" --providers.docker.network={net}")),
            "{p}: {argv}"
        );
        for id in [&app, &web] {
            let label = inspect(id, "{{index .Config.Labels \"traefik.docker.network\"}}");
            assert_eq!(label, net, "{p}: the label in both forms");
        }
        // The container_name, now an alias, still reaches this stack's own web.
        let peer = env_of(&app, "PEER");
        assert_eq!(peer, "http://refs-names-web:80/", "{p}");
        let page = inside(&app, &["wget", "-qO-", &peer]);
        let own = inside(&web, &["hostname"]);
        assert_eq!(
            page,
            format!("web={own}"),
            "{p}: {peer} reached another stack"
        );
        nets.push(net);
        vols.push(vol);
        webs.push(own);
    }
    all_differ("networks", &nets);
    all_differ("volumes", &vols);
    all_differ("web containers", &webs);

    // Each rewrite is said.
    let out = t.run(&t.repo, &["compose-file", "-v", "a"]);
    let said = String::from_utf8_lossy(&out.stderr);
    for line in [
        "service app: environment DOCKER_NETWORK=refs-names-net → ",
        "service app: environment DATA_VOLUME=refs-names-data → ",
        "service app: labels traefik.docker.network=refs-names-net → ",
        "service web: labels traefik.docker.network=refs-names-net → ",
        "service app: environment PEER names refs-names-web: kept",
        "service app: command: --providers.docker.network=refs-names-net → ",
    ] {
        assert!(said.contains(line), "{line} not said:\n{said}");
    }
    let _ = t
        .program("docker-compose", &t.repo)
        .args(["down", "-v", "-t", "0"])
        .output();
    clear(
        Some("refs-names-web"),
        "refs-names-net",
        Some("refs-names-data"),
    );
}

/// An IPv4 address or subnet as (number, prefix length).
fn v4(s: &str) -> (u32, u32) {
    let (a, len) = s.split_once('/').unwrap_or((s, "32"));
    let a: std::net::Ipv4Addr = a.parse().unwrap_or_else(|_| panic!("not IPv4: {s}"));
    (u32::from(a), len.parse().expect("length"))
}

fn within(addr: &str, subnet: &str) -> bool {
    let ((a, _), (n, len)) = (v4(addr), v4(subnet));
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a & mask == n & mask
}

#[test]
fn a_fixed_subnet_moves_with_its_address_dns_hosts_and_urls() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("rfs{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    clear(None, "refs-subnet-net", None);
    let projects = three_beside_main(&t, "refs-subnet");
    let (mut subnets, mut apis) = (Vec::new(), Vec::new());
    for (i, p) in projects.iter().enumerate() {
        let (api, client) = (container(p, "api"), container(p, "client"));
        let net = inspect(
            &api,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}",
        );
        let subnet = dk(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
            &net,
        ]);
        let gateway = dk(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
            &net,
        ]);
        let addr = inspect(
            &api,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        );
        if i == 0 {
            assert_eq!(
                (subnet.as_str(), addr.as_str()),
                ("172.16.213.0/24", "172.16.213.10")
            );
        }
        assert!(
            subnet.ends_with("/24") && within(&addr, &subnet),
            "{p}: {addr} {subnet}"
        );
        assert_eq!(
            v4(&addr).0 - v4(&subnet).0,
            10,
            "{p}: the address keeps its offset"
        );
        assert_eq!(v4(&gateway).0 - v4(&subnet).0, 1, "{p}: the gateway too");
        // Every reference in the client is this stack's api.
        let url = env_of(&client, "API_URL");
        assert_eq!(url, format!("http://{addr}:80/"), "{p}");
        let hosts = inside(&client, &["cat", "/etc/hosts"]);
        assert!(
            hosts.contains(&format!("{addr}\tapi.internal")),
            "{p}: {hosts}"
        );
        let dns = inspect(&client, "{{range .HostConfig.Dns}}{{.}} {{end}}");
        assert_eq!(dns, addr, "{p}: its dns server");
        let own = format!("api={}", inside(&api, &["hostname"]));
        for target in [url.as_str(), "http://api.internal/"] {
            let page = inside(&client, &["wget", "-qO-", target]);
            assert_eq!(page, own, "{p}: {target} reached another stack");
        }
        subnets.push(subnet);
        apis.push(own);
    }
    all_differ("api containers", &apis);
    for (i, a) in subnets.iter().enumerate() {
        for b in &subnets[i + 1..] {
            assert!(!within(a, b) && !within(b, a), "{a} and {b} overlap");
        }
    }
    // Rendered again while b's stack is up, b keeps the subnet its network has (its own
    // network is not "taken"), so `up` again changes nothing.
    let out = t.run(&t.repo, &["compose-file", "-v", "b"]);
    let said = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("\"{}\"", subnets[2])), "{text}");
    t.ok(&t.repo, &["up", "b"]);
    for line in [
        "network back: fixed subnet 172.16.213.0/24 → ",
        "network back: gateway 172.16.213.1 → ",
        "service api: fixed address 172.16.213.10 on back → ",
        "service client: dns 172.16.213.10 → ",
        "service client: extra_hosts api.internal 172.16.213.10 → ",
        "service client: environment API_URL=http://172.16.213.10:80/ → ",
    ] {
        assert!(said.contains(line), "{line} not said:\n{said}");
    }
    let _ = t
        .program("docker-compose", &t.repo)
        .args(["down", "-v", "-t", "0"])
        .output();
    clear(None, "refs-subnet-net", None);
}

/// Rendering alone (compose's `config`, no engine): an IPv6 subnet and an IPv4 one with its
/// `ip_range` and `aux_addresses`, each moved with every address in it, and the subnets of a
/// second sandbox's rendered file left to it.
#[test]
fn ipv6_subnets_ranges_and_aux_addresses_move_and_a_second_sandbox_keeps_clear() {
    let compose = Command::new("docker-compose").arg("version").output();
    if !compose.is_ok_and(|o| o.status.success()) {
        crate::common::skip("references::ipv6_*", "docker-compose is not installed");
        return;
    }
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  db:\n    image: x\n    networks:\n      back:\n        ipv4_address: 172.16.214.20\n        ipv6_address: \"fd00:dead:beef::20\"\n  app:\n    image: x\n    dns: [\"fd00:dead:beef::20\"]\n    extra_hosts: [\"db6:fd00:dead:beef::20\"]\n    environment:\n      DB_URL: \"postgres://[fd00:dead:beef::20]:5432/x\"\n      TRUSTED: 172.16.214.0/24\n    networks: [back]\nnetworks:\n  back:\n    enable_ipv6: true\n    ipam:\n      config:\n        - subnet: 172.16.214.0/24\n          ip_range: 172.16.214.128/25\n          aux_addresses: {router: 172.16.214.2}\n        - subnet: \"fd00:dead:beef::/64\"\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "project"]);
    let rendered = |name: &str| {
        t.new_sandbox(name);
        let text = t.ok(&t.repo, &["compose-file", name]);
        let body: String = text.lines().filter(|l| !l.starts_with('#')).collect();
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    let a = rendered("a");
    let cfg = &a["networks"]["back"]["ipam"]["config"];
    let (v4net, v6net) = (
        cfg[0]["subnet"].as_str().expect("v4"),
        cfg[1]["subnet"].as_str().expect("v6"),
    );
    assert!(
        v4net.ends_with(".0/24") && !v4net.starts_with("172.16.214."),
        "{cfg}"
    );
    assert!(
        v6net.starts_with("fd") && v6net.ends_with("::/64") && !v6net.contains("dead:beef"),
        "{cfg}"
    );
    let v4 = v4net.trim_end_matches("0/24");
    let v6 = v6net.trim_end_matches("/64");
    assert_eq!(cfg[0]["ip_range"], format!("{v4}128/25"));
    assert_eq!(cfg[0]["aux_addresses"]["router"], format!("{v4}2"));
    let db = &a["services"]["db"]["networks"]["back"];
    assert_eq!(db["ipv4_address"], format!("{v4}20"));
    assert_eq!(db["ipv6_address"], format!("{v6}20"));
    let app = &a["services"]["app"];
    assert_eq!(app["dns"][0], format!("{v6}20"));
    assert!(
        app["extra_hosts"]
            .to_string()
            .contains(&format!("db6:{v6}20")),
        "{app}"
    );
    assert_eq!(
        app["environment"]["DB_URL"],
        format!("postgres://[{v6}20]:5432/x")
    );
    assert_eq!(app["environment"]["TRUSTED"], format!("{v4}0/24"));
    // b, given a's uuid (so its first pick would be a's), renders after a: a's rendered file
    // claims those subnets, even with neither stack up, so b's are others.
    t.new_sandbox("b");
    let reg = t.registry();
    let uuid = reg["instances"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "a"))
        .map(|i| i["uuid"].clone())
        .expect("a's uuid");
    t.tamper(&format!("{}--b", t.repo_name()), "uuid", uuid);
    let b = t.ok(&t.repo, &["compose-file", "b"]);
    assert!(!b.contains(v4net) && !b.contains(v6net), "{b}");
    // And a renders the same subnets again, b's claim beside it.
    let again = t.ok(&t.repo, &["compose-file", "a"]);
    assert!(again.contains(v4net) && again.contains(v6net), "{again}");
}
