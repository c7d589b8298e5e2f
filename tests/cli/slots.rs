//! How many slots a repo may take: no limit without ports, as many as the port plan fits
//! otherwise, `max_slots` when the file says; and the out-of-slots message names only this
//! repo's sandboxes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::TestEnv;

fn commit_config(t: &TestEnv, dir: &Path, text: &str) {
    t.write(dir, ".sandbox.toml", text);
    t.git(dir, &["add", ".sandbox.toml"]);
    t.git(dir, &["commit", "-q", "-m", "config"]);
}

/// A second repo beside the first, on the same registry.
fn other_repo(t: &TestEnv, name: &str) -> PathBuf {
    let work = t.repo.parent().expect("work").to_path_buf();
    t.git(&work, &["init", "-q", name]);
    let dir = work.join(name);
    t.commit_file(&dir, "README.md", "other\n", "first");
    dir
}

#[test]
fn the_plan_sets_the_limit_and_the_message_names_only_this_repo() {
    let t = TestEnv::new();
    // Slot 5's backend would be 8005, admin's base: the plan fits 4 slots.
    commit_config(&t, &t.repo, "[ports]\nbackend = 18000\nadmin = 18005\n");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    assert_eq!(json["slot_limit"], 4, "{json}");
    let out = t.run(&t.repo, &["ports"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4 slot(s): the plan fits no more"), "{err}");
    assert!(err.contains("port 18005 is planned twice"), "{err}");
    // Another repo (no ports) holds sandboxes too: they take nothing from this one.
    let other = other_repo(&t, "other");
    for i in 0..3 {
        t.ok(&other, &["new", &format!("o{i}")]);
    }
    for i in 0..4 {
        t.ok(&t.repo, &["new", &format!("s{i}")]);
    }
    let err = t.fails(&t.repo, &["new", "s4"], 1);
    assert!(err.contains("all 4 slots are taken"), "{err}");
    assert!(err.contains("repo--s3"), "{err}");
    assert!(
        !err.contains("other--o"),
        "another repo's sandbox listed: {err}"
    );
    assert!(err.contains("the port plan fits 4 slots"), "{err}");
}

#[test]
fn max_slots_wins_and_a_repo_without_ports_has_no_limit() {
    let t = TestEnv::new();
    commit_config(&t, &t.repo, "max_slots = 2\n");
    t.ok(&t.repo, &["new", "a"]);
    t.ok(&t.repo, &["new", "b"]);
    let err = t.fails(&t.repo, &["new", "c"], 1);
    assert!(err.contains("all 2 slots are taken"), "{err}");
    assert!(err.contains("raise max_slots"), "{err}");
    // Without the line, no limit: the 12th sandbox is made, and `ports` says why.
    commit_config(&t, &t.repo, "");
    for i in 0..10 {
        t.ok(&t.repo, &["new", &format!("n{i}")]);
    }
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("json");
    assert!(json["slot_limit"].is_null(), "{json}");
    let slots: Vec<u64> = json["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s["slot"].as_u64().expect("n"))
        .collect();
    assert_eq!(slots, (0..=12).collect::<Vec<u64>>());
    let err = String::from_utf8_lossy(&t.run(&t.repo, &["ports"]).stderr).into_owned();
    assert!(err.contains("no slot limit"), "{err}");
}

/// Runs `agent-hook WHICH` with `input` on stdin (kept open until it exits, as agents may).
fn hook(t: &TestEnv, which: &str, input: &str) -> Output {
    let mut child = t
        .cmd(&t.repo)
        .args(["agent-hook", which])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("payload");
    stdin.flush().expect("flush");
    let out = child.wait_with_output().expect("hook output");
    drop(stdin);
    out
}

/// Runs `f(i)` for every `i` in `0..n` on `workers` threads.
fn in_parallel<T: Send>(n: usize, workers: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let r = f(i);
                    results.lock().expect("lock").push((i, r));
                }
            });
        }
    });
    let mut v = results.into_inner().expect("results");
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn forty_agent_worktrees_in_a_repo_without_ports_come_and_go_eight_at_a_time() {
    const N: usize = 40;
    let t = TestEnv::new();
    let (branches, admin, siblings) = (t.branches(), t.admin_entries(), t.siblings());
    let repo = t.repo.to_str().expect("utf8").to_string();
    let paths: Vec<PathBuf> = in_parallel(N, 8, |i| {
        let input = serde_json::json!({
            "hook_event_name": "WorktreeCreate",
            "session_id": format!("s{i}"),
            "cwd": repo,
            "name": format!("a{i}"),
        });
        let out = hook(&t, "worktree-create", &input.to_string());
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "create a{i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(stdout.trim_end())
    });
    let mut distinct = paths.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), N, "paths handed out twice: {paths:?}");
    assert!(paths.iter().all(|p| p.join(".env.sandbox").is_file()));
    let entries = t.entries();
    assert_eq!(entries.len(), N);
    let mut slots: Vec<u64> = entries.iter().map(|e| e.1).collect();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(slots.len(), N, "slots handed out twice: {entries:?}");
    assert!(entries.iter().all(|e| e.2 == "ready"), "{entries:?}");

    in_parallel(N, 8, |i| {
        let input = serde_json::json!({
            "hook_event_name": "WorktreeRemove",
            "session_id": format!("s{i}"),
            "cwd": repo,
            "worktree_path": paths[i],
        });
        let out = hook(&t, "worktree-remove", &input.to_string());
        assert_eq!(
            out.status.code(),
            Some(0),
            "remove a{i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    assert!(t.entries().is_empty(), "{:?}", t.entries());
    assert!(paths.iter().all(|p| !p.exists()));
    assert_eq!(t.admin_entries(), admin);
    assert_eq!(t.branches(), branches);
    assert_eq!(t.siblings(), siblings);
}

#[test]
fn an_unreadable_config_elsewhere_holds_only_its_own_slot_numbers() {
    let t = TestEnv::new();
    let other = other_repo(&t, "other");
    t.ok(&other, &["new", "o1"]);
    t.ok(&other, &["new", "o2"]);
    // Its config breaks: its ports are unknown, so its slot numbers count as taken.
    t.write(&other, ".sandbox.toml", "[ports\n");
    commit_config(&t, &t.repo, "[ports]\nweb = 18600\n");
    let p = t.new_sandbox("mine");
    let env = std::fs::read_to_string(p.join(".env.sandbox")).expect("env");
    assert!(env.contains("SANDBOX_SLOT=3"), "{env}");
    // A repo without ports takes nothing from anyone: slot 1 is its own.
    let third = other_repo(&t, "third");
    let out = t.ok(&third, &["new", "t1"]);
    let env = std::fs::read_to_string(PathBuf::from(out.trim()).join(".env.sandbox")).expect("env");
    assert!(env.contains("SANDBOX_SLOT=1"), "{env}");
}
