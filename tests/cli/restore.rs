//! Forced removal saves everything it would destroy; restore brings it back exactly.

use std::path::PathBuf;

use crate::common::TestEnv;

#[test]
fn forced_rm_then_restore_brings_back_every_file_and_state() {
    let t = TestEnv::new();
    let p = t.new_sandbox("work");
    // Two never-pushed commits.
    for i in 1..=2 {
        t.write(&p, &format!("c{i}.txt"), &format!("commit {i}\n"));
        t.git(&p, &["add", "."]);
        t.git(&p, &["commit", "-q", "-m", &format!("c{i}")]);
    }
    let tip = t.git(&p, &["rev-parse", "HEAD"]);
    // Staged, unstaged, both, untracked, a staged deletion, an unstaged deletion.
    t.write(&p, "README.md", "staged\n");
    t.git(&p, &["add", "README.md"]);
    t.write(&p, "src/lib.rs", "unstaged\n");
    t.write(&p, "c1.txt", "staged c1\n");
    t.git(&p, &["add", "c1.txt"]);
    t.write(&p, "c1.txt", "staged c1\nthen unstaged\n");
    t.write(&p, "new/untracked.txt", "untracked\n");
    t.git(&p, &["rm", "-q", "CHANGES"]);
    std::fs::remove_file(p.join("c2.txt")).expect("rm");
    let status_before = t.git(&p, &["status", "--porcelain=v1", "--untracked-files=all"]);
    let diff_cached = t.git(&p, &["diff", "--cached"]);
    let diff = t.git(&p, &["diff"]);

    let out = t.run(&t.repo, &["rm", "work", "--yes", "--force"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("refs/sandbox/trash/repo--work/"), "{err}");
    assert!(err.contains("git sandbox restore work"), "{err}");
    assert!(!p.exists());
    // The branch was never pushed, so it was kept.
    assert_eq!(t.git(&t.repo, &["rev-parse", "work"]), tip);

    // The saved state survives gc.
    t.git(&t.repo, &["gc", "-q", "--prune=now"]);

    let listed = t.ok(&t.repo, &["restore", "work", "--list"]);
    assert!(
        listed.contains("refs/sandbox/trash/repo--work/"),
        "{listed}"
    );
    let q = PathBuf::from(t.ok(&t.repo, &["restore", "work"]).trim());
    assert_eq!(q, p);
    assert_eq!(t.git(&q, &["rev-parse", "HEAD"]), tip);
    assert_eq!(
        t.git(&q, &["status", "--porcelain=v1", "--untracked-files=all"]),
        status_before
    );
    assert_eq!(t.git(&q, &["diff", "--cached"]), diff_cached);
    assert_eq!(t.git(&q, &["diff"]), diff);
    assert_eq!(
        std::fs::read_to_string(q.join("new/untracked.txt")).expect("u"),
        "untracked\n"
    );
    assert_eq!(t.git(&q, &["log", "--format=%s", "-2"]), "c2\nc1\n");
    assert!(q.join(".env.sandbox").exists());
    assert_eq!(t.entries().len(), 1);
}

#[test]
fn delete_branch_on_unpushed_branch_then_restore() {
    let t = TestEnv::new();
    let p = t.new_sandbox("gone");
    t.commit_file(&p, "x.txt", "x\n", "x");
    let tip = t.git(&p, &["rev-parse", "HEAD"]);
    let out = t.run(
        &t.repo,
        &["rm", "gone", "--yes", "--force", "--delete-branch"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!t.branches().contains(&"gone".to_string()));
    t.git(&t.repo, &["reflog", "expire", "--expire=now", "--all"]);
    t.git(&t.repo, &["gc", "-q", "--prune=now"]);
    let q = PathBuf::from(t.ok(&t.repo, &["restore", "gone"]).trim());
    assert_eq!(t.git(&q, &["rev-parse", "HEAD"]), tip);
    assert_eq!(t.git(&q, &["branch", "--show-current"]).trim(), "gone");
    assert_eq!(t.git(&q, &["status", "--porcelain"]), "");
}

#[test]
fn trash_purge_deletes_saved_states_only_when_asked() {
    let t = TestEnv::new();
    let p = t.new_sandbox("p");
    t.write(&p, "u.txt", "u\n");
    t.ok(&t.repo, &["rm", "p", "--yes", "--force"]);
    assert!(t.ok(&t.repo, &["trash", "list"]).contains("repo--p"));
    let err = t.fails(&t.repo, &["trash", "purge"], 2);
    assert!(err.contains("--yes"), "{err}");
    t.ok(
        &t.repo,
        &["trash", "purge", "--older-than", "3650d", "--yes"],
    );
    assert!(
        t.ok(&t.repo, &["trash", "list"]).contains("repo--p"),
        "newer states are kept"
    );
    t.ok(&t.repo, &["trash", "purge", "--yes"]);
    assert_eq!(t.ok(&t.repo, &["trash", "list"]), "");
}

#[test]
fn restore_from_a_chosen_saved_state() {
    let t = TestEnv::new();
    let p = t.new_sandbox("w");
    t.write(&p, "v.txt", "first\n");
    t.ok(&t.repo, &["rm", "w", "--yes", "--force"]);
    let first = t.ok(&t.repo, &["restore", "w", "--list"]);
    let first_ref = first.split_whitespace().next().expect("a ref").to_string();
    let q = PathBuf::from(t.ok(&t.repo, &["restore", "w"]).trim());
    t.write(&q, "v.txt", "second\n");
    // Saved within the same second: the second state gets a suffix, not a clash.
    t.ok(&t.repo, &["rm", "w", "--yes", "--force"]);
    let listed = t.ok(&t.repo, &["restore", "w", "--list"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let stamp = first_ref.rsplit('/').next().expect("stamp");
    let r = PathBuf::from(t.ok(&t.repo, &["restore", "w", "--from", stamp]).trim());
    assert_eq!(
        std::fs::read_to_string(r.join("v.txt")).expect("v"),
        "first\n"
    );
    let err = t.fails(&t.repo, &["restore", "nothing-saved"], 1);
    assert!(err.contains("nothing of"), "{err}");
}

#[test]
fn after_rm_force_and_restore_the_tool_still_knows_it_made_the_branch() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    t.commit_file(&s, "f.txt", "f\n", "work");
    t.write(&s, "dirty.txt", "uncommitted\n");
    t.ok(&t.repo, &["rm", "s", "--force", "--yes"]);
    t.ok(&t.repo, &["restore", "s"]);
    let row: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "s", "--json"])).expect("json");
    assert_eq!(row["sandbox"]["created_branch"], true, "{row}");
    // So a later clean, pushed removal deletes the branch it made.
    std::fs::remove_file(s.join("dirty.txt")).expect("rm");
    t.git(&s, &["push", "-q", "-u", "origin", "s"]);
    t.ok(&t.repo, &["rm", "s", "--yes"]);
    assert!(
        !t.branches().contains(&"s".to_string()),
        "{:?}",
        t.branches()
    );
}
