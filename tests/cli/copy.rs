//! `copy = [...]` never writes through a symlink in the sandbox and never reads through one in
//! the main worktree: such entries are skipped, with a warning naming them.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{TestEnv, tree};

fn new_with_stderr(t: &TestEnv, args: &[&str]) -> (PathBuf, String) {
    let out = t.run(&t.repo, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {err}");
    (
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        err,
    )
}

fn is_link(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn copy_never_writes_through_a_link_in_the_sandbox() {
    let t = TestEnv::new();
    let outside = t.root.join("outside");
    fs::create_dir_all(&outside).expect("outside");
    // On branch `linked`, `data` and `one.local` are tracked links pointing outside.
    t.git(&t.repo, &["checkout", "-q", "-b", "linked"]);
    std::os::unix::fs::symlink(&outside, t.repo.join("data")).expect("link");
    std::os::unix::fs::symlink(outside.join("one"), t.repo.join("one.local")).expect("link");
    t.git(&t.repo, &["add", "data", "one.local"]);
    t.git(&t.repo, &["commit", "-q", "-m", "links"]);
    t.git(&t.repo, &["checkout", "-q", "main"]);
    // In the main worktree they are ignored real files.
    t.write(&t.repo, ".gitignore", "data/\n*.local\n");
    t.write(&t.repo, "data/x", "x\n");
    t.write(&t.repo, "data/sub/y", "y\n");
    t.write(&t.repo, "one.local", "one\n");
    t.write(&t.repo, "two.local", "two\n");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "copy = [\"data/x\", \"data/sub\", \"*.local\"]\n",
    );
    t.ok(&t.repo, &["trust"]);
    let (s, err) = new_with_stderr(&t, &["new", "s", "--from", "linked"]);
    assert!(
        tree(&outside).is_empty(),
        "written outside: {:?}",
        tree(&outside)
    );
    assert!(is_link(&s.join("data")) && is_link(&s.join("one.local")));
    for entry in ["data/x", "data/sub", "one.local"] {
        assert!(
            err.lines()
                .any(|l| l.contains("warning:") && l.contains("skipped") && l.contains(entry)),
            "no warning naming {entry}: {err}"
        );
    }
    // What is not in the way is still copied.
    assert_eq!(
        fs::read_to_string(s.join("two.local")).expect("two"),
        "two\n"
    );
}

#[test]
fn copy_never_reads_through_a_link_in_the_main_worktree() {
    let t = TestEnv::new();
    let secret = t.root.join("secret");
    t.write(&secret, "key.txt", "do not copy\n");
    t.write(&t.repo, ".gitignore", "cache\nconf/\n");
    std::os::unix::fs::symlink(&secret, t.repo.join("cache")).expect("link");
    t.write(&t.repo, "conf/app.ini", "a=1\n");
    std::os::unix::fs::symlink(secret.join("key.txt"), t.repo.join("conf/key")).expect("link");
    t.write(
        &t.repo,
        ".sandbox.toml",
        "copy = [\"cache/key.txt\", \"cache/*\", \"cache\", \"conf\"]\n",
    );
    t.ok(&t.repo, &["trust"]);
    let (s, err) = new_with_stderr(&t, &["new", "s"]);
    // `cache` itself is copied as the link it is; nothing is read through it.
    assert!(is_link(&s.join("cache")), "{:?}", tree(&s));
    assert_eq!(
        fs::read_link(s.join("cache")).expect("link"),
        fs::read_link(t.repo.join("cache")).expect("link")
    );
    assert!(
        err.lines()
            .any(|l| l.contains("warning:") && l.contains("cache/key.txt")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("warning:") && l.contains("cache/*")),
        "{err}"
    );
    // A directory's links come along as links.
    assert_eq!(
        fs::read_to_string(s.join("conf/app.ini")).expect("ini"),
        "a=1\n"
    );
    assert!(is_link(&s.join("conf/key")));
    // No file in the sandbox holds the secret's bytes.
    let copied_secret = tree(&s)
        .into_iter()
        .any(|(p, (_, bytes))| bytes == b"do not copy\n" && !is_link(&s.join(p)));
    assert!(!copied_secret);
}

#[test]
fn double_star_globs_and_worktreeinclude_bring_ignored_files() {
    let t = TestEnv::new();
    t.write(&t.repo, ".gitignore", ".env.local\ncache/\n*.key\n");
    t.write(
        &t.repo,
        ".worktreeinclude",
        "# files agents need\n.env.local\ncache/\n!nothing\n",
    );
    t.write(&t.repo, ".sandbox.toml", "copy = [\"deep/**/*.key\"]\n");
    t.git(
        &t.repo,
        &["add", ".gitignore", ".worktreeinclude", ".sandbox.toml"],
    );
    t.git(&t.repo, &["commit", "-q", "-m", "copy config"]);
    t.write(&t.repo, ".env.local", "SECRET=1\n");
    t.write(&t.repo, "sub/.env.local", "SECRET=2\n");
    t.write(&t.repo, "cache/blob", "cached\n");
    t.write(&t.repo, "deep/a/b/c.key", "key\n");
    t.write(&t.repo, "deep/top.key", "top\n");
    t.write(&t.repo, "untracked-not-ignored.txt", "not for sandboxes\n");
    // `**` never goes down a link: a key outside the repo stays there.
    let outside = t.root.join("outside-keys");
    t.write(&outside, "stolen.key", "outside\n");
    std::os::unix::fs::symlink(&outside, t.repo.join("deep/link")).expect("link");
    t.ok(&t.repo, &["trust"]);
    let s = t.new_sandbox("s");
    assert!(!s.join("deep/link/stolen.key").exists());
    assert!(fs::symlink_metadata(s.join("deep/link")).is_err());
    for (rel, text) in [
        (".env.local", "SECRET=1\n"),
        ("sub/.env.local", "SECRET=2\n"),
        ("cache/blob", "cached\n"),
        ("deep/a/b/c.key", "key\n"),
        ("deep/top.key", "top\n"),
    ] {
        assert_eq!(
            fs::read_to_string(s.join(rel)).unwrap_or_default(),
            text,
            "{rel}"
        );
    }
    assert!(!s.join("untracked-not-ignored.txt").exists());
}

#[test]
fn the_copy_command_brings_what_is_missing_and_never_overwrites() {
    let t = TestEnv::new();
    t.write(&t.repo, ".gitignore", ".env.local\n*.cache\n");
    t.write(&t.repo, ".worktreeinclude", ".env.local\n*.cache\n");
    t.git(&t.repo, &["add", ".gitignore", ".worktreeinclude"]);
    t.git(&t.repo, &["commit", "-q", "-m", "include"]);
    t.write(&t.repo, ".env.local", "SECRET=main\n");
    t.ok(&t.repo, &["trust"]);
    let s = t.new_sandbox("s");
    // The sandbox edits its copy; the main worktree gets a new file.
    t.write(&s, ".env.local", "SECRET=edited in the sandbox\n");
    t.write(&t.repo, "new.cache", "fresh\n");
    t.ok(&t.repo, &["copy", "s"]);
    assert_eq!(
        fs::read_to_string(s.join(".env.local")).expect("kept"),
        "SECRET=edited in the sandbox\n"
    );
    assert_eq!(
        fs::read_to_string(s.join("new.cache")).expect("copied"),
        "fresh\n"
    );
}

#[test]
fn copies_are_copy_on_write_where_the_filesystem_clones_and_the_report_says_which() {
    let t = TestEnv::new();
    t.write(&t.repo, ".gitignore", "cache/\n");
    t.write(&t.repo, ".sandbox.toml", "copy = [\"cache/**\"]\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "copy"]);
    let big = "x".repeat(1 << 20);
    t.write(&t.repo, "cache/a.bin", &big);
    t.write(&t.repo, "cache/deep/b.bin", &big);
    // Whether this filesystem clones, asked of cp itself beside the repo.
    let probe = t.root.join("probe");
    fs::write(&probe, "p").expect("probe");
    let clones = t
        .program("sh", &t.root)
        .args(["-c", "cp --reflink=always probe probe.clone 2>/dev/null"])
        .status()
        .is_ok_and(|s| s.success());
    t.ok(&t.repo, &["trust"]);
    let (s, err) = new_with_stderr(&t, &["new", "a"]);
    assert_eq!(
        fs::read_to_string(s.join("cache/deep/b.bin")).expect("copied"),
        big
    );
    assert!(err.contains("copied 2 file(s), 2.0 MiB"), "{err}");
    if clones {
        assert!(err.contains("(all copy-on-write)"), "{err}");
    } else {
        assert!(
            err.contains("this filesystem does not clone files"),
            "{err}"
        );
        crate::common::skip(
            "copy::copy-on-write clones",
            "this machine's filesystem does not reflink (cp --reflink=always fails): full copies were checked",
        );
    }
    // The clone is a separate file: writing the sandbox's leaves the main worktree's alone.
    fs::write(s.join("cache/a.bin"), "changed").expect("write");
    assert_eq!(
        fs::read_to_string(t.repo.join("cache/a.bin")).expect("main"),
        big
    );
}
