//! Claude Code's worktree hooks, driven as the agent drives them: a child process of the real
//! binary with the hook's JSON on stdin (kept open), the path read from stdout; and
//! `agent-setup claude` merging into real settings files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestEnv, tree};

/// Runs `agent-hook WHICH` in `dir` with `input` on stdin, keeping stdin open until the hook
/// exits (as Claude Code may): a hook that waits for the end of stdin fails the test.
pub(crate) fn hook(t: &TestEnv, dir: &Path, which: &str, input: &str) -> Output {
    let mut cmd = t.cmd(dir);
    cmd.args(["agent-hook", which]);
    hook_with(cmd, input)
}

/// Runs the hook command `cmd` as [`hook`] does.
pub(crate) fn hook_with(mut cmd: std::process::Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .expect("write the payload");
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the hook did not return while its stdin stayed open");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    child.wait_with_output().expect("hook output")
}

/// Runs `worktree-create`, asserting success and that stdout is exactly one absolute path.
pub(crate) fn create(t: &TestEnv, dir: &Path, input: &str) -> PathBuf {
    let out = hook(t, dir, "worktree-create", input);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "worktree-create failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "stdout must be one line: {stdout:?}"
    );
    let path = PathBuf::from(stdout.trim_end_matches('\n'));
    assert!(path.is_absolute(), "{path:?}");
    path
}

/// Checks that `path` is the working sandbox `name` on `branch`: listed, an env file, a
/// linked worktree of the repo on that branch.
fn assert_sandbox(t: &TestEnv, path: &Path, name: &str, branch: &str) {
    let list: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("list --json");
    let row = list["sandboxes"]
        .as_array()
        .expect("sandboxes")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {list}"));
    assert_eq!(row["path"], path.to_str().expect("utf8"));
    assert_eq!(row["branch"], branch);
    let env = fs::read_to_string(path.join(".env.sandbox")).expect("env file");
    assert!(env.contains(&format!("SANDBOX_NAME={name}")), "{env}");
    assert_eq!(
        t.git(path, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        branch
    );
    let common = t.git(
        path,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    );
    assert_eq!(PathBuf::from(common.trim()), t.repo.join(".git"));
    assert!(path.join(".git").is_file(), "not a linked worktree");
}

#[test]
fn create_from_name() {
    let t = TestEnv::new();
    let path = create(
        &t,
        &t.repo,
        r#"{"session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": null, "hook_event_name": "WorktreeCreate", "name": "Feat One"}"#,
    );
    assert_eq!(path, t.sandbox_path("feat-one"));
    assert_sandbox(&t, &path, "feat-one", "feat-one");
}

#[test]
fn create_from_documented_shape_starts_at_base_ref() {
    let t = TestEnv::new();
    let first = t.git(&t.repo, &["rev-parse", "HEAD~1"]);
    let input = serde_json::json!({
        "hook_event_name": "WorktreeCreate",
        "worktree_name": "doc-shape",
        "base_path": t.repo.join(".claude/worktrees"),
        "base_ref": "HEAD~1",
    });
    let path = create(&t, &t.repo, &input.to_string());
    assert_sandbox(&t, &path, "doc-shape", "doc-shape");
    assert_eq!(t.git(&path, &["rev-parse", "HEAD"]), first);
}

#[test]
fn create_uses_the_payloads_cwd_and_ignores_unknown_fields() {
    let t = TestEnv::new();
    let first = t.git(&t.repo, &["rev-parse", "HEAD~1"]);
    let elsewhere = t.root.join("elsewhere");
    fs::create_dir_all(&elsewhere).expect("mkdir");
    let input = serde_json::json!({
        "session_id": "abc",
        "transcript_path": "/tmp/x.jsonl",
        "cwd": t.repo.join("src"),
        "hook_event_name": "WorktreeCreate",
        "name": "agent-a1b2",
        "base_commit": first.trim(),
        "isolation": {"type": "worktree", "nested": [1, 2, {"x": null}]},
        "future_field": 42,
    });
    let path = create(&t, &elsewhere, &input.to_string());
    assert_sandbox(&t, &path, "agent-a1b2", "agent-a1b2");
    assert_eq!(t.git(&path, &["rev-parse", "HEAD"]), first);

    // `source_ref`, the other spelling of the start point.
    let input = serde_json::json!({"name": "other", "source_ref": "main~1", "cwd": t.repo});
    let path = create(&t, &elsewhere, &input.to_string());
    assert_eq!(t.git(&path, &["rev-parse", "HEAD"]), first);
}

#[test]
fn create_twice_answers_the_same_sandbox() {
    let t = TestEnv::new();
    let a = create(&t, &t.repo, r#"{"name": "again", "session_id": "s"}"#);
    t.write(&a, "work.txt", "in progress\n");
    let b = create(&t, &t.repo, r#"{"name": "again", "session_id": "s"}"#);
    assert_eq!(a, b);
    assert_eq!(t.entries().len(), 1);
    assert!(a.join("work.txt").is_file());
}

#[test]
fn malformed_input_fails_in_one_line_and_creates_nothing() {
    let t = TestEnv::new();
    let siblings = t.siblings();
    let branches = t.branches();
    for input in [
        "this is not json",
        r#"["name", "x"]"#,
        r#"{"session_id": "s", "name": ""}"#,
        r#"{"name": "../escape"}"#,
    ] {
        let out = hook(&t, &t.repo, "worktree-create", input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{input}: should fail");
        assert_eq!(err.lines().count(), 1, "{input}: one line, got:\n{err}");
        assert!(out.stdout.is_empty(), "{input}: stdout {:?}", out.stdout);
    }
    // A payload cut short: the agent closed its end.
    let mut child = t
        .cmd(&t.repo)
        .args(["agent-hook", "worktree-create"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"name": "cut"#)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    assert!(out.stdout.is_empty());
    assert_eq!(t.siblings(), siblings);
    assert_eq!(t.branches(), branches);
    assert!(t.entries().is_empty());
}

/// Runs `worktree-remove` for `path`, asserting exit `code` (0 only when it is gone) and
/// nothing on stdout; returns stderr.
pub(crate) fn remove(t: &TestEnv, path: &Path, code: i32) -> String {
    let input = serde_json::json!({
        "session_id": "s",
        "hook_event_name": "WorktreeRemove",
        "cwd": t.repo,
        "worktree_path": path,
    });
    let out = hook(t, &t.repo, "worktree-remove", &input.to_string());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.lines().count() <= 1, "at most one line:\n{err}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    err
}

#[test]
fn remove_keeps_a_dirty_sandbox() {
    let t = TestEnv::new();
    let path = create(&t, &t.repo, r#"{"name": "dirty"}"#);
    t.write(&path, "notes/unsaved.txt", "precious\n");
    let before = tree(&path);
    let reg = t.registry();
    let err = remove(&t, &path, 3);
    assert!(
        err.starts_with(&format!("git-sandbox: kept {}: ", path.display())),
        "{err}"
    );
    assert!(err.contains("git sandbox rm dirty --force"), "{err}");
    assert_eq!(tree(&path), before);
    assert_eq!(t.registry(), reg);
    assert!(t.ok(&t.repo, &["list"]).contains("dirty"));
}

#[test]
fn remove_removes_a_clean_pushed_sandbox() {
    let t = TestEnv::new();
    let path = create(&t, &t.repo, r#"{"name": "done"}"#);
    t.commit_file(&path, "feature.txt", "done\n", "feature");
    t.git(&path, &["push", "-q", "-u", "origin", "done"]);
    let err = remove(&t, &path, 0);
    assert!(err.is_empty(), "{err}");
    assert!(!path.exists());
    assert!(t.entries().is_empty());
    assert!(!t.branches().contains(&"done".to_string()));
}

#[test]
fn remove_leaves_what_is_not_a_sandbox() {
    let t = TestEnv::new();
    let hand = t.hand_made_worktree("repo-by-hand", "by-hand");
    t.write(&hand, "wip.txt", "wip\n");
    let hand_before = tree(&hand);
    let err = remove(&t, &hand, 3);
    assert!(err.contains("not a sandbox"), "{err}");
    assert_eq!(tree(&hand), hand_before);

    let _ = create(&t, &t.repo, r#"{"name": "bystander"}"#);
    let reg = t.registry();
    let readme = fs::read(t.repo.join("README.md")).expect("readme");
    let err = remove(&t, &t.repo, 3);
    assert!(err.contains("main worktree"), "{err}");
    assert_eq!(fs::read(t.repo.join("README.md")).expect("readme"), readme);
    assert_eq!(t.registry(), reg);
    assert!(t.siblings().contains(&"repo--bystander".to_string()));

    // local-prod, clean and on a pushed commit, is still not the agent's to remove.
    let lp = PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    let err = remove(&t, &lp, 3);
    assert!(err.contains("local-prod"), "{err}");
    assert!(lp.join("README.md").is_file());
    assert!(
        t.entries()
            .iter()
            .any(|(id, _, _)| id == "repo--local-prod")
    );
}

const SETTINGS: &str = r#"{
  "model": "opus",
  "permissions": {
    "allow": [
      "Bash(ls)"
    ]
  },
  "hooks": {
    "PostToolUse": [
      {
        "matcher": "Write",
        "hooks": [
          {
            "type": "command",
            "command": "prettier --write"
          }
        ]
      }
    ]
  },
  "env": {
    "Z": "1",
    "A": "2"
  }
}
"#;

fn ours(event_cmd: &str) -> serde_json::Value {
    serde_json::json!([{"hooks": [{"type": "command", "command": event_cmd}]}])
}

#[test]
fn setup_merges_is_stable_and_removes_cleanly() {
    let t = TestEnv::new();
    let file = t.repo.join(".claude/settings.json");
    t.write(&t.repo, ".claude/settings.json", SETTINGS);
    // From a subdirectory: the file at the main worktree's root is the one edited.
    t.ok(&t.repo.join("src"), &["agent-setup", "claude"]);
    let merged = fs::read_to_string(&file).expect("settings");
    let v: serde_json::Value = serde_json::from_str(&merged).expect("valid JSON");
    assert_eq!(
        v["hooks"]["WorktreeCreate"],
        ours("git sandbox agent-hook worktree-create")
    );
    assert_eq!(
        v["hooks"]["WorktreeRemove"],
        ours("git sandbox agent-hook worktree-remove")
    );
    assert_eq!(v["hooks"]["PostToolUse"][0]["matcher"], "Write");
    assert_eq!(v["permissions"]["allow"][0], "Bash(ls)");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["model", "permissions", "hooks", "env"]);
    let env: Vec<&String> = v["env"].as_object().expect("env").keys().collect();
    assert_eq!(env, ["Z", "A"]);

    t.ok(&t.repo, &["agent-setup", "claude", "--project"]);
    assert_eq!(fs::read_to_string(&file).expect("settings"), merged);

    t.ok(&t.repo, &["agent-setup", "claude", "--remove"]);
    assert_eq!(fs::read_to_string(&file).expect("settings"), SETTINGS);
}

#[test]
fn setup_user_creates_the_file_under_home() {
    let t = TestEnv::new();
    let file = t.home.join(".claude/settings.json");
    assert!(!file.exists());
    // --user needs no repository.
    t.ok(&t.root, &["agent-setup", "claude", "--user"]);
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("settings")).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!({"hooks": {
            "WorktreeCreate": ours("git sandbox agent-hook worktree-create"),
            "WorktreeRemove": ours("git sandbox agent-hook worktree-remove"),
        }})
    );
    assert!(!t.repo.join(".claude").exists());
    t.ok(&t.root, &["agent-setup", "claude", "--user", "--remove"]);
    // It made the file (and ~/.claude): both go.
    assert!(!file.exists());
    assert!(!t.home.join(".claude").exists());
}

#[test]
fn setup_refuses_invalid_settings() {
    let t = TestEnv::new();
    let file = t.repo.join(".claude/settings.json");
    for bad in ["{ \"model\": \"opus\", }\n", "{\"hooks\": []}\n", "[1]\n"] {
        t.write(&t.repo, ".claude/settings.json", bad);
        let err = t.fails(&t.repo, &["agent-setup", "claude"], 1);
        assert!(err.contains(file.to_str().expect("utf8")), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        assert_eq!(fs::read_to_string(&file).expect("settings"), bad);
    }
    let not_utf8 = b"{\"model\": \"\xff\"}\n";
    fs::write(&file, not_utf8).expect("write");
    t.fails(&t.repo, &["agent-setup", "claude"], 1);
    assert_eq!(fs::read(&file).expect("settings"), not_utf8);
}

/// What a child process (here `docker compose down`) prints goes to stderr: the hook's stdout
/// stays the agent's.
#[test]
fn children_never_write_to_the_hooks_stdout() {
    let mut t = TestEnv::new();
    let bin = t.root.join("fakebin");
    // An engine with one network of the project (so `rm` runs `down`), and a compose that
    // talks on stdout.
    fs::create_dir_all(&bin).expect("fakebin");
    crate::common::write_executable(
        &bin.join("docker"),
        "#!/bin/sh\ncase \"$*\" in *'network ls'*) echo net1 ;; esac\nexit 0\n",
        0o755,
    );
    crate::common::write_executable(
        &bin.join("compose"),
        "#!/bin/sh\necho \"NOISE from compose $1\"\nexit 0\n",
        0o755,
    );
    t.path_prefix = vec![bin.clone()];
    t.extra_env.push((
        "GIT_SANDBOX_COMPOSE".into(),
        bin.join("compose").display().to_string(),
    ));
    t.commit_file(&t.repo, "compose.yaml", "services: {}\n", "compose");
    t.git(&t.repo, &["push", "-q"]);
    let path = create(&t, &t.repo, r#"{"name": "svc"}"#);
    let err = remove(&t, &path, 0);
    assert!(err.contains("NOISE from compose"), "{err}");
    assert!(!path.exists(), "{err}");
}

#[test]
fn setup_writes_through_a_symlinked_settings_file() {
    let t = TestEnv::new();
    let real = t.root.join("dotfiles/claude.json");
    t.write(
        &t.root,
        "dotfiles/claude.json",
        "{\n\t\"model\": \"opus\"\n}",
    );
    fs::create_dir_all(t.home.join(".claude")).expect("mkdir");
    let link = t.home.join(".claude/settings.json");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    t.ok(&t.repo, &["agent-setup", "claude", "--user"]);
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let text = fs::read_to_string(&real).expect("settings");
    assert!(
        text.starts_with("{\n\t\"model\": \"opus\",\n\t\"hooks\": {\n\t\t"),
        "{text}"
    );
    assert!(!text.ends_with('\n'), "{text:?}");
    t.ok(&t.repo, &["agent-setup", "claude", "--user", "--remove"]);
    assert_eq!(
        fs::read_to_string(&real).expect("settings"),
        "{\n\t\"model\": \"opus\"\n}"
    );
}

/// A link put where the hook's worktree was, pointing at another sandbox the hook made: the
/// hook never follows it, and neither sandbox goes.
#[test]
fn remove_never_follows_a_link_to_another_sandbox() {
    let t = TestEnv::new();
    let payload = |name: &str, session: &str| {
        serde_json::json!({
            "session_id": session,
            "hook_event_name": "WorktreeCreate",
            "cwd": t.repo,
            "name": name,
        })
        .to_string()
    };
    let a = create(&t, &t.repo, &payload("a", "s1"));
    let b = create(&t, &t.repo, &payload("b", "s2"));
    let moved = a.with_file_name("moved-a");
    std::fs::rename(&a, &moved).expect("move a");
    std::os::unix::fs::symlink(&b, &a).expect("link");
    let err = remove(&t, &a, 3);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(b.join(".git").exists() && moved.join(".git").exists());
    let listed = t.ok(&t.repo, &["list", "--json"]);
    assert!(listed.contains("\"b\""), "{listed}");
}
