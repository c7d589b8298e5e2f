//! Remote-engine findings of issue 24's adversary, on the second real engine
//! (`GIT_SANDBOX_TEST_ENGINE2`): `restore` plans its slot on the recorded engine's host, `seed
//! --reset` changes nothing when it refuses, bind mounts in disguise are refused. Skipped, with
//! a visible line, without the engine (a failure in CI).

use crate::engines::{CleanupOn, engine_addr, wait_for_at};
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
    let out = t
        .cmd_on(&e2, &t.repo)
        .args(["up", "a"])
        .output()
        .expect("up");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
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
