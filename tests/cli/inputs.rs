//! Everything the stack reads comes along (issue 21, part A): compose inputs git ignores
//! (an override holding the only port and defining a secret, the `.env` used as `env_file`,
//! the secret's file) are brought from the main checkout at `up` and recorded by `init` in
//! `.worktreeinclude`; the compose files are the ones the project's users pass (`init -f`,
//! `COMPOSE_FILE`); the lint names the bind mounts that stay shared, at `init` and once at a
//! sandbox's first `up`. The runnable fixtures (`tests/fixtures/inputs/`) run on the real
//! engine three times side by side, beside the main checkout's own stack.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestEnv;
use crate::services::{Cleanup, docker_ready, get, wait_for};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inputs");

/// A host port with the ten after it free now, from a range no other test file uses: picked
/// by this process's id so parallel runs start apart, and each call of this run further on.
fn free_port() -> u32 {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let start = (std::process::id() * 37 + call * 20) % 6000;
    (0..300)
        .map(|k| 21000 + (start + k * 20) % 6000)
        .find(|&p| (p..p + 11).all(|q| TcpListener::bind(("0.0.0.0", q as u16)).is_ok()))
        .expect("a free port range")
}

/// Copies `fixture/from` to `rel` in the repo, `__PORT__` replaced by `port`.
fn place(t: &TestEnv, fixture: &str, from: &str, rel: &str, port: u32) {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join(fixture).join(from))
        .expect("fixture")
        .replace("__PORT__", &port.to_string());
    t.write(&t.repo, rel, &text);
}

/// `docker-compose ARGS` in the main checkout, as its users run it.
fn main_compose(t: &TestEnv, args: &[&str]) {
    let out = t
        .program("docker-compose", &t.repo)
        .args(args)
        .output()
        .expect("docker-compose");
    assert!(
        out.status.success(),
        "docker-compose {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The sandbox's port for `<PREFIX>WEB_PORT`.
fn web_port(t: &TestEnv, name: &str) -> u32 {
    let out = t.ok(&t.repo, &["env", name, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    json["env"]
        .as_object()
        .expect("env")
        .iter()
        .find(|(k, _)| k.ends_with("WEB_PORT"))
        .and_then(|(_, v)| v.as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no WEB_PORT in {out}"))
}

fn host_of(page: &str) -> String {
    page.split("host=")
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The ignored-inputs project: tracked compose.yaml and .gitignore; ignored override, .env and
/// secret file in the main checkout only.
fn ignored_project(t: &TestEnv, port: u32) {
    place(t, "ignored", "compose.yaml", "compose.yaml", port);
    place(t, "ignored", "gitignore", ".gitignore", port);
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "the project"]);
    place(
        t,
        "ignored",
        "compose.override.yaml",
        "compose.override.yaml",
        port,
    );
    place(t, "ignored", "dot.env", ".env", port);
    place(t, "ignored", "token.txt", "secrets/token.txt", port);
}

#[test]
fn ignored_override_env_file_and_secret_come_along_three_sandboxes_beside_main() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("inig{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    let port = free_port();
    ignored_project(&t, port);
    main_compose(&t, &["up", "-d"]);
    let main_page = wait_for(port);
    assert!(
        main_page.contains("role=from-dotenv token=tok-42"),
        "{main_page}"
    );

    // init reads the ignored override (the only port), records the inputs, names /tmp.
    let out = t.run(&t.repo, &["init"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("read compose.yaml + compose.override.yaml"),
        "{said}"
    );
    assert!(said.contains("(1 port(s)"), "{said}");
    assert!(
        said.contains("service web bind-mounts /tmp (the host's /tmp)")
            && said.contains("shared between the main stack and every sandbox"),
        "{said}"
    );
    let include = std::fs::read_to_string(t.repo.join(".worktreeinclude")).expect("recorded");
    for line in [
        "/compose.override.yaml\n",
        "/.env\n",
        "/secrets/token.txt\n",
    ] {
        assert!(
            include.contains(line),
            "{line:?} not in .worktreeinclude:\n{include}"
        );
    }
    t.git(&t.repo, &["add", ".sandbox.toml", ".worktreeinclude"]);
    t.git(&t.repo, &["commit", "-q", "-m", "init"]);

    let mut hosts = vec![host_of(&main_page)];
    let mut ports = vec![port];
    for name in ["a", "b", "c"] {
        if name == "c" {
            // Trusted, `new` applies the recorded .worktreeinclude itself; untrusted, `up` brings.
            t.ok(&t.repo, &["trust"]);
        }
        let dir = PathBuf::from(t.ok(&t.repo, &["new", name]).trim());
        let recorded = ["compose.override.yaml", ".env", "secrets/token.txt"];
        assert_eq!(
            recorded.iter().all(|rel| dir.join(rel).is_file()),
            name == "c",
            "{name}: .worktreeinclude applies only once trusted"
        );
        let first = t.run(&t.repo, &["up", name]);
        let said = stderr(&first);
        assert!(first.status.success(), "{name}: {said}");
        assert_eq!(
            said.contains("brought from the main checkout"),
            name != "c",
            "{name}:\n{said}"
        );
        for rel in recorded {
            assert!(
                dir.join(rel).is_file(),
                "{name}: {rel} was not brought:\n{said}"
            );
        }
        assert!(
            said.contains("service web bind-mounts /tmp"),
            "{name}'s first up names what stays shared:\n{said}"
        );
        let sandbox_port = web_port(&t, name);
        let page = wait_for(sandbox_port);
        assert!(
            page.contains("role=from-dotenv token=tok-42"),
            "{name} on {sandbox_port}: {page}"
        );
        hosts.push(host_of(&page));
        ports.push(sandbox_port);
        assert_eq!(
            t.git(&dir, &["status", "--porcelain"]),
            "",
            "{name}: what was brought stays ignored"
        );
    }
    ports.sort();
    ports.dedup();
    hosts.sort();
    hosts.dedup();
    assert_eq!(ports.len(), 4, "four stacks on four ports: {ports:?}");
    assert_eq!(hosts.len(), 4, "four stacks, four containers: {hosts:?}");
    // Said once: a second `up` says nothing more about /tmp, and brings nothing again.
    let again = t.run(&t.repo, &["up", "a"]);
    let said = stderr(&again);
    assert!(again.status.success(), "{said}");
    assert!(!said.contains("bind-mounts /tmp"), "{said}");
    assert!(!said.contains("brought from the main checkout"), "{said}");
    let main_again = get(port).expect("the main stack still answers");
    assert_eq!(host_of(&main_again), host_of(&main_page));
    main_compose(&t, &["down"]);
}

#[test]
fn a_required_input_that_cannot_be_brought_refuses_up_before_compose_runs() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("inmiss{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    let port = free_port();
    t.write(
        &t.repo,
        "compose.yaml",
        &format!(
            "services:\n  web:\n    image: git-sandbox-test-httpd:1\n    entrypoint: [\"/busybox\"]\n    command: [\"sh\", \"-c\", \"mkdir -p /www && echo \\\"mode=$$MODE host=$$HOSTNAME\\\" > /www/index.html && exec httpd -f -p 8080 -h /www\"]\n    environment:\n      PATH: /bin\n    env_file:\n      - .env.local\n      - path: .env.optional\n        required: false\n    ports:\n      - \"{port}:8080\"\n"
        ),
    );
    t.write(&t.repo, ".gitignore", ".env.local\n.env.optional\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "the project"]);
    t.ok(&t.repo, &["init"]);
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "init"]);
    t.ok(&t.repo, &["new", "a"]);

    let err = t.fails(&t.repo, &["up", "a"], 1);
    assert!(
        err.contains("env_file .env.local of service web is missing")
            && err.contains("create .env.local in the main checkout")
            && err.contains("required: false"),
        "{err}"
    );
    assert!(
        !err.contains(".env.optional"),
        "an optional one is fine: {err}"
    );
    let ps = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!(
            "label=com.docker.compose.project={}--a",
            t.repo_name()
        ))
        .output()
        .expect("docker ps");
    assert!(ps.stdout.is_empty(), "nothing was started");

    // Once the main checkout has it, `up` brings it and the stack runs.
    t.write(&t.repo, ".env.local", "MODE=local\n");
    let out = t.run(&t.repo, &["up", "a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("brought from the main checkout"),
        "{}",
        stderr(&out)
    );
    let page = wait_for(web_port(&t, "a"));
    assert!(page.contains("mode=local"), "{page}");
}

#[test]
fn init_f_files_are_the_stack_of_every_sandbox_three_beside_main() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("inff{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    let port = free_port();
    for f in ["docker-compose.yml", "docker-compose.ports.yml"] {
        place(&t, "files", f, f, port);
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "the project"]);
    let files = ["-f", "docker-compose.yml", "-f", "docker-compose.ports.yml"];
    let mut up = files.to_vec();
    up.extend(["up", "-d"]);
    main_compose(&t, &up);
    let main_page = wait_for(port);
    assert!(main_page.contains("flavour=without-nginx"), "{main_page}");

    let mut init = vec!["init"];
    init.extend(files);
    let out = t.run(&t.repo, &init);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("read docker-compose.yml + docker-compose.ports.yml"),
        "{said}"
    );
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(
        cfg.contains("compose_files = [\"docker-compose.yml\", \"docker-compose.ports.yml\"]"),
        "{cfg}"
    );
    assert!(cfg.contains(&format!("web = {port}")), "{cfg}");
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "init"]);

    let mut hosts = vec![host_of(&main_page)];
    for name in ["a", "b", "c"] {
        t.ok(&t.repo, &["new", name, "--up"]);
        let p = web_port(&t, name);
        assert_ne!(p, port);
        let page = wait_for(p);
        assert!(page.contains("flavour=without-nginx"), "{name}: {page}");
        hosts.push(host_of(&page));
    }
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 4, "{hosts:?}");
    // down uses the same list (the rendered file from it): a's stack goes, the rest stay.
    t.ok(&t.repo, &["down", "a"]);
    assert!(get(web_port(&t, "a")).is_none());
    assert!(get(web_port(&t, "b")).is_some() && get(port).is_some());
    let mut down = files.to_vec();
    down.push("down");
    main_compose(&t, &down);
}

#[test]
fn compose_file_from_the_environment_wins_over_dotenv_and_init_writes_the_list() {
    let t = TestEnv::new();
    for f in ["docker-compose.yml", "docker-compose.ports.yml"] {
        place(&t, "files", f, f, 18611);
    }
    t.write(&t.repo, ".env", "COMPOSE_FILE=docker-compose.yml\n");
    let out = t
        .cmd(&t.repo)
        .arg("init")
        .env(
            "COMPOSE_FILE",
            "docker-compose.yml,docker-compose.ports.yml",
        )
        .env("COMPOSE_PATH_SEPARATOR", ",")
        .output()
        .expect("init");
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("read docker-compose.yml + docker-compose.ports.yml"),
        "{said}"
    );
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(
        cfg.contains("compose_files = [\"docker-compose.yml\", \"docker-compose.ports.yml\"]"),
        "{cfg}"
    );
    assert!(cfg.contains("web = 18611"), "{cfg}");

    // From .env alone: its one file, and no port (the second file holds it).
    std::fs::remove_file(t.repo.join(".sandbox.toml")).expect("rm");
    let out = t.run(&t.repo, &["init"]);
    assert!(
        stderr(&out).contains("read docker-compose.yml"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("ports.yml"), "{}", stderr(&out));
    std::fs::remove_file(t.repo.join(".sandbox.toml")).expect("rm");

    // A listed file that is missing is named, not skipped.
    let err = {
        let out = t
            .cmd(&t.repo)
            .arg("init")
            .env("COMPOSE_FILE", "docker-compose.yml:nope.yml")
            .output()
            .expect("init");
        assert_eq!(out.status.code(), Some(1));
        stderr(&out)
    };
    assert!(
        err.contains("nope.yml") && err.contains("COMPOSE_FILE"),
        "{err}"
    );
    assert!(!t.repo.join(".sandbox.toml").exists());

    // -f of a file that is not there: a usage error, nothing written.
    let err = t.fails(&t.repo, &["init", "-f", "missing.yml"], 2);
    assert!(err.contains("missing.yml"), "{err}");
    assert!(!t.repo.join(".sandbox.toml").exists());
}

#[test]
fn file_and_compose_files_both_set_is_a_clear_config_error() {
    let t = TestEnv::new();
    place(
        &t,
        "files",
        "docker-compose.yml",
        "docker-compose.yml",
        18612,
    );
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[compose]\nfile = \"docker-compose.yml\"\ncompose_files = [\"docker-compose.yml\"]\n",
    );
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(err.contains("both file and compose_files"), "{err}");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[compose]\ncompose_files = [\"../x.yml\"]\n",
    );
    let err = t.fails(&t.repo, &["ports"], 1);
    assert!(err.contains("inside the repo"), "{err}");
}

#[test]
fn the_lint_names_every_bind_mount_that_stays_shared() {
    let t = TestEnv::new();
    place(&t, "shared", "compose.yaml", "compose.yaml", 0);
    let out = t.run(&t.repo, &["init"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    for line in [
        "service agent bind-mounts /var/run/docker.sock (the container engine's socket)",
        "service agent bind-mounts ~/.agent-cfg (a home directory)",
        "service worker bind-mounts /tmp (the host's /tmp)",
        "service worker bind-mounts /srv/shared-data (an absolute host path)",
        "service worker bind-mounts ${HOME}/.cache (a home directory)",
        "volume host-logs binds /var/log/app (an absolute host path)",
    ] {
        assert!(said.contains(line), "{line} not said:\n{said}");
    }
    assert!(!said.contains("bind-mounts ./conf"), "{said}");
    assert_eq!(
        said.matches("shared between the main stack and every sandbox")
            .count(),
        6,
        "{said}"
    );
}
