//! Stacks on a remote Docker engine (issue 24), on the second real engine `tests/engine2.sh`
//! starts (`GIT_SANDBOX_TEST_ENGINE2`): the port plan checks the engine's host, the URLs name
//! it and answer from this machine, a bind mount of this machine is refused unless `--force`,
//! and `list`/`engines` show it (the recorded engine's later use: `remote_recorded.rs`).
//! Skipped, with a visible line, without the engine (a failure in CI).

use std::path::Path;

use serde_json::Value;

use crate::common::TestEnv;
use crate::engines::{CleanupOn, docker_on, engine_addr, engine2, get_at, wait_for_at};
use crate::services::{IMAGE, docker_ready};

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
pub struct Outsider(String, pub String);

impl Outsider {
    pub fn run(host: &str, name: String, args: &[&str], port: u32) -> Outsider {
        Outsider::listening(host, name, args, &port.to_string())
    }

    /// As [`Outsider::run`], its httpd listening at `listen` (`PORT` or `ADDR:PORT`).
    pub fn listening(host: &str, name: String, args: &[&str], listen: &str) -> Outsider {
        let serve = format!(
            "/busybox mkdir -p /www && echo outsider > /www/index.html && exec /busybox httpd -f -p {listen} -h /www"
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
    let err = t.fails_on(&e2, &t.repo, &["up", "a"], 1);
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
fn a_worktree_bind_mount_is_refused_on_a_remote_engine_and_runs_with_force() {
    let base = 21480;
    let Some((e2, t)) = setup("bind", base, "      - ./src:/app\n") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    t.ok(&t.repo, &["new", "a"]);
    let err = t.fails_on(&e2, &t.repo, &["up", "a"], 1);
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
