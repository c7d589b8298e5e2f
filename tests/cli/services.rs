//! Services on the machine's real Docker engine. No image can be pulled here, so the tests
//! build a tiny image `FROM scratch` holding Debian's static busybox, whose httpd serves a page
//! naming the sandbox. Without an engine these tests skip and say so, unless
//! `GIT_SANDBOX_REQUIRE_DOCKER=1` (set by CI) turns the skip into a failure.

use std::process::Command;
use std::sync::OnceLock;

use crate::common::TestEnv;
use crate::engines;

pub(crate) const IMAGE: &str = "git-sandbox-test-httpd:1";

/// Whether Docker tests can run (the engine answers and holds [`IMAGE`], built once per
/// process); panics when they must but cannot.
pub(crate) fn docker_ready() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let r = READY.get_or_init(|| {
        engines::engine_id(None)?;
        engines::build_test_image(None)
    });
    match r {
        Ok(()) => true,
        Err(why) if engines::docker_required() => {
            panic!(
                "Docker tests are required here (GIT_SANDBOX_REQUIRE_DOCKER=1) but cannot run: {why}"
            )
        }
        Err(why) => {
            crate::common::skip("Docker tests", why);
            false
        }
    }
}

const COMPOSE: &str = r#"services:
  web:
    image: git-sandbox-test-httpd:1
    command: ["sh", "-c", "/busybox mkdir -p /www && echo \"$$SANDBOX_NAME on $$WEB_PORT\" > /www/index.html && exec /busybox httpd -f -p 8080 -h /www"]
    entrypoint: ["/busybox"]
    environment:
      SANDBOX_NAME: ${SANDBOX_NAME}
      WEB_PORT: ${WEB_PORT}
      PATH: /bin
    ports:
      - "127.0.0.1:${WEB_PORT}:8080"
    volumes:
      - data:/www
  extra:
    image: git-sandbox-test-httpd:1
    entrypoint: ["/busybox"]
    command: ["sh", "-c", "/busybox mkdir -p /www && echo local-prod-only > /www/index.html && exec /busybox httpd -f -p 8080 -h /www"]
    environment:
      PATH: /bin
    profiles: ["local-prod"]
    ports:
      - "127.0.0.1:${EXTRA_PORT}:8080"
volumes:
  data:
"#;

/// A repo whose compose stack serves one page per sandbox, on ports from `base`.
pub(crate) fn docker_env(tag: &str, base: u32) -> TestEnv {
    let name = format!("dk{tag}{}", std::process::id());
    let t = TestEnv::named(&name);
    // The image holds only /busybox, so every applet is called through it.
    t.write(&t.repo, "docker-compose.sandbox.yml", COMPOSE);
    t.write(
        &t.repo,
        ".sandbox.toml",
        &format!("max_slots = 4\n[ports]\nweb = {base}\nextra = {}\n[local_prod]\nprofile = \"local-prod\"\n", base + 10),
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t
}

/// Removes every container, volume and network of projects starting with the env's repo name.
pub(crate) struct Cleanup(pub(crate) String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        engines::remove_projects(None, &self.0);
    }
}

/// `GET /` from `127.0.0.1:port`; the response when it is a 200.
pub(crate) fn get(port: u32) -> Option<String> {
    engines::get_at("127.0.0.1", port)
}

/// [`get`] until it answers; panics after 30 s.
pub(crate) fn wait_for(port: u32) -> String {
    engines::wait_for_at("127.0.0.1", port)
}

pub(crate) fn project_objects(project: &str) -> (usize, usize) {
    let count = |args: &[&str]| {
        let out = Command::new("docker")
            .args(args)
            .args([
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ])
            .output()
            .expect("docker");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .count()
    };
    (count(&["ps", "-aq"]), count(&["volume", "ls", "-q"]))
}

#[test]
fn two_sandboxes_serve_on_their_own_ports_and_stay_apart() {
    if !docker_ready() {
        return;
    }
    let t = docker_env("two", 19100);
    let _cleanup = Cleanup(t.repo_name());
    let a = t.new_sandbox("a");
    t.ok(&a, &["up"]);
    // `new --up` makes it and starts its stack.
    let b = std::path::PathBuf::from(t.ok(&t.repo, &["new", "b", "--up"]).trim());
    assert!(wait_for(19101).contains("a on 19101"));
    assert!(wait_for(19102).contains("b on 19102"));
    let list = t.ok(&t.repo, &["list", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&list).expect("json");
    assert!(
        json["sandboxes"]
            .as_array()
            .expect("a")
            .iter()
            .all(|s| s["services_up"] == true),
        "{list}"
    );
    let pa = format!("{}--a", t.repo_name());
    let pb = format!("{}--b", t.repo_name());
    assert_eq!(project_objects(&pa), (1, 1));
    assert_eq!(project_objects(&pb), (1, 1));

    // down of one leaves the other running.
    t.ok(&t.repo, &["down", "a"]);
    assert!(get(19101).is_none(), "a still serves after down");
    assert!(get(19102).expect("b serves").contains("b on 19102"));
    t.ok(&t.repo, &["up", "a"]);
    wait_for(19101);

    // rm removes that sandbox's containers only; its volume is kept with its saved state.
    t.ok(&t.repo, &["rm", "a", "--yes"]);
    assert_eq!(project_objects(&pa), (0, 1));
    assert_eq!(project_objects(&pb), (1, 1));
    assert!(get(19102).expect("b serves").contains("b on 19102"));
    assert!(!a.exists());

    // --keep-volumes (the default now) is still accepted.
    t.ok(&t.repo, &["rm", "b", "--yes", "--keep-volumes"]);
    assert_eq!(project_objects(&pb), (0, 1));
    assert!(!b.exists());
    // `trash purge` deletes them with the saved states.
    t.ok(&t.repo, &["trash", "purge", "--yes"]);
    assert_eq!(project_objects(&pa), (0, 0));
    assert_eq!(project_objects(&pb), (0, 0));
}

#[test]
fn up_refuses_a_taken_port_and_logs_ps_work() {
    if !docker_ready() {
        return;
    }
    let t = docker_env("busy", 19200);
    let _cleanup = Cleanup(t.repo_name());
    let a = t.new_sandbox("a");
    {
        let _held = std::net::TcpListener::bind(("0.0.0.0", 19201)).expect("bind");
        let err = t.fails(&a, &["up"], 1);
        assert!(err.contains("19201 (web)"), "{err}");
    }
    t.ok(&a, &["up", "-d"]);
    wait_for(19201);
    let ps = t.ok(&a, &["ps"]);
    assert!(ps.contains("web"), "{ps}");
    let out = t.run(&a, &["logs"]);
    assert!(out.status.success());
    // Through to compose: logs options and services, up --build, any compose command.
    t.ok(&a, &["logs", "--tail", "5", "--", "web"]);
    t.ok(&a, &["up", "--build", "--", "web"]);
    let page = t.ok(
        &a,
        &[
            "compose",
            "--",
            "exec",
            "-T",
            "web",
            "/busybox",
            "cat",
            "/www/index.html",
        ],
    );
    assert!(page.contains("a on 19201"), "{page}");
    // If `down` fails, rm removes nothing (unless --force).
    let out = t
        .cmd(&t.repo)
        .env("GIT_SANDBOX_COMPOSE", "false")
        .args(["rm", "a", "--yes"])
        .output()
        .expect("rm");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not removed"));
    assert!(a.join(".env.sandbox").exists());
    assert_eq!(project_objects(&format!("{}--a", t.repo_name())), (1, 1));
    assert!(get(19201).is_some(), "still serving");
    t.ok(&a, &["down", "--volumes"]);
    assert_eq!(project_objects(&format!("{}--a", t.repo_name())), (0, 0));
}

#[test]
fn local_prod_runs_its_profile_on_slot_zero() {
    if !docker_ready() {
        return;
    }
    let t = docker_env("lp", 19300);
    let _cleanup = Cleanup(t.repo_name());
    let lp = std::path::PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    let s = t.new_sandbox("s");
    // Run from inside the sandbox: it acts on local-prod all the same, and says where.
    let out = t.run(&s, &["local-prod", "up"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("local-prod at {}", lp.display()))
    );
    assert!(wait_for(19300).contains("local-prod on 19300"));
    assert!(
        wait_for(19310).contains("local-prod-only"),
        "the local-prod profile runs"
    );
    assert!(get(19301).is_none(), "the sandbox was not started");
    // A broken config does not strand the stack: down stops the profile's service too (the
    // profile is the one the rendered file recorded).
    t.write(&t.repo, ".sandbox.toml", "max_slots = [broken\n");
    t.ok(&s, &["local-prod", "down"]);
    assert!(get(19300).is_none());
    assert!(get(19310).is_none(), "the profile's service was stopped");
    t.ok(&s, &["local-prod", "rm", "--yes", "--delete-volumes"]);
    assert_eq!(
        project_objects(&format!("{}--local-prod", t.repo_name())),
        (0, 0)
    );
    assert!(!lp.exists());
    assert!(s.join("README.md").exists());
}

#[test]
fn compose_file_missing_is_a_clear_error() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let err = t.fails(&a, &["up"], 1);
    assert!(
        err.contains("no compose file") && err.contains("docker-compose.sandbox.yml, compose.yaml"),
        "{err}"
    );
}

#[test]
fn an_unreachable_engine_is_unknown_never_down_and_up_says_why() {
    let mut t = TestEnv::new();
    let have_cli = t
        .program("docker", &t.repo)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_cli {
        crate::common::skip(
            "services::an unreachable engine",
            "the docker CLI is missing",
        );
        return;
    }
    t.write(&t.repo, "compose.yaml", "services:\n  web:\n    image: x\n");
    t.write(&t.repo, ".sandbox.toml", "[ports]\nweb = 17950\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t.new_sandbox("s");
    let nowhere = t.root.join("no-docker.sock");
    t.extra_env = vec![(
        "DOCKER_HOST".into(),
        format!("unix://{}", nowhere.display()),
    )];
    let out = t.run(&t.repo, &["list", "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["sandboxes"][0]["services_up"], serde_json::Value::Null);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot be reached"), "{said}");
    let err = t.fails(&t.repo, &["up", "s"], 1);
    assert!(err.contains("Docker engine cannot be reached"), "{err}");
    assert!(!err.contains("another program"), "{err}");
}

#[test]
fn up_refuses_only_what_rendering_cannot_isolate_and_names_it() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  web:\n    image: x\n    container_name: shop-web\n    ports: [\"8080:80\", \"${WEB_PORT:-8000}:8000\"]\n    networks: [back]\n  sniffer:\n    image: x\n    network_mode: host\nvolumes:\n  db:\n    name: shop-db\nnetworks:\n  back:\n    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n",
    );
    t.git(&t.repo, &["add", "compose.yaml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t.new_sandbox("a");
    let err = t.fails(&t.repo, &["up", "a"], 1);
    assert!(
        err.contains("service sniffer uses network_mode: host"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    // The rest is rewritten for the sandbox, and said.
    assert!(err.contains("container_name shop-web dropped"), "{err}");
    assert!(err.contains("host port 8080 is not in the plan"), "{err}");
    assert!(err.contains("fixed subnet 172.28.0.0/16 → "), "{err}");
    assert!(err.contains("volume db: fixed name shop-db"), "{err}");
    let rendered = t.ok(&t.repo, &["compose-file", "a"]);
    assert!(
        !rendered.contains("shop-web\n") || rendered.contains("aliases"),
        "{rendered}"
    );
    assert!(
        !rendered.contains("container_name") && !rendered.contains("172.28"),
        "{rendered}"
    );
}

#[test]
fn override_files_are_rendered_with_the_base_and_a_doubled_port_is_named_and_kept_once() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  web:\n    image: x\n    ports: [\"18600:80\"]\n",
    );
    t.write(
        &t.repo,
        "compose.override.yaml",
        "services:\n  web:\n    ports: [\"18600:80\", \"18700:81\"]\n    environment:\n      MODE: dev\n",
    );
    let out = t.run(&t.repo, &["init"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("publishes port 18600 in both compose.yaml and compose.override.yaml"),
        "{err}"
    );
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(
        cfg.contains("web = 18600") && cfg.contains("18700"),
        "{cfg}"
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t.new_sandbox("a");
    let rendered = t.ok(&t.repo, &["compose-file", "a"]);
    assert_eq!(rendered.matches(":80\"").count(), 1, "{rendered}");
    assert!(
        rendered.contains("18601:80") && rendered.contains(":81"),
        "{rendered}"
    );
    assert!(
        rendered.contains("\"MODE\": \"dev\""),
        "the override is in: {rendered}"
    );
    assert!(
        !rendered.contains("18600") && !rendered.contains("18700:"),
        "{rendered}"
    );
}

#[test]
fn a_broken_config_or_no_compose_file_left_never_strands_a_stack() {
    if !docker_ready() {
        return;
    }
    let t = docker_env("strand", 19700);
    let _cleanup = Cleanup(t.repo_name());
    let good = "env_file = \".sbenv\"\nmax_slots = 4\n[ports]\nweb = 19700\nextra = 19710\n";
    t.write(&t.repo, ".sandbox.toml", good);
    t.git(&t.repo, &["commit", "-q", "-am", "own env file"]);
    let a = t.new_sandbox("a");
    t.ok(&a, &["up"]);
    assert!(wait_for(19701).contains("a on 19701"));
    // The config breaks: its stand-ins name another env file, which compose must not be given.
    t.write(&t.repo, ".sandbox.toml", "env_file = [broken\n");
    t.ok(&t.repo, &["down", "a"]);
    assert!(get(19701).is_none(), "down stopped it");
    // Started again, then nothing is left to run compose on: its labels stop it.
    t.write(&t.repo, ".sandbox.toml", good);
    t.ok(&t.repo, &["up", "a"]);
    assert!(wait_for(19701).contains("a on 19701"));
    t.write(&t.repo, ".sandbox.toml", "env_file = [broken\n");
    std::fs::remove_dir_all(a.join(".sandbox")).expect("rm .sandbox");
    std::fs::remove_file(a.join("docker-compose.sandbox.yml")).expect("rm compose file");
    let out = t.run(&t.repo, &["down", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("by their labels"), "{err}");
    assert!(get(19701).is_none(), "stopped by its labels");
    assert_eq!(project_objects(&format!("{}--a", t.repo_name())).0, 0);
}
