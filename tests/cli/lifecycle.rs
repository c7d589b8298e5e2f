//! new, list, status, path and prune; the registry; rollback.

use std::fs;
use std::path::PathBuf;

use crate::common::{TestEnv, tree};

#[test]
fn new_list_rm_round_trip() {
    let t = TestEnv::new();
    let path = t.new_sandbox("My Feature!");
    assert_eq!(path, t.sandbox_path("my-feature"));
    assert!(path.join("README.md").is_file());
    assert_eq!(
        t.git(&path, &["branch", "--show-current"]).trim(),
        "my-feature"
    );
    assert_eq!(t.admin_entries(), vec!["repo--my-feature"]);
    // The env file is there and git ignores it.
    let env = fs::read_to_string(path.join(".env.sandbox")).expect("env file");
    assert!(env.contains("SANDBOX_SLOT=1\n"), "{env}");
    assert!(env.contains("SANDBOX_NAME=my-feature\n"), "{env}");
    assert!(env.contains("SANDBOX_ID=repo--my-feature\n"), "{env}");
    assert!(
        env.contains("COMPOSE_PROJECT_NAME=repo--my-feature\n"),
        "{env}"
    );
    assert_eq!(t.git(&path, &["status", "--porcelain"]), "");

    let list = t.ok(&t.repo, &["list"]);
    assert!(list.contains("my-feature"), "{list}");
    assert!(list.contains("never pushed"), "{list}");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    assert_eq!(json["version"], 1);
    let s = &json["sandboxes"][0];
    assert_eq!(s["name"], "my-feature");
    assert_eq!(s["slot"], 1);
    assert_eq!(s["branch"], "my-feature");
    assert_eq!(s["never_pushed"], true);
    assert_eq!(s["missing"], false);
    assert_eq!(s["dirty"]["untracked"], 0);

    assert_eq!(
        t.ok(&t.repo, &["path", "my-feature"]).trim(),
        path.to_str().expect("utf8")
    );
    let status = t.ok(&path, &["status"]);
    assert!(status.contains("repo--my-feature"), "{status}");

    t.ok(&t.repo, &["rm", "my-feature", "--yes"]);
    assert!(!path.exists());
    assert!(t.admin_entries().is_empty());
    assert!(t.entries().is_empty());
    // The tool made the branch and it holds nothing unpushed: deleted.
    assert_eq!(t.branches(), vec!["main"]);
    assert_eq!(t.siblings(), vec!["repo"]);
}

#[test]
fn list_shows_dirty_counts_unpushed_and_missing() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let b = t.new_sandbox("b");
    t.write(&a, "README.md", "changed\n");
    t.write(&a, "new.txt", "x\n");
    t.write(&a, "CHANGES", "staged\n");
    t.git(&a, &["add", "CHANGES"]);
    t.commit_file(&b, "b.txt", "b\n", "b1");
    t.git(&b, &["push", "-q", "-u", "origin", "b"]);
    t.commit_file(&b, "b2.txt", "b\n", "b2");
    let c = t.new_sandbox("c");
    fs::remove_dir_all(&c).expect("rm c");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    let by = |n: &str| {
        json["sandboxes"]
            .as_array()
            .expect("arr")
            .iter()
            .find(|s| s["name"] == n)
            .cloned()
            .expect("row")
    };
    let ra = by("a");
    assert_eq!(ra["dirty"]["staged"], 1);
    assert_eq!(ra["dirty"]["unstaged"], 1);
    assert_eq!(ra["dirty"]["untracked"], 1);
    let rb = by("b");
    assert_eq!(rb["never_pushed"], false);
    assert_eq!(rb["upstream"]["ahead"], 1);
    assert_eq!(rb["unpushed"], 1);
    assert_eq!(by("c")["missing"], true);
    let text = t.ok(&t.repo, &["ls"]);
    assert!(text.contains("MISSING DIRECTORY"), "{text}");
    assert!(text.contains("1 staged, 1 unstaged, 1 untracked"), "{text}");
}

#[test]
fn slot_gaps_are_filled_after_rm() {
    let t = TestEnv::new();
    for n in ["one", "two", "three"] {
        t.new_sandbox(n);
    }
    t.ok(&t.repo, &["rm", "two", "--yes"]);
    t.new_sandbox("four");
    let mut slots: Vec<(String, u64)> = t.entries().into_iter().map(|(id, s, _)| (id, s)).collect();
    slots.sort();
    assert_eq!(
        slots,
        vec![
            ("repo--four".into(), 2),
            ("repo--one".into(), 1),
            ("repo--three".into(), 3)
        ]
    );
}

#[test]
fn sixteen_parallel_news_get_distinct_slots() {
    let t = TestEnv::new();
    t.write(&t.repo, ".sandbox.toml", "max_slots = 20\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    let children: Vec<_> = (0..16)
        .map(|i| {
            t.cmd(&t.repo)
                .args(["new", &format!("par{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let entries = t.entries();
    assert_eq!(entries.len(), 16);
    let mut slots: Vec<u64> = entries.iter().map(|e| e.1).collect();
    slots.sort();
    assert_eq!(slots, (1..=16).collect::<Vec<u64>>());
    assert!(entries.iter().all(|e| e.2 == "ready"));
    assert_eq!(t.admin_entries().len(), 16);
}

#[test]
fn bad_names_are_refused_and_nothing_is_created() {
    let t = TestEnv::new();
    for name in ["!!!", "a..b", "a/", "..", "x\\y", "local-prod"] {
        let err = t.fails(&t.repo, &["new", name], 2);
        assert!(err.contains("error:"), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }
    // After `--` comes a command, and a command needs a name.
    t.fails(&t.repo, &["new", "--", "-x"], 2);
    assert!(t.entries().is_empty());
    assert_eq!(t.siblings(), vec!["repo"]);
    assert_eq!(t.branches(), vec!["main"]);
}

#[test]
fn existing_target_dir_rolls_back_nothing_left() {
    let t = TestEnv::new();
    let target = t.sandbox_path("taken");
    fs::create_dir_all(&target).expect("mkdir");
    t.write(&target, "precious.txt", "mine\n");
    let before = tree(&target);
    let err = t.fails(&t.repo, &["new", "taken"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(tree(&target), before);
    assert!(t.entries().is_empty());
    assert_eq!(t.branches(), vec!["main"]);
    assert!(t.admin_entries().is_empty());
}

#[test]
fn branch_checked_out_elsewhere_rolls_back_nothing_left() {
    let t = TestEnv::new();
    let err = t.fails(&t.repo, &["new", "x", "--branch", "main"], 1);
    assert!(err.contains("already checked out"), "{err}");
    assert!(t.entries().is_empty());
    assert_eq!(t.siblings(), vec!["repo"]);
    assert!(t.admin_entries().is_empty());
}

#[test]
fn failure_half_way_undoes_everything() {
    let mut t = TestEnv::new();
    for point in [
        "new:reserved",
        "new:branch",
        "new:worktree",
        "new:env",
        "new:ready",
    ] {
        t.extra_env = vec![("GIT_SANDBOX_FAULT".into(), format!("error:{point}"))];
        let err = t.fails(&t.repo, &["new", "half"], 1);
        assert!(err.contains("was undone"), "{point}: {err}");
        assert!(t.entries().is_empty(), "{point}");
        assert_eq!(t.siblings(), vec!["repo"], "{point}");
        assert_eq!(t.branches(), vec!["main"], "{point}");
        assert!(t.admin_entries().is_empty(), "{point}");
    }
}

#[test]
fn existing_branch_is_used_and_kept() {
    let t = TestEnv::new();
    t.git(&t.repo, &["branch", "topic"]);
    let p = t.new_sandbox("topic");
    assert_eq!(t.git(&p, &["branch", "--show-current"]).trim(), "topic");
    t.ok(&t.repo, &["rm", "topic", "--yes"]);
    assert!(
        t.branches().contains(&"topic".to_string()),
        "a branch the tool did not make is kept"
    );
}

#[test]
fn from_and_branch_options() {
    let t = TestEnv::new();
    let first = t.git(&t.repo, &["rev-parse", "HEAD~1"]).trim().to_string();
    let p = t.ok(
        &t.repo,
        &["new", "old", "--from", "HEAD~1", "--branch", "feat/old"],
    );
    let p = PathBuf::from(p.trim());
    assert_eq!(t.git(&p, &["rev-parse", "HEAD"]).trim(), first);
    assert_eq!(t.git(&p, &["branch", "--show-current"]).trim(), "feat/old");
    let err = t.fails(&t.repo, &["new", "bad", "--from", "no-such-rev"], 1);
    assert!(err.contains("does not name a commit"), "{err}");
}

#[test]
fn path_template_is_configurable_and_admin_name_is_the_id() {
    let t = TestEnv::new();
    t.write(&t.repo, ".sandbox.toml", "path = \"../trees/{name}\"\n");
    t.ok(&t.repo, &["trust"]);
    let p = t.new_sandbox("x");
    assert_eq!(p, t.repo.parent().expect("p").join("trees/x"));
    assert_eq!(t.admin_entries(), vec!["repo--x"]);
    t.ok(&t.repo, &["rm", "x", "--yes"]);
    assert!(!p.exists());
}

#[test]
fn corrupt_registry_is_a_clear_error_and_untouched() {
    let t = TestEnv::new();
    t.new_sandbox("a");
    let file = t.reg_home.join("registry.json");
    for bad in [
        "{ not json",
        "{\"version\": 99, \"instances\": []}",
        "{\"instances\": []}",
    ] {
        fs::write(&file, bad).expect("write");
        for args in [
            vec!["list"],
            vec!["new", "b"],
            vec!["rm", "a", "--yes"],
            vec!["prune"],
        ] {
            let err = t.fails(&t.repo, &args, 1);
            assert!(
                err.contains(file.to_str().expect("utf8")),
                "{args:?}: {err}"
            );
            assert!(err.contains("left untouched"), "{err}");
            assert_eq!(fs::read_to_string(&file).expect("read"), bad);
        }
    }
    assert!(t.sandbox_path("a").exists());
    assert!(!t.sandbox_path("b").exists());
}

#[test]
fn prune_drops_vanished_and_reports_strangers() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let b = t.new_sandbox("b");
    let hand = t.repo.parent().expect("p").join("by-hand");
    t.git(
        &t.repo,
        &[
            "worktree",
            "add",
            "-q",
            hand.to_str().expect("utf8"),
            "-b",
            "hand",
        ],
    );
    fs::remove_dir_all(&a).expect("rm a");
    let out = t.run(&t.repo, &["prune", "--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("would drop repo--a"), "{err}");
    assert_eq!(t.entries().len(), 2);
    let out = t.run(&t.repo, &["prune"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(err.contains("dropped repo--a"), "{err}");
    assert!(
        err.contains("by-hand") && err.contains("not a sandbox"),
        "{err}"
    );
    assert_eq!(t.entries().len(), 1);
    assert!(b.exists());
    assert!(
        hand.join("README.md").exists(),
        "a worktree made by hand is never touched"
    );
    assert_eq!(t.admin_entries(), vec!["by-hand", "repo--b"]);
}

#[test]
fn commands_outside_a_repo_say_so() {
    let t = TestEnv::new();
    let err = t.fails(&t.root, &["list"], 1);
    assert!(err.contains("not inside a git repository"), "{err}");
    let err = t.fails(&t.root, &["new", "x"], 1);
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn dash_c_runs_elsewhere() {
    let t = TestEnv::new();
    let out = t.ok(&t.root, &["-C", "work/repo", "new", "via-c"]);
    assert!(out.trim().ends_with("repo--via-c"));
}

#[test]
fn prune_all_drops_entries_of_a_vanished_repo() {
    let t = TestEnv::new();
    let other = TestEnv::named("other");
    // Both repos share one registry.
    let mut o = other;
    o.reg_home = t.reg_home.clone();
    let gone = o.new_sandbox("x");
    t.new_sandbox("keep");
    fs::remove_dir_all(&o.repo).expect("rm repo");
    fs::remove_dir_all(&gone).expect("rm sandbox");
    assert_eq!(t.entries().len(), 2);
    // From anywhere, even outside a repo.
    t.ok(&t.root, &["prune", "--all"]);
    let ids: Vec<String> = t.entries().into_iter().map(|e| e.0).collect();
    assert_eq!(ids, vec!["repo--keep"]);
}

#[test]
fn new_says_what_it_found_exists_reused_adopted() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    // The sandbox exists: say so, and how to reach it; nothing changes.
    let before = t.entries();
    let err = t.fails(&t.repo, &["new", "s"], 1);
    assert!(err.contains("sandbox s already exists"), "{err}");
    assert!(err.contains(&s.display().to_string()), "{err}");
    assert!(err.contains("git sandbox path s"), "{err}");
    assert_eq!(t.entries(), before);
    // An existing branch is reused, and it says so.
    t.git(&t.repo, &["branch", "topic"]);
    let out = t.run(&t.repo, &["new", "t", "--branch", "topic"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("existing branch topic (reused"), "{said}");
    // adopt says adopted.
    let hand = t.hand_made_worktree("repo--hand", "hand");
    let out = t.run(&t.repo, &["adopt", hand.to_str().expect("utf8")]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("adopted sandbox hand"), "{said}");
    assert!(!said.contains("created"), "{said}");
}

#[test]
fn new_inside_a_sandbox_starts_from_that_sandboxs_head() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    t.commit_file(&a, "a.txt", "a\n", "work in a");
    let head_a = t.git(&a, &["rev-parse", "HEAD"]).trim().to_string();
    let b = PathBuf::from(t.ok(&a, &["new", "b"]).trim());
    assert_eq!(t.git(&b, &["rev-parse", "HEAD"]).trim(), head_a);
    // From the main worktree: its HEAD, as before.
    let c = t.new_sandbox("c");
    let head_main = t.git(&t.repo, &["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(t.git(&c, &["rev-parse", "HEAD"]).trim(), head_main);
}

/// The index file's modification time.
fn index_mtime(t: &TestEnv, dir: &std::path::Path) -> std::time::SystemTime {
    let index = t.git(dir, &["rev-parse", "--git-path", "index"]);
    let index = dir.join(index.trim());
    fs::metadata(index)
        .and_then(|m| m.modified())
        .expect("index")
}

#[test]
fn list_heals_a_fresh_sandboxs_racily_clean_index_once() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    let made = index_mtime(&t, &s);
    // Within the checkout's second nothing can heal it: list leaves the index alone.
    t.ok(&t.repo, &["list"]);
    // A second later, the first list refreshes it (as a plain `git status` would) ...
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.ok(&t.repo, &["list"]);
    let healed = index_mtime(&t, &s);
    assert!(healed > made, "the index was not refreshed");
    let debug = t.git(&s, &["ls-files", "--debug"]);
    let index_secs = healed
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    for line in debug
        .lines()
        .filter(|l| l.trim_start().starts_with("mtime:"))
    {
        let secs: u64 = line
            .trim_start()
            .trim_start_matches("mtime: ")
            .split(':')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("mtime");
        assert!(
            secs < index_secs,
            "still racy: {line} vs index {index_secs}"
        );
    }
    // ... and later lists are read-only again.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.ok(&t.repo, &["list"]);
    assert_eq!(index_mtime(&t, &s), healed, "list wrote the index again");
}
