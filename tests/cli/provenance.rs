//! Code from someone else asks, every time: trust approves the command set, but the code it
//! runs is the checked-out commit's. Setup runs unasked only on commits the user already had
//! on a local branch or made; a pull request, a remote-only branch, or such a ref through the
//! agent hook skips it off a terminal (state `skipped`), saying how to run it.

use std::path::{Path, PathBuf};

use crate::agent::create;
use crate::common::TestEnv;

/// A repo whose trusted setup runs `scripts/setup.sh` (which, on main, only marks the sandbox).
fn trusted_setup() -> TestEnv {
    let t = TestEnv::new();
    t.write(&t.repo, "scripts/setup.sh", "echo ok > setup.out\n");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[commands]\nsetup = [\"sh scripts/setup.sh\"]\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "setup script"]);
    t.git(&t.repo, &["push", "-q"]);
    t.ok(&t.repo, &["trust"]);
    t
}

/// A stranger's clone pushes a commit whose setup script writes `$HOME/pwned` to `remote_ref`.
fn stranger_pushes(t: &TestEnv, remote_ref: &str) -> String {
    stranger_pushes_as(t, remote_ref, "stranger@example.org")
}

/// The same, the commit written with `email` as its author's and committer's address.
fn stranger_pushes_as(t: &TestEnv, remote_ref: &str, email: &str) -> String {
    let work = t.root.join("stranger");
    if !work.exists() {
        let remote = t.remote.to_str().expect("utf8");
        t.git(
            &t.root,
            &["clone", "-q", remote, work.to_str().expect("utf8")],
        );
    }
    t.write(
        &work,
        "scripts/setup.sh",
        "echo pwned > \"$HOME/pwned\"\necho ok > setup.out\n",
    );
    t.git(&work, &["add", "."]);
    let out = t
        .git_cmd(&work)
        .args(["commit", "-q", "-m", "improve setup"])
        .env("GIT_AUTHOR_NAME", "Stranger")
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_NAME", "Stranger")
        .env("GIT_COMMITTER_EMAIL", email)
        .output()
        .expect("commit");
    assert!(out.status.success(), "{out:?}");
    t.git(
        &work,
        &["push", "-q", "origin", &format!("HEAD:{remote_ref}")],
    );
    t.git(&work, &["rev-parse", "--short", "HEAD"])
        .trim()
        .to_string()
}

fn setup_state(t: &TestEnv, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", name, "--json"])).expect("json");
    v["sandbox"]["setup"].clone()
}

fn pwned(t: &TestEnv) -> bool {
    t.home.join("pwned").exists()
}

/// `new ARGS` off a terminal: exit 0, setup skipped, and stderr naming the commit, its
/// author and how to run it.
fn new_skips(t: &TestEnv, args: &[&str], name: &str, short: &str) -> PathBuf {
    let out = t.run(&t.repo, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!pwned(t), "{err}");
    assert!(
        err.contains(short) && err.contains("improve setup"),
        "{err}"
    );
    assert!(err.contains("by Stranger <"), "{err}");
    assert!(
        err.contains(&format!("git sandbox setup {name} --yes")),
        "{err}"
    );
    assert_eq!(setup_state(t, name), "skipped");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn assert_set_up(t: &TestEnv, dir: &Path, name: &str) {
    assert!(dir.join("setup.out").is_file());
    assert_eq!(setup_state(t, name), "done");
}

#[test]
fn a_pull_requests_setup_waits_for_a_yes() {
    let t = trusted_setup();
    let short = stranger_pushes(&t, "refs/pull/7/head");
    let p = new_skips(&t, &["new", "--pr", "7"], "pr-7", &short);
    assert!(!p.join("setup.out").exists());
    // Asked again every time: `setup` without --yes still does not run it.
    let err = t.fails(&t.repo, &["setup", "pr-7"], 1);
    assert!(err.contains("not yours") && !pwned(&t), "{err}");
    t.ok(&t.repo, &["setup", "pr-7", "--yes"]);
    assert!(pwned(&t));
    assert_set_up(&t, &p, "pr-7");
}

#[test]
fn a_remote_only_branch_is_someone_elses_through_new_and_the_agent_hook() {
    let t = trusted_setup();
    let short = stranger_pushes(&t, "refs/heads/feature");
    t.git(&t.repo, &["fetch", "-q"]);
    new_skips(&t, &["new", "x", "--from", "origin/feature"], "x", &short);
    let input = serde_json::json!({"session_id": "s", "name": "y", "base_ref": "origin/feature"});
    let y = create(&t, &t.repo, &input.to_string());
    assert!(!pwned(&t) && !y.join("setup.out").exists());
    assert_eq!(setup_state(&t, "y"), "skipped");
}

#[test]
fn a_pull_request_written_with_the_users_email_is_still_someone_elses() {
    let t = trusted_setup();
    // Anyone can put the user's address on a commit: only `git commit` here makes it theirs.
    let short = stranger_pushes_as(&t, "refs/pull/9/head", "test@example.com");
    new_skips(&t, &["new", "--pr", "9"], "pr-9", &short);
    assert_eq!(setup_state(&t, "pr-9"), "skipped");
    // A remote-only branch of it too.
    t.git(
        &t.repo,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/pull/9/head:refs/remotes/origin/spoofed",
        ],
    );
    new_skips(
        &t,
        &["new", "spoof", "--from", "origin/spoofed"],
        "spoof",
        &short,
    );
    assert!(!pwned(&t));
}

#[test]
fn the_users_own_code_runs_setup_unasked() {
    let t = trusted_setup();
    // A local branch the user has, a new branch from HEAD, and the user's own commit that is
    // only on the remote (made elsewhere): all run setup.
    t.git(&t.repo, &["branch", "mine"]);
    let mine = PathBuf::from(t.ok(&t.repo, &["new", "mine"]).trim());
    assert_set_up(&t, &mine, "mine");
    let fresh = PathBuf::from(t.ok(&t.repo, &["new", "fresh"]).trim());
    assert_set_up(&t, &fresh, "fresh");
    t.commit_file(&mine, "more.txt", "more\n", "my change");
    t.git(
        &mine,
        &["push", "-q", "origin", "HEAD:refs/heads/elsewhere"],
    );
    t.git(&mine, &["reset", "-q", "--hard", "HEAD~1"]);
    t.git(&t.repo, &["fetch", "-q"]);
    let own = PathBuf::from(
        t.ok(&t.repo, &["new", "own", "--from", "origin/elsewhere"])
            .trim(),
    );
    assert_set_up(&t, &own, "own");
    assert!(!pwned(&t));
}

#[test]
fn a_pull_requests_teardown_does_not_run_unasked_either() {
    let t = TestEnv::new();
    t.write(&t.repo, "scripts/down.sh", "echo main > down.out\n");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[commands]\nteardown = [\"sh scripts/down.sh\"]\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "teardown script"]);
    t.git(&t.repo, &["push", "-q"]);
    t.ok(&t.repo, &["trust"]);
    let work = t.root.join("stranger");
    let remote = t.remote.to_str().expect("utf8");
    t.git(
        &t.root,
        &["clone", "-q", remote, work.to_str().expect("utf8")],
    );
    t.write(&work, "scripts/down.sh", "echo pwned > \"$HOME/pwned\"\n");
    t.git(&work, &["add", "."]);
    let out = t
        .git_cmd(&work)
        .args(["commit", "-q", "-m", "improve teardown"])
        .env("GIT_AUTHOR_EMAIL", "stranger@example.org")
        .env("GIT_COMMITTER_EMAIL", "stranger@example.org")
        .output()
        .expect("commit");
    assert!(out.status.success(), "{out:?}");
    t.git(&work, &["push", "-q", "origin", "HEAD:refs/pull/8/head"]);
    let p = PathBuf::from(t.ok(&t.repo, &["new", "--pr", "8"]).trim());
    // rm stops before touching anything (as for an untrusted teardown), says why and how.
    let err = t.fails(&t.repo, &["rm", "pr-8", "--yes"], 1);
    assert!(
        err.contains("not yours") && err.contains("--force"),
        "{err}"
    );
    assert!(p.is_dir() && !pwned(&t));
    // --force removes it without running the stranger's teardown.
    t.ok(&t.repo, &["rm", "pr-8", "--yes", "--force"]);
    assert!(!p.exists() && !pwned(&t));
}

#[test]
fn on_a_terminal_a_pull_request_asks_naming_commit_and_author() {
    let t = trusted_setup();
    let short = stranger_pushes(&t, "refs/pull/7/head");
    let Some((code, shown)) = t.on_terminal(&t.repo, "new --pr 7", "n\n") else {
        return;
    };
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(&short) && shown.contains("stranger@example.org"),
        "{shown}"
    );
    assert!(shown.contains("Run the setup commands on it?"), "{shown}");
    assert!(!pwned(&t));
    assert_eq!(setup_state(&t, "pr-7"), "skipped");
    // Every time: `setup` asks again, and a yes runs it.
    let (code, shown) = t.on_terminal(&t.repo, "setup pr-7", "y\n").expect("script");
    assert_eq!(code, 0, "{shown}");
    assert!(pwned(&t));
    assert_eq!(setup_state(&t, "pr-7"), "done");
}
