//! Stacks on a remote Docker engine (issue 24), on the second real engine `tests/engine2.sh`
//! starts (`GIT_SANDBOX_TEST_ENGINE2`): the port plan checks the engine's host, the URLs name
//! it and answer from this machine, later commands use the engine recorded at `up` whatever the
//! shell says, a bind mount of this machine is refused unless `--force`, and `list`/`engines`
//! show it. Skipped, with a visible line, without the engine (a failure in CI).

use std::path::Path;

use serde_json::Value;

use crate::common::TestEnv;
use crate::engines::{CleanupOn, docker_on, engine_addr, engine2, get_at, wait_for_at};
use crate::services::{Cleanup, IMAGE, docker_ready};

/// The main engine, named explicitly (a shell whose `DOCKER_HOST` points there).
pub const MAIN: &str = "unix:///var/run/docker.sock";

/// Published on every address of the engine's host, so this machine reaches it there.
pub const COMPOSE: &str = r#"services:
  web:
    image: git-sandbox-test-httpd:1
    command: ["sh", "-c", "/busybox mkdir -p /www && echo \"$$SANDBOX_NAME on $$WEB_PORT\" > /www/index.html && exec /busybox httpd -f -p 8080 -h /www"]
    entrypoint: ["/busybox"]
    environment:
      SANDBOX_NAME: ${SANDBOX_NAME}
      WEB_PORT: ${WEB_PORT}
      PATH: /bin
    ports:
      - "${WEB_PORT}:8080"
    volumes:
      - data:/www
volumes:
  data:
"#;

/// A repo with [`COMPOSE`] (plus `extra` appended to the web service) and ports from `base`.
pub fn remote_env(tag: &str, base: u32, extra: &str) -> TestEnv {
    let t = TestEnv::named(&format!("re{tag}{}", std::process::id()));
    let compose = COMPOSE.replace(
        "      - data:/www\n",
        &format!("      - data:/www\n{extra}"),
    );
    t.write(&t.repo, "docker-compose.sandbox.yml", &compose);
    t.write(
        &t.repo,
        ".sandbox.toml",
        &format!("max_slots = 4\n[ports]\nweb = {base}\n"),
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t
}

/// The engine and the env, or `None` (skipped) without either engine.
pub fn setup(tag: &str, base: u32, extra: &str) -> Option<(String, TestEnv)> {
    let e2 = engine2()?;
    if !docker_ready() {
        return None;
    }
    Some((e2, remote_env(tag, base, extra)))
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Project names of this repo's running containers on `host` (the main engine when `None`).
pub fn running(t: &TestEnv, host: Option<&str>) -> Vec<String> {
    let out = docker_on(host)
        .args([
            "ps",
            "--format",
            "{{.Label \"com.docker.compose.project\"}}",
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|p| p.starts_with(&t.repo_name()))
        .map(String::from)
        .collect()
}

/// A container outside git-sandbox on `host`, removed when dropped.
pub struct Outsider(String, String);

impl Outsider {
    pub fn run(host: &str, name: String, args: &[&str], port: u32) -> Outsider {
        let serve = format!(
            "/busybox mkdir -p /www && echo outsider > /www/index.html && exec /busybox httpd -f -p {port} -h /www"
        );
        let out = docker_on(Some(host))
            .args(["run", "-d", "--name", &name])
            .args(args)
            .args(["--entrypoint", "/busybox", IMAGE, "sh", "-c", &serve])
            .output()
            .expect("docker run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Outsider(host.to_string(), name)
    }
}

impl Drop for Outsider {
    fn drop(&mut self) {
        let _ = docker_on(Some(&self.0))
            .args(["rm", "-f", &self.1])
            .output();
    }
}

/// The slot `status --json` gives sandbox `name`.
pub fn slot_of(t: &TestEnv, name: &str) -> u64 {
    json(&t.ok(&t.repo, &["status", name, "--json"]))["sandbox"]["slot"]
        .as_u64()
        .expect("slot")
}

#[test]
fn a_port_taken_on_the_engine_host_makes_the_plan_skip_that_slot() {
    let base = 21400;
    let Some((e2, t)) = setup("plan", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let pid = std::process::id();
    // Slot 1's port published by a container; slot 2's held by a program on the engine's
    // host itself (host networking: no published port, only the probe sees it).
    let _published = Outsider::run(
        &e2,
        format!("gsb-re-pub-{pid}"),
        &["-p", &format!("{}:{}", base + 1, base + 1)],
        base + 1,
    );
    let _host = Outsider::run(
        &e2,
        format!("gsb-re-host-{pid}"),
        &["--network", "host"],
        base + 2,
    );
    wait_for_at(engine_addr(&e2), base + 2);
    t.ok_on(&e2, &t.repo, &["new", "a"]);
    assert_eq!(
        slot_of(&t, "a"),
        3,
        "slots 1 and 2 are busy on the engine's host"
    );
    // Taken after `new`: `up` refuses, naming the engine's host.
    let _late = Outsider::run(
        &e2,
        format!("gsb-re-late-{pid}"),
        &["--network", "host"],
        base + 3,
    );
    wait_for_at(engine_addr(&e2), base + 3);
    let out = t
        .cmd_on(&e2, &t.repo)
        .args(["up", "a"])
        .output()
        .expect("up");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{} (web)", base + 3)) && err.contains(engine_addr(&e2)),
        "{err}"
    );
    // On the local engine, those ports are free: the plan there takes slot 1.
    t.ok(&t.repo, &["new", "b"]);
    assert_eq!(
        slot_of(&t, "b"),
        1,
        "the local plan looked at engine2's host"
    );
}

#[test]
fn urls_answer_from_this_machine_and_list_and_engines_show_the_engine() {
    let base = 21420;
    let Some((e2, t)) = setup("url", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let addr = engine_addr(&e2).to_string();
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    let env = json(&t.ok(&t.repo, &["env", "a", "--json"]));
    let url = env["env"]["SANDBOX_URL_WEB"]
        .as_str()
        .expect("SANDBOX_URL_WEB");
    let port = base + 1;
    assert_eq!(url, format!("http://{addr}:{port}"));
    let page = wait_for_at(&addr, port);
    assert!(
        page.contains(&format!("a on {port}")),
        "{url} served {page}"
    );
    assert!(
        get_at("127.0.0.1", port).is_none(),
        "the stack answers on localhost"
    );
    let context = std::fs::read_to_string(t.sandbox_path("a").join(".sandbox/context.md"))
        .expect("context.md");
    assert!(
        context.contains(url),
        "context.md does not name {url}:\n{context}"
    );
    // `list` in a plain shell shows the engine's host; `status` the engine.
    let list = t.ok(&t.repo, &["list"]);
    assert!(list.contains(&format!("on {addr}")), "list:\n{list}");
    let status = json(&t.ok(&t.repo, &["status", "a", "--json"]));
    assert_eq!(status["sandbox"]["engine"]["endpoint"], e2.as_str());
    assert_eq!(
        status["sandbox"]["services_up"], true,
        "status asked the wrong engine"
    );
    let engines = json(&t.ok(&t.repo, &["engines", "--json"]));
    let row = engines["engines"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["endpoint"] == e2.as_str()))
        .unwrap_or_else(|| panic!("engine2 missing: {engines}"));
    assert_eq!(row["host"], addr.as_str());
    assert_eq!(row["sandboxes"][0]["name"], "a");
    assert_eq!(row["sandboxes"][0]["services_up"], true);
    assert!(
        row["busy_ports"]
            .as_array()
            .is_some_and(|p| p.contains(&port.into())),
        "{row}"
    );
    let text = t.ok(&t.repo, &["engines"]);
    assert!(
        text.contains(&format!("{e2}, ports on {addr}")) && text.contains("a (up)"),
        "{text}"
    );
}

#[test]
fn rm_in_a_shell_aimed_at_the_main_engine_removes_the_stack_on_the_recorded_one() {
    let base = 21440;
    let Some((e2, t)) = setup("rm", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = Cleanup(t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    // Another sandbox of the repo runs on the main engine.
    t.ok_on(MAIN, &t.repo, &["new", "b", "--up"]);
    let (on_e2, on_main) = (running(&t, Some(&e2)), running(&t, None));
    assert_eq!(on_e2.len(), 1, "a does not run on engine2: {on_e2:?}");
    assert_eq!(
        on_main.len(),
        1,
        "b does not run on the main engine: {on_main:?}"
    );
    // A shell aimed at the main engine: logs and ps still reach a's stack.
    let ps = t
        .cmd_on(MAIN, &t.repo)
        .args(["ps", "a"])
        .output()
        .expect("ps");
    assert!(
        String::from_utf8_lossy(&ps.stdout).contains("web"),
        "ps asked the wrong engine"
    );
    t.ok_on(MAIN, &t.repo, &["rm", "a", "--yes"]);
    assert_eq!(
        running(&t, Some(&e2)),
        Vec::<String>::new(),
        "a still runs on engine2"
    );
    assert_eq!(running(&t, None), on_main, "rm touched the main engine");
}

#[test]
fn up_on_another_engine_is_refused_while_the_stack_runs_and_moves_once_down() {
    let base = 21460;
    let Some((e2, t)) = setup("mv", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = Cleanup(t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    let err = t.fails(&t.repo, &["up", "a", "--engine", "local"], 1);
    assert!(err.contains("git sandbox down a"), "{err}");
    assert!(
        running(&t, None).is_empty(),
        "the refused up started on the main engine"
    );
    // A plain shell: `down` goes to the recorded engine; its volume stays there, so a move
    // is refused (the data would drop out of rm and restore) until `--force`.
    t.ok(&t.repo, &["down", "a"]);
    assert!(running(&t, Some(&e2)).is_empty(), "down left it on engine2");
    let err = t.fails(&t.repo, &["up", "a", "--engine", "local"], 1);
    assert!(
        err.contains("the volumes of a are on engine") && err.contains("--force"),
        "{err}"
    );
    assert!(running(&t, None).is_empty(), "the refused move started");
    t.ok(&t.repo, &["up", "a", "--engine", "local", "--force"]);
    assert_eq!(
        running(&t, None).len(),
        1,
        "a does not run on the main engine"
    );
    assert!(running(&t, Some(&e2)).is_empty());
    let reg = t.registry();
    let entry = &reg["instances"][0];
    assert_eq!(entry["engine"]["name"], "local", "{reg}");
}

#[test]
fn a_worktree_bind_mount_is_refused_on_a_remote_engine_and_runs_with_force() {
    let base = 21480;
    let Some((e2, t)) = setup("bind", base, "      - ./src:/app\n") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    t.ok(&t.repo, &["new", "a"]);
    let out = t
        .cmd_on(&e2, &t.repo)
        .args(["up", "a"])
        .output()
        .expect("up");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let src = Path::new(&t.sandbox_path("a")).join("src");
    assert!(
        err.contains("service web") && err.contains(&src.display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("named volume") && err.contains("--force"),
        "{err}"
    );
    assert!(
        running(&t, Some(&e2)).is_empty(),
        "the refused up started something"
    );
    t.ok_on(&e2, &t.repo, &["up", "a", "--force"]);
    assert_eq!(running(&t, Some(&e2)).len(), 1, "--force did not start it");
}

/// Whether volume `name` exists on `host`.
pub fn volume_on(host: &str, name: &str) -> bool {
    docker_on(Some(host))
        .args(["volume", "inspect", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn restore_and_trash_purge_find_the_kept_volumes_on_the_recorded_engine() {
    let base = 21500;
    let Some((e2, t)) = setup("trash", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    let volume = format!("{}--a_data", t.repo_name());
    assert!(volume_on(&e2, &volume), "no {volume} on engine2");
    t.ok_on(MAIN, &t.repo, &["rm", "a", "--yes"]);
    assert!(volume_on(&e2, &volume), "rm did not keep {volume}");
    let listed = t.ok_on(MAIN, &t.repo, &["trash", "list"]);
    assert!(
        listed.contains(&format!("volume {volume}: on engine {e2}")),
        "{listed}"
    );
    // restore gives it its engine back: `up` in a plain shell runs there, on its volume.
    t.ok(&t.repo, &["restore", "a"]);
    assert_eq!(
        t.registry()["instances"][0]["engine"]["endpoint"],
        e2.as_str()
    );
    t.ok(&t.repo, &["up", "a"]);
    assert_eq!(
        running(&t, Some(&e2)).len(),
        1,
        "restored a does not run on engine2"
    );
    t.ok_on(MAIN, &t.repo, &["rm", "a", "--yes"]);
    t.ok_on(MAIN, &t.repo, &["trash", "purge", "--yes"]);
    assert!(
        !volume_on(&e2, &volume),
        "trash purge left {volume} on engine2"
    );
}

/// The engine's id, as `docker info` says it.
fn engine_id_of(host: Option<&str>) -> String {
    let out = docker_on(host)
        .args(["info", "--format", "{{.ID}}"])
        .output()
        .expect("docker info");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn teardown_talks_to_the_recorded_engine_and_a_silent_engine_is_never_recorded() {
    let base = 21520;
    let Some((e2, t)) = setup("td", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = Cleanup(t.repo_name());
    let seen = t.root.join("teardown-engine");
    t.write(
        &t.repo,
        ".sandbox.toml",
        &format!(
            "max_slots = 4\n[ports]\nweb = {base}\n[commands]\nteardown = [\"docker info --format '{{{{.ID}}}}' > {}\"]\n",
            seen.display()
        ),
    );
    t.git(&t.repo, &["commit", "-qam", "teardown"]);
    t.ok(&t.repo, &["trust"]);
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    // An engine that does not answer: refused, nothing recorded, the stack where it was.
    let silent = format!("tcp://{}:1", engine_addr(&e2));
    let err = t.fails(&t.repo, &["up", "a", "--engine", &silent], 1);
    assert!(err.contains("does not answer"), "{err}");
    assert_eq!(
        t.registry()["instances"][0]["engine"]["endpoint"],
        e2.as_str()
    );
    // rm in a shell aimed at the main engine: the teardown's docker talks to engine2.
    let out = t
        .cmd_on(MAIN, &t.repo)
        .args(["rm", "a", "--yes"])
        .output()
        .expect("rm");
    assert!(out.status.success(), "{out:?}");
    let said = std::fs::read_to_string(&seen).expect("the teardown ran");
    assert_eq!(
        said.trim(),
        engine_id_of(Some(&e2)),
        "teardown asked another engine"
    );
    assert_ne!(said.trim(), engine_id_of(None));
}
