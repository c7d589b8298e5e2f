//! Seeded volumes on the real engine, with the `FROM scratch` busybox image (no shell or tar
//! in the image runs: the copy is `docker cp` of created, never started, helpers): a main
//! stack writing numbered files while `new --up` seeds a copy (a prefix, nothing torn, main
//! paused for a measured time and running on after), the two volumes independent, Ctrl-C in
//! the middle of a copy (main never left paused, the target absent), a full disk (the target
//! absent), and `seed --reset` then `--undo` bringing the old data back.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{BIN, TestEnv};
use crate::services::{Cleanup, IMAGE, docker_ready};
use crate::volumes::{docker, ok_all, volume_exists};

/// Main's stack: `w` writes `n.<i>` (through a temp file and a rename, as a database writes
/// through its journal) every few milliseconds into `data`, after `fill` bytes of ballast.
fn compose(fill_mb: u32, sandbox_opts: &str) -> String {
    format!(
        r#"services:
  w:
    image: {IMAGE}
    entrypoint: ["/busybox", "sh", "-c"]
    command: ["[ -f /data/ballast ] || /busybox dd if=/dev/zero of=/data/ballast bs=1M count={fill_mb} 2>/dev/null; i=$$(ls /data | /busybox grep -c '^n[.]'); while true; do i=$$((i+1)); echo begin-$$i-end > /data/t; /busybox mv /data/t /data/n.$$i; /busybox usleep 3000; done"]
    stop_signal: SIGKILL
    volumes: ["data:/data"]
volumes:
  data:{sandbox_opts}
"#
    )
}

fn setup(tag: &str, fill_mb: u32) -> (TestEnv, Cleanup, String) {
    let t = TestEnv::named(&format!("dkseed{tag}{}", std::process::id()));
    let cleanup = Cleanup(t.repo_name());
    t.write(&t.repo, "docker-compose.yml", &compose(fill_mb, ""));
    t.write(
        &t.repo,
        ".sandbox.toml",
        "max_slots = 4\n[compose]\nseed = [\"data\"]\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    let main = main_up(&t);
    (t, cleanup, main)
}

/// `docker-compose up -d` in the main checkout, as its user runs it; main's volume name.
fn main_up(t: &TestEnv) -> String {
    let out = Command::new("docker-compose")
        .args(["up", "-d"])
        .current_dir(&t.repo)
        .output()
        .expect("docker-compose");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vol = format!("{}_data", t.repo_name().to_lowercase());
    let start = Instant::now();
    while numbers(&vol).len() < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "main's writer never wrote"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    vol
}

/// The numbers of the `n.<i>` files in a volume; panics on a torn one.
fn numbers(volume: &str) -> Vec<u64> {
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "-v",
            &format!("{volume}:/v:ro"),
            IMAGE,
            "sh",
            "-c",
        ])
        .arg("cd /v && for f in n.*; do [ -e \"$f\" ] && echo \"$f $(cat $f)\"; done")
        .output()
        .expect("docker");
    let mut n: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (f, body) = l.split_once(' ').expect("a line");
            let i: u64 = f.trim_start_matches("n.").parse().expect("a number");
            assert_eq!(body, format!("begin-{i}-end"), "{f} is torn in {volume}");
            i
        })
        .collect();
    n.sort();
    n
}

fn main_container(t: &TestEnv) -> String {
    let out = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!(
            "label=com.docker.compose.project={}",
            t.repo_name().to_lowercase()
        ),
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn paused(id: &str) -> bool {
    let out = docker(&["inspect", "--format", "{{.State.Paused}}", id]);
    String::from_utf8_lossy(&out.stdout).trim() == "true"
}

/// Removes the volumes carrying a sandbox's uuid (its saved copies carry no project).
struct DropOwn(String);

impl Drop for DropOwn {
    fn drop(&mut self) {
        // Helpers a killed seed left hold its volumes.
        let helpers = Command::new("docker")
            .args([
                "ps",
                "-aq",
                "--filter",
                &format!("label=dev.git-sandbox.seed-helper={}", self.0),
            ])
            .output();
        for c in helpers
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
            .split_whitespace()
        {
            let _ = Command::new("docker").args(["rm", "-f", c]).output();
        }
        let out = Command::new("docker")
            .args([
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=dev.git-sandbox.instance={}", self.0),
            ])
            .output();
        for v in out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
            .lines()
        {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", v])
                .output();
        }
    }
}

/// Removes one volume by name when dropped (one made by hand carries no project label).
struct DropName(String);

impl Drop for DropName {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["volume", "rm", "-f", &self.0])
            .output();
    }
}

fn uuid_of(t: &TestEnv, name: &str) -> String {
    let reg = t.registry();
    let e = reg["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["name"] == name)
        .expect("entry")
        .clone();
    e["uuid"].as_str().expect("uuid").to_string()
}

fn touch(volume: &str, file: &str) {
    docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{volume}:/v"),
        IMAGE,
        "sh",
        "-c",
        &format!("echo x > /v/{file}"),
    ]);
}

fn has(volume: &str, file: &str) -> bool {
    Command::new("docker")
        .args([
            "run",
            "--rm",
            "-v",
            &format!("{volume}:/v:ro"),
            IMAGE,
            "test",
            "-e",
            &format!("/v/{file}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `seed` started in `sb`, returned once it has paused main's container `main_id` (or ended,
/// or 30 s passed), and 300 ms into the copy.
fn seed_while_paused(t: &TestEnv, sb: &Path, main_id: &str, stderr: Stdio) -> std::process::Child {
    let mut child = t
        .cmd(sb)
        .args(["seed"])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("seed");
    let start = Instant::now();
    while !paused(main_id)
        && start.elapsed() < Duration::from_secs(30)
        && child.try_wait().ok().flatten().is_none()
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    child
}

#[test]
fn new_up_seeds_a_crash_consistent_copy_while_main_runs_on() {
    if !docker_ready() {
        return;
    }
    let (t, _cleanup, main) = setup("a", 8);
    let text = ok_all(&t, &t.repo, &["new", "a", "--up"]);
    let _own = DropOwn(uuid_of(&t, "a"));
    let ours = format!("{}--a_data", t.repo_name().to_lowercase());
    // Main was paused for a measured time, and is not any more.
    assert!(text.contains("paused for "), "{text}");
    assert!(!paused(&main_container(&t)));
    let copy = numbers(&ours);
    // The sandbox's writer starts from the copy's count: stop it to look at the copy itself.
    docker(&["rm", "-f", &{
        let out = docker(&["ps", "-q", "--filter", &format!("volume={ours}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }]);
    let copy_now = numbers(&ours);
    assert!(copy.len() >= 20);
    assert_eq!(
        copy_now[..copy.len()],
        copy[..],
        "the copy itself was not changed by our look"
    );
    let expected: Vec<u64> = (1..=copy_now.len() as u64).collect();
    // A prefix of main's sequence (the sandbox's own writer continued it from there).
    let main_now = numbers(&main);
    assert_eq!(copy_now, expected, "the copy is 1..k with no gap");
    assert!(
        main_now.len() > copy.len(),
        "main's writer ran on after the copy"
    );
    // Independent both ways.
    touch(&ours, "only-in-sandbox");
    touch(&main, "only-in-main");
    assert!(!has(&main, "only-in-sandbox") && !has(&ours, "only-in-main"));
    // `volumes` names where it came from, as a table and as JSON.
    let table = t.ok(&t.repo, &["volumes", "a"]);
    assert!(table.contains(&ours) && table.contains("seeded"), "{table}");
    let list = t.ok(&t.repo, &["volumes", "a", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).expect("json");
    assert_eq!(v["volumes"][0]["state"], "seeded", "{list}");
    assert!(
        v["volumes"][0]["seeded_from"]
            .as_str()
            .unwrap_or("")
            .starts_with(&main),
        "{list}"
    );
}

#[test]
fn ctrl_c_mid_copy_unpauses_main_and_leaves_no_half_volume() {
    if !docker_ready() {
        return;
    }
    let (t, _cleanup, _main) = setup("c", 300);
    let sb = t.new_sandbox("c");
    let _own = DropOwn(uuid_of(&t, "c"));
    let ours = format!("{}--c_data", t.repo_name().to_lowercase());
    let main_id = main_container(&t);
    let mut hit = 0;
    for round in 0..5 {
        let child = seed_while_paused(&t, &sb, &main_id, Stdio::piped());
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let out = child.wait_with_output().expect("wait");
        // Every round: main runs, whatever happened.
        assert!(!paused(&main_id), "round {round}: main left paused");
        if out.status.code() == Some(130) {
            hit += 1;
            assert!(
                !volume_exists(&ours),
                "round {round}: a half-written volume was left"
            );
        } else {
            // The copy won the race: it is whole. Start again from nothing.
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            docker(&["volume", "rm", &ours]);
        }
        if hit >= 2 {
            break;
        }
    }
    assert!(hit >= 1, "no round was interrupted mid-copy");
    let _ = BIN;
}

#[test]
fn a_full_disk_leaves_the_target_absent() {
    if !docker_ready() {
        return;
    }
    let (t, _cleanup, main) = setup("f", 4);
    let sb = t.new_sandbox("f");
    let _own = DropOwn(uuid_of(&t, "f"));
    // The sandbox's data volume is a 1 MiB tmpfs: main's 4 MiB cannot fit.
    t.write(
        &sb,
        "docker-compose.yml",
        &compose(
            4,
            "\n    driver_opts: {type: tmpfs, device: tmpfs, o: \"size=1m\"}",
        ),
    );
    let err = t.fails(&sb, &["seed"], 1);
    assert!(err.contains("seeding data failed"), "{err}");
    let ours = format!("{}--f_data", t.repo_name().to_lowercase());
    assert!(!volume_exists(&ours));
    assert!(!paused(&main_container(&t)));
    // A volume at that name without the sandbox's identity is never written: refused (3).
    docker(&["volume", "create", &ours]);
    let _theirs = DropName(ours.clone());
    touch(&ours, "theirs");
    let err = t.fails(&sb, &["seed"], 3);
    assert!(err.contains("does not carry"), "{err}");
    assert!(has(&ours, "theirs"));
    let _ = main;
}

#[test]
fn reset_keeps_the_old_data_and_undo_brings_it_back() {
    if !docker_ready() {
        return;
    }
    let (t, _cleanup, main) = setup("r", 1);
    let sb = t.new_sandbox("r");
    let _own = DropOwn(uuid_of(&t, "r"));
    let ours = format!("{}--r_data", t.repo_name().to_lowercase());
    ok_all(&t, &sb, &["seed"]);
    touch(&ours, "mine");
    // Without --reset, existing data is never replaced.
    t.fails(&sb, &["seed"], 1);
    // Never under a running container of the sandbox: refused (3), nothing changed.
    ok_all(&t, &sb, &["up"]);
    for _ in 0..2 {
        let err = t.fails(&sb, &["seed", "--reset"], 3);
        assert!(err.contains("in use by running container"), "{err}");
        assert!(has(&ours, "mine"));
        let saved = docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("name={ours}.saved"),
        ]);
        let saved = String::from_utf8_lossy(&saved.stdout).trim().to_string();
        assert!(saved.is_empty(), "a refused reset made a copy: {saved}");
    }
    ok_all(&t, &sb, &["down"]);
    let out = t.ok(&sb, &["seed", "--reset", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("seed --json");
    crate::json::validate("seed.json", &v);
    assert_eq!(v["volumes"][0]["result"], "seeded", "{out}");
    assert!(v["volumes"][0]["saved"].is_string(), "{out}");
    assert!(!has(&ours, "mine"), "reset copied main's again");
    let list = t.ok(&sb, &["volumes", "--json"]);
    crate::json::validate("volumes.json", &serde_json::from_str(&list).expect("json"));
    assert!(list.contains("\"saved\""), "{list}");
    ok_all(&t, &sb, &["seed", "--undo"]);
    assert!(has(&ours, "mine"), "undo put the old data back");
    // On a terminal the copy shows a bar of bytes.
    let mut t = t;
    t.extra_env.push(("TERM".into(), "xterm".into()));
    if let Some((code, shown)) = t.on_terminal(&sb, "seed --reset", "") {
        assert_eq!(code, 0, "{shown}");
        assert!(
            shown.contains("seeding data [") && shown.contains("MiB"),
            "{shown}"
        );
    }
    let _ = (main, Path::new("."));
}

#[test]
fn a_seed_killed_outright_never_leaves_main_paused_and_is_redone() {
    if !docker_ready() {
        return;
    }
    let (t, _cleanup, main) = setup("k", 300);
    let sb = t.new_sandbox("k");
    let _own = DropOwn(uuid_of(&t, "k"));
    let ours = format!("{}--k_data", t.repo_name().to_lowercase());
    let main_id = main_container(&t);
    let mut hit = false;
    for round in 0..5 {
        let mut child = seed_while_paused(&t, &sb, &main_id, Stdio::null());
        let _ = child.kill();
        let status = child.wait().expect("wait");
        // SIGKILL runs no guard: the watcher unpauses main within moments.
        let start = Instant::now();
        while paused(&main_id) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "round {round}: main left paused"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        if status.success() {
            docker(&["volume", "rm", &ours]);
            continue;
        }
        hit = true;
        // Cut short: shown so, and the next seed deletes it and copies again, whole.
        if volume_exists(&ours) {
            let list = t.ok(&sb, &["volumes", "--json"]);
            assert!(list.contains("\"incomplete\""), "{list}");
        }
        let text = ok_all(&t, &sb, &["seed"]);
        assert!(text.contains("seeded"), "{text}");
        assert!(has(&ours, "ballast") && !numbers(&ours).is_empty());
        break;
    }
    assert!(hit, "no round was killed mid-copy");
    let _ = main;
}

#[test]
fn up_without_mains_volume_starts_empty_and_says_so() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("dkseede{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    t.write(&t.repo, "docker-compose.yml", &compose(1, ""));
    t.write(&t.repo, ".sandbox.toml", "[compose]\nseed = \"all\"\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    let text = ok_all(&t, &t.repo, &["new", "e", "--up"]);
    let _own = DropOwn(uuid_of(&t, "e"));
    assert!(text.contains("data starts empty"), "{text}");
    // The explicit command refuses instead, naming what is missing.
    let sb = t.sandbox_path("e");
    let err = t.fails(&sb, &["seed", "--reset"], 1);
    assert!(err.contains("has no volume data to seed from"), "{err}");
}

#[test]
fn seed_from_local_prod_reads_its_volume_and_pauses_its_container() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("dkseedl{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    t.write(&t.repo, "docker-compose.yml", &compose(1, ""));
    t.write(&t.repo, ".sandbox.toml", "[compose]\nseed = [\"data\"]\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    ok_all(&t, &t.repo, &["local-prod", "new"]);
    ok_all(&t, &t.repo, &["local-prod", "up"]);
    let lp = t.repo_name().to_lowercase() + "--local-prod";
    let lp_volume = format!("{lp}_data");
    let start = Instant::now();
    while numbers(&lp_volume).len() < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "local-prod never wrote"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let sb = t.new_sandbox("l");
    let _own = DropOwn(uuid_of(&t, "l"));
    let out = t.ok(&sb, &["seed", "--from", "local-prod", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["from"], "local-prod", "{out}");
    assert_eq!(v["volumes"][0]["source"], lp_volume.as_str(), "{out}");
    assert!(
        v["volumes"][0]["paused"][0]
            .as_str()
            .unwrap_or("")
            .starts_with(&lp),
        "{out}"
    );
    let ours = format!("{}--l_data", t.repo_name().to_lowercase());
    let copy = numbers(&ours);
    assert_eq!(copy, (1..=copy.len() as u64).collect::<Vec<_>>());
    assert!(copy.len() >= 20);
    ok_all(&t, &t.repo, &["local-prod", "down"]);
}
