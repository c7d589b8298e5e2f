//! What an adversary found in the agent backends: a sandbox still being made is never handed
//! out again, `--branch-prefix` never reaches a shell as code.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use crate::agent::create;
use crate::common::TestEnv;

/// The registry id of the sandbox `name`.
fn id_of(t: &TestEnv, name: &str) -> String {
    let r = t.registry();
    let found = r["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["name"] == name)
        .map(|i| i["id"].as_str().expect("id").to_string());
    found.unwrap_or_else(|| panic!("no sandbox {name} in {r}"))
}

#[test]
fn a_sandbox_still_being_made_is_not_handed_out_to_its_session() {
    let t = TestEnv::new();
    let ask = r#"{"name": "made", "session_id": "s"}"#;
    let first = create(&t, &t.repo, ask);
    let id = id_of(&t, "made");
    let running = ("running", serde_json::json!(std::process::id()));
    for (setup, pid) in [running, ("failed", serde_json::Value::Null)] {
        t.tamper(&id, "setup", serde_json::json!(setup));
        t.tamper(&id, "setup_pid", pid);
        let other = create(&t, &t.repo, ask);
        assert_ne!(other, first, "setup {setup}: handed out while being made");
    }
    // Ready and made: handed out again.
    t.tamper(&id, "setup", serde_json::json!("done"));
    assert_eq!(create(&t, &t.repo, ask), first);
}

#[test]
fn concurrent_calls_of_one_session_never_share_a_path() {
    for round in 0..2 {
        let t = TestEnv::new();
        // A setup that takes a while: no sandbox is ready (so none may be handed back) before
        // every call has begun, however slowly a loaded machine starts them.
        t.write(
            &t.repo,
            ".sandbox.toml",
            "[commands]\nsetup = [\"sleep 2\"]\n",
        );
        t.git(&t.repo, &["add", "."]);
        t.git(&t.repo, &["commit", "-q", "-m", "config"]);
        t.ok(&t.repo, &["trust"]);
        let ask = r#"{"name": "same", "session_id": "one"}"#;
        // All eight start together (a call that began after another had made its sandbox
        // ready could rightly be handed that one).
        let start = std::sync::Barrier::new(8);
        let paths: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        create(&t, &t.repo, ask)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let distinct: BTreeSet<_> = paths.iter().collect();
        assert_eq!(distinct.len(), 8, "round {round}: {paths:?}");
    }
}

#[test]
fn a_branch_prefix_a_shell_would_run_is_refused_and_nothing_written() {
    let t = TestEnv::new();
    let file = t.repo.join(".claude/settings.json");
    let marker = t.repo.join("pwned");
    for bad in [
        format!("wt;touch {};", marker.display()),
        "$(id)".to_string(),
        "a b".to_string(),
        "a..".to_string(),
        "x".repeat(65),
    ] {
        let err = t.fails(
            &t.repo,
            &["agent-setup", "claude", "--branch-prefix", &bad],
            2,
        );
        assert!(err.contains("--branch-prefix"), "{err}");
        assert!(!file.exists(), "{bad:?}: a file was written");
        // The hook itself refuses it too.
        let mut cmd = t.cmd(&t.repo);
        cmd.args(["agent-hook", "worktree-create", "--branch-prefix", &bad]);
        let out = crate::agent::hook_with(cmd, r#"{"name": "feat"}"#);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    assert!(!marker.exists());
    t.ok(
        &t.repo,
        &["agent-setup", "claude", "--branch-prefix", "wt/x_1.-"],
    );
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("settings")).expect("json");
    assert_eq!(
        v["hooks"]["WorktreeCreate"][0]["hooks"][0]["command"],
        "git sandbox agent-hook worktree-create --branch-prefix wt/x_1.-"
    );
}

#[test]
fn adopting_a_sandbox_again_succeeds_and_names_it() {
    let t = TestEnv::new();
    let wt = t.hand_made_worktree("shop-hand", "hand");
    let first = t.ok(&t.repo, &["adopt", wt.to_str().expect("utf-8")]);
    let again = t.run(&wt, &["adopt", "."]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already the sandbox"), "{err}");
    assert_eq!(String::from_utf8_lossy(&again.stdout), first);
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&wt, &["adopt", ".", "--json"])).expect("json");
    assert_eq!(
        json["sandbox"]["path"].as_str().map(PathBuf::from),
        Some(wt.canonicalize().expect("real"))
    );
    assert_eq!(t.entries().len(), 1, "adopted once");
}

#[test]
fn codex_cleanup_passes_over_a_worktree_that_is_no_sandbox_but_never_a_refusal() {
    let t = TestEnv::new();
    let wt = t.hand_made_worktree("shop-plain", "plain");
    let out = t.run(&wt, &["rm", "--yes", "--if-sandbox"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a sandbox"));
    assert!(
        wt.exists(),
        "a worktree that is not a sandbox is never removed"
    );
    // Without the flag the same line still fails, as before.
    t.fails(&wt, &["rm", "--yes"], 2);
    // A real sandbox with work it would lose: still refused (exit 3).
    let sb = t.new_sandbox("dirty");
    t.write(&sb, "work.txt", "unsaved\n");
    t.fails(&sb, &["rm", "--yes", "--if-sandbox"], 3);
    assert!(sb.join("work.txt").exists());
}

/// The files `agent-setup claude|codex|cursor` write in a repo without any.
const WRITTEN: [&str; 6] = [
    ".claude/settings.json",
    ".mcp.json",
    ".codex/environments/environment.toml",
    ".codex/config.toml",
    ".cursor/worktrees.json",
    ".cursor/mcp.json",
];

fn set_up_all(t: &TestEnv) {
    for agent in ["claude", "codex", "cursor"] {
        t.ok(&t.repo, &["agent-setup", agent]);
    }
    for f in WRITTEN {
        assert!(t.repo.join(f).exists(), "{f} written");
    }
}

fn remove_all_and_check_kept(t: &TestEnv, why: &str) {
    for agent in ["claude", "codex", "cursor"] {
        t.ok(&t.repo, &["agent-setup", agent, "--remove"]);
    }
    for f in WRITTEN {
        let text =
            fs::read_to_string(t.repo.join(f)).unwrap_or_else(|_| panic!("{why}: {f} was deleted"));
        assert!(
            !text.contains("git sandbox") && !text.contains("git-sandbox"),
            "{why}: {f}: {text}"
        );
    }
}

#[test]
fn remove_never_deletes_a_file_it_has_no_record_of_making() {
    let t = TestEnv::new();
    set_up_all(&t);
    fs::remove_file(t.reg_home.join("agent-setup.json")).expect("the records");
    remove_all_and_check_kept(&t, "no record");
}

#[test]
fn remove_never_deletes_a_file_git_tracks() {
    let t = TestEnv::new();
    set_up_all(&t);
    t.git(
        &t.repo,
        &["add", "-f", ".claude", ".mcp.json", ".codex", ".cursor"],
    );
    t.git(&t.repo, &["commit", "-qm", "team files"]);
    remove_all_and_check_kept(&t, "tracked");
}

#[test]
fn an_empty_codex_setup_table_gets_a_script_with_our_line() {
    for (original, eol) in [
        ("version = 1\nname = \"x\"\n\n[setup]\n", "\n"),
        (
            "version = 1\r\nname = \"x\"\r\n[setup] # ours later\r\n\r\n[cleanup]\r\n",
            "\r\n",
        ),
        ("version = 1\nname = \"x\"\n[setup]", "\n"),
    ] {
        let t = TestEnv::new();
        let rel = ".codex/environments/environment.toml";
        t.write(&t.repo, rel, original);
        t.ok(&t.repo, &["agent-setup", "codex"]);
        let text = fs::read_to_string(t.repo.join(rel)).expect("file");
        let v: toml::Table = text.parse().expect("valid TOML");
        let setup = v["setup"]["script"].as_str().expect("a setup script");
        assert!(setup.contains("git sandbox adopt"), "{text}");
        let cleanup = v["cleanup"]["script"].as_str().expect("a cleanup script");
        assert!(
            cleanup.contains("git sandbox rm --yes --if-sandbox"),
            "{text}"
        );
        for line in original.lines() {
            assert!(text.contains(line), "{line:?} kept: {text:?}");
        }
        if eol == "\r\n" {
            assert!(
                !text.replace("\r\n", "").contains('\n'),
                "CRLF kept: {text:?}"
            );
        }
    }
}

#[test]
fn out_of_slots_with_no_sandbox_of_this_repo_says_what_blocks_them() {
    let t = TestEnv::new();
    // A port this test holds (the OS's choice: no other test can hold it): slot 1's.
    let held = std::net::TcpListener::bind(("0.0.0.0", 0)).expect("bind");
    let port = held.local_addr().expect("addr").port();
    let config = format!("max_slots = 1\n[ports]\nweb = {}\n", port - 1);
    t.write(&t.repo, ".sandbox.toml", &config);
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-qm", "config"]);
    let err = t.fails(&t.repo, &["new", "one"], 1);
    assert!(err.contains("this repo has no sandboxes"), "{err}");
    assert!(
        err.contains(&port.to_string()),
        "the busy port named: {err}"
    );
    assert!(!err.contains("()") && !err.contains("taken:\n\n"), "{err}");
    assert!(
        !err.contains("git sandbox rm NAME"),
        "nothing of this repo's to remove: {err}"
    );
    drop(held);
}

#[test]
fn a_remove_that_loses_to_another_says_wait_never_force() {
    let t = TestEnv::new();
    let mut lost = 0;
    for round in 0..6 {
        let name = format!("race{round}");
        t.new_sandbox(&name);
        let outs: Vec<std::process::Output> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| t.run(&t.repo, &["rm", "--yes", &name])))
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let ok = outs.iter().filter(|o| o.status.success()).count();
        assert!(ok >= 1, "round {round}: nobody removed it: {outs:?}");
        for o in outs.iter().filter(|o| !o.status.success()) {
            let err = String::from_utf8_lossy(&o.stderr);
            if err.contains("no sandbox named") {
                continue; // began after the winner was done
            }
            lost += 1;
            eprintln!("round {round}: {err}");
            assert!(!err.contains("--force"), "round {round}: {err}");
            assert!(
                err.contains("wait") || err.contains("again"),
                "round {round}: {err}"
            );
        }
        assert!(!t.sandbox_path(&name).exists(), "round {round}");
    }
    eprintln!("losers seen: {lost}");
}

fn remove_hook(t: &TestEnv, path: &std::path::Path) -> std::process::Output {
    let payload = serde_json::json!({
        "session_id": "s",
        "hook_event_name": "WorktreeRemove",
        "cwd": t.repo,
        "worktree_path": path,
    });
    crate::agent::hook(t, &t.repo, "worktree-remove", &payload.to_string())
}

#[test]
fn hook_refusals_name_the_command_that_fixes_them() {
    let t = TestEnv::new();
    // A worktree made before the hook was set up: git's command removes it.
    let hand = t.hand_made_worktree("shop-before", "before");
    let out = remove_hook(&t, &hand);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let real = hand.canonicalize().expect("real");
    assert!(
        err.contains(&format!("git worktree remove {}", real.display())),
        "{err}"
    );
    assert!(hand.is_dir());

    // A teardown nobody approved: `git sandbox trust` is the fix.
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[commands]\nteardown = [\"true\"]\n",
    );
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-qm", "teardown"]);
    let path = create(&t, &t.repo, r#"{"name": "td", "session_id": "s"}"#);
    let out = remove_hook(&t, &path);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("git sandbox trust in"), "{err}");
    assert!(!err.contains("--yes"), "a hook cannot pass a flag: {err}");
    assert!(path.is_dir());
}
