//! Remote-engine findings of issue 24's adversary, on the second real engine
//! (`GIT_SANDBOX_TEST_ENGINE2`): `restore` plans its slot on the recorded engine's host, bind
//! mounts in disguise are refused, one engine has one key (`tcp://h` is `tcp://h:2375`), a TLS
//! context keeps its certificates, a port taken on the engine host's loopback gets a hint.
//! Skipped, with a visible line, without the engine (a failure in CI).

use crate::engines::{CleanupOn, docker_on, engine_addr, wait_for_at};
use crate::remote_engine::{COMPOSE, Outsider, json, running, setup, slot_of};

#[test]
fn restore_of_a_remote_sandbox_skips_a_slot_whose_port_is_taken_on_its_engine() {
    let base = 21540;
    let Some((e2, t)) = setup("rst", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    assert_eq!(slot_of(&t, "a"), 1);
    // A plain shell: rm goes to the recorded engine and keeps the volume there.
    t.ok(&t.repo, &["rm", "a", "--yes"]);
    // Its old port, taken on the engine's host by a container outside git-sandbox.
    let _outsider = Outsider::run(
        &e2,
        format!("gsb-rf-rst-{}", std::process::id()),
        &["-p", &format!("{}:{}", base + 1, base + 1)],
        base + 1,
    );
    wait_for_at(engine_addr(&e2), base + 1);
    t.ok(&t.repo, &["restore", "a"]);
    assert_eq!(
        slot_of(&t, "a"),
        2,
        "restore probed this machine, not the recorded engine's host"
    );
    assert_eq!(
        t.registry()["instances"][0]["engine"]["endpoint"],
        e2.as_str()
    );
}

#[test]
fn secrets_files_and_bind_volumes_are_refused_on_a_remote_engine_and_run_with_force() {
    let base = 21560;
    let Some((e2, t)) = setup("disg", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let dir = t.root.join("bound");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let compose = COMPOSE.replace(
        "      - data:/www\n",
        "      - data:/www\n      - bound:/b\n    secrets: [token]\n",
    ) + &format!(
        "  bound:\n    driver_opts: {{type: none, o: bind, device: {}}}\nsecrets:\n  token:\n    file: ./token.txt\n",
        dir.display()
    );
    t.write(&t.repo, "docker-compose.sandbox.yml", &compose);
    t.write(&t.repo, "token.txt", "s3cret\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "disguised binds"]);
    t.ok(&t.repo, &["new", "a"]);
    let err = t.fails_on(&e2, &t.repo, &["up", "a"], 1);
    assert!(
        err.contains("service web, secret token") && err.contains("token.txt"),
        "{err}"
    );
    assert!(
        err.contains("volume bound") && err.contains(&dir.display().to_string()),
        "{err}"
    );
    assert!(running(&t, Some(&e2)).is_empty(), "the refused up started");
    t.ok_on(&e2, &t.repo, &["up", "a", "--force"]);
    assert_eq!(running(&t, Some(&e2)).len(), 1, "--force did not start it");
}

#[test]
fn an_endpoint_without_its_default_port_is_the_same_engine() {
    let base = 21580;
    let Some((e2, t)) = setup("port", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let bare = format!("tcp://{}", engine_addr(&e2));
    assert_ne!(bare, e2, "engine2 is named with its port");
    t.ok_on(&bare, &t.repo, &["new", "a", "--up"]);
    // The same engine with its port spelled out: not a move, not refused.
    t.ok_on(&e2, &t.repo, &["up", "a"]);
    assert_eq!(running(&t, Some(&e2)).len(), 1);
    let engines = json(&t.ok_on(&e2, &t.repo, &["engines", "--json"]));
    let rows: Vec<&serde_json::Value> = engines["engines"]
        .as_array()
        .expect("engines")
        .iter()
        .filter(|e| e["host"] == engine_addr(&e2))
        .collect();
    assert_eq!(rows.len(), 1, "one engine listed twice: {engines}");
    assert_eq!(rows[0]["endpoint"], e2.as_str());
    assert_eq!(rows[0]["sandboxes"][0]["name"], "a", "{engines}");
    assert_eq!(rows[0]["shell"], true, "{engines}");
}

#[test]
fn a_port_taken_on_the_engine_hosts_loopback_fails_up_with_a_hint_naming_the_host() {
    let base = 21600;
    let Some((e2, t)) = setup("lo", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    // A program outside git-sandbox on the loopback of the engine's host only (host network).
    let lo = Outsider::listening(
        &e2,
        format!("gsb-rf-lo-{}", std::process::id()),
        &["--network", "host"],
        &format!("127.0.0.1:{}", base + 1),
    );
    // Listening on the engine's host: the probe from here cannot see it.
    let start = std::time::Instant::now();
    while docker_on(Some(&e2))
        .args(["inspect", "--format", "{{.State.Running}}", &lo.1])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() != "true")
    {
        assert!(start.elapsed().as_secs() < 20, "the listener never ran");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.ok_on(&e2, &t.repo, &["new", "a"]);
    assert_eq!(
        slot_of(&t, "a"),
        1,
        "the loopback listener was seen from here"
    );
    let err = t.fails_on(&e2, &t.repo, &["up", "a"], 1);
    assert!(
        err.contains(&format!("is taken on {}", engine_addr(&e2))) && err.contains("loopback"),
        "{err}"
    );
}

/// Makes docker contexts `gsb-tls` (with a self-signed client certificate) and `gsb-plain`,
/// both at `host`, in a docker config dir of `t`'s that its runs use; `false` without openssl.
fn tls_contexts(t: &mut crate::common::TestEnv, host: &str) -> bool {
    let (config, pem) = (t.root.join("docker-config"), t.root.join("pem"));
    std::fs::create_dir_all(&pem).expect("mkdir");
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=gsb-test",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .current_dir(&pem)
        .output()
        .is_ok_and(|o| o.status.success());
    if !made {
        crate::common::skip("remote_fixes::tls", "openssl is missing");
        return false;
    }
    std::fs::copy(pem.join("cert.pem"), pem.join("ca.pem")).expect("ca");
    let p = |f: &str| pem.join(f).display().to_string();
    let tls = format!(
        "host={host},ca={},cert={},key={}",
        p("ca.pem"),
        p("cert.pem"),
        p("key.pem")
    );
    for (name, spec) in [("gsb-tls", tls), ("gsb-plain", format!("host={host}"))] {
        let out = docker_on(None)
            .env("DOCKER_CONFIG", &config)
            .args(["context", "create", name, "--docker", &spec])
            .output()
            .expect("docker context create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    t.extra_env
        .push(("DOCKER_CONFIG".into(), config.display().to_string()));
    true
}

#[test]
fn a_tls_context_is_reached_with_its_certificates() {
    let base = 21620;
    let Some((e2, mut t)) = setup("tls", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    if !tls_contexts(&mut t, &e2) {
        return;
    }
    t.ok(&t.repo, &["new", "a"]);
    // engine2 speaks plain HTTP: a client with the context's TLS is refused there.
    let err = t.fails(&t.repo, &["up", "a", "--engine", "gsb-tls"], 1);
    assert!(
        err.contains("does not answer") && err.contains("HTTPS"),
        "the context's certificates were not used: {err}"
    );
    assert!(running(&t, Some(&e2)).is_empty());
    // The same engine through a context without TLS answers.
    t.ok(&t.repo, &["up", "a", "--engine", "gsb-plain"]);
    assert_eq!(running(&t, Some(&e2)).len(), 1);
}
