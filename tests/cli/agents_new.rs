//! `new NAME -- CMD`, `new --pr N`, and names written as branches (`feature/login`, `Fix-Login`).

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use crate::common::{BIN, TestEnv};

#[test]
fn new_runs_a_command_inside_with_its_env_and_exit_code() {
    let t = TestEnv::new();
    let out = t.run(
        &t.repo,
        &[
            "new",
            "x",
            "--",
            "sh",
            "-c",
            "echo slot=$SANDBOX_SLOT; pwd; exit 7",
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    let path = t.sandbox_path("x");
    // stdout belongs to the command; the path goes to stderr.
    assert_eq!(
        stdout,
        format!("slot=1\n{}\n", path.display()),
        "stderr: {stderr}"
    );
    assert!(stderr.contains(path.to_str().expect("utf8")), "{stderr}");
    assert_eq!(t.entries().len(), 1);
    assert_eq!(t.entries()[0].2, "ready");
}

#[test]
fn new_command_sees_the_sandbox_repo_not_the_callers_git_dir() {
    let t = TestEnv::new();
    let out = t
        .cmd(&t.repo)
        .env("GIT_DIR", t.repo.join(".git"))
        .args(["new", "y", "--", "git", "branch", "--show-current"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "y\n");
}

#[test]
fn a_signal_death_is_reported_like_a_shell_does() {
    let t = TestEnv::new();
    // git-sandbox becomes the command: it dies of the signal itself …
    let out = t.run(&t.repo, &["new", "s", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.status.signal(), Some(15), "{out:?}");
    // … which `git sandbox` (git runs it) reports as 128+signal, as a shell would.
    let mut t = t;
    t.path_prefix
        .push(Path::new(BIN).parent().expect("bin dir").to_path_buf());
    let out = t
        .git_cmd(&t.repo)
        .args(["sandbox", "new", "s2", "--", "sh", "-c", "kill -TERM $$"])
        .output()
        .expect("run git sandbox");
    assert_eq!(out.status.code(), Some(143), "{out:?}");
}

#[test]
fn a_command_that_cannot_start_exits_127_or_126_and_keeps_the_sandbox() {
    let t = TestEnv::new();
    let err = t.fails(&t.repo, &["new", "a", "--", "no-such-program-xyz"], 127);
    assert!(err.contains("cannot run no-such-program-xyz"), "{err}");
    assert!(err.contains("was kept"), "{err}");
    assert!(err.contains("git sandbox rm a"), "{err}");
    assert!(t.sandbox_path("a").join("README.md").is_file());
    t.write(&t.root, "not-exec.sh", "echo hi\n");
    let script = t.root.join("not-exec.sh");
    let err = t.fails(
        &t.repo,
        &["new", "b", "--", script.to_str().expect("utf8")],
        126,
    );
    assert!(err.contains("cannot run"), "{err}");
    assert_eq!(t.entries().len(), 2);
    // exec follows the same rules.
    t.fails(&t.repo, &["exec", "a", "--", "no-such-program-xyz"], 127);
    let out = t.run(&t.repo, &["exec", "a", "--", "sh", "-c", "exit 5"]);
    assert_eq!(out.status.code(), Some(5));
}

/// Pushes a commit on top of main to `remote_ref` of the bare remote; returns its id.
fn push_request(t: &TestEnv, remote_ref: &str, file: &str) -> String {
    let work = t.root.join(format!("contrib-{file}"));
    t.git(
        &t.root,
        &[
            "clone",
            "-q",
            t.remote.to_str().expect("utf8"),
            work.to_str().expect("utf8"),
        ],
    );
    t.commit_file(&work, file, "pr\n", &format!("change {file}"));
    t.git(
        &work,
        &["push", "-q", "origin", &format!("HEAD:{remote_ref}")],
    );
    t.git(&work, &["rev-parse", "HEAD"]).trim().to_string()
}

fn tip(t: &TestEnv, branch: &str) -> String {
    t.git(&t.repo, &["rev-parse", &format!("refs/heads/{branch}")])
        .trim()
        .to_string()
}

#[test]
fn new_pr_takes_a_github_pull_request_in() {
    let t = TestEnv::new();
    let head = push_request(&t, "refs/pull/7/head", "seven.txt");
    let path = PathBuf::from(t.ok(&t.repo, &["new", "--pr", "7"]).trim());
    assert_eq!(path, t.sandbox_path("pr-7"));
    assert_eq!(tip(&t, "pr-7"), head);
    assert_eq!(t.git(&path, &["branch", "--show-current"]).trim(), "pr-7");
    assert!(path.join("seven.txt").is_file());
    assert_eq!(t.admin_entries(), vec!["repo--pr-7"]);
    // The request's head is kept where people keep them, so it counts as pushed: rm deletes
    // the branch it made.
    assert_eq!(
        t.git(&t.repo, &["rev-parse", "refs/remotes/origin/pr/7"])
            .trim(),
        head
    );
    t.ok(&t.repo, &["rm", "pr-7", "--yes"]);
    assert_eq!(t.branches(), vec!["main"]);
}

#[test]
fn new_pr_takes_a_gitlab_merge_request_in_under_a_given_name() {
    let t = TestEnv::new();
    let head = push_request(&t, "refs/merge-requests/9/head", "nine.txt");
    let path = PathBuf::from(t.ok(&t.repo, &["new", "review", "--pr", "9"]).trim());
    assert_eq!(path, t.sandbox_path("review"));
    assert_eq!(t.git(&path, &["branch", "--show-current"]).trim(), "pr-9");
    assert_eq!(tip(&t, "pr-9"), head);
    assert_eq!(
        t.git(&t.repo, &["rev-parse", "refs/remotes/origin/mr/9"])
            .trim(),
        head
    );
}

#[test]
fn a_missing_pull_request_names_both_refs_and_creates_nothing() {
    let t = TestEnv::new();
    let err = t.fails(&t.repo, &["new", "--pr", "42"], 1);
    assert!(err.contains("refs/pull/42/head"), "{err}");
    assert!(err.contains("refs/merge-requests/42/head"), "{err}");
    assert!(err.contains("origin"), "{err}");
    assert!(t.entries().is_empty());
    assert_eq!(t.branches(), vec!["main"]);
    assert_eq!(t.siblings(), vec!["repo"]);
    for bad in ["0", "-3", "x", "1.5"] {
        t.fails(&t.repo, &["new", "--pr", bad], 2);
    }
    t.fails(&t.repo, &["new", "--pr", "7", "--branch", "b"], 2);
    assert!(t.entries().is_empty());
}

#[test]
fn new_pr_fast_forwards_an_existing_branch_and_never_loses_local_commits() {
    let t = TestEnv::new();
    let old = push_request(&t, "refs/pull/3/head", "three.txt");
    t.git(&t.repo, &["fetch", "-q", "origin", "refs/pull/3/head:pr-3"]);
    assert_eq!(tip(&t, "pr-3"), old);
    // The request moves on: pr-3 is behind, and fast-forwards.
    let contrib = t.root.join("contrib-three.txt");
    t.commit_file(&contrib, "more.txt", "more\n", "more");
    t.git(&contrib, &["push", "-q", "origin", "HEAD:refs/pull/3/head"]);
    let new = t.git(&contrib, &["rev-parse", "HEAD"]).trim().to_string();
    let path = PathBuf::from(t.ok(&t.repo, &["new", "--pr", "3"]).trim());
    assert_eq!(tip(&t, "pr-3"), new);
    assert!(path.join("more.txt").is_file());
    t.ok(&t.repo, &["rm", "pr-3", "--yes"]);
    // A local commit on pr-3 and a request that moved on: diverged, refused.
    let mine = t.hand_made_worktree("mine", "tmp");
    t.git(&mine, &["checkout", "-q", "pr-3"]);
    t.commit_file(&mine, "mine.txt", "mine\n", "mine");
    t.git(&mine, &["checkout", "-q", "tmp"]);
    let local = tip(&t, "pr-3");
    t.commit_file(&contrib, "again.txt", "again\n", "again");
    t.git(&contrib, &["push", "-q", "origin", "HEAD:refs/pull/3/head"]);
    let err = t.fails(&t.repo, &["new", "--pr", "3"], 1);
    assert!(err.contains("branch pr-3 has commits"), "{err}");
    assert!(err.contains("git branch -m pr-3"), "{err}");
    assert_eq!(tip(&t, "pr-3"), local);
    assert!(!t.sandbox_path("pr-3").exists());
    assert_eq!(t.entries().len(), 0);
}

#[test]
fn names_with_slashes_become_branches_and_slugged_directories() {
    let t = TestEnv::new();
    let path = t.new_sandbox("feature/login");
    assert_eq!(path, t.sandbox_path("feature-login"));
    assert_eq!(
        t.git(&path, &["branch", "--show-current"]).trim(),
        "feature/login"
    );
    assert_eq!(t.admin_entries(), vec!["repo--feature-login"]);
    let p = t.ok(&t.repo, &["path", "feature/login"]);
    assert_eq!(p.trim(), path.to_str().expect("utf8"));
    let list = t.ok(&t.repo, &["list"]);
    assert!(list.contains("feature-login"), "{list}");
    // Case is kept in the branch, not in the slug.
    let fix = t.new_sandbox("Fix-Login");
    assert_eq!(fix, t.sandbox_path("fix-login"));
    assert_eq!(
        t.git(&fix, &["branch", "--show-current"]).trim(),
        "Fix-Login"
    );
    assert_eq!(
        t.ok(&t.repo, &["path", "Fix-Login"]).trim(),
        fix.to_str().expect("utf8")
    );
    t.ok(&t.repo, &["rm", "feature/login", "--yes"]);
    assert!(!path.exists());
    // A second name with the same slug is refused, and changes nothing.
    let err = t.fails(&t.repo, &["new", "fix/login"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(t.entries().len(), 1);
}

#[test]
fn names_git_refuses_as_branches_are_usage_errors() {
    let t = TestEnv::new();
    for bad in ["a..b", "feature/", "x.lock", "a/.b", "/abs", "a:b"] {
        let err = t.fails(&t.repo, &["new", bad], 2);
        assert!(err.contains("invalid sandbox name"), "{bad}: {err}");
        assert!(err.contains("hint:"), "{err}");
    }
    assert!(t.entries().is_empty());
    assert_eq!(t.branches(), vec!["main"]);
    assert_eq!(t.siblings(), vec!["repo"]);
}

#[test]
fn new_pr_never_moves_a_branch_checked_out_elsewhere_and_keeps_one_ahead() {
    let t = TestEnv::new();
    push_request(&t, "refs/pull/5/head", "five.txt");
    t.git(&t.repo, &["fetch", "-q", "origin", "refs/pull/5/head:pr-5"]);
    let first = tip(&t, "pr-5");
    let wt = t.hand_made_worktree("hand", "tmp5");
    t.git(&wt, &["checkout", "-q", "pr-5"]);
    // The request moves on; pr-5 is behind but checked out there: refused, not moved.
    let contrib = t.root.join("contrib-five.txt");
    t.commit_file(&contrib, "later.txt", "later\n", "later");
    t.git(&contrib, &["push", "-q", "origin", "HEAD:refs/pull/5/head"]);
    let err = t.fails(&t.repo, &["new", "--pr", "5"], 1);
    assert!(err.contains("checked out at"), "{err}");
    assert!(
        err.contains("git merge --ff-only refs/remotes/origin/pr/5"),
        "{err}"
    );
    assert_eq!(tip(&t, "pr-5"), first);
    assert!(t.entries().is_empty());
    // Brought up to date there, with a commit of its own on top, and freed: used as it is.
    t.git(
        &wt,
        &["merge", "-q", "--ff-only", "refs/remotes/origin/pr/5"],
    );
    t.commit_file(&wt, "mine.txt", "mine\n", "mine");
    t.git(&wt, &["checkout", "-q", "tmp5"]);
    let mine = tip(&t, "pr-5");
    let path = PathBuf::from(t.ok(&t.repo, &["new", "--pr", "5"]).trim());
    assert_eq!(tip(&t, "pr-5"), mine);
    assert!(path.join("mine.txt").is_file());
    assert!(path.join("later.txt").is_file());
}
