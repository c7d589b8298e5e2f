//! The project's `[commands]`: setup after new, restore and adopt, teardown before rm, and
//! the trust they need first. Driven off a terminal, where nothing can be asked.

use std::fs;

use crate::common::TestEnv;

fn with_commands(t: &TestEnv, setup: &str, teardown: &str) {
    t.write(
        &t.repo,
        ".sandbox.toml",
        &format!("[ports]\nweb = 18600\n[commands]\nsetup = [{setup}]\nteardown = [{teardown}]\n"),
    );
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "commands"]);
}

fn row(t: &TestEnv, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", name, "--json"])).expect("json");
    v["sandbox"].clone()
}

#[test]
fn setup_needs_trust_then_runs_with_the_sandbox_env() {
    let t = TestEnv::new();
    with_commands(
        &t,
        r#""echo slot=$SANDBOX_SLOT port=$WEB_PORT > setup.out""#,
        "",
    );
    // Not trusted, no terminal: the sandbox is made and kept, not set up, exit 1, and told how.
    let out = t.run(&t.repo, &["new", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not trusted") && err.contains("git sandbox trust"),
        "{err}"
    );
    let a = t.sandbox_path("a");
    assert!(a.is_dir() && !a.join("setup.out").exists());
    assert_eq!(row(&t, "a")["setup"], "not-trusted");
    // Approved: `setup` runs it, in the sandbox, with its env.
    let shown = t.ok(&t.repo, &["trust", "--show"]);
    assert!(shown.contains("setup: echo slot="), "{shown}");
    t.ok(&t.repo, &["trust"]);
    t.ok(&t.repo, &["setup", "a"]);
    let out = fs::read_to_string(a.join("setup.out")).expect("setup ran");
    assert_eq!(out.trim(), "slot=1 port=18601");
    assert_eq!(row(&t, "a")["setup"], "done");
    // Trusted now: the next `new` runs it by itself, stdout still only the path.
    let b = t.ok(&t.repo, &["new", "b"]);
    assert_eq!(b.trim(), t.sandbox_path("b").to_str().expect("utf8"));
    assert!(t.sandbox_path("b").join("setup.out").exists());
    // Changed commands must be approved again.
    with_commands(&t, r#""echo changed > setup.out""#, "");
    let out = t.run(&t.repo, &["new", "c"]);
    assert_eq!(out.status.code(), Some(1));
    // --yes runs them once without storing the approval; --no-setup skips them.
    t.ok(&t.repo, &["new", "d", "--yes"]);
    assert!(t.sandbox_path("d").join("setup.out").exists());
    t.ok(&t.repo, &["new", "e", "--no-setup"]);
    assert!(!t.sandbox_path("e").join("setup.out").exists());
    assert_eq!(row(&t, "e")["setup"], "skipped");
    assert!(t.ok(&t.repo, &["trust", "--show"]).contains("changed"));
}

#[test]
fn a_failing_setup_keeps_the_sandbox_and_says_which_command() {
    let t = TestEnv::new();
    with_commands(
        &t,
        r#""true", "echo broken >&2; exit 3", "touch never""#,
        "",
    );
    t.ok(&t.repo, &["trust"]);
    let out = t.run(&t.repo, &["new", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("step 2/3") && err.contains("exit 3"), "{err}");
    assert!(
        err.contains("broken"),
        "the command's output streams: {err}"
    );
    let a = t.sandbox_path("a");
    assert!(a.is_dir() && !a.join("never").exists());
    assert_eq!(row(&t, "a")["setup"], "failed");
    assert!(t.ok(&t.repo, &["status", "a"]).contains("setup:"));
}

#[test]
fn setup_runs_after_restore_and_adopt() {
    let t = TestEnv::new();
    with_commands(&t, r#""echo $SANDBOX_NAME >> setup.log""#, "");
    t.ok(&t.repo, &["trust"]);
    let a = t.new_sandbox("a");
    t.write(&a, "work.txt", "mine\n");
    t.ok(&t.repo, &["rm", "a", "--force", "--yes"]);
    t.ok(&t.repo, &["restore", "a"]);
    let log = fs::read_to_string(a.join("setup.log")).expect("log");
    assert_eq!(log.lines().count(), 2, "after new and after restore: {log}");
    let hand = t.hand_made_worktree("repo--hand", "hand");
    t.ok(&t.repo, &["adopt", hand.to_str().expect("utf8")]);
    assert_eq!(
        fs::read_to_string(hand.join("setup.log"))
            .expect("log")
            .trim(),
        "hand"
    );
}

#[test]
fn a_failing_teardown_stops_rm_unless_forced() {
    let t = TestEnv::new();
    with_commands(&t, "", r#""echo tearing down $SANDBOX_NAME >&2; exit 4""#);
    t.ok(&t.repo, &["trust"]);
    let a = t.new_sandbox("a");
    t.git(&a, &["push", "-q", "-u", "origin", "a"]);
    let err = t.fails(&t.repo, &["rm", "a", "--yes"], 1);
    assert!(err.contains("tearing down a"), "{err}");
    assert!(
        err.contains("was not removed") && err.contains("--force"),
        "{err}"
    );
    assert!(a.is_dir());
    assert!(t.ok(&t.repo, &["list"]).contains('a'));
    t.ok(&t.repo, &["rm", "a", "--yes", "--force"]);
    assert!(!a.exists());
}

/// `list --json`'s `setup` of sandbox `name`.
fn listed_setup(t: &TestEnv, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    v["sandboxes"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == name)
        .map(|r| r["setup"].clone())
        .expect("listed")
}

#[test]
fn a_crash_during_setup_leaves_it_interrupted_and_setup_runs_it_again() {
    let mut t = TestEnv::new();
    with_commands(&t, r#""echo ran >> setup.log""#, "");
    t.ok(&t.repo, &["trust"]);
    t.extra_env = vec![("GIT_SANDBOX_FAULT".into(), "setup:running".into())];
    let out = t.run(&t.repo, &["new", "a"]);
    t.extra_env.clear();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fault injected at setup:running"), "{err}");
    let a = t.sandbox_path("a");
    assert!(a.is_dir() && !a.join("setup.log").exists());
    // Never "null" (the project has none) nor "running" (its process is gone).
    assert_eq!(listed_setup(&t, "a"), "interrupted");
    assert_eq!(row(&t, "a")["setup"], "interrupted");
    assert!(t.ok(&t.repo, &["list"]).contains("a (setup interrupted)"));
    let status = t.ok(&t.repo, &["status", "a"]);
    assert!(
        status.contains("interrupted (`git sandbox setup a` runs it)"),
        "{status}"
    );
    let out = t.run(&t.repo, &["setup", "a"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("was interrupted; running it again"), "{said}");
    assert_eq!(
        fs::read_to_string(a.join("setup.log")).expect("ran"),
        "ran\n"
    );
    assert_eq!(listed_setup(&t, "a"), "done");
}

#[test]
fn a_setup_killed_mid_step_is_running_then_interrupted() {
    let t = TestEnv::new();
    // The first run stops in its step (its pid written, then asleep); the second finishes.
    with_commands(
        &t,
        r#""if [ -e once ]; then echo ok > setup.out; else : > once; echo $$ > step.pid; exec sleep 30; fi""#,
        "",
    );
    t.ok(&t.repo, &["trust"]);
    let mut new = t
        .cmd(&t.repo)
        .args(["new", "a"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("new");
    let a = t.sandbox_path("a");
    let start = std::time::Instant::now();
    while fs::read_to_string(a.join("step.pid")).map_or(true, |p| !p.ends_with('\n')) {
        assert!(start.elapsed().as_secs() < 20, "setup never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(listed_setup(&t, "a"), "running");
    let refused = t.fails(&t.repo, &["setup", "a"], 1);
    assert!(refused.contains("is running"), "{refused}");
    new.kill().expect("kill -9");
    let _ = new.wait();
    // The step dies with git-sandbox (its supervisor kills what it started): never left
    // running beside the setup that runs it again.
    let step = fs::read_to_string(a.join("step.pid")).expect("pid");
    let stat = format!("/proc/{}/stat", step.trim());
    let gone = |s: &str| {
        fs::read_to_string(s).map_or(true, |st| {
            st.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
    };
    let start = std::time::Instant::now();
    while !gone(&stat) {
        assert!(
            start.elapsed().as_secs() < 5,
            "the setup step outlived git-sandbox"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(listed_setup(&t, "a"), "interrupted");
    t.ok(&t.repo, &["setup", "a"]);
    assert!(a.join("setup.out").exists());
    assert_eq!(listed_setup(&t, "a"), "done");
}
