//! rm: targeting, the path checks, and every refusal leaving every byte in place.

use std::fs;
use std::path::Path;

use crate::common::{TestEnv, tree};

/// Runs `rm` expecting refusal with exit 3 and checks that nothing changed.
fn assert_refused(t: &TestEnv, dir: &Path, args: &[&str], sandbox: &Path, expect: &str) {
    let before = tree(sandbox);
    let reg = t.registry();
    let branches = t.branches();
    let admin = t.admin_entries();
    let err = t.fails(dir, args, 3);
    assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
    assert_eq!(tree(sandbox), before, "the sandbox changed");
    assert_eq!(t.registry(), reg, "the registry changed");
    assert_eq!(t.branches(), branches);
    assert_eq!(t.admin_entries(), admin);
}

#[test]
fn refuses_staged() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.write(&p, "README.md", "staged\n");
    t.git(&p, &["add", "README.md"]);
    assert_refused(&t, &t.repo, &["rm", "s", "--yes"], &p, "1 staged");
}

#[test]
fn refuses_unstaged() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.write(&p, "src/lib.rs", "changed\n");
    assert_refused(&t, &t.repo, &["rm", "s", "--yes"], &p, "1 unstaged");
}

#[test]
fn refuses_untracked() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.write(&p, "deep/new/file.txt", "new\n");
    assert_refused(&t, &t.repo, &["rm", "s", "--yes"], &p, "1 untracked");
}

#[test]
fn refuses_unpushed_without_upstream() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.commit_file(&p, "work.txt", "w\n", "work");
    assert_refused(&t, &t.repo, &["rm", "s", "--yes"], &p, "never pushed");
}

#[test]
fn refuses_ahead_of_upstream() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.commit_file(&p, "w1.txt", "w\n", "w1");
    t.git(&p, &["push", "-q", "-u", "origin", "s"]);
    t.commit_file(&p, "w2.txt", "w\n", "w2");
    assert_refused(
        &t,
        &t.repo,
        &["rm", "s", "--yes"],
        &p,
        "1 commit(s) on no remote",
    );
}

#[test]
fn refuses_locked() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.git(
        &t.repo,
        &[
            "worktree",
            "lock",
            "--reason",
            "on a USB disk",
            p.to_str().expect("utf8"),
        ],
    );
    assert_refused(
        &t,
        &t.repo,
        &["rm", "s", "--yes"],
        &p,
        "locked (on a USB disk)",
    );
}

#[test]
fn refuses_detached_head_with_orphan_commits() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.git(&p, &["checkout", "-q", "--detach"]);
    t.commit_file(&p, "o.txt", "o\n", "orphan");
    assert_refused(&t, &t.repo, &["rm", "s", "--yes"], &p, "detached");
}

#[test]
fn dry_run_changes_nothing() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    let before = tree(&p);
    let reg = t.registry();
    let out = t.run(&t.repo, &["rm", "s", "--dry-run"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dry run"), "{err}");
    assert_eq!(tree(&p), before);
    assert_eq!(t.registry(), reg);
}

#[test]
fn without_a_terminal_yes_is_required() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    let err = t.fails(&t.repo, &["rm", "s"], 2);
    assert!(err.contains("--yes"), "{err}");
    assert!(p.exists());
}

#[test]
fn no_name_inside_sandbox_or_subdir_removes_it() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let b = t.new_sandbox("b");
    t.ok(&a, &["rm", "--yes"]);
    assert!(!a.exists());
    assert!(b.exists());
    let c = t.new_sandbox("c");
    t.ok(&c.join("src"), &["rm", "--yes"]);
    assert!(!c.exists());
    assert!(b.exists());
    assert_eq!(t.entries().len(), 1);
}

#[test]
fn no_name_in_parent_repo_is_an_error() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let before = tree(&t.repo);
    let err = t.fails(&t.repo, &["rm", "--yes"], 2);
    assert!(err.contains("not inside a sandbox"), "{err}");
    let err = t.fails(&t.repo.join("src"), &["rm", "--yes", "--force"], 2);
    assert!(err.contains("not inside a sandbox"), "{err}");
    assert!(a.exists());
    assert_eq!(tree(&t.repo), before);
}

#[test]
fn registry_pointing_at_parent_repo_is_refused() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    t.tamper("repo--a", "path", serde_json::json!(t.repo));
    let before = tree(&t.repo);
    let err = t.fails(&t.repo, &["rm", "a", "--yes", "--force"], 1);
    assert!(err.contains("refusing to act on"), "{err}");
    assert_eq!(tree(&t.repo), before);
    assert!(a.exists());
}

#[test]
fn registry_pointing_at_symlink_is_refused() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let other = t.root.join("other");
    fs::create_dir_all(&other).expect("mkdir");
    t.write(&other, "keep.txt", "keep\n");
    let link = t.root.join("link");
    std::os::unix::fs::symlink(&other, &link).expect("symlink");
    t.tamper("repo--a", "path", serde_json::json!(link));
    let err = t.fails(&t.repo, &["rm", "a", "--yes", "--force"], 1);
    assert!(err.contains("symlink"), "{err}");
    assert!(other.join("keep.txt").exists());
    assert!(link.exists());
    assert!(a.exists());
    // A symlink where the sandbox directory was, pointing at the real sandbox: refused too.
    let moved = t.root.join("moved");
    fs::rename(&a, &moved).expect("rename");
    std::os::unix::fs::symlink(&moved, &a).expect("symlink");
    t.tamper("repo--a", "path", serde_json::json!(a));
    let before = tree(&moved);
    let err = t.fails(&t.repo, &["rm", "a", "--yes", "--force"], 1);
    assert!(err.contains("symlink"), "{err}");
    assert_eq!(tree(&moved), before);
}

#[test]
fn registry_pointing_at_unrelated_dir_is_refused() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    let other = t.root.join("unrelated");
    fs::create_dir_all(&other).expect("mkdir");
    t.write(&other, "keep.txt", "keep\n");
    // Even an unrelated directory carrying a .git file of its own.
    t.write(&other, ".git", "gitdir: /somewhere/else\n");
    t.tamper("repo--a", "path", serde_json::json!(other));
    let before = tree(&other);
    let err = t.fails(&t.repo, &["rm", "a", "--yes", "--force"], 1);
    assert!(err.contains("refusing to act on"), "{err}");
    assert_eq!(tree(&other), before);
    assert!(a.exists());
    // Another sandbox's directory is not this one either.
    let b = t.new_sandbox("b");
    t.tamper("repo--a", "path", serde_json::json!(b));
    let before = tree(&b);
    let err = t.fails(&t.repo, &["rm", "a", "--yes", "--force"], 1);
    assert!(
        err.contains("points at") || err.contains("same path"),
        "{err}"
    );
    assert_eq!(tree(&b), before);
}

#[test]
fn keep_worktree_unregisters_only() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    t.write(&a, "dirty.txt", "d\n");
    let before = tree(&a);
    t.ok(&t.repo, &["rm", "a", "--yes", "--keep-worktree"]);
    assert_eq!(tree(&a), before);
    assert!(t.entries().is_empty());
    assert!(t.branches().contains(&"a".to_string()));
}

#[test]
fn pushed_branch_is_deleted_unpushed_kept_with_force() {
    let t = TestEnv::new();
    let p = t.new_sandbox("pushed");
    t.commit_file(&p, "w.txt", "w\n", "w");
    t.git(&p, &["push", "-q", "-u", "origin", "pushed"]);
    t.ok(&t.repo, &["rm", "pushed", "--yes"]);
    assert!(!t.branches().contains(&"pushed".to_string()));

    let q = t.new_sandbox("local");
    t.commit_file(&q, "w.txt", "only here\n", "w");
    let tip = t.git(&q, &["rev-parse", "HEAD"]);
    let out = t.run(&t.repo, &["rm", "local", "--yes", "--force"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keeping branch local: it was never pushed"),
        "{err}"
    );
    assert_eq!(t.git(&t.repo, &["rev-parse", "local"]), tip);
}

#[test]
fn sandbox_rm_cannot_target_local_prod() {
    let t = TestEnv::new();
    let lp = t.ok(&t.repo, &["local-prod", "new"]);
    let lp = std::path::PathBuf::from(lp.trim());
    let err = t.fails(&lp, &["rm", "--yes"], 1);
    assert!(err.contains("local-prod rm"), "{err}");
    let err = t.fails(&t.repo, &["rm", "local-prod", "--yes"], 1);
    assert!(err.contains("local-prod rm"), "{err}");
    assert!(lp.join("README.md").exists());
}

#[test]
fn refuses_populated_submodules() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.add_submodule(&p);
    assert_refused(
        &t,
        &t.repo,
        &["rm", "s", "--yes"],
        &p,
        "populated submodule(s): vendor/lib",
    );
    // Forced: removed, with a warning that work inside the submodule is not saved.
    let out = t.run(&t.repo, &["rm", "s", "--yes", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!p.exists());
}

#[test]
fn keep_worktree_and_delete_branch_conflict() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    let err = t.fails(
        &t.repo,
        &["rm", "s", "--keep-worktree", "--delete-branch", "--yes"],
        2,
    );
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(p.exists());
}

/// A repo big enough (2,000 files) that `new` leaves its index-healing helper behind.
fn wide(t: &TestEnv) {
    for d in 0..20 {
        for f in 0..100 {
            t.write(&t.repo, &format!("d{d}/f{f}.txt"), &format!("{d} {f}\n"));
        }
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "wide"]);
    t.git(&t.repo, &["push", "-q", "origin", "main"]);
}

#[test]
fn the_index_healing_helper_heals_and_never_races_rm() {
    use std::os::unix::fs::MetadataExt;
    let t = TestEnv::new();
    wide(&t);
    // Left alone, the helper rewrites the index a second or more after the checkout.
    let s = t.new_sandbox("healed");
    let admin = t
        .repo
        .join(".git/worktrees")
        .join(s.file_name().expect("name"));
    let checkout = fs::metadata(s.join(".git")).expect("gitfile").mtime();
    let start = std::time::Instant::now();
    while fs::metadata(admin.join("index")).expect("index").mtime() <= checkout
        || admin.join("git-sandbox-heal.pid").exists()
    {
        assert!(start.elapsed().as_secs() < 10, "the index was never healed");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(t.git(&s, &["status", "--porcelain"]), "");
    // ... and carries git's untracked cache (the `UNTR` extension), off `new`'s path.
    let index = fs::read(admin.join("index")).expect("index");
    assert!(index.windows(4).any(|w| w == b"UNTR"), "no untracked cache");
    // rm at any moment of the helper's life: never refused, never an index.lock left.
    for (round, wait_ms) in [0u64, 300, 800, 1000, 1100, 1300, 1600]
        .into_iter()
        .enumerate()
    {
        let name = format!("r{round}");
        let p = t.new_sandbox(&name);
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let out = t.run(&t.repo, &["rm", &name, "--yes"]);
        assert!(
            out.status.success(),
            "round {round} ({wait_ms} ms): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!p.exists(), "round {round}");
        let lock = t
            .repo
            .join(".git/worktrees")
            .join(p.file_name().expect("n"))
            .join("index.lock");
        assert!(!lock.exists(), "round {round}: a lock was left");
    }
}
