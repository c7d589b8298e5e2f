//! `mv OLD NEW`: renaming a sandbox moves its directory with git's entry, keeps its branch,
//! slot and id, refuses what it cannot do safely, and survives a crash at any step.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::{TestEnv, tree};

fn worktree_paths(t: &TestEnv) -> Vec<String> {
    t.git(&t.repo, &["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .map(String::from)
        .collect()
}

fn list_json(t: &TestEnv) -> serde_json::Value {
    serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json")
}

#[test]
fn mv_renames_the_sandbox_and_its_directory() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    t.commit_file(&a, "work.txt", "work\n", "work");
    t.write(&a, "dirty.txt", "uncommitted\n");
    let out = t.ok(&t.repo, &["mv", "a", "feature/b"]);
    let b = t.sandbox_path("feature-b");
    assert_eq!(PathBuf::from(out.trim()), b);
    assert!(!a.exists());
    assert_eq!(
        fs::read_to_string(b.join("dirty.txt")).expect("kept"),
        "uncommitted\n"
    );
    // git agrees, and the branch, slot and id stay.
    let wts = worktree_paths(&t);
    assert!(wts.contains(&b.display().to_string()), "{wts:?}");
    assert!(!wts.contains(&a.display().to_string()), "{wts:?}");
    assert_eq!(t.git(&b, &["branch", "--show-current"]).trim(), "a");
    assert_eq!(t.admin_entries(), vec!["repo--a"]);
    let json = list_json(&t);
    let s = &json["sandboxes"][0];
    assert_eq!(s["name"], "feature-b");
    assert_eq!(s["missing"], false);
    assert_eq!(s["slot"], 1);
    let env = fs::read_to_string(b.join(".env.sandbox")).expect("env");
    assert!(env.contains("SANDBOX_NAME=feature-b\n"), "{env}");
    assert!(env.contains("SANDBOX_ID=repo--a\n"), "{env}");
    assert_eq!(t.git(&b, &["status", "--porcelain"]), "?? dirty.txt\n");
    assert_eq!(
        t.ok(&t.repo, &["path", "feature/b"]).trim(),
        b.to_str().expect("utf8")
    );
    // The old name is free again (its branch is not: it went with the sandbox); a new
    // sandbox of that name takes the next id.
    let err = t.fails(&t.repo, &["new", "a"], 1);
    assert!(err.contains("already checked out"), "{err}");
    let a2 = PathBuf::from(t.ok(&t.repo, &["new", "a", "--branch", "a2"]).trim());
    assert_eq!(a2, a);
    assert_eq!(t.admin_entries(), vec!["repo--a", "repo--a-2"]);
    t.ok(&t.repo, &["prune"]);
    assert_eq!(t.entries().len(), 2);
    // rm of the renamed sandbox works, and restore finds it by its new name.
    t.ok(&t.repo, &["rm", "feature-b", "--yes", "--force"]);
    assert!(!b.exists());
    assert_eq!(t.admin_entries(), vec!["repo--a-2"]);
    let back = PathBuf::from(t.ok(&t.repo, &["restore", "feature-b"]).trim());
    assert_eq!(back, b);
    assert_eq!(
        fs::read_to_string(b.join("dirty.txt")).expect("back"),
        "uncommitted\n"
    );
}

#[test]
fn mv_refusals_change_nothing() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    t.new_sandbox("other");
    t.write(&a, "dirty.txt", "x\n");
    let before = (t.registry(), tree(&a), worktree_paths(&t));
    let unchanged = |t: &TestEnv| {
        assert_eq!((t.registry(), tree(&a), worktree_paths(t)), before);
    };
    // The destination exists.
    let dest = t.sandbox_path("b");
    t.write(&dest, "precious.txt", "mine\n");
    let err = t.fails(&t.repo, &["mv", "a", "b"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        fs::read_to_string(dest.join("precious.txt")).expect("kept"),
        "mine\n"
    );
    unchanged(&t);
    // The name is taken; the same name; a reserved or bad name; local-prod.
    let err = t.fails(&t.repo, &["mv", "a", "other"], 1);
    assert!(err.contains("already a sandbox named other"), "{err}");
    t.fails(&t.repo, &["mv", "a", "a"], 2);
    t.fails(&t.repo, &["mv", "a", "local-prod"], 2);
    t.fails(&t.repo, &["mv", "a", "x/"], 2);
    t.fails(&t.repo, &["mv", "nope", "c"], 1);
    unchanged(&t);
    // Run from inside it.
    let err = t.fails(&a, &["mv", "a", "c"], 1);
    assert!(err.contains("you are inside"), "{err}");
    unchanged(&t);
    // A process working inside.
    let mut sleeper = Command::new("sleep")
        .arg("30")
        .current_dir(&a)
        .stdin(Stdio::null())
        .spawn()
        .expect("sleep");
    let err = t.fails(&t.repo, &["mv", "a", "c"], 1);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(err.contains("processes are working inside"), "{err}");
    assert!(err.contains("sleep"), "{err}");
    unchanged(&t);
    // A locked worktree.
    t.git(
        &t.repo,
        &[
            "worktree",
            "lock",
            "--reason",
            "usb",
            a.to_str().expect("utf8"),
        ],
    );
    let err = t.fails(&t.repo, &["mv", "a", "c"], 1);
    assert!(err.contains("locked (usb)"), "{err}");
    t.git(&t.repo, &["worktree", "unlock", a.to_str().expect("utf8")]);
    unchanged(&t);
    // Dirty is fine.
    t.ok(&t.repo, &["mv", "a", "c"]);
    assert!(t.sandbox_path("c").join("dirty.txt").is_file());
}

#[test]
fn mv_of_a_directory_moved_by_hand_says_where_it_is() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let elsewhere = t.root.join("work/moved-by-hand");
    t.git(
        &t.repo,
        &[
            "worktree",
            "move",
            a.to_str().expect("utf8"),
            elsewhere.to_str().expect("utf8"),
        ],
    );
    let err = t.fails(&t.repo, &["mv", "a", "b"], 1);
    assert!(err.contains("is not at"), "{err}");
    assert!(err.contains(elsewhere.to_str().expect("utf8")), "{err}");
    assert!(err.contains("git worktree move"), "{err}");
    assert!(elsewhere.is_dir());
    // Put back as the hint says, the rename works.
    t.git(
        &t.repo,
        &[
            "worktree",
            "move",
            elsewhere.to_str().expect("utf8"),
            a.to_str().expect("utf8"),
        ],
    );
    t.ok(&t.repo, &["mv", "a", "b"]);
}

/// `mv` killed at `point`, then `prune`: the sandbox is whole, under one of its names.
fn crash_then_prune(point: &str) -> (TestEnv, PathBuf, PathBuf) {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    t.write(&a, "dirty.txt", "x\n");
    let out = t
        .cmd(&t.repo)
        .env("GIT_SANDBOX_FAULT", point)
        .args(["mv", "a", "b"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "{point}: {out:?}");
    assert!(
        t.registry()["instances"][0]["moving"].is_object(),
        "{point}"
    );
    let prune = t.cmd(&t.repo).arg("prune").output().expect("prune");
    let err = String::from_utf8_lossy(&prune.stderr).into_owned();
    assert!(prune.status.success(), "{err}");
    assert!(err.contains("interrupted rename of repo--a"), "{err}");
    assert!(
        t.registry()["instances"][0].get("moving").is_none(),
        "{point}"
    );
    let b = t.sandbox_path("b");
    (t, a, b)
}

#[test]
fn a_crash_before_the_move_rolls_back() {
    let (t, a, b) = crash_then_prune("mv:marked");
    assert!(a.join("dirty.txt").is_file());
    assert!(!b.exists());
    assert_eq!(
        t.ok(&t.repo, &["path", "a"]).trim(),
        a.to_str().expect("utf8")
    );
    assert_eq!(list_json(&t)["sandboxes"][0]["missing"], false);
}

#[test]
fn a_crash_after_the_move_is_finished() {
    let (t, a, b) = crash_then_prune("mv:moved");
    assert!(!a.exists());
    assert!(b.join("dirty.txt").is_file());
    assert_eq!(
        t.ok(&t.repo, &["path", "b"]).trim(),
        b.to_str().expect("utf8")
    );
    let env = fs::read_to_string(b.join(".env.sandbox")).expect("env");
    assert!(env.contains("SANDBOX_NAME=b\n"), "{env}");
    t.ok(&t.repo, &["rm", "b", "--yes", "--force"]);
    assert!(t.admin_entries().is_empty());
}

#[test]
fn a_crash_inside_git_between_its_rename_and_its_entry_update_is_repaired() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let out = t
        .cmd(&t.repo)
        .env("GIT_SANDBOX_FAULT", "mv:marked")
        .args(["mv", "a", "b"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    // What git leaves when killed after its rename(2): the directory moved, its entry not.
    let b = t.sandbox_path("b");
    fs::rename(&a, &b).expect("rename");
    let err = String::from_utf8_lossy(&t.cmd(&t.repo).arg("prune").output().expect("prune").stderr)
        .into_owned();
    assert!(err.contains("finished the interrupted rename"), "{err}");
    assert!(worktree_paths(&t).contains(&b.display().to_string()));
    assert_eq!(t.git(&b, &["status", "--porcelain"]), "");
    t.ok(&t.repo, &["rm", "b", "--yes"]);
}

#[test]
fn a_name_another_repo_uses_is_free_for_mv() {
    let t = TestEnv::new();
    let parent = t.root.join("elsewhere");
    std::fs::create_dir_all(&parent).expect("dir");
    t.git(&parent, &["init", "-q", "other"]);
    let other = parent.join("other");
    t.write(&other, "f", "x\n");
    t.git(&other, &["add", "."]);
    t.git(&other, &["commit", "-q", "-m", "x"]);
    t.ok(&other, &["new", "s2"]);
    let s1 = t.new_sandbox("s1");
    // A status that writes the untracked cache, which names this directory.
    t.git(&s1, &["status", "--porcelain"]);
    let moved = t.ok(&t.repo, &["mv", "s1", "s2"]);
    assert!(moved.trim().ends_with("--s2"), "{moved}");
    // git says nothing about its untracked cache in the moved sandbox.
    let out = t
        .git_cmd(std::path::Path::new(moved.trim()))
        .arg("status")
        .output()
        .expect("status");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("untracked cache"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // In its own repo the name is still taken.
    t.new_sandbox("s3");
    let err = t.fails(&t.repo, &["mv", "s3", "s2"], 1);
    assert!(err.contains("s2"), "{err}");
}
