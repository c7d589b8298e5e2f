//! Zero-edit isolation on the real engine: the checked-in sample project
//! (`tests/fixtures/compose-sample`, written for the main checkout alone: literal host ports, a
//! `container_name`, fixed volume and network names, a fixed subnet and address, credentials in
//! `.env`, tcp+udp on one port, adjacent ports) runs unedited from the main checkout and from
//! two sandboxes at once, each stack on its own ports.

use std::path::Path;
use std::process::Command;

use crate::common::TestEnv;
use crate::services::{Cleanup, docker_ready, get, wait_for};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compose-sample");

/// Removes what a crashed earlier run may have left under the fixture's fixed names.
fn clear_fixed_names() {
    for args in [
        &["rm", "-f", "sample-web"][..],
        &["network", "rm", "sample-net"][..],
        &["volume", "rm", "-f", "sample-data"][..],
    ] {
        let _ = Command::new("docker").args(args).output();
    }
}

fn sample_repo(t: &TestEnv) {
    for f in ["compose.yaml", ".env"] {
        std::fs::copy(Path::new(FIXTURE).join(f), t.repo.join(f)).expect("fixture");
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "the sample project"]);
}

/// The port the sandbox's env gives `<PREFIX><suffix>`.
fn port(t: &TestEnv, name: &str, suffix: &str) -> u32 {
    let out = t.ok(&t.repo, &["env", name, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let env = json["env"].as_object().expect("env");
    env.iter()
        .find(|(k, _)| k.ends_with(suffix))
        .and_then(|(_, v)| v.as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no {suffix} in {out}"))
}

fn host_of(page: &str) -> String {
    page.split("host=")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn an_unedited_compose_project_runs_once_per_sandbox_beside_the_main_stack() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("zed{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    clear_fixed_names();
    sample_repo(&t);
    let compose_before = std::fs::read(t.repo.join("compose.yaml")).expect("compose");

    // The main checkout's own stack, as its users start it, on the file's own ports.
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
    let main_page = wait_for(18480);
    assert!(
        main_page.contains("user=app password=s3cret"),
        "{main_page}"
    );

    // init reads compose's model and names every isolation breaker.
    let out = t.run(&t.repo, &["init"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    for breaker in [
        "container_name: sample-web",
        "volume data has a fixed name: sample-data",
        "network back has a fixed name: sample-net",
        "network back has a fixed subnet",
        "needs no edit",
    ] {
        assert!(said.contains(breaker), "{breaker} not said:\n{said}");
    }
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(cfg.contains("web = 18480"), "{cfg}");
    assert!(
        cfg.contains("admin = { base = 18490, count = 2"),
        "adjacent ports are a group: {cfg}"
    );
    assert_eq!(
        cfg.matches("service dns").count(),
        1,
        "tcp+udp is one port: {cfg}"
    );
    t.ok(&t.repo, &["ports"]);
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "init"]);

    // Two sandboxes, each started by one command, with no edit to the compose file.
    let a = std::path::PathBuf::from(t.ok(&t.repo, &["new", "a", "--up"]).trim());
    t.ok(&t.repo, &["new", "b", "--up"]);
    let mut hosts = vec![host_of(&main_page)];
    for name in ["a", "b"] {
        let web = port(&t, name, "_WEB_PORT");
        assert_ne!(web, 18480);
        let page = wait_for(web);
        assert!(
            page.contains("user=app password=s3cret"),
            "{name}: the project's .env: {page}"
        );
        hosts.push(host_of(&page));
        let admin = port(&t, name, "_ADMIN_PORT_1");
        assert!(wait_for(admin).contains("admin"), "{name}'s adjacent port");
        assert!(
            wait_for(port(&t, name, "_DNS_PORT")).contains("dns"),
            "{name}'s dns"
        );
    }
    hosts.sort();
    hosts.dedup();
    assert_eq!(
        hosts.len(),
        3,
        "three stacks, three web containers: {hosts:?}"
    );
    let again = get(18480).expect("the main stack still serves");
    assert_eq!(host_of(&again), host_of(&main_page));

    // What ran is the rendered file; the project's file and the sandbox's tree are untouched.
    let rendered = t.ok(&a, &["compose-file"]);
    assert!(!rendered.contains("container_name"), "{rendered}");
    assert!(
        !rendered.contains("sample-data") && !rendered.contains("172.16.231"),
        "{rendered}"
    );
    assert!(
        rendered.contains(&port(&t, "a", "_WEB_PORT").to_string()),
        "{rendered}"
    );
    assert_eq!(
        std::fs::read(t.repo.join("compose.yaml")).expect("compose"),
        compose_before
    );
    assert_eq!(t.git(&a, &["status", "--porcelain", "--ignored=no"]), "");
    assert_eq!(t.git(&t.repo, &["status", "--porcelain"]), "");

    // Each sandbox has its own volume; rm deletes a's and nothing of the others'.
    let volumes = || {
        let out = Command::new("docker")
            .args(["volume", "ls", "-q"])
            .output()
            .expect("docker");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let id_a = format!("{}--a", t.repo_name());
    let id_b = format!("{}--b", t.repo_name());
    let v = volumes();
    assert!(
        v.contains(&format!("{id_a}_data")) && v.contains(&format!("{id_b}_data")),
        "{v}"
    );
    // Its volume kept with the saved state by default; --delete-volumes deletes it now.
    t.ok(&t.repo, &["rm", "a", "--yes", "--delete-volumes"]);
    let v = volumes();
    assert!(!v.contains(&format!("{id_a}_data")), "{v}");
    assert!(
        v.contains(&format!("{id_b}_data")) && v.contains("sample-data"),
        "{v}"
    );
    assert!(
        get(18480).is_some(),
        "the main stack survives a sandbox's rm"
    );
    let _ = t
        .program("docker-compose", &t.repo)
        .args(["down", "-v"])
        .output();
    clear_fixed_names();
}
