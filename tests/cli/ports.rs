//! The port plan, the env file and the live port checks.

use std::net::TcpListener;

use crate::common::TestEnv;

fn commit_config(t: &TestEnv, text: &str) {
    t.write(&t.repo, ".sandbox.toml", text);
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
}

#[test]
fn collision_is_found_and_both_owners_named() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "max_slots = 10\n[ports]\nbackend = 8000\nadmin = 8005\n",
    );
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(err.contains("port 8005 is planned twice"), "{err}");
    assert!(
        err.contains("slot 5's backend") && err.contains("admin"),
        "{err}"
    );
    assert!(err.contains(".sandbox.toml"), "{err}");
    let err = t.fails(&t.repo, &["new", "x"], 1);
    assert!(err.contains("planned twice"), "{err}");
    assert!(t.entries().is_empty());
}

#[test]
fn predecessor_layout_validates() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        r#"env_prefix = "KTRDR_"
max_slots = 10
env_file = ".env.sandbox"
path = "../{repo}--{name}"

[ports]
backend = 8000
db = 5432
workers = { base = 5010, count = 4, stride = 10 }

[compose]
file = "docker-compose.sandbox.yml"

[local_prod]
path = "../{repo}-prod"
profile = "local-prod"
ports = { workers = { count = 8 } }
"#,
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    let slot0: Vec<u64> = json["slots"][0]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter(|p| p["service"] == "workers")
        .map(|p| p["port"].as_u64().expect("n"))
        .collect();
    assert_eq!(
        slot0,
        (5010..5018).collect::<Vec<u64>>(),
        "local-prod gets 8 workers"
    );
    let slot1: Vec<u64> = json["slots"][1]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| p["port"].as_u64().expect("n"))
        .collect();
    assert_eq!(slot1, vec![8001, 5433, 5020, 5021, 5022, 5023]);
}

#[test]
fn out_of_range_and_unknown_keys_are_errors_naming_line_and_key() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "max_slots = 10\n[ports]\nbackend = 65530\n",
    );
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(err.contains("outside 1024..=65535"), "{err}");
    assert!(err.contains("lower the base"), "{err}");
    // Without max_slots the plan takes the 5 slots that fit; one that fits none is an error.
    t.write(&t.repo, ".sandbox.toml", "[ports]\nbackend = 65530\n");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    assert_eq!(json["slot_limit"], 5, "{json}");
    t.write(&t.repo, ".sandbox.toml", "[ports]\nbackend = 65535\n");
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(
        err.contains("slot 1's backend would be port 65536"),
        "{err}"
    );
    // Port 80 is too low: the fix goes the other way.
    t.write(&t.repo, ".sandbox.toml", "[ports]\nweb = 80\n");
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(err.contains("web would be port 80"), "{err}");
    assert!(err.contains("raise the base"), "{err}");
    assert!(!err.contains("lower the base"), "{err}");
    t.write(&t.repo, ".sandbox.toml", "max_slots = 3\nbogus = 1\n");
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(err.contains("line 2") && err.contains("bogus"), "{err}");
    t.write(&t.repo, ".sandbox.toml", "[ports]\nbackend = \"8000\"\n");
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(
        err.contains("line 2") && err.contains("a port is a number"),
        "{err}"
    );
}

#[test]
fn env_file_carries_the_ports() {
    let t = TestEnv::new();
    commit_config(
        &t,
        "env_prefix = \"APP_\"\n[ports]\nbackend = 18000\nworkers = { base = 18100, count = 2, stride = 10 }\n",
    );
    let p = t.new_sandbox("e");
    let env = std::fs::read_to_string(p.join(".env.sandbox")).expect("env");
    for line in [
        "APP_BACKEND_PORT=18001",
        "APP_WORKERS_PORT_0=18110",
        "APP_WORKERS_PORT_1=18111",
        "APP_WORKERS_PORTS=18110,18111",
    ] {
        assert!(env.contains(line), "{line} missing:\n{env}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&p, &["env", "--json"])).expect("json");
    assert_eq!(json["env"]["APP_BACKEND_PORT"], "18001");
    let sh = t.ok(&t.repo, &["env", "e"]);
    assert!(sh.contains("export APP_BACKEND_PORT='18001'"), "{sh}");
    let out = t.ok(
        &t.repo,
        &[
            "exec",
            "e",
            "--",
            "sh",
            "-c",
            "echo $APP_BACKEND_PORT:$SANDBOX_NAME:$(pwd)",
        ],
    );
    assert_eq!(out.trim(), format!("18001:e:{}", p.display()));
}

#[test]
fn busy_port_makes_new_skip_the_slot_and_up_refuse() {
    let t = TestEnv::new();
    commit_config(&t, "[ports]\nweb = 18200\n");
    let a = t.new_sandbox("a");
    t.write(&a, "docker-compose.sandbox.yml", "services: {}\n");
    // Hold slot 2's and slot 1's ports.
    let _slot2 = TcpListener::bind(("0.0.0.0", 18202)).expect("bind 18202");
    let out = t.run(&t.repo, &["new", "b"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("skipped slot 2") && err.contains("18202"),
        "{err}"
    );
    let slots: Vec<(String, u64)> = t.entries().into_iter().map(|e| (e.0, e.1)).collect();
    assert!(slots.contains(&("repo--b".into(), 3)), "{slots:?}");
    let _slot1 = TcpListener::bind(("0.0.0.0", 18201)).expect("bind 18201");
    let err = t.fails(&a, &["up"], 1);
    assert!(err.contains("18201 (web)"), "{err}");
}

#[test]
fn a_repo_name_cannot_inject_into_the_env_file() {
    // The repo's directory name reaches the env file only in its plain form (the id), so a
    // name holding a newline makes a sandbox whose env file has no line of its own.
    let t = TestEnv::named("evil\nINJECTED=1");
    let p = t.new_sandbox("x");
    let env = std::fs::read_to_string(p.join(".env.sandbox")).expect("env file");
    assert!(env.lines().all(|l| !l.starts_with("INJECTED")), "{env}");
    assert!(env.contains("SANDBOX_ID=evil-INJECTED-1--x\n"), "{env}");
    t.ok(&t.repo, &["rm", "x", "--yes"]);
    assert!(t.entries().is_empty());
    assert!(t.admin_entries().is_empty());
    assert_eq!(t.branches(), vec!["main"]);
}

#[test]
fn copy_brings_ignored_files_along() {
    let t = TestEnv::new();
    commit_config(&t, "copy = [\".env.local\", \"config/*.secret\"]\n");
    t.write(&t.repo, ".gitignore", ".env.local\n*.secret\n");
    t.write(&t.repo, ".env.local", "TOKEN=x\n");
    t.write(&t.repo, "config/a.secret", "a\n");
    t.write(&t.repo, "config/b.secret", "b\n");
    t.ok(&t.repo, &["trust"]);
    let p = t.new_sandbox("c");
    assert_eq!(
        std::fs::read_to_string(p.join(".env.local")).expect("copied"),
        "TOKEN=x\n"
    );
    assert!(p.join("config/a.secret").is_file() && p.join("config/b.secret").is_file());
}

#[test]
fn all_slots_taken_lists_holders_by_number_one_per_line() {
    let t = TestEnv::new();
    commit_config(&t, "max_slots = 10\n[ports]\nweb = 18000\n");
    for i in 1..=10 {
        t.new_sandbox(&format!("s{i}"));
    }
    let err = t.fails(&t.repo, &["new", "eleven"], 1);
    let slots: Vec<u32> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("slot "))
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(slots, (1..=10).collect::<Vec<u32>>(), "{err}");
}

#[test]
fn a_compose_tool_that_is_not_there_is_named() {
    let mut t = TestEnv::new();
    t.write(&t.repo, "compose.yaml", "services: {}\n");
    t.git(&t.repo, &["add", "compose.yaml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t.new_sandbox("s");
    t.extra_env = vec![("GIT_SANDBOX_COMPOSE".into(), "nocompose-xyz up".into())];
    let err = t.fails(&t.repo, &["up", "s"], 1);
    assert!(
        err.contains("GIT_SANDBOX_COMPOSE names \"nocompose-xyz\""),
        "{err}"
    );
}

#[test]
fn a_broken_config_is_an_error_in_list_and_status_not_a_sandbox_without_ports() {
    let t = TestEnv::new();
    commit_config(&t, "[ports]\nweb = 18100\n");
    t.new_sandbox("s");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\nweb = 18100\nwbe = \"x\"\n",
    );
    let out = t.run(&t.repo, &["list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".sandbox.toml") && err.contains("line 3"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("s "),
        "rows still shown"
    );
    let err = t.fails(&t.repo, &["status", "s", "--json"], 1);
    assert!(err.contains(".sandbox.toml"), "{err}");
}

#[test]
fn the_env_file_follows_a_changed_config_on_the_next_compose_command() {
    let mut t = TestEnv::new();
    commit_config(&t, "[ports]\nweb = 18300\n");
    t.write(&t.repo, "compose.yaml", "services: {}\n");
    t.git(&t.repo, &["add", "compose.yaml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    let s = t.new_sandbox("s");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\nweb = 18300\napi = 18400\n",
    );
    // A compose "tool" that only proves it ran: `true`.
    t.extra_env = vec![("GIT_SANDBOX_COMPOSE".into(), "true".into())];
    t.ok(&t.repo, &["ps", "s"]);
    let env = std::fs::read_to_string(s.join(".env.sandbox")).expect("env");
    assert!(env.contains("API_PORT=18401"), "{env}");
}

#[test]
fn a_server_listening_only_on_ipv6_loopback_makes_its_port_busy() {
    let t = TestEnv::new();
    commit_config(&t, "[ports]\nweb = 18500\n");
    let Ok(_v6) = TcpListener::bind(("::1", 18501)) else {
        crate::common::skip(
            "ports::a server on ::1 only",
            "this machine has no IPv6 loopback",
        );
        return;
    };
    let out = t.run(&t.repo, &["new", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("skipped slot 1") && err.contains("18501"),
        "{err}"
    );
    let ports: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    assert_eq!(ports["slots"][1]["ports"][0]["busy"], true, "{ports}");
}

#[test]
fn a_broken_config_never_blocks_down_or_rm_and_nothing_ignored_is_deleted() {
    let mut t = TestEnv::new();
    commit_config(&t, "[ports]\nweb = 18700\n");
    t.write(&t.repo, ".gitignore", "node_modules/\n");
    t.git(&t.repo, &["add", ".gitignore"]);
    t.git(&t.repo, &["commit", "-q", "-m", "ignore"]);
    let s = t.new_sandbox("s");
    t.git(&s, &["push", "-q", "-u", "origin", "s"]);
    t.write(
        &s,
        "node_modules/dep/index.js",
        "// a cache, normally deleted\n",
    );
    let env_before = std::fs::read_to_string(s.join(".env.sandbox")).expect("env");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\nweb = 18700\nwbe = \"x\"\n",
    );
    // down: the stack is found by its project name; the env file is left as it was.
    t.extra_env = vec![("GIT_SANDBOX_COMPOSE".into(), "true".into())];
    t.write(&s, "compose.yaml", "services: {}\n");
    let out = t.run(&t.repo, &["down", "s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(".sandbox.toml") && err.contains("working without it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(s.join(".env.sandbox")).expect("env"),
        env_before
    );
    std::fs::remove_file(s.join("compose.yaml")).expect("rm compose");
    // rm: works, and keeps even what the config would have let it delete.
    let out = t.run(&t.repo, &["rm", "s", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!s.exists());
    let parent = t.repo.parent().expect("parent");
    let kept = std::fs::read_dir(parent)
        .expect("parent")
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("kept/node_modules/dep/index.js"))
        .any(|p| p.is_file());
    assert!(kept, "the cache is kept in the trash: {err}");
}

#[test]
fn compose_sees_the_projects_env_with_the_sandboxs_values_on_top() {
    let t = TestEnv::new();
    let compose = ["docker-compose", "docker"].into_iter().find(|c| {
        t.program(c, &t.repo)
            .args(if *c == "docker" {
                &["compose", "version"][..]
            } else {
                &["version"][..]
            })
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if compose.is_none() {
        crate::common::skip(
            "ports::env layering",
            "neither docker-compose nor docker compose runs",
        );
        return;
    }
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  db:\n    image: x\n    ports: [\"${WEB_PORT}:80\"]\n    environment:\n      PASSWORD: ${DB_PASSWORD}\n      PORT: ${WEB_PORT}\n      SLOT: ${SANDBOX_SLOT}\n",
    );
    // The project's own .env: its credentials, and a port the sandbox must override (a host
    // port only: db is told its own published port; a plan variable the files used inside the
    // network would be refused, `render_vars`).
    t.write(&t.repo, ".env", "DB_PASSWORD=s3cret\nWEB_PORT=80\n");
    commit_config(&t, "[ports]\nweb = 18800\n");
    t.git(&t.repo, &["add", "compose.yaml", ".env"]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t.new_sandbox("s");
    let config = t.ok(&t.repo, &["compose", "s", "--", "config"]);
    assert!(
        config.contains("s3cret"),
        "the project's .env is read: {config}"
    );
    assert!(
        config.contains("18801"),
        "the sandbox's port wins: {config}"
    );
    assert!(
        !config.contains("PORT: '80'") && !config.contains("PORT: \"80\""),
        "{config}"
    );
    let env = std::fs::read_to_string(t.sandbox_path("s").join(".env.sandbox")).expect("env");
    assert!(
        env.contains("SANDBOX_URL_WEB=http://localhost:18801"),
        "{env}"
    );
}

#[test]
fn an_env_file_setting_naming_the_projects_own_file_is_refused_and_it_is_untouched() {
    let t = TestEnv::new();
    t.write(&t.repo, ".env", "DB_PASSWORD=s3cret\n");
    commit_config(&t, "env_file = \".env\"\n[ports]\nweb = 18900\n");
    t.git(&t.repo, &["add", ".env"]);
    t.git(&t.repo, &["commit", "-q", "-m", "env"]);
    let before = t.entries();
    let err = t.fails(&t.repo, &["new", "s"], 1);
    assert!(err.contains("not an env file git-sandbox wrote"), "{err}");
    assert!(err.contains("env_file"), "{err}");
    assert_eq!(t.entries(), before, "nothing was made");
    assert!(!t.sandbox_path("s").exists());
    assert_eq!(
        std::fs::read_to_string(t.repo.join(".env")).expect(".env"),
        "DB_PASSWORD=s3cret\n"
    );
}

#[test]
fn slots_are_shared_across_repos_only_through_actual_ports() {
    let t = TestEnv::new();
    commit_config(&t, "[ports]\nweb = 19000\n");
    let make = |dir: &str, config: Option<&str>| -> std::path::PathBuf {
        let parent = t.root.join(dir);
        std::fs::create_dir_all(&parent).expect("dir");
        t.git(&parent, &["init", "-q", "other"]);
        let repo = parent.join("other");
        t.write(&repo, "f", "x\n");
        if let Some(c) = config {
            t.write(&repo, ".sandbox.toml", c);
        }
        t.git(&repo, &["add", "."]);
        t.git(&repo, &["commit", "-q", "-m", "x"]);
        repo
    };
    t.new_sandbox("a");
    // A repo with no ports takes no number from the pool: its first sandbox is slot 1 too.
    let plain = make("p", None);
    t.ok(&plain, &["new", "x"]);
    // A repo whose ports differ also starts at slot 1; one whose ports would collide does not.
    let apart = make("q", Some("[ports]\napi = 19500\n"));
    t.ok(&apart, &["new", "y"]);
    let clash = make("r", Some("[ports]\nweb = 19000\n"));
    t.ok(&clash, &["new", "z"]);
    let slot = |repo: &std::path::Path, name: &str| {
        let v: serde_json::Value =
            serde_json::from_str(&t.ok(repo, &["status", name, "--json"])).expect("json");
        v["sandbox"]["slot"].as_u64().expect("slot")
    };
    assert_eq!(slot(&t.repo, "a"), 1);
    assert_eq!(slot(&plain, "x"), 1);
    assert_eq!(slot(&apart, "y"), 1);
    assert_eq!(slot(&clash, "z"), 2, "port 19001 is repo's sandbox a's");
}
