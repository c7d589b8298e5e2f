//! Only host ports move, on the real engine: the fixtures `tests/fixtures/render-vars` (the
//! project's own `APP_*` variables, a variable on both sides of a port and in a URL to its
//! service, a variable used only for a host port, literal loopback URLs) and
//! `tests/fixtures/render-merge` (merge keys in a file compose's `config` refuses) run three
//! times side by side: the main stack and two sandboxes. Asserted on the values inside the
//! containers (`busybox env`, `wget` between services) and on what the commands say.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestEnv;
use crate::services::{Cleanup, docker_ready, get, wait_for};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture_repo(t: &TestEnv, fixture: &str) {
    let from = Path::new(FIXTURES).join(fixture).join("compose.yaml");
    std::fs::copy(from, t.repo.join("compose.yaml")).expect("fixture");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "the project"]);
}

/// The port the sandbox's env gives `<PREFIX><suffix>`.
fn port(t: &TestEnv, name: &str, suffix: &str) -> u32 {
    let out = t.ok(&t.repo, &["env", name, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    json["env"]
        .as_object()
        .expect("env")
        .iter()
        .find(|(k, _)| k.ends_with(suffix) && !k.starts_with("SANDBOX_"))
        .and_then(|(_, v)| v.as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no {suffix} in {out}"))
}

/// The container of `service` of the stack `compose` lists (`ps -q`).
fn container(mut compose: Command, service: &str) -> String {
    let out = compose.args(["ps", "-q", service]).output().expect("ps");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !id.is_empty(),
        "no container for {service}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    id
}

fn exec(id: &str, args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(["exec", id, "/busybox"])
        .args(args)
        .output()
        .expect("docker exec");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `KEY=value` lines of a container's environment.
fn env_has(id: &str, line: &str) {
    let env = exec(id, &["env"]);
    assert!(
        env.lines().any(|l| l == line),
        "{line} not in {id}'s env:\n{env}"
    );
}

fn sandbox_compose(t: &TestEnv, name: &str) -> Command {
    let mut c = t.cmd(&t.repo);
    c.args(["compose", name, "--"]);
    c
}

fn up_main(t: &TestEnv) {
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
}

fn init(t: &TestEnv) -> String {
    let out = t.run(&t.repo, &["init"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "init"]);
    said
}

#[test]
fn only_host_ports_move_and_loopback_urls_of_published_ports_follow() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("rv{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    fixture_repo(&t, "render-vars");
    up_main(&t);
    assert!(wait_for(26437).contains("db-inside-26437"));

    // init passes over the project's own prefix and names each variable's case.
    let said = init(&t);
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(!cfg.contains("env_prefix = \"APP_\""), "{cfg}");
    assert!(!said.contains("OTHER_URL"), "{said}");
    for line in [
        "the project's own APP_DB_PORT, APP_NAME start(s) with \"APP_\"",
        "variable APP_DB_PORT sets db's published host port and is also used in",
        "the container side of db's port",
        "web's environment DATABASE_URL",
        "variable APP_WEB_PORT sets only published host ports (web)",
        "service web's environment API_URL (http://127.0.0.1:26637/v1) names a port the compose file publishes",
        "service api's environment SELF (http://[::1]:26637) names a port",
    ] {
        assert!(said.contains(line), "{line:?} not said:\n{said}");
    }

    for name in ["a", "b"] {
        t.ok(&t.repo, &["new", name, "--up"]);
    }
    for name in ["a", "b"] {
        let (db, web, api) = (
            port(&t, name, "_DB_PORT"),
            port(&t, name, "_WEB_PORT"),
            port(&t, name, "_API_PORT"),
        );
        assert!(
            ![db, web, api]
                .iter()
                .any(|p| [26437, 26537, 26637].contains(p))
        );
        // db's host side moved; inside, it still listens on the project's port.
        assert!(wait_for(db).contains("db-inside-26437"), "{name}");
        assert!(wait_for(web).contains("web") && wait_for(api).contains("api"));
        let db_id = container(sandbox_compose(&t, name), "db");
        env_has(&db_id, "APP_DB_PORT=26437");
        let web_id = container(sandbox_compose(&t, name), "web");
        env_has(&web_id, "DATABASE_URL=http://db:26437/");
        env_has(&web_id, &format!("PUBLIC_URL=http://localhost:{web}/"));
        env_has(&web_id, &format!("API_URL=http://127.0.0.1:{api}/v1"));
        env_has(&web_id, "OTHER_URL=http://localhost:26999/");
        env_has(&web_id, "APP_NAME=demo");
        let api_id = container(sandbox_compose(&t, name), "api");
        env_has(&api_id, &format!("SELF=http://[::1]:{api}"));
        let inside = exec(&web_id, &["wget", "-q", "-O", "-", "http://db:26437/"]);
        assert!(inside.contains("db-inside-26437"), "{name}: {inside}");

        let explained = t.ok(&t.repo, &["compose-file", name, "--explain"]);
        for line in [
            "variable APP_DB_PORT sets db's published host port and is also used in".to_string(),
            format!("it keeps its value 26437; only the host side moves (26437 → {db})"),
            format!(
                "variable APP_WEB_PORT sets only published host ports (web): it follows the slot, 26537 → {web}"
            ),
            format!("environment API_URL: http://127.0.0.1:26637/v1 → http://127.0.0.1:{api}/v1"),
            format!("environment SELF: http://[::1]:26637 → http://[::1]:{api}"),
        ] {
            assert!(
                explained.contains(&line),
                "{line:?} not explained:\n{explained}"
            );
        }
        assert!(!explained.contains("OTHER_URL"), "{explained}");
    }

    // The main stack kept its ports and its values.
    let main_web = container(t.program("docker-compose", &t.repo), "web");
    env_has(&main_web, "PUBLIC_URL=http://localhost:26537/");
    env_has(&main_web, "API_URL=http://127.0.0.1:26637/v1");
    assert!(get(26437).is_some_and(|p| p.contains("db-inside-26437")));
    assert!(get(26537).is_some() && get(26637).is_some());
    let _ = t
        .program("docker-compose", &t.repo)
        .args(["down", "-v"])
        .output();
}

#[test]
fn a_plan_variable_the_project_uses_inside_the_network_is_refused_with_the_fix() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("rc{}", std::process::id()));
    fixture_repo(&t, "render-vars");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "env_prefix = \"APP_\"\nmax_slots = 4\n[ports]\ndb = 26440\nweb = 26540\napi = 26640\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    let a = t.new_sandbox("a");
    let before = std::fs::read_dir(a.join(".sandbox"))
        .map(|d| d.count())
        .unwrap_or(0);
    for args in [&["compose-file"][..], &["up"][..]] {
        let err = t.fails(&a, args, 1);
        for part in [
            "port variable APP_DB_PORT",
            "env_prefix \"APP_\"",
            "the container side of db's port",
            "web's environment DATABASE_URL",
            "hint: set env_prefix",
        ] {
            assert!(err.contains(part), "{args:?}: {part:?} not in {err}");
        }
    }
    let after = std::fs::read_dir(a.join(".sandbox"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(before, after, "nothing rendered");
    // APP_WEB_PORT is only a host port: as the plan's own variable it is fine.
    t.write(
        &t.repo,
        ".sandbox.toml",
        "env_prefix = \"RC_\"\nmax_slots = 4\n[ports]\ndb = 26440\nweb = 26540\napi = 26640\n",
    );
    t.ok(&a, &["compose-file", "--explain"]);
}

#[test]
fn merge_keys_in_a_file_compose_refuses_render_to_one_it_runs() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("rm{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    fixture_repo(&t, "render-merge");
    let refused = t
        .program("docker-compose", &t.repo)
        .arg("config")
        .output()
        .expect("docker-compose");
    assert!(!refused.status.success(), "the fixture must be refused");
    init(&t);
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(cfg.contains("web = 26737"), "{cfg}");

    // The main stack: local-prod, on the file's own port, from the same rendering.
    let lp = PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    t.ok(&lp, &["local-prod", "up"]);
    assert!(wait_for(26737).contains("web web-tier"));
    for name in ["a", "b"] {
        t.ok(&t.repo, &["new", name, "--up"]);
    }
    for name in ["a", "b"] {
        let web = port(&t, name, "_WEB_PORT");
        assert_ne!(web, 26737);
        assert!(wait_for(web).contains("web web-tier"), "{name}");
        let id = container(sandbox_compose(&t, name), "web");
        env_has(&id, "ROLE=web");
        env_has(&id, "TIER=web-tier");
        env_has(&id, "PATH=/bin");
        let explained = t.ok(&t.repo, &["compose-file", name, "--explain"]);
        assert!(
            explained.contains("compose's `config` refused the project")
                && explained.contains(&format!("service web: host port 26737 → {web}")),
            "{explained}"
        );
        let rendered = t.ok(&t.repo, &["compose-file", name]);
        assert!(
            !rendered.contains("<<") && !rendered.contains("x-doc") && !rendered.contains("x-svc"),
            "{rendered}"
        );
        assert!(rendered.contains("git-sandbox-test-httpd:1"), "{rendered}");
    }
    assert!(get(26737).is_some_and(|p| p.contains("web web-tier")));
    t.ok(&t.repo, &["local-prod", "down"]);
}
