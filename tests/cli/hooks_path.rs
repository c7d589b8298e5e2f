//! `hooks install` never edits tracked files: a `core.hooksPath` in the project's tracked tree
//! (relative, so each worktree has its own copy, or absolute into a checkout) is refused with
//! the lines to add to the project's hooks, and those lines work.

use std::fs;
use std::path::Path;

use crate::common::{BIN, TestEnv, tree};

/// A TestEnv whose PATH has `git-sandbox` on it, and a tracked `.githooks/pre-push`.
fn tracked_hooks() -> TestEnv {
    let mut t = TestEnv::new();
    let bin = t.root.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BIN, bin.join("git-sandbox")).expect("link");
    t.path_prefix = vec![bin];
    write_hook(&t.repo, "pre-push", "#!/bin/sh\nexit 0\n");
    t.git(&t.repo, &["add", ".githooks"]);
    t.git(&t.repo, &["commit", "-q", "-m", "project hooks"]);
    t.git(&t.repo, &["push", "-q"]);
    t
}

fn write_hook(worktree: &Path, name: &str, body: &str) {
    let dir = worktree.join(".githooks");
    fs::create_dir_all(&dir).expect("hooks dir");
    crate::common::write_executable(&dir.join(name), body, 0o755);
}

/// `hooks install` from `dir` refuses (exit 1, `--force` too) and changes no file anywhere.
fn refused(t: &TestEnv, dir: &Path, sandbox: &Path) -> String {
    let before = (tree(&t.repo), tree(sandbox));
    let mut said = String::new();
    for args in [&["hooks", "install"][..], &["hooks", "install", "--force"]] {
        said = t.fails(dir, args, 1);
        assert!(said.contains("never edits tracked files"), "{said}");
        assert!(said.contains(".githooks/pre-push"), "{said}");
    }
    assert_eq!((tree(&t.repo), tree(sandbox)), before);
    assert!(t.git(sandbox, &["status", "--porcelain"]).is_empty());
    said
}

#[test]
fn a_relative_hooks_path_in_tracked_files_is_refused_from_anywhere() {
    let t = tracked_hooks();
    t.git(&t.repo, &["config", "core.hooksPath", ".githooks"]);
    let s = t.new_sandbox("s");
    refused(&t, &s, &s);
    refused(&t, &t.repo, &s);
    let status = t.ok(&s, &["hooks", "status"]);
    assert!(status.contains("holds tracked files"), "{status}");
}

#[test]
fn an_absolute_hooks_path_into_a_checkout_is_refused() {
    let t = tracked_hooks();
    let s = t.new_sandbox("s");
    let into_sandbox = s.join(".githooks");
    t.git(
        &t.repo,
        &[
            "config",
            "core.hooksPath",
            into_sandbox.to_str().expect("utf8"),
        ],
    );
    refused(&t, &t.repo, &s);
    let into_main = t.repo.join(".githooks");
    t.git(
        &t.repo,
        &[
            "config",
            "core.hooksPath",
            into_main.to_str().expect("utf8"),
        ],
    );
    refused(&t, &s, &s);
}

#[test]
fn the_lines_it_gives_chain_git_sandbox_from_the_project_hooks() {
    let t = tracked_hooks();
    t.git(&t.repo, &["config", "core.hooksPath", ".githooks"]);
    let said = refused(&t, &t.repo, &t.repo);
    let snippet = |after: &str| -> String {
        let start = said.find(after).expect("hint");
        said[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .map(|l| format!("{}\n", l.trim()))
            .collect()
    };
    let log = t.root.join("pushed.log");
    write_hook(
        &t.repo,
        "post-checkout",
        &format!("#!/bin/sh\n{}", snippet("post-checkout:")),
    );
    write_hook(
        &t.repo,
        "pre-push",
        &format!(
            "#!/bin/sh\n{}printf '%s\\n' \"$input\" > {}\n",
            snippet("pre-push (it"),
            log.display()
        ),
    );
    t.git(&t.repo, &["add", ".githooks"]);
    t.git(&t.repo, &["commit", "-q", "-m", "chain git-sandbox"]);
    t.git(&t.repo, &["push", "-q"]);
    let s = t.new_sandbox("s");
    t.git(&s, &["checkout", "-q", "-b", "moved"]);
    t.commit_file(&s, "m.txt", "m\n", "m");
    t.git(&s, &["checkout", "-q", "s"]);
    let out = t
        .git_cmd(&s)
        .args(["checkout", "moved"])
        .output()
        .expect("co");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("branch moved of sandbox s has never been pushed"),
        "{err}"
    );
    t.git(&s, &["push", "-q", "origin", "moved"]);
    // The project's own hook still got the refs on stdin, and git-sandbox recorded the push.
    let logged = fs::read_to_string(&log).expect("the project's pre-push ran");
    assert!(logged.contains("refs/heads/moved"), "{logged}");
    let reg = t.registry();
    assert!(reg["instances"][0]["pushed"].is_object(), "{reg}");
}
