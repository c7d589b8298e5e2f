//! Issue 19's fidelity fixes: what `rm` says and asks, and what `restore` brings back, exactly
//! (index states, the HEAD, the branch's config), checked with git's own views before and after.

use std::path::{Path, PathBuf};

use crate::common::{TestEnv, tree};

/// Every view of a worktree's state git gives: they must be equal before `rm` and after
/// `restore`.
fn views(t: &TestEnv, dir: &Path) -> Vec<String> {
    [
        &["ls-files", "--stage", "-v", "-z"][..],
        &[
            "status",
            "--porcelain=v2",
            "-z",
            "--untracked-files=all",
            "--branch",
        ],
        &["diff", "--cached", "--binary"],
        &["diff", "--binary"],
        &["rev-parse", "--symbolic-full-name", "HEAD"],
        &["rev-parse", "HEAD"],
    ]
    .iter()
    .map(|a| t.git(dir, a))
    .collect()
}

fn restore(t: &TestEnv, name: &str) -> PathBuf {
    PathBuf::from(t.ok(&t.repo, &["restore", name]).trim())
}

fn force_rm(t: &TestEnv, name: &str) {
    t.ok(&t.repo, &["rm", name, "--yes", "--force"]);
}

#[test]
fn forced_rm_without_a_terminal_needs_yes_and_changes_nothing() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.write(&p, "draft.txt", "draft\n");
    let before = tree(&p);
    let reg = t.registry();
    let err = t.fails(&t.repo, &["rm", "s", "--force"], 2);
    assert!(err.contains("without confirmation"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(tree(&p), before);
    assert_eq!(t.registry(), reg);
    assert!(
        t.git(&t.repo, &["for-each-ref", "refs/sandbox/"])
            .is_empty()
    );
    // With --yes it goes (and is saved).
    force_rm(&t, "s");
    assert!(!p.exists());
}

#[test]
fn a_detached_head_comes_back_detached_at_its_commit() {
    let t = TestEnv::new();
    let p = t.new_sandbox("d");
    let own_tip = t.git(&p, &["rev-parse", "d"]);
    t.git(&p, &["checkout", "-q", "--detach"]);
    t.commit_file(&p, "detached.txt", "made detached\n", "on a detached HEAD");
    t.write(&p, "README.md", "unstaged\n");
    t.write(&p, "new.txt", "untracked\n");
    let before = views(&t, &p);
    force_rm(&t, "d");
    let q = restore(&t, "d");
    assert_eq!(q, p);
    assert_eq!(views(&t, &q), before);
    assert!(
        t.git(&q, &["status", "--porcelain=v2", "--branch"])
            .contains("# branch.head (detached)")
    );
    // Its own branch is untouched, and it is still the sandbox's (rm may remove it again).
    assert_eq!(t.git(&t.repo, &["rev-parse", "d"]), own_tip);
    let reg = t.registry();
    assert_eq!(reg["instances"][0]["branch"], "d");
    assert_eq!(reg["instances"][0]["created_branch"], true);
}

#[test]
fn another_branch_comes_back_checked_out_even_when_deleted_since() {
    let t = TestEnv::new();
    let p = t.new_sandbox("o");
    t.git(&p, &["checkout", "-q", "-b", "other"]);
    t.commit_file(&p, "other.txt", "other\n", "on other");
    t.write(&p, "other.txt", "other, then edited\n");
    t.git(&p, &["add", "other.txt"]);
    let before = views(&t, &p);
    force_rm(&t, "o");
    // rm kept `other` (never pushed); deleted now, restore makes it again at the saved tip.
    t.git(&t.repo, &["branch", "-q", "-D", "other"]);
    let q = restore(&t, "o");
    assert_eq!(views(&t, &q), before);
    let reg = t.registry();
    assert_eq!(reg["instances"][0]["branch"], "other");
    // The tool did not make `other`: a later rm never deletes it as its own.
    assert_eq!(reg["instances"][0]["created_branch"], false);
}

#[test]
fn a_deleted_branch_takes_its_config_and_restore_puts_it_back() {
    let t = TestEnv::new();
    let p = t.new_sandbox("u");
    t.commit_file(&p, "u.txt", "u\n", "u");
    t.git(&p, &["push", "-q", "-u", "origin", "u"]);
    t.git(&p, &["config", "branch.u.description", "my notes"]);
    let config = t.git(
        &t.repo,
        &["config", "--local", "--get-regexp", "^branch\\.u\\."],
    );
    assert!(config.contains("branch.u.merge refs/heads/u"), "{config}");
    // Pushed and clean: rm deletes the branch, and its config with it.
    t.ok(&t.repo, &["rm", "u", "--yes"]);
    assert!(!t.branches().contains(&"u".to_string()));
    let left = t
        .git_cmd(&t.repo)
        .args(["config", "--get-regexp", "^branch\\.u\\."])
        .output()
        .expect("git");
    assert!(
        left.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&left.stdout)
    );
    // A new sandbox of that name starts clean, not "behind" the old upstream.
    let q = t.new_sandbox("u");
    let st = t.git(&q, &["status", "--porcelain=v2", "--branch"]);
    assert!(
        !st.contains("branch.upstream") && !st.contains("branch.ab"),
        "{st}"
    );
    t.ok(&t.repo, &["rm", "u", "--yes"]);
    // restore brings back the first sandbox's branch with its config.
    t.ok(&t.repo, &["restore", "u", "--from", &first_state(&t, "u")]);
    assert_eq!(
        t.git(
            &t.repo,
            &["config", "--local", "--get-regexp", "^branch\\.u\\."]
        ),
        config
    );
}

/// The oldest saved state of `name`.
fn first_state(t: &TestEnv, name: &str) -> String {
    let listed = t.ok(&t.repo, &["restore", name, "--list"]);
    listed
        .split_whitespace()
        .next()
        .expect("a state")
        .to_string()
}

/// A second bare repository, added as remote `backup`.
fn add_backup_remote(t: &TestEnv) {
    let backup = t.root.join("backup.git");
    t.git(&t.root, &["init", "-q", "--bare", "backup.git"]);
    t.git(
        &t.repo,
        &["remote", "add", "backup", backup.to_str().expect("utf8")],
    );
}

#[test]
fn a_branch_pushed_to_a_second_remote_is_named_as_pushed_there() {
    let t = TestEnv::new();
    add_backup_remote(&t);
    let p = t.new_sandbox("b");
    t.commit_file(&p, "b.txt", "b\n", "b");
    t.git(&p, &["push", "-q", "backup", "b"]);
    let out = t.run(&t.repo, &["rm", "b", "--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("pushed to backup/b (no upstream set)"),
        "{err}"
    );
    assert!(!err.contains("never pushed"), "{err}");
    let json = t.ok(&t.repo, &["rm", "b", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["report"]["never_pushed"], false, "{v}");
    assert_eq!(v["report"]["remote_refs"], serde_json::json!(["backup/b"]));
    // Everything is on a remote: it goes without --force, and the branch with it.
    t.ok(&t.repo, &["rm", "b", "--yes"]);
    assert!(!t.branches().contains(&"b".to_string()));
}

#[test]
fn a_branch_pushed_under_another_name_is_not_said_to_have_no_commits() {
    let t = TestEnv::new();
    add_backup_remote(&t);
    let p = t.new_sandbox("c");
    t.commit_file(&p, "c.txt", "c\n", "c");
    t.git(&p, &["push", "-q", "backup", "c:elsewhere"]);
    let err =
        String::from_utf8_lossy(&t.run(&t.repo, &["rm", "c", "--dry-run"]).stderr).into_owned();
    assert!(!err.contains("no commits of its own"), "{err}");
    assert!(
        err.contains("never pushed under its name (its commits are on a remote already)"),
        "{err}"
    );
}

#[test]
fn every_index_state_comes_back_exactly() {
    let t = TestEnv::new();
    let p = t.new_sandbox("i");
    t.write(&p, "tool.sh", "#!/bin/sh\n");
    t.write(&p, "old-name.txt", "to be renamed\n");
    t.write(&p, "gone.txt", "to be deleted\n");
    t.write(&p, "hidden.txt", "hidden\n");
    t.write(&p, "sparse.txt", "sparse\n");
    t.git(&p, &["add", "."]);
    t.git(&p, &["commit", "-q", "-m", "files"]);
    // Intent-to-add, with content that is only unstaged.
    t.write(&p, "ita.txt", "intended\n");
    t.git(&p, &["add", "-N", "ita.txt"]);
    // A staged mode-only change.
    t.git(&p, &["update-index", "--chmod=+x", "tool.sh"]);
    // A staged deletion and a staged rename.
    t.git(&p, &["rm", "-q", "gone.txt"]);
    t.git(&p, &["mv", "old-name.txt", "new-name.txt"]);
    // Edits hidden by the index bits.
    t.write(&p, "hidden.txt", "hidden edit\n");
    t.git(&p, &["update-index", "--assume-unchanged", "hidden.txt"]);
    t.write(&p, "sparse.txt", "sparse edit\n");
    t.git(&p, &["update-index", "--skip-worktree", "sparse.txt"]);
    let before = views(&t, &p);
    assert!(before[0].contains("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 0\tita.txt"));
    force_rm(&t, "i");
    // The saved state survives gc.
    t.git(&t.repo, &["gc", "-q", "--prune=now"]);
    let q = restore(&t, "i");
    assert_eq!(views(&t, &q), before);
    assert_eq!(
        std::fs::read_to_string(q.join("ita.txt")).expect("ita"),
        "intended\n"
    );
    assert_eq!(
        std::fs::read_to_string(q.join("hidden.txt")).expect("h"),
        "hidden edit\n"
    );
    assert_eq!(
        std::fs::read_to_string(q.join("sparse.txt")).expect("s"),
        "sparse edit\n"
    );
}

#[test]
fn an_unresolved_conflict_comes_back_with_its_three_stages() {
    let t = TestEnv::new();
    let p = t.new_sandbox("m");
    t.commit_file(&p, "README.md", "ours\n", "ours");
    t.git(&p, &["checkout", "-q", "-b", "theirs", "main"]);
    t.commit_file(&p, "README.md", "theirs\n", "theirs");
    t.git(&p, &["checkout", "-q", "m"]);
    let out = t
        .git_cmd(&p)
        .args(["merge", "-q", "theirs"])
        .output()
        .expect("merge");
    assert!(!out.status.success(), "the merge should conflict");
    let before = views(&t, &p);
    assert!(before[0].contains(" 1\tREADME.md") && before[0].contains(" 3\tREADME.md"));
    // Without --force: refused, nothing changed.
    let err = t.fails(&t.repo, &["rm", "m", "--yes"], 3);
    assert!(err.contains("conflict"), "{err}");
    assert_eq!(views(&t, &p), before);
    let merging = t.git(&p, &["status"]);
    assert!(merging.contains("You have unmerged paths"), "{merging}");
    let merge_head = t.git(&p, &["rev-parse", "MERGE_HEAD"]);
    force_rm(&t, "m");
    // The other side survives only through the saved state.
    t.git(&t.repo, &["branch", "-q", "-D", "theirs"]);
    t.git(&t.repo, &["gc", "-q", "--prune=now"]);
    let q = restore(&t, "m");
    assert_eq!(views(&t, &q), before);
    assert_eq!(t.git(&q, &["status"]), merging);
    assert_eq!(t.git(&q, &["rev-parse", "MERGE_HEAD"]), merge_head);
    // And the merge can be finished: a merge commit with both parents.
    t.write(&q, "README.md", "resolved\n");
    t.git(&q, &["commit", "-q", "-am", "merged"]);
    let parents = t.git(&q, &["rev-list", "--parents", "-n1", "HEAD"]);
    assert!(parents.contains(merge_head.trim()), "{parents}");
}

#[test]
fn a_rebase_in_progress_is_refused_then_saved_and_continued_after_restore() {
    let t = TestEnv::new();
    let p = t.new_sandbox("r");
    t.commit_file(&p, "r1.txt", "r1\n", "r1");
    t.commit_file(&p, "r2.txt", "r2\n", "r2");
    let out = t
        .git_cmd(&p)
        .env("GIT_SEQUENCE_EDITOR", "sed -i 1s/^pick/edit/")
        .args(["rebase", "-q", "-i", "HEAD~2"])
        .output()
        .expect("rebase");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rebasing = t.git(&p, &["status"]);
    assert!(rebasing.contains("rebase in progress"), "{rebasing}");
    // Clean and nothing unpushed beyond the branch: only the rebase stops rm.
    let err = t.fails(&t.repo, &["rm", "r", "--yes"], 3);
    assert!(err.contains("a rebase is in progress"), "{err}");
    assert_eq!(t.git(&p, &["status"]), rebasing);
    let out = t.run(&t.repo, &["rm", "r", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["report"]["operation"], "a rebase", "{v}");
    force_rm(&t, "r");
    let q = restore(&t, "r");
    assert_eq!(t.git(&q, &["status"]), rebasing);
    let out = t
        .git_cmd(&q)
        .args(["rebase", "--continue"])
        .output()
        .expect("continue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.git(&q, &["log", "--format=%s", "-2"]), "r2\nr1\n");
    assert!(
        t.git(&q, &["status", "--porcelain=v2", "--branch"])
            .contains("# branch.head r")
    );
}

#[test]
fn the_worktree_own_config_comes_back() {
    let t = TestEnv::new();
    t.git(&t.repo, &["config", "extensions.worktreeConfig", "true"]);
    let p = t.new_sandbox("w");
    t.git(&p, &["config", "--worktree", "sandbox.note", "mine alone"]);
    t.write(&p, "draft.txt", "draft\n");
    force_rm(&t, "w");
    let q = restore(&t, "w");
    assert_eq!(
        t.git(&q, &["config", "--worktree", "sandbox.note"]),
        "mine alone\n"
    );
    assert!(
        t.git_cmd(&t.repo)
            .args(["config", "sandbox.note"])
            .output()
            .expect("git")
            .stdout
            .is_empty()
    );
}
