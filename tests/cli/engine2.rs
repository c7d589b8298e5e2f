//! The second Docker engine's harness itself (issue 24): `tests/engine2.sh` starts a real
//! `dockerd` in its own network namespace at `GIT_SANDBOX_TEST_ENGINE2`; these tests prove it is
//! another engine, that what it publishes answers at its own address and not on this machine's
//! loopback, and that the per-engine cleanup touches only the engine it names. Skipped, with a
//! visible line, without the engine (a failure under `GIT_SANDBOX_REQUIRE_DOCKER=1`).

use crate::engines::{
    CleanupOn, docker_on, engine_addr, engine_id, engine2, get_at, remove_projects, wait_for_at,
};
use crate::services::{IMAGE, docker_ready};

/// Removes the named container from its engine when dropped.
struct RmContainer<'a>(&'a str, String);

impl Drop for RmContainer<'_> {
    fn drop(&mut self) {
        let _ = docker_on(Some(self.0))
            .args(["rm", "-f", "-v", &self.1])
            .output();
    }
}

/// Runs the docker CLI on `host`, asserting success; returns stdout, trimmed.
fn docker_ok(host: Option<&str>, args: &[&str]) -> String {
    let out = docker_on(host).args(args).output().expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?} on {host:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn engine2_answers_and_is_not_the_main_engine() {
    let Some(e2) = engine2() else { return };
    if !docker_ready() {
        return;
    }
    let second = engine_id(Some(&e2)).expect("engine2 answers");
    let main = engine_id(None).expect("the main engine answers");
    assert_ne!(second, main, "{e2} is the main engine itself");
    let root = docker_ok(Some(&e2), &["info", "--format", "{{.DockerRootDir}}"]);
    let main_root = docker_ok(None, &["info", "--format", "{{.DockerRootDir}}"]);
    assert_ne!(root, main_root, "both engines keep their data in {root}");
    // The test image was built there by engine2(), under the same name as on the main engine.
    docker_ok(Some(&e2), &["image", "inspect", "-f", "{{.Id}}", IMAGE]);
}

#[test]
fn a_port_published_on_engine2_answers_at_its_address_not_on_localhost() {
    let Some(e2) = engine2() else { return };
    let name = format!("gsb-e2-web-{}", std::process::id());
    let mark = format!("served by {name} on engine2");
    let _rm = RmContainer(&e2, name.clone());
    let script = format!(
        "/busybox mkdir -p /www && echo '{mark}' > /www/index.html && exec /busybox httpd -f -p 8080 -h /www"
    );
    let args = ["run", "-d", "--name", &name, "-p", "8080"];
    let mut run = docker_on(Some(&e2));
    run.args(args)
        .args(["--entrypoint", "/busybox", IMAGE, "sh", "-c", &script]);
    let out = run.output().expect("docker run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let published = docker_ok(Some(&e2), &["port", &name, "8080/tcp"]);
    let port: u32 = published
        .lines()
        .next()
        .and_then(|l| l.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("no published port in {published:?}"));
    let page = wait_for_at(engine_addr(&e2), port);
    assert!(
        page.contains(&mark),
        "{}:{port} served {page}",
        engine_addr(&e2)
    );
    let local = get_at("127.0.0.1", port).unwrap_or_default();
    assert!(
        !local.contains(&mark),
        "engine2's port {port} answers on 127.0.0.1"
    );
    // The main engine does not know the container.
    let on_main = docker_on(None)
        .args(["inspect", &name])
        .output()
        .expect("docker");
    assert!(
        !on_main.status.success(),
        "{name} exists on the main engine"
    );
}

#[test]
fn cleanup_on_engine2_removes_its_projects_and_nothing_on_the_main_engine() {
    let Some(e2) = engine2() else { return };
    if !docker_ready() {
        return;
    }
    let project = format!("gsbe2clean{}", std::process::id());
    let label = format!("com.docker.compose.project={project}");
    let volume = format!("{project}_data");
    for host in [Some(e2.as_str()), None] {
        docker_ok(host, &["volume", "create", "--label", &label, &volume]);
    }
    let container = docker_ok(Some(&e2), &["create", "--label", &label, IMAGE, "true"]);
    drop(CleanupOn(e2.clone(), project.clone()));
    let filter = format!("label={label}");
    let left = |host: Option<&str>, what: &[&str]| {
        let mut args = what.to_vec();
        args.extend(["--filter", &filter, "-q"]);
        docker_ok(host, &args)
    };
    assert_eq!(
        left(Some(&e2), &["ps", "-a"]),
        "",
        "container {container} left"
    );
    assert_eq!(
        left(Some(&e2), &["volume", "ls"]),
        "",
        "volume left on engine2"
    );
    assert_eq!(
        left(None, &["volume", "ls"]),
        volume,
        "main engine's volume gone"
    );
    remove_projects(None, &project);
    assert_eq!(
        left(None, &["volume", "ls"]),
        "",
        "main engine's volume left"
    );
}

#[test]
fn the_binary_run_with_cmd_on_starts_its_stack_on_engine2_only() {
    let Some(e2) = engine2() else { return };
    if !docker_ready() {
        return;
    }
    let t = crate::services::docker_env("e2up", 19800);
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = crate::services::Cleanup(t.repo_name());
    let a = t.new_sandbox("a");
    t.ok_on(&e2, &a, &["up"]);
    // The containers of this repo's compose projects running on `host`.
    let running = |host: Option<&str>| {
        let label = "{{.Label \"com.docker.compose.project\"}}";
        let all = docker_ok(host, &["ps", "--format", label]);
        let ours: Vec<&str> = all
            .lines()
            .filter(|p| p.starts_with(&t.repo_name()))
            .collect();
        ours.join("\n")
    };
    assert!(!running(Some(&e2)).is_empty(), "nothing runs on engine2");
    assert_eq!(running(None), "", "the stack runs on the main engine");
    t.ok_on(&e2, &a, &["down"]);
    assert_eq!(running(Some(&e2)), "", "down left containers on engine2");
}
