//! Claude Code's hooks reference to the letter: stdin held open, the path as the last
//! non-empty stdout line, exit 0 from `worktree-remove` only when the directory is gone, and
//! every refusal one stderr line that starts `git-sandbox: kept <path>: <reason>`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::agent::create;
use crate::common::{TestEnv, tree};

/// Runs `cmd` with `input` on stdin, which stays open until the hook exits.
fn drive(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write");
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the hook did not answer while its stdin stayed open");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    child.wait_with_output().expect("output")
}

/// The `WorktreeRemove` payload for `path`, sent from `cwd`.
fn remove_payload(cwd: &Path, path: &Path) -> String {
    serde_json::json!({
        "session_id": "s",
        "transcript_path": "/tmp/t.jsonl",
        "hook_event_name": "WorktreeRemove",
        "cwd": cwd,
        "worktree_path": path,
    })
    .to_string()
}

/// `worktree-remove` of `path` with `cwd` in the payload, run through `cmd`'s environment;
/// asserts exit `code`, nothing on stdout, and returns stderr.
fn remove_via(cmd: Command, cwd: &Path, path: &Path, code: i32) -> String {
    let out = drive(cmd, &remove_payload(cwd, path));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    err
}

fn hook_cmd(t: &TestEnv, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = t.cmd(dir);
    cmd.arg("agent-hook").args(args);
    cmd
}

/// Asserts a refusal: exactly one line, starting with `git-sandbox: kept <path>: `, naming
/// `fix`, and nothing about shells.
fn one_kept_line(err: &str, path: &Path, fix: &str) {
    assert_eq!(err.lines().count(), 1, "one line, got:\n{err}");
    let head = format!("git-sandbox: kept {}: ", path.display());
    assert!(err.starts_with(&head), "{err}");
    assert!(err.contains(fix), "{err}");
    assert!(!err.contains("shell") && !err.contains("cd "), "{err}");
}

/// The last non-empty line of stdout.
fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn clean_and_pushed_is_removed_with_exit_0_and_nothing_said() {
    let t = TestEnv::new();
    let path = create(&t, &t.repo, r#"{"name": "done"}"#);
    t.commit_file(&path, "feature.txt", "done\n", "feature");
    t.git(&path, &["push", "-q", "-u", "origin", "done"]);
    // The payload's cwd is the worktree itself (Claude Code's session was inside it).
    let err = remove_via(hook_cmd(&t, &path, &["worktree-remove"]), &path, &path, 0);
    assert!(err.is_empty(), "nothing about shells or reports: {err}");
    assert!(!path.exists());
    assert!(t.entries().is_empty());
}

#[test]
fn every_refusal_is_one_line_and_keeps_everything() {
    let t = TestEnv::new();
    // Dirty.
    let dirty = create(&t, &t.repo, r#"{"name": "dirty"}"#);
    t.write(&dirty, "a.txt", "precious\n");
    t.write(&dirty, "b.txt", "precious\n");
    let before = (tree(&dirty), t.registry());
    let cmd = hook_cmd(&t, &dirty, &["worktree-remove"]);
    let err = remove_via(cmd, &dirty, &dirty, 3);
    one_kept_line(&err, &dirty, "git sandbox rm dirty --force");
    assert!(err.contains("2 untracked file"), "{err}");
    assert_eq!((tree(&dirty), t.registry()), before);

    // Unpushed commits.
    let ahead = create(&t, &t.repo, r#"{"name": "ahead"}"#);
    t.commit_file(&ahead, "x.txt", "x\n", "not pushed");
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let err = remove_via(cmd, &t.repo, &ahead, 3);
    one_kept_line(&err, &ahead, "git sandbox rm ahead --force");

    // A process working inside it.
    let busy = create(&t, &t.repo, r#"{"name": "busy"}"#);
    let mut sleeper = Command::new("sleep")
        .arg("300")
        .current_dir(&busy)
        .spawn()
        .expect("sleep");
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let err = remove_via(cmd, &t.repo, &busy, 3);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    one_kept_line(&err, &busy, "git sandbox rm busy --force");
    assert!(busy.is_dir());

    // Locked by git.
    let locked = create(&t, &t.repo, r#"{"name": "locked"}"#);
    t.git(
        &t.repo,
        &["worktree", "lock", locked.to_str().expect("utf8")],
    );
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let err = remove_via(cmd, &t.repo, &locked, 3);
    one_kept_line(&err, &locked, "git worktree unlock");
    assert!(locked.is_dir());

    // The user's own sandbox, and a worktree git-sandbox did not make.
    let mine = t.new_sandbox("mine");
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let err = remove_via(cmd, &t.repo, &mine, 3);
    one_kept_line(&err, &mine, "git sandbox rm mine");
    assert!(err.contains("not by an agent hook"), "{err}");
    let hand = t.hand_made_worktree("repo-by-hand", "by-hand");
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let err = remove_via(cmd, &t.repo, &hand, 3);
    one_kept_line(&err, &hand, "not a sandbox");
    assert!(mine.is_dir() && hand.is_dir());
}

/// A repo whose config is `config` (and `compose.yml` when `compose`), trusted and pushed,
/// with a hook-made sandbox `td` whose branch is pushed.
fn trusted_with(t: &TestEnv, config: &str, compose: bool) -> PathBuf {
    t.write(&t.repo, ".sandbox.toml", config);
    if compose {
        t.write(&t.repo, "compose.yml", "services:\n  web:\n    image: x\n");
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    t.git(&t.repo, &["push", "-q"]);
    t.ok(&t.repo, &["trust"]);
    let path = create(t, &t.repo, r#"{"name": "td"}"#);
    t.git(&path, &["push", "-q", "-u", "origin", "td"]);
    path
}

#[test]
fn a_failing_teardown_is_one_line() {
    let t = TestEnv::new();
    let config =
        "[ports]\nweb = 18700\n[commands]\nteardown = [\"echo tearing down >&2; exit 4\"]\n";
    let path = trusted_with(&t, config, false);
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let err = remove_via(cmd, &t.repo, &path, 1);
    one_kept_line(&err, &path, "git sandbox rm td");
    assert!(err.contains("exit 4") || err.contains("failed"), "{err}");
    assert!(path.is_dir());
    assert!(t.ok(&t.repo, &["list"]).contains("td"));
}

#[test]
fn an_unreachable_engine_is_one_line() {
    let t = TestEnv::new();
    let path = trusted_with(&t, "[ports]\nweb = 18710\n", true);
    let mut cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    cmd.env("DOCKER_HOST", "unix:///nonexistent.sock");
    let err = remove_via(cmd, &t.repo, &path, 1);
    one_kept_line(&err, &path, "git sandbox rm td");
    assert!(err.contains("cannot be reached"), "{err}");
    assert!(path.is_dir());
}

#[test]
fn a_payload_of_the_other_event_is_refused() {
    let t = TestEnv::new();
    let siblings = t.siblings();
    let wrong = serde_json::json!({
        "hook_event_name": "WorktreeRemove",
        "name": "x",
        "worktree_path": t.repo,
        "cwd": t.repo,
    });
    let out = drive(
        hook_cmd(&t, &t.repo, &["worktree-create"]),
        &wrong.to_string(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("WorktreeRemove"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(t.siblings(), siblings);
    assert!(t.entries().is_empty());

    let path = create(&t, &t.repo, r#"{"name": "keep"}"#);
    let wrong = serde_json::json!({"hook_event_name": "WorktreeCreate", "worktree_path": path});
    let out = drive(
        hook_cmd(&t, &t.repo, &["worktree-remove"]),
        &wrong.to_string(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(path.is_dir());
}

#[test]
fn the_path_is_normalised_and_the_branch_prefix_applies() {
    let t = TestEnv::new();
    let link = t.root.join("via-link");
    std::os::unix::fs::symlink(t.repo.parent().expect("parent"), &link).expect("symlink");
    let cwd = link.join(t.repo_name()).join(".");
    let input = serde_json::json!({
        "hook_event_name": "WorktreeCreate",
        "session_id": "s1",
        "cwd": cwd,
        "name": "login",
    });
    let cmd = hook_cmd(
        &t,
        &t.repo,
        &["worktree-create", "--branch-prefix", "worktree-"],
    );
    let out = drive(cmd, &input.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(last_line(&out));
    assert!(path.is_absolute());
    assert_eq!(fs::canonicalize(&path).expect("canonical"), path);
    assert!(!path.components().any(|c| matches!(
        c,
        std::path::Component::CurDir | std::path::Component::ParentDir
    )));
    assert_eq!(
        t.git(&path, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "worktree-login"
    );
    assert!(t.ok(&t.repo, &["list"]).contains("login"));
}

#[test]
fn an_untrusted_setup_names_the_one_command_a_person_runs() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\nweb = 18720\n[commands]\nsetup = [\"true\"]\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    let out = drive(
        hook_cmd(&t, &t.repo, &["worktree-create"]),
        r#"{"hook_event_name": "WorktreeCreate", "name": "u"}"#,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("git sandbox trust"), "{err}");
    assert!(!err.contains("--yes"), "a hook cannot pass a flag: {err}");
}

#[test]
fn the_branch_prefix_is_chosen_at_setup_and_read_from_the_hooks_command() {
    let t = TestEnv::new();
    let file = t.repo.join(".claude/settings.json");
    let original = "{\"model\":\"opus\"}\n";
    t.write(&t.repo, ".claude/settings.json", original);
    let prefixed = ["agent-setup", "claude", "--branch-prefix", "worktree-"];
    t.ok(&t.repo, &prefixed);
    let written = fs::read_to_string(&file).expect("settings");
    assert!(
        !written.trim_end().contains('\n'),
        "compact stays compact: {written}"
    );
    let v: serde_json::Value = serde_json::from_str(&written).expect("json");
    let command = v["hooks"]["WorktreeCreate"][0]["hooks"][0]["command"]
        .as_str()
        .expect("command")
        .to_string();
    assert_eq!(
        command,
        "git sandbox agent-hook worktree-create --branch-prefix worktree-"
    );
    t.ok(&t.repo, &prefixed);
    assert_eq!(fs::read_to_string(&file).expect("settings"), written);

    // The hook runs as written in the file.
    let words: Vec<&str> = command.split_whitespace().skip(2).collect();
    let mut cmd = t.cmd(&t.repo);
    cmd.args(&words);
    let out = drive(
        cmd,
        r#"{"hook_event_name": "WorktreeCreate", "name": "feat"}"#,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(last_line(&out));
    assert_eq!(
        t.git(&path, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "worktree-feat"
    );

    // Back to the name as given: our entry replaced, then removed to the original bytes.
    t.ok(&t.repo, &["agent-setup", "claude"]);
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("settings")).expect("json");
    assert_eq!(
        v["hooks"]["WorktreeCreate"][0]["hooks"][0]["command"],
        "git sandbox agent-hook worktree-create"
    );
    assert_eq!(
        v["hooks"]["WorktreeCreate"].as_array().map(Vec::len),
        Some(1)
    );
    t.ok(&t.repo, &["agent-setup", "claude", "--remove"]);
    assert_eq!(fs::read_to_string(&file).expect("settings"), original);
}

#[test]
fn a_container_working_in_it_is_one_line() {
    use crate::services::{IMAGE, docker_ready};
    if !docker_ready() {
        return;
    }
    let t = TestEnv::new();
    let path = create(&t, &t.repo, r#"{"name": "boxed"}"#);
    let name = format!("gs-hook-{}", std::process::id());
    let mount = format!("{}:/w", path.display());
    let started = Command::new("docker")
        .args([
            "run", "-d", "--rm", "--name", &name, "-v", &mount, "-w", "/w", IMAGE,
        ])
        .args(["sleep", "300"])
        .output()
        .expect("docker run");
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let cmd = hook_cmd(&t, &t.repo, &["worktree-remove"]);
    let out = drive(cmd, &remove_payload(&t.repo, &path));
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{err}");
    one_kept_line(&err, &path, "git sandbox rm boxed --force");
    assert!(err.contains("container") || err.contains(&name), "{err}");
    assert!(path.is_dir());
}
