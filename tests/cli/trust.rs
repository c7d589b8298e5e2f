//! Trust covers everything the repository's config can make git-sandbox do, not only its
//! commands: `path`, `disposable`, `copy`, `.worktreeinclude`. Until the user approves them
//! the safe meaning holds (the default path, every ignored file kept in the trash, nothing
//! copied), and stderr says once what was ignored and how to approve. Off a terminal here.

use std::fs;
use std::path::PathBuf;

use crate::common::TestEnv;

fn commit_config(t: &TestEnv, text: &str) {
    t.write(&t.repo, ".sandbox.toml", text);
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    t.git(&t.repo, &["push", "-q"]);
}

/// A pushed sandbox holding the user's ignored files: an env file and a database.
fn with_ignored_work(t: &TestEnv, name: &str) -> PathBuf {
    let p = PathBuf::from(t.ok(&t.repo, &["new", name]).trim());
    t.git(&p, &["push", "-q", "-u", "origin", name]);
    t.write(&p, ".env.local", "SECRET=1\n");
    t.write(&p, "data/app.sqlite", "rows\n");
    p
}

fn assert_work_back(p: &std::path::Path) {
    assert_eq!(
        fs::read_to_string(p.join(".env.local")).expect("env"),
        "SECRET=1\n"
    );
    assert_eq!(
        fs::read_to_string(p.join("data/app.sqlite")).expect("db"),
        "rows\n"
    );
}

#[test]
fn untrusted_disposable_deletes_nothing_rm_keeps_every_ignored_file() {
    let t = TestEnv::new();
    t.ignore(".env.local\ndata/\n");
    commit_config(&t, "disposable = [\"*\"]\n");
    let p = with_ignored_work(&t, "s");
    // rm --yes confirms the removal; it approves nothing of the config's.
    let out = t.run(&t.repo, &["rm", "s", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("disposable is not trusted yet"), "{err}");
    assert!(err.contains("git sandbox trust"), "{err}");
    assert_eq!(
        err.matches("not trusted yet").count(),
        1,
        "said once: {err}"
    );
    assert!(err.contains("kept in the trash"), "{err}");
    t.ok(&t.repo, &["restore", "s"]);
    assert_work_back(&p);

    // prune --merged goes through the same gate.
    t.commit_file(&p, "done.txt", "done\n", "done");
    t.git(&p, &["push", "-q"]);
    t.git(&t.repo, &["merge", "-q", "--ff-only", "s"]);
    t.git(&t.repo, &["push", "-q"]);
    let out = t.run(&t.repo, &["prune", "--merged", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!p.exists(), "{err}");
    t.ok(&t.repo, &["restore", "s"]);
    assert_work_back(&p);

    // Approved, the repo's patterns apply: `*` deletes them (that is what was approved).
    t.ok(&t.repo, &["trust"]);
    t.ok(&t.repo, &["rm", "s", "--yes", "--delete-branch"]);
    t.ok(&t.repo, &["restore", "s"]);
    assert!(!p.join(".env.local").exists());
}

#[test]
fn untrusted_path_and_copy_are_ignored_with_one_notice() {
    let t = TestEnv::new();
    t.ignore(".env.local\n");
    t.write(&t.repo, ".env.local", "SECRET=main\n");
    t.write(&t.repo, ".worktreeinclude", ".env.local\n");
    commit_config(&t, "path = \"../trees/{name}\"\ncopy = [\".env.local\"]\n");
    let out = t.run(&t.repo, &["new", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let a = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert_eq!(a, t.sandbox_path("a"), "the default path");
    assert!(!a.join(".env.local").exists(), "nothing copied");
    assert!(
        err.contains("path, copy, .worktreeinclude are not trusted yet, so ignored"),
        "{err}"
    );
    assert!(
        err.contains("git sandbox trust") && err.contains("--yes"),
        "{err}"
    );
    assert!(!t.root.join("work/trees").exists());
    // `--yes` applies them for one run, storing nothing; `trust` for good.
    let b = PathBuf::from(t.ok(&t.repo, &["new", "b", "--yes"]).trim());
    assert_eq!(b, t.root.join("work/trees/b"));
    assert!(b.join(".env.local").is_file());
    let shown = t.ok(&t.repo, &["trust", "--show"]);
    assert!(shown.contains("path: \"../trees/{name}\""), "{shown}");
    assert!(shown.contains("copy: [\".env.local\"]"), "{shown}");
    assert!(shown.contains(".worktreeinclude"), "{shown}");
    assert_eq!(
        PathBuf::from(t.ok(&t.repo, &["new", "c"]).trim()),
        t.sandbox_path("c")
    );
    t.ok(&t.repo, &["trust"]);
    let d = PathBuf::from(t.ok(&t.repo, &["new", "d"]).trim());
    assert_eq!(d, t.root.join("work/trees/d"));
    assert!(d.join(".env.local").is_file());
    // A changed request is asked about again.
    commit_config(&t, "path = \"../other/{name}\"\ncopy = [\".env.local\"]\n");
    let out = t.run(&t.repo, &["new", "e"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not trusted yet"));
    assert!(!t.root.join("work/other").exists());
}

#[test]
fn a_config_that_asks_for_nothing_needs_no_trust() {
    let t = TestEnv::new();
    t.ignore("node_modules/\n");
    commit_config(
        &t,
        "env_prefix = \"APP_\"\n\
         disposable = [\"node_modules/\", \"target/\"]\n[ports]\nweb = 18650\n",
    );
    let out = t.run(&t.repo, &["new", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("trust"), "{err}");
    let shown = t.ok(&t.repo, &["trust", "--show"]);
    assert!(shown.is_empty(), "{shown}");
    // The tool's own default patterns (not the repo's) still apply without trust.
    let a = t.sandbox_path("a");
    t.git(&a, &["push", "-q", "-u", "origin", "a"]);
    t.write(&a, "node_modules/x/index.js", "cache\n");
    let out = t.run(&t.repo, &["rm", "a", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("trust"), "{err}");
    t.ok(&t.repo, &["restore", "a"]);
    assert!(!a.join("node_modules").exists());
}

#[test]
fn on_a_terminal_it_asks_once_for_everything_and_remembers_a_yes() {
    let t = TestEnv::new();
    commit_config(
        &t,
        "path = \"../trees/{name}\"\n[commands]\nsetup = [\"echo ran > setup.out\"]\n",
    );
    // No: the safe meaning, and the commands are not asked about a second time.
    let Some((code, shown)) = t.on_terminal(&t.repo, "new a", "n\n") else {
        return;
    };
    assert_eq!(code, 1, "{shown}");
    assert_eq!(shown.matches("Trust them").count(), 1, "{shown}");
    assert!(shown.contains("path: \"../trees/{name}\"") && shown.contains("setup: echo ran"));
    assert!(t.sandbox_path("a").is_dir() && !t.sandbox_path("a").join("setup.out").exists());
    // Yes: applied now and remembered.
    let (code, shown) = t.on_terminal(&t.repo, "new b", "y\n").expect("script");
    assert_eq!(code, 0, "{shown}");
    assert!(t.root.join("work/trees/b/setup.out").is_file(), "{shown}");
    let c = PathBuf::from(t.ok(&t.repo, &["new", "c"]).trim());
    assert_eq!(c, t.root.join("work/trees/c"));
}
