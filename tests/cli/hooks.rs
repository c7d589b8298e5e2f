//! The git hooks, driven by the real git CLI against a bare remote.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{BIN, TestEnv, tree};

/// A TestEnv whose PATH has `git-sandbox` on it, as the shims need.
fn hooked() -> TestEnv {
    let mut t = TestEnv::new();
    let bin = t.root.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BIN, bin.join("git-sandbox")).expect("link");
    t.path_prefix = vec![bin];
    t
}

fn write_hook(dir: &Path, name: &str, body: &str, mode: u32) {
    fs::create_dir_all(dir).expect("hooks dir");
    crate::common::write_executable(&dir.join(name), body, mode);
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn existing_hooks_keep_running_with_args_and_stdin() {
    let t = hooked();
    let hooks = t.repo.join(".git/hooks");
    let log = t.root.join("log");
    write_hook(
        &hooks,
        "post-checkout",
        &format!(
            "#!/bin/sh\necho \"post-checkout $*\" >> {}\n",
            log.display()
        ),
        0o755,
    );
    write_hook(
        &hooks,
        "pre-push",
        &format!(
            "#!/bin/sh\necho \"pre-push $*\" >> {0}\ncat >> {0}.stdin\n",
            log.display()
        ),
        0o750,
    );
    t.ok(&t.repo, &["hooks", "install"]);
    // Twice changes nothing.
    let once = tree(&hooks);
    t.ok(&t.repo, &["hooks", "install"]);
    assert_eq!(tree(&hooks), once);

    let s = t.new_sandbox("s");
    t.git(&s, &["checkout", "-q", "-b", "s2"]);
    let logged = fs::read_to_string(&log).expect("log");
    assert!(
        logged
            .lines()
            .any(|l| l.starts_with("post-checkout ") && l.ends_with(" 1")),
        "{logged}"
    );

    t.commit_file(&s, "x.txt", "x\n", "x");
    let oid = t.git(&s, &["rev-parse", "HEAD"]).trim().to_string();
    t.git(&s, &["push", "-q", "origin", "s2"]);
    let logged = fs::read_to_string(&log).expect("log");
    assert!(
        logged.contains(&format!("pre-push origin {}", t.remote.display())),
        "{logged}"
    );
    let stdin = fs::read_to_string(format!("{}.stdin", log.display())).expect("stdin");
    assert_eq!(
        stdin,
        format!("refs/heads/s2 {oid} refs/heads/s2 {}\n", "0".repeat(40))
    );
    // Our part recorded the push (of the branch checked out now, not the registered one).
    let reg = t.registry();
    let entry = &reg["instances"][0];
    assert_eq!(entry["branch"], "s");
    assert_eq!(entry["pushed"]["remote"], "origin");
    assert_eq!(entry["pushed"]["remote_ref"], "refs/heads/s2");
    assert_eq!(entry["pushed"]["oid"], oid.as_str());
    let status = t.ok(&s, &["status"]);
    assert!(status.contains("pushed just now"), "{status}");
}

#[test]
fn failing_existing_pre_push_still_blocks() {
    let t = hooked();
    let hooks = t.repo.join(".git/hooks");
    write_hook(
        &hooks,
        "pre-push",
        "#!/bin/sh\necho 'no pushing today' >&2\nexit 1\n",
        0o755,
    );
    t.ok(&t.repo, &["hooks", "install"]);
    let s = t.new_sandbox("s");
    let out = t
        .git_cmd(&s)
        .args(["push", "origin", "s"])
        .output()
        .expect("push");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no pushing today"));
    assert!(t.git(&t.remote, &["branch", "--list", "s"]).is_empty());
}

#[test]
fn uninstall_restores_bytes_and_modes() {
    let t = hooked();
    let hooks = t.repo.join(".git/hooks");
    write_hook(
        &hooks,
        "post-checkout",
        "#!/bin/sh\n# mine\nexit 0\n",
        0o700,
    );
    let before = tree(&hooks);
    t.ok(&t.repo, &["hooks", "install"]);
    assert_ne!(tree(&hooks), before);
    let status = t.ok(&t.repo, &["hooks", "status"]);
    assert!(
        status.contains("post-checkout: installed (runs post-checkout.pre-git-sandbox first)"),
        "{status}"
    );
    let out = t.run(&t.repo, &["hooks", "uninstall"]);
    assert_eq!(tree(&hooks), before);
    let said = stderr(&out);
    assert!(
        said.contains("post-checkout: removed; the hook that was there before is back"),
        "{said}"
    );
    // pre-push had nothing before it: nothing is claimed back.
    assert!(said.contains("pre-push: removed\n"), "{said}");
    let said = stderr(&t.run(&t.repo, &["hooks", "uninstall"]));
    assert!(said.contains("pre-push: not installed"), "{said}");
}

#[test]
fn core_hooks_path_relative_and_absolute() {
    for absolute in [false, true] {
        let t = hooked();
        let dir: PathBuf = if absolute {
            t.root.join("shared-hooks")
        } else {
            t.repo.join(".githooks")
        };
        let value = if absolute {
            dir.to_str().expect("utf8").to_string()
        } else {
            ".githooks".to_string()
        };
        t.git(&t.repo, &["config", "core.hooksPath", &value]);
        t.ok(&t.repo, &["hooks", "install"]);
        assert!(dir.join("post-checkout").is_file(), "absolute={absolute}");
        assert!(dir.join("pre-push").is_file(), "absolute={absolute}");
        assert!(!t.repo.join(".git/hooks/post-checkout").exists());
        if absolute {
            // Shared by every worktree: a sandbox's checkout runs it.
            let s = t.new_sandbox("s");
            t.git(&s, &["checkout", "-q", "-b", "moved"]);
            t.commit_file(&s, "m.txt", "m", "m");
            t.git(&s, &["checkout", "-q", "s"]);
            let out = t
                .git_cmd(&s)
                .args(["checkout", "moved"])
                .output()
                .expect("co");
            assert!(stderr(&out).contains("branch moved of sandbox s has never been pushed"));
        }
    }
}

#[test]
fn install_from_a_sandbox_goes_to_the_shared_hooks_dir() {
    let t = hooked();
    let s = t.new_sandbox("s");
    t.ok(&s, &["hooks", "install"]);
    assert!(t.repo.join(".git/hooks/post-checkout").is_file());
}

/// The never-pushed lines a checkout printed.
fn never_pushed(t: &TestEnv, dir: &Path, args: &[&str]) -> Vec<String> {
    let out = t.git_cmd(dir).args(args).output().expect("git");
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
        .lines()
        .filter(|l| l.contains("never been pushed"))
        .map(String::from)
        .collect()
}

#[test]
fn never_pushed_warns_once_per_branch_and_checkouts_write_nothing() {
    let t = hooked();
    t.ok(&t.repo, &["hooks", "install"]);
    let s = t.new_sandbox("s");
    let registry = || fs::read(t.reg_home.join("registry.json")).expect("registry");
    let stamp = || {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(t.reg_home.join("registry.json")).expect("registry");
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let before = registry();
    let stamp_before = stamp();
    // Right after `checkout -b` there is nothing to push yet: quiet.
    assert_eq!(
        never_pushed(&t, &s, &["checkout", "-b", "feature"]),
        Vec::<String>::new()
    );
    t.commit_file(&s, "f.txt", "f", "f");
    t.git(&s, &["checkout", "-q", "s"]);
    // Once it has work of its own: one line, the first time only.
    let first = never_pushed(&t, &s, &["checkout", "feature"]);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(
        first[0].contains("branch feature of sandbox s"),
        "{first:?}"
    );
    t.git(&s, &["checkout", "-q", "s"]);
    assert!(never_pushed(&t, &s, &["checkout", "feature"]).is_empty());
    // No checkout wrote the registry: not its bytes, and not the file (an atomic rewrite
    // would change the inode; a write in place, the mtime).
    assert_eq!(registry(), before, "a checkout wrote the registry");
    assert_eq!(
        stamp(),
        stamp_before,
        "a checkout touched the registry file"
    );
    // Pushed to a second remote only: not "never pushed".
    let other = t.root.join("other.git");
    t.git(&t.root, &["init", "-q", "--bare", "other.git"]);
    t.git(&s, &["checkout", "-q", "-b", "elsewhere"]);
    t.commit_file(&s, "e.txt", "e", "e");
    t.git(
        &s,
        &["remote", "add", "second", other.to_str().expect("utf8")],
    );
    t.git(&s, &["push", "-q", "second", "elsewhere"]);
    t.git(&s, &["checkout", "-q", "s"]);
    assert!(never_pushed(&t, &s, &["checkout", "elsewhere"]).is_empty());
    let row: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "s", "--json"])).expect("json");
    assert_eq!(row["sandbox"]["branch"], "elsewhere");
    assert_eq!(row["sandbox"]["never_pushed"], false, "{row}");
    // Outside sandboxes: quiet.
    let out = t
        .git_cmd(&t.repo)
        .args(["checkout", "-b", "other"])
        .output()
        .expect("checkout");
    assert!(!stderr(&out).contains("git-sandbox"), "{}", stderr(&out));
}

/// A `git-sandbox` that fails loudly and leaves a mark, first on the caller's PATH.
fn decoy(dir: &Path) -> (std::ffi::OsString, PathBuf) {
    let bin = dir.join("decoy-bin");
    let mark = dir.join("decoy-ran");
    write_hook(
        &bin,
        "git-sandbox",
        &format!(
            "#!/bin/sh\necho DECOY git-sandbox ran >&2\ntouch {}\nexit 99\n",
            mark.display()
        ),
        0o755,
    );
    let mut path = vec![bin];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    (std::env::join_paths(path).expect("PATH"), mark)
}

/// Checks out a branch with a commit of its own, the checkout that warns when it was never
/// pushed; returns git's stderr.
fn checkout_unpushed(t: &TestEnv, s: &Path, branch: &str) -> String {
    t.git(s, &["checkout", "-q", "-b", branch]);
    t.commit_file(s, &format!("{branch}.txt"), "x", "x");
    t.git(s, &["checkout", "-q", "s"]);
    let out = t
        .git_cmd(s)
        .args(["checkout", branch])
        .output()
        .expect("co");
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
}

#[test]
fn without_git_sandbox_on_path_git_works_normally() {
    let dir = tempfile::tempdir().expect("tmp");
    let (inherited, mark) = decoy(dir.path());
    // The caller's PATH starts with a decoy: the suite's own PATH never reaches it.
    let mut t = TestEnv::with_inherited_path(&inherited);
    let bin = t.root.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    // An installed copy of the binary, which the user may later delete.
    let installed = bin.join("git-sandbox");
    crate::common::install_executable(Path::new(BIN), &installed);
    t.path_prefix = vec![bin.clone()];
    let out = t
        .program(installed.to_str().expect("utf8"), &t.repo)
        .args(["hooks", "install"])
        .output()
        .expect("install");
    assert!(out.status.success(), "{}", stderr(&out));
    let hook = t.repo.join(".git/hooks/post-checkout");
    // Nothing to chain: post-checkout is the binary itself (no shell on every checkout).
    assert_eq!(fs::read_link(&hook).expect("a link"), installed);
    let s = t.new_sandbox("s");
    // With the binary there, the hook runs it (so the checks below can fail).
    let err = checkout_unpushed(&t, &s, "withbin");
    assert!(
        err.contains("branch withbin of sandbox s has never been pushed"),
        "{err}"
    );
    // The binary gone (and off PATH): checkout and push work as if no hook were there.
    fs::remove_file(&installed).expect("uninstall the binary");
    t.path_prefix.clear();
    let err = checkout_unpushed(&t, &s, "nobin");
    assert!(err.lines().all(|l| !l.contains("git-sandbox")), "{err}");
    let out = t
        .git_cmd(&s)
        .args(["push", "origin", "nobin"])
        .output()
        .expect("push");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!mark.exists(), "the decoy git-sandbox ran");
}

#[test]
fn corrupt_registry_breaks_neither_checkout_nor_push() {
    let t = hooked();
    t.ok(&t.repo, &["hooks", "install"]);
    let s = t.new_sandbox("s");
    fs::write(t.reg_home.join("registry.json"), "{ corrupt").expect("corrupt");
    let out = t
        .git_cmd(&s)
        .args(["checkout", "-b", "c"])
        .output()
        .expect("checkout");
    assert!(out.status.success());
    assert!(
        stderr(&out)
            .lines()
            .filter(|l| l.contains("git-sandbox"))
            .count()
            <= 1
    );
    let out = t
        .git_cmd(&s)
        .args(["push", "origin", "c"])
        .output()
        .expect("push");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(t.reg_home.join("registry.json")).expect("r"),
        "{ corrupt"
    );
}

#[test]
fn protected_branches_refuse_pushes_from_sandboxes_only() {
    let t = hooked();
    t.write(&t.repo, ".sandbox.toml", "protect = [\"main\"]\n");
    t.ok(&t.repo, &["hooks", "install"]);
    let s = t.new_sandbox("s");
    t.commit_file(&s, "x.txt", "x\n", "x");
    let out = t
        .git_cmd(&s)
        .args(["push", "origin", "HEAD:main"])
        .output()
        .expect("push");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("protected branch main"),
        "{}",
        stderr(&out)
    );
    let out = t
        .git_cmd(&s)
        .args(["push", "origin", "HEAD:s"])
        .output()
        .expect("push");
    assert!(out.status.success(), "{}", stderr(&out));
    // The main worktree is not a sandbox: its pushes are its own business.
    let out = t
        .git_cmd(&t.repo)
        .args(["push", "origin", "main"])
        .output()
        .expect("push");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn hook_managers_are_not_edited_silently() {
    let t = hooked();
    let husky = t.repo.join(".husky/_");
    fs::create_dir_all(&husky).expect("husky");
    t.git(&t.repo, &["config", "core.hooksPath", ".husky/_"]);
    let before = tree(&husky);
    let err = t.fails(&t.repo, &["hooks", "install"], 1);
    assert!(
        err.contains("husky") && err.contains(".husky/post-checkout"),
        "{err}"
    );
    assert_eq!(tree(&husky), before);
}

#[test]
fn a_held_registry_lock_delays_checkout_only_briefly() {
    let t = hooked();
    t.ok(&t.repo, &["hooks", "install"]);
    let s = t.new_sandbox("s");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(t.reg_home.join("registry.lock"))
        .expect("lock file");
    lock.lock().expect("hold the registry lock");
    let start = std::time::Instant::now();
    let out = t
        .git_cmd(&s)
        .args(["checkout", "-b", "while-locked"])
        .output()
        .expect("checkout");
    let took = start.elapsed();
    drop(lock);
    assert!(out.status.success());
    assert!(
        took < std::time::Duration::from_secs(2),
        "checkout took {took:?}"
    );
    let warnings = stderr(&out)
        .lines()
        .filter(|l| l.contains("git-sandbox"))
        .count();
    assert!(warnings <= 2, "{}", stderr(&out));
    assert_eq!(
        t.git(&s, &["branch", "--show-current"]).trim(),
        "while-locked"
    );
}

#[test]
fn a_branch_checked_out_by_hand_is_never_deleted_by_rm() {
    let t = hooked();
    t.ok(&t.repo, &["hooks", "install"]);
    let s = t.new_sandbox("s");
    t.git(&s, &["checkout", "-q", "-b", "mine"]);
    let row: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "s", "--json"])).expect("json");
    assert_eq!(row["sandbox"]["branch"], "mine");
    assert_eq!(row["sandbox"]["created_branch"], false);
    let out = t.run(&t.repo, &["rm", "s", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("keeping branch s: the worktree is not on it"),
        "{}",
        stderr(&out)
    );
    assert!(t.branches().contains(&"mine".to_string()));
    assert!(t.branches().contains(&"s".to_string()));
}

#[test]
fn a_branch_pushed_only_to_a_second_remote_is_not_never_pushed_even_without_hooks() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    t.commit_file(&s, "f.txt", "f", "f");
    t.git(&t.root, &["init", "-q", "--bare", "second.git"]);
    let second = t.root.join("second.git");
    t.git(
        &s,
        &["remote", "add", "second", second.to_str().expect("utf8")],
    );
    let never = |t: &TestEnv| -> serde_json::Value {
        let row: serde_json::Value =
            serde_json::from_str(&t.ok(&t.repo, &["status", "s", "--json"])).expect("json");
        row["sandbox"]["never_pushed"].clone()
    };
    assert_eq!(never(&t), true);
    t.git(&s, &["push", "-q", "second", "s"]);
    assert_eq!(never(&t), false);
}

#[test]
fn a_users_linked_hook_is_kept_and_a_renamed_binary_knows_its_own_link() {
    let t = hooked();
    // The user's own hook is a link to a script whose name starts like ours.
    let tools = t.root.join("tools");
    fs::create_dir_all(&tools).expect("tools");
    let script = tools.join("git-sandbox-notify.sh");
    let mark = t.root.join("notified");
    let body = format!("#!/bin/sh\ntouch {}\n", mark.display());
    crate::common::write_executable(&script, &body, 0o755);
    let hook = t.repo.join(".git/hooks/post-checkout");
    std::os::unix::fs::symlink(&script, &hook).expect("link");
    t.ok(&t.repo, &["hooks", "install"]);
    let kept = t.repo.join(".git/hooks/post-checkout.pre-git-sandbox");
    assert_eq!(fs::read_link(&kept).expect("kept aside"), script);
    t.git(&t.repo, &["checkout", "-q", "-b", "other"]);
    assert!(mark.exists(), "the user's hook still runs");
    t.ok(&t.repo, &["hooks", "uninstall"]);
    assert_eq!(fs::read_link(&hook).expect("restored"), script);

    // A binary installed under another name: its own link is its own, on every run.
    fs::remove_file(&hook).expect("rm");
    let renamed = t.root.join("bin").join("git-sb");
    crate::common::install_executable(Path::new(crate::common::BIN), &renamed);
    let sb = |args: &[&str]| {
        let out = t
            .program(renamed.to_str().expect("utf8"), &t.repo)
            .args(args)
            .output();
        let out = out.expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out)
    };
    sb(&["hooks", "install"]);
    sb(&["hooks", "install"]);
    assert_eq!(fs::read_link(&hook).expect("link"), renamed);
    assert!(
        !kept.exists(),
        "its own link was not chained as a foreign hook"
    );
    let out = t
        .git_cmd(&t.repo)
        .args(["checkout", "-q", "-"])
        .output()
        .expect("checkout");
    assert!(out.status.success(), "{}", stderr(&out));
    sb(&["hooks", "uninstall"]);
    assert!(
        fs::symlink_metadata(&hook).is_err(),
        "uninstall removed the link"
    );
}
