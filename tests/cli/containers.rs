//! Containers count as processes: a container (of no compose project) that bind-mounts the
//! sandbox, a subdirectory of it, or its parent with its cwd inside, is named by `rm`, refuses
//! it unless `--force`, keeps the whole tree with `--force` (no byte it writes is lost), and is
//! stopped by `--kill`; one that starts during `rm` is seen by the re-check. On the machine's
//! real engine, with a `FROM scratch` busybox image (skipped without one, like the other
//! service tests).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::TestEnv;
use crate::services::{IMAGE, docker_ready};

/// A container, force-removed when dropped.
struct Running(String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

impl Running {
    /// `docker run -d` of `script` under busybox's sh, with `-v` binds and a workdir.
    fn start(tag: &str, binds: &[String], workdir: Option<&str>, script: &str) -> Running {
        let name = format!("gs-test-{}-{tag}", std::process::id());
        let _ = Command::new("docker").args(["rm", "-f", &name]).output();
        let mut cmd = Command::new("docker");
        cmd.args(["run", "-d", "--name", &name]);
        for b in binds {
            cmd.args(["-v", b]);
        }
        if let Some(w) = workdir {
            cmd.args(["-w", w]);
        }
        let out = cmd
            .args([IMAGE, "sh", "-c", script])
            .output()
            .expect("docker run");
        assert!(
            out.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Running(name)
    }

    fn running(&self) -> bool {
        let out = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Running}}", &self.0])
            .output()
            .expect("docker inspect");
        String::from_utf8_lossy(&out.stdout).trim() == "true"
    }

    fn remove(&self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// Appends 1, 2, 3 … to `file`, one line every 50 ms.
fn counter(file: &str) -> String {
    format!("i=0; while true; do i=$((i+1)); echo $i >> {file}; /busybox sleep 0.05; done")
}

/// A pushed sandbox whose `log` is ignored (so only the container stands in the way).
fn sandbox(t: &TestEnv, name: &str) -> std::path::PathBuf {
    t.ignore("log\n");
    let p = t.new_sandbox(name);
    t.git(&p, &["push", "-q", "-u", "origin", name]);
    p
}

fn wait_for_lines(file: &Path, n: usize) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if fs::read_to_string(file).is_ok_and(|t| t.lines().count() >= n) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never got {n} lines", file.display());
}

/// The counter's lines are 1..=n with no gap and no repeat: nothing it wrote was lost.
fn unbroken(text: &str) -> usize {
    let got: Vec<usize> = text.lines().filter_map(|l| l.parse().ok()).collect();
    let want: Vec<usize> = (1..=got.len()).collect();
    assert_eq!(got, want, "lines of the counter were lost");
    got.len()
}

#[test]
fn a_container_writing_in_the_sandbox_refuses_rm_and_is_named() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::new();
    let p = sandbox(&t, "s");
    let c = Running::start(
        "whole",
        &[format!("{}:/work", p.display())],
        None,
        &counter("/work/log"),
    );
    wait_for_lines(&p.join("log"), 2);
    let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
    assert!(err.contains(&format!("container {}", c.0)), "{err}");
    assert!(err.contains(IMAGE) && err.contains("--kill"), "{err}");
    // `mv` will not move it from under the container either.
    let err = t.fails(&t.repo, &["mv", "s", "s2"], 1);
    assert!(err.contains(&format!("container {}", c.0)), "{err}");
    // The dry run and the JSON name it too (fields added: container, mount_namespace).
    let out = t.run(&t.repo, &["rm", "s", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let procs = v["report"]["processes"].as_array().expect("processes");
    assert!(
        procs.iter().any(|p| p["container"]["name"] == c.0.as_str()
            && p["container"]["image"] == IMAGE
            && p["mount_namespace"].is_string()),
        "{v:#}"
    );
    assert!(c.running() && p.join("log").is_file());
    assert_eq!(t.entries()[0].2, "ready");
}

#[test]
fn a_forced_rm_keeps_every_byte_a_container_writes() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::new();
    let p = sandbox(&t, "s");
    let c = Running::start(
        "forced",
        &[format!("{}:/work", p.display())],
        None,
        &counter("/work/log"),
    );
    wait_for_lines(&p.join("log"), 2);
    let out = t.run(&t.repo, &["rm", "s", "--yes", "--force"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("whole tree is kept"), "{err}");
    // It goes on writing after rm, into the kept tree: restore waits for it to stop.
    std::thread::sleep(Duration::from_millis(400));
    let err = t.fails(&t.repo, &["restore", "s"], 3);
    assert!(err.contains(&format!("container {}", c.0)), "{err}");
    assert!(!p.exists());
    // Once it stops, restore brings back every line it wrote.
    c.remove();
    t.ok(&t.repo, &["restore", "s"]);
    let n = unbroken(&fs::read_to_string(p.join("log")).expect("log"));
    assert!(n >= 8, "only {n} lines");
}

#[test]
fn kill_stops_the_container_and_its_file_is_kept() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::new();
    let p = sandbox(&t, "s");
    let c = Running::start(
        "kill",
        &[format!("{}:/work", p.display())],
        None,
        &counter("/work/log"),
    );
    // A second one, on a subdirectory: one `stop` for both.
    fs::create_dir_all(p.join("data")).expect("mkdir");
    let d = Running::start(
        "kill2",
        &[format!("{}:/data", p.join("data").display())],
        None,
        "while true; do /busybox sleep 1; done",
    );
    wait_for_lines(&p.join("log"), 2);
    let out = t.run(&t.repo, &["rm", "s", "--yes", "--kill"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!c.running() && !d.running(), "a container still runs");
    t.ok(&t.repo, &["restore", "s"]);
    unbroken(&fs::read_to_string(p.join("log")).expect("log"));
}

#[test]
fn a_bind_of_a_subdirectory_or_of_the_parent_with_its_cwd_inside_counts() {
    if !docker_ready() {
        return;
    }
    // A path with a space and a tab: mountinfo escapes them (`\040`, `\011`).
    let t = TestEnv::named("my repo\tx");
    let p = sandbox(&t, "s");
    fs::create_dir_all(p.join("data")).expect("mkdir");
    let sub = Running::start(
        "sub",
        &[format!("{}:/data", p.join("data").display())],
        None,
        &counter("/data/log"),
    );
    wait_for_lines(&p.join("data/log"), 1);
    let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
    assert!(err.contains(&format!("container {}", sub.0)), "{err}");
    assert!(err.contains("bind mount of data at /data"), "{err}");
    drop(sub);
    let parent = p.parent().expect("parent");
    let name = p.file_name().expect("name").to_string_lossy().into_owned();
    let up = Running::start(
        "parent",
        &[format!("{}:/host", parent.display())],
        Some(&format!("/host/{name}")),
        "while true; do /busybox sleep 1; done",
    );
    let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
    assert!(err.contains(&format!("container {}", up.0)), "{err}");
    assert!(err.contains("through the mount at /host"), "{err}");
}

/// Runs `rm s --yes` (plus `extra`) paused for 5 s once confirmed, starting `during` there.
fn paused_rm(t: &TestEnv, extra: &[&str], during: impl FnOnce()) -> std::process::Output {
    let flag = t.root.join(format!("paused-{}", std::process::id()));
    let _ = fs::remove_file(&flag);
    let child = t
        .cmd(&t.repo)
        .args(["rm", "s", "--yes"])
        .args(extra)
        .env("GIT_SANDBOX_PAUSE", "rm:confirmed:5000")
        .env("GIT_SANDBOX_PAUSED", &flag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    crate::common::wait_until_paused(&flag, "rm:confirmed");
    during();
    child.wait_with_output().expect("wait")
}

#[test]
fn a_container_that_starts_during_rm_is_seen_by_the_recheck_of_the_quarantined_tree() {
    if !docker_ready() {
        return;
    }
    for force in [false, true] {
        let t = TestEnv::new();
        let p = sandbox(&t, "s");
        let mut c = None;
        let extra: &[&str] = if force { &["--force"] } else { &[] };
        let out = paused_rm(&t, extra, || {
            let tag = format!("late-{force}");
            c = Some(Running::start(
                &tag,
                &[format!("{}:/work", p.display())],
                None,
                &counter("/work/log"),
            ));
            wait_for_lines(&p.join("log"), 1);
        });
        let c = c.expect("started");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(&format!("container {}", c.0)), "{err}");
        if !force {
            // The first look did not see it; the second, on the renamed tree, did.
            assert_eq!(out.status.code(), Some(3), "{err}");
            assert!(err.contains("changed after the check"), "{err}");
            assert_eq!(t.entries()[0].2, "ready");
            assert!(c.running());
            let before = fs::read_to_string(p.join("log")).expect("log").len();
            std::thread::sleep(Duration::from_millis(300));
            assert!(fs::read_to_string(p.join("log")).expect("log").len() > before);
            continue;
        }
        assert!(out.status.success(), "{err}");
        assert!(err.contains("whole tree is kept"), "{err}");
        c.remove();
        t.ok(&t.repo, &["restore", "s"]);
        unbroken(&fs::read_to_string(p.join("log")).expect("log"));
    }
}

/// A shell in a mount namespace of its own (`unshare`, no engine) with the sandbox bound at
/// `at`, appending to `log` and starting a `sleep` child every 10 ms; `None` where making a
/// mount namespace is not allowed.
fn unshared(p: &Path, at: &Path) -> Option<std::process::Child> {
    let script = format!(
        "mount --bind '{}' '{}' && cd / && while true; do echo x >> '{}/log'; sleep 0.01; done",
        p.display(),
        at.display(),
        at.display()
    );
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("unshare");
    let start = Instant::now();
    while !p.join("log").exists() {
        if start.elapsed() > Duration::from_secs(5) || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(child)
}

#[test]
fn a_mount_namespace_no_engine_knows_is_named_by_pid_and_stopped_by_kill() {
    let t = TestEnv::new();
    let p = sandbox(&t, "s");
    let at = t.root.join("elsewhere");
    fs::create_dir_all(&at).expect("mkdir");
    // Each round races the shell's next `sleep` child against `--kill`: every round must stop
    // the whole namespace, and every round must remove the sandbox.
    for round in 0..5 {
        let _ = fs::remove_file(p.join("log"));
        let Some(mut child) = unshared(&p, &at) else {
            crate::common::skip(
                "mount namespace test",
                "unshare --mount is not allowed here",
            );
            return;
        };
        let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
        let named = format!(
            "a process in another mount namespace (pid {}, sh): bind mount of . at {}",
            child.id(),
            at.display()
        );
        assert!(err.contains(&named), "round {round}: {err}");
        t.ok(&t.repo, &["rm", "s", "--yes", "--kill"]);
        let start = Instant::now();
        while child.try_wait().ok().flatten().is_none() {
            assert!(start.elapsed() < Duration::from_secs(5), "still running");
            std::thread::sleep(Duration::from_millis(20));
        }
        t.ok(&t.repo, &["restore", "s"]);
        let log = fs::read_to_string(p.join("log")).expect("log");
        assert!(log.starts_with("x\n"), "round {round}");
    }
}

/// Unmounts (lazily) when dropped.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_process_in_a_bind_mount_of_the_sandbox_elsewhere_counts() {
    let t = TestEnv::new();
    let p = sandbox(&t, "s");
    let at = t.root.join("alias");
    fs::create_dir_all(&at).expect("mkdir");
    let mounted = Command::new("mount")
        .arg("--bind")
        .args([&p, &at])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        crate::common::skip("bind mount test", "mount --bind is not allowed here");
        return;
    }
    let guard = Unmount(at.clone());
    let mut child = Command::new("sleep")
        .arg("60")
        .current_dir(&at)
        .spawn()
        .expect("sleep");
    let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
    assert!(
        err.contains(&format!("sleep (pid {}): cwd {}", child.id(), at.display())),
        "{err}"
    );
    t.ok(&t.repo, &["rm", "s", "--yes", "--kill"]);
    assert!(child.wait().is_ok_and(|s| !s.success()));
    drop(guard);
}

/// A compose stack whose one service bind-mounts the checkout (`.:/src`), as dev stacks do.
const BINDING_STACK: &str = r#"services:
  dev:
    image: git-sandbox-test-httpd:1
    entrypoint: ["/busybox"]
    command: ["sh", "-c", "while true; do /busybox sleep 1; done"]
    volumes:
      - .:/src
"#;

#[test]
fn the_sandboxs_own_services_are_stopped_by_rm_not_counted_but_other_containers_are() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("own{}", std::process::id()));
    let _clean = crate::services::Cleanup(t.repo_name());
    t.ignore("log\n");
    t.write(&t.repo, "docker-compose.sandbox.yml", BINDING_STACK);
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "stack"]);
    t.git(&t.repo, &["push", "-q"]);
    let p = t.new_sandbox("s");
    t.git(&p, &["push", "-q", "-u", "origin", "s"]);
    t.ok(&p, &["up"]);
    // Its service does bind the sandbox (so the kernel sees it, and rm must tell it apart).
    let project = format!("{}--s", t.repo_name());
    let out = Command::new("docker")
        .args(["ps", "--no-trunc", "--format", "{{.Mounts}}", "--filter"])
        .arg(format!("label=com.docker.compose.project={project}"))
        .output()
        .expect("docker ps");
    let mounts = String::from_utf8_lossy(&out.stdout);
    assert!(
        mounts.contains(&*p.to_string_lossy()),
        "{project}: {mounts}"
    );
    // A container of no compose project with the same bind is not the sandbox's to stop.
    let other = Running::start(
        "otherproject",
        &[format!("{}:/src", p.display())],
        None,
        "while true; do /busybox sleep 1; done",
    );
    let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
    assert!(err.contains(&format!("container {}", other.0)), "{err}");
    assert!(!err.contains("_dev_") && !err.contains("-dev-"), "{err}");
    other.remove();
    // Its own services alone: stopped by rm's services step, and the sandbox removed.
    t.ok(&t.repo, &["rm", "s", "--yes"]);
    assert!(!p.exists());
}

#[test]
fn a_user_who_cannot_read_roots_processes_is_told_or_the_engine_names_the_container() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::new();
    let p = sandbox(&t, "s");
    let c = Running::start(
        "unseen",
        &[format!("{}:/work", p.display())],
        None,
        &counter("/work/log"),
    );
    wait_for_lines(&p.join("log"), 1);
    // As a user who can read neither root's processes nor the engine's socket.
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(&t.root)
        .status()
        .is_ok_and(|s| s.success());
    let nobody = |groups: &str| {
        t.program("setpriv", &t.repo)
            .args(["--reuid=65534", "--regid=65534", groups, "--"])
            .arg(crate::common::BIN)
            .args(["rm", "s", "--dry-run", "--json"])
            .output()
            .expect("setpriv")
    };
    let out = nobody("--clear-groups");
    if !chown || out.stdout.is_empty() {
        crate::common::skip("unprivileged look", "cannot run git-sandbox as nobody here");
        return;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let check = &v["report"]["process_check"];
    assert!(check["unreadable"].as_u64().is_some_and(|n| n > 0), "{v:#}");
    assert_eq!(check["engines"], serde_json::json!([]), "{v:#}");
    assert!(
        check["partial"]
            .as_str()
            .is_some_and(|n| n.contains("no container engine answered")),
        "{v:#}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not look into"), "{err}");
    // In the engine's group, the engine names the container by its bind source instead.
    let Some(gid) = docker_gid() else {
        return;
    };
    let out = nobody(&format!("--groups={gid}"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["report"]["process_check"]["engines"][0], "docker",
        "{v:#}"
    );
    assert_eq!(
        v["report"]["process_check"]["partial"],
        serde_json::Value::Null
    );
    let procs = v["report"]["processes"].as_array().expect("processes");
    assert!(
        procs.iter().any(|p| p["container"]["name"] == c.0.as_str()),
        "{v:#}"
    );
    assert_eq!(v["outcome"], "refused", "{v:#}");
}

/// The group that may use the engine's socket, when it is not root's alone.
fn docker_gid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let gid = fs::metadata("/var/run/docker.sock").ok()?.gid();
    (gid != 0).then_some(gid)
}
