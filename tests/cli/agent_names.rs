//! `worktree-create`'s names and failures, driven as Claude Code drives the hook (stdin held
//! open, the path the last non-empty stdout line, stderr's first line quoted): a taken name is
//! never a failure but a suffixed sandbox, however many hooks ask for it at once; a failure's
//! first stderr line is its reason, short.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::agent::{create, hook};
use crate::common::TestEnv;

fn payload(name: &str, session: &str) -> String {
    serde_json::json!({
        "session_id": session,
        "transcript_path": "/tmp/t.jsonl",
        "hook_event_name": "WorktreeCreate",
        "name": name,
    })
    .to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The answer as Claude Code reads it: the last non-empty stdout line.
fn answer(out: &Output) -> Option<PathBuf> {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(PathBuf::from)
}

fn branch_of(t: &TestEnv, dir: &Path) -> String {
    t.git(dir, &["symbolic-ref", "--short", "HEAD"])
        .trim()
        .to_string()
}

fn commit_config(t: &TestEnv, text: &str) {
    t.write(&t.repo, ".sandbox.toml", text);
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
}

#[test]
fn a_name_held_by_a_branch_or_a_directory_is_suffixed_for_the_hook_only() {
    let t = TestEnv::new();
    let main_tip = t.git(&t.repo, &["rev-parse", "main"]);
    t.git(&t.repo, &["branch", "feat"]);
    let feat_tip = t.git(&t.repo, &["rev-parse", "feat"]);
    // A plain folder where the sandbox `dir` would go, and a user's sandbox `mine`.
    let in_the_way = t.sandbox_path("dir");
    std::fs::create_dir_all(&in_the_way).expect("folder");
    t.write(&in_the_way, "keep.txt", "someone's\n");
    t.new_sandbox("mine");
    for (name, want) in [
        ("main", "main-2"),
        ("feat", "feat-2"),
        ("dir", "dir-2"),
        ("mine", "mine-2"),
        // A command's word, which `new` refuses: the hook suffixes it.
        ("status", "status-2"),
        ("local-prod", "local-prod-2"),
    ] {
        let path = create(&t, &t.repo, &payload(name, "s1"));
        assert_eq!(path, t.sandbox_path(want), "{name}");
        assert_eq!(branch_of(&t, &path), want, "{name}");
    }
    // The branches and the folder that held the names are as they were.
    assert_eq!(t.git(&t.repo, &["rev-parse", "main"]), main_tip);
    assert_eq!(t.git(&t.repo, &["rev-parse", "feat"]), feat_tip);
    assert_eq!(
        std::fs::read_to_string(in_the_way.join("keep.txt")).expect("kept"),
        "someone's\n"
    );
    // The user's `new` still refuses a name in use, saying why.
    let err = t.fails(&t.repo, &["new", "main"], 1);
    assert!(err.contains("main"), "{err}");
}

#[test]
fn eight_hooks_asking_for_one_name_at_once_all_get_sandboxes() {
    let t = TestEnv::new();
    let mut lost_races = 0;
    // Rounds until a creation lost its name to another at least once (the window hit), and
    // both kinds of caller had their round; every round must give eight distinct sandboxes.
    for round in 0..8 {
        let name = format!("x{round}");
        let outs: Vec<Output> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    // Eight sessions asking for one name; every other round, callers that
                    // send no session at all.
                    let mut input: serde_json::Value =
                        serde_json::from_str(&payload(&name, &format!("s{round}-{i}")))
                            .expect("json");
                    if round % 2 == 1 {
                        input.as_object_mut().map(|o| o.remove("session_id"));
                    }
                    let input = input.to_string();
                    let t = &t;
                    s.spawn(move || hook(t, &t.repo, "worktree-create", &input))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let mut paths = BTreeSet::new();
        for out in &outs {
            assert!(out.status.success(), "round {round}: {}", stderr(out));
            lost_races += stderr(out).matches("choosing again").count();
            let path = answer(out).expect("a path");
            assert!(path.join(".env.sandbox").is_file(), "{path:?}");
            paths.insert(path);
        }
        let want: BTreeSet<PathBuf> = std::iter::once(name.clone())
            .chain((2..=8).map(|n| format!("{name}-{n}")))
            .map(|n| t.sandbox_path(&n))
            .collect();
        assert_eq!(paths, want, "round {round}");
        if lost_races > 0 && round >= 1 {
            break;
        }
    }
    assert!(lost_races > 0, "no creation ever lost its name to another");
    let slots: BTreeSet<u64> = t.entries().into_iter().map(|e| e.1).collect();
    assert_eq!(slots.len(), t.entries().len(), "slots are distinct");
}

#[test]
fn the_same_session_asking_again_gets_its_ready_sandbox_back() {
    let t = TestEnv::new();
    // `claude -w feat --resume`: the same session and name, once the first is ready.
    let first = create(&t, &t.repo, &payload("feat", "s1"));
    t.write(&first, "wip.txt", "in progress\n");
    assert_eq!(create(&t, &t.repo, &payload("feat", "s1")), first);
    // Another session, or none, gets its own.
    assert_eq!(
        create(&t, &t.repo, &payload("feat", "s2")),
        t.sandbox_path("feat-2")
    );
    let anonymous = serde_json::json!({"name": "feat"}).to_string();
    assert_eq!(create(&t, &t.repo, &anonymous), t.sandbox_path("feat-3"));
    assert!(first.join("wip.txt").is_file());
}

#[test]
fn a_failure_starts_stderr_with_its_reason_and_out_of_slots_reads_as_one_line() {
    let t = TestEnv::new();
    // Two slots; an untrusted `path` (a notice on every run); the user's sandbox `x`, so the
    // hook's `x` is suffixed (a name taken) before it runs out of slots.
    commit_config(&t, "max_slots = 2\npath = \"../{repo}-wt-{name}\"\n");
    t.new_sandbox("x");
    create(&t, &t.repo, &payload("y", "s"));
    let out = hook(&t, &t.repo, "worktree-create", &payload("x", "s"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(answer(&out), None, "no path on a failure");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert_eq!(
        lines[0],
        "git-sandbox: no free slot: all 2 slots of this repo are taken (x, y); remove one with \
         git sandbox rm NAME or raise max_slots in .sandbox.toml"
    );
    // Nothing of x-2 is left.
    assert!(
        !t.branches().iter().any(|b| b == "x-2"),
        "{:?}",
        t.branches()
    );
    assert_eq!(t.entries().len(), 2);
}

#[test]
fn a_huge_name_is_refused_in_a_short_first_line() {
    let t = TestEnv::new();
    let name = "n".repeat(10_000);
    let out = hook(&t, &t.repo, "worktree-create", &payload(&name, "s"));
    assert_eq!(out.status.code(), Some(2), "usage error");
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("git-sandbox: invalid sandbox name \"nnnn"),
        "{first}"
    );
    assert!(
        first.contains("…") && first.contains("longer than 64"),
        "{first}"
    );
    assert!(
        first.chars().count() < 300,
        "{} chars",
        first.chars().count()
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(t.entries().is_empty());
}
