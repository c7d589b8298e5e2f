//! A `new` (or `local-prod new`, or `restore`) that fails at any step leaves nothing behind:
//! the branches, `git worktree list`, the registry and the directory holding the repo are as
//! they were before it ran.

use std::fs;

use crate::common::TestEnv;

/// Every point of creation a failure is injected at, in order.
const POINTS: &[&str] = &[
    "new:reserved",
    "new:branch",
    "new:added",
    "new:worktree",
    "new:env",
    "new:copied",
    "new:ready",
];

/// What a failed `new` must leave as it found it.
#[derive(Debug, PartialEq)]
struct State {
    branches: Vec<String>,
    worktrees: String,
    admin: Vec<String>,
    registry: Vec<(String, u64, String)>,
    siblings: Vec<String>,
}

fn state(t: &TestEnv) -> State {
    State {
        branches: t.branches(),
        worktrees: t.git(&t.repo, &["worktree", "list", "--porcelain"]),
        admin: t.admin_entries(),
        registry: t.entries(),
        siblings: t.siblings(),
    }
}

/// Runs `args` with a failure injected at `point`: it must fail with exit 1, say so, and
/// leave the state as it was.
fn fails_cleanly(t: &mut TestEnv, point: &str, args: &[&str]) {
    let before = state(t);
    t.extra_env = vec![("GIT_SANDBOX_FAULT".into(), format!("error:{point}"))];
    let err = t.fails(&t.repo, args, 1);
    t.extra_env.clear();
    assert!(
        err.contains(&format!("injected failure at {point}")),
        "{point}: {err}"
    );
    assert!(
        err.contains("everything it made was undone"),
        "{point}: {err}"
    );
    assert_eq!(state(t), before, "{point}: {args:?} left something behind");
}

fn with_copy_config(t: &TestEnv) {
    t.write(&t.repo, ".sandbox.toml", "copy = [\".env.local\"]\n");
    t.write(&t.repo, ".gitignore", ".env.local\n");
    t.commit_file(&t.repo, ".gitignore", ".env.local\n", "ignore");
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    t.write(&t.repo, ".env.local", "SECRET=1\n");
    t.ok(&t.repo, &["trust"]);
}

#[test]
fn new_failing_at_any_step_leaves_nothing() {
    for name in ["repo", "my repo"] {
        let mut t = TestEnv::named(name);
        with_copy_config(&t);
        let keep = t.new_sandbox("keep");
        t.write(&keep, "mine.txt", "uncommitted\n");
        for point in POINTS {
            fails_cleanly(&mut t, point, &["new", "doomed"]);
            // An existing branch is used, never deleted.
            t.git(&t.repo, &["branch", "existing"]);
            fails_cleanly(&mut t, point, &["new", "x", "--branch", "existing"]);
            assert!(t.branches().contains(&"existing".to_string()), "{point}");
            t.git(&t.repo, &["branch", "-D", "existing"]);
        }
        assert_eq!(
            fs::read_to_string(keep.join("mine.txt")).expect("keep"),
            "uncommitted\n"
        );
        // The name is usable afterwards.
        let s = t.new_sandbox("doomed");
        assert_eq!(
            fs::read_to_string(s.join(".env.local")).expect("copied"),
            "SECRET=1\n"
        );
    }
}

#[test]
fn local_prod_new_failing_at_any_step_leaves_nothing() {
    // local-prod's directory is not named after its id: it is made in a staging directory and
    // moved, which adds a step.
    let mut t = TestEnv::new();
    for point in POINTS.iter().chain(&["new:staged"]) {
        fails_cleanly(&mut t, point, &["local-prod", "new"]);
    }
    t.ok(&t.repo, &["local-prod", "new"]);
}

#[test]
fn restore_failing_at_any_step_keeps_the_saved_state() {
    let mut t = TestEnv::new();
    let s = t.new_sandbox("wip");
    t.write(&s, "wip.txt", "work\n");
    t.ok(&t.repo, &["rm", "wip", "--yes", "--force"]);
    let saved = |t: &TestEnv| t.git(&t.repo, &["for-each-ref", "refs/sandbox/"]);
    let refs = saved(&t);
    // Before the saved files are put back, a failure undoes everything.
    for point in POINTS.iter().filter(|p| **p != "new:ready") {
        fails_cleanly(&mut t, point, &["restore", "wip"]);
        assert_eq!(saved(&t), refs, "{point}");
    }
    // After, the tree holds the user's work again: it is kept, never undone, and `prune`
    // finishes the restore.
    t.extra_env = vec![("GIT_SANDBOX_FAULT".into(), "error:new:ready".into())];
    let err = t.fails(&t.repo, &["restore", "wip"], 1);
    t.extra_env.clear();
    assert!(err.contains("prune"), "{err}");
    assert_eq!(saved(&t), refs);
    assert_eq!(
        fs::read_to_string(s.join("wip.txt")).expect("wip kept"),
        "work\n"
    );
    t.ok(&t.repo, &["prune"]);
    assert_eq!(t.entries()[0].2, "ready");
    t.ok(&t.repo, &["rm", "wip", "--yes", "--force"]);
    t.ok(&t.repo, &["restore", "wip"]);
    assert_eq!(
        fs::read_to_string(s.join("wip.txt")).expect("wip"),
        "work\n"
    );
}

#[test]
fn a_failing_post_checkout_hook_of_the_project_leaves_nothing() {
    // git exits non-zero when the post-checkout hook fails, but keeps the worktree it made.
    let t = TestEnv::named("my repo");
    let hook = t.repo.join(".git/hooks/post-checkout");
    let body = "#!/bin/sh\necho hook refuses >&2\nexit 1\n";
    crate::common::write_executable(&hook, body, 0o755);
    let before = state(&t);
    let err = t.fails(&t.repo, &["new", "hooked"], 1);
    assert!(err.contains("hook refuses"), "{err}");
    assert_eq!(state(&t), before);
    let err = t.fails(&t.repo, &["local-prod", "new"], 1);
    assert!(err.contains("hook refuses"), "{err}");
    assert_eq!(state(&t), before);
}

/// `new` paused at `point`, then sent SIGINT (as Ctrl-C sends it, to the whole process group
/// when `group` is set): exit 130, told what happened, and nothing left behind.
fn interrupted_at(t: &TestEnv, point: &str, group: bool) {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let before = state(t);
    let flag = t.root.join("paused");
    let _ = fs::remove_file(&flag);
    let mut cmd = t.cmd(&t.repo);
    cmd.args(["new", "doomed"])
        .env("GIT_SANDBOX_PAUSE", format!("{point}:800"))
        .env("GIT_SANDBOX_PAUSED", &flag)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = cmd.spawn().expect("spawn");
    crate::common::wait_until_paused(&flag, point);
    let target = if group {
        format!("-{}", child.id())
    } else {
        child.id().to_string()
    };
    let sent = t
        .program("kill", &t.repo)
        .args(["-INT", "--", &target])
        .status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -INT {target}");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{point}: {err}");
    assert!(err.contains("interrupted"), "{point}: {err}");
    assert!(
        err.contains("everything it made was undone"),
        "{point}: {err}"
    );
    assert_eq!(state(t), before, "{point}: Ctrl-C left something behind");
}

#[test]
fn ctrl_c_during_new_undoes_it_and_says_so() {
    let t = TestEnv::new();
    t.new_sandbox("keep");
    for point in ["new:reserved", "new:branch", "new:worktree", "new:env"] {
        interrupted_at(&t, point, false);
    }
    // The terminal's Ctrl-C reaches git-sandbox and every git it started.
    interrupted_at(&t, "new:branch", true);
    interrupted_at(&t, "new:env", true);
}
