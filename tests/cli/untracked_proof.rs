//! Untracked paths named in-process (`git/clean/untracked.rs`) where no ignore rule could
//! apply: `status` and `list` count them as `git status --untracked-files=normal` does, for
//! every shape git names its own way (a file, a directory holding a file deep down, one
//! holding only directories, a symlink, odd names); and wherever a rule could apply (a
//! pattern in the exclude file, a `.gitignore`, a global excludes file), names compare
//! regardless of case (`core.ignoreCase`) or git could see a repository, the in-process
//! answer gives way to `git status`, with the same counts.

use std::fs;
use std::path::Path;

use crate::common::TestEnv;
use crate::list_fresh::{git_counts, settle, tool_look};

type Change = fn(&TestEnv, &Path);

/// Shapes of untracked paths the proof names itself.
fn named_in_process() -> Vec<(&'static str, Change)> {
    vec![
        ("a file at the top", |t, s| t.write(s, "new.txt", "n\n")),
        ("a file in a tracked directory", |t, s| {
            t.write(s, "src/new.rs", "n\n")
        }),
        ("a directory with a file deep down", |t, s| {
            t.write(s, "fresh/a/b/c.txt", "c\n")
        }),
        ("a directory holding only directories", |_, s| {
            fs::create_dir_all(s.join("hollow/a/b")).expect("dirs");
            fs::create_dir_all(s.join("src/hollow")).expect("dirs");
        }),
        ("a dangling symlink", |_, s| {
            std::os::unix::fs::symlink("nowhere", s.join("link")).expect("ln")
        }),
        ("a directory holding only a symlink", |_, s| {
            fs::create_dir_all(s.join("links/deep")).expect("dirs");
            std::os::unix::fs::symlink("../../README.md", s.join("links/deep/l")).expect("ln");
        }),
        ("odd names", |t, s| {
            t.write(s, "with space.txt", "x\n");
            t.write(s, "ünï/cödé.txt", "x\n");
            t.write(s, "src-x", "x\n");
        }),
        ("all of them at once", |t, s| {
            t.write(s, "new.txt", "n\n");
            t.write(s, "fresh/a/b/c.txt", "c\n");
            fs::create_dir_all(s.join("hollow/a")).expect("dirs");
            t.write(s, "src/deep/new.txt", "n\n");
        }),
    ]
}

/// Trees where git could ignore a path or see a repository: the proof must give way.
fn left_to_git() -> Vec<(&'static str, Change)> {
    vec![
        ("a pattern in info/exclude", |t, s| {
            let exclude = t.repo.join(".git/info/exclude");
            let mut text = fs::read_to_string(&exclude).expect("exclude");
            text.push_str("*.tmp\n");
            fs::write(&exclude, text).expect("w");
            t.write(s, "scratch.tmp", "t\n");
        }),
        ("an untracked .gitignore", |t, s| {
            t.write(s, "cache/.gitignore", "*\n");
            t.write(s, "cache/blob", "b\n");
        }),
        ("core.excludesFile in the global config", |t, s| {
            let ignore = t.home.join("ignore-these");
            fs::write(&ignore, "*.bak\n").expect("w");
            let cfg = t.home.join(".gitconfig");
            let mut text = fs::read_to_string(&cfg).expect("cfg");
            text.push_str(&format!("[core]\n\texcludesFile = {}\n", ignore.display()));
            fs::write(&cfg, text).expect("w");
            t.write(s, "old.bak", "b\n");
        }),
        ("the default global excludes file", |t, s| {
            fs::create_dir_all(t.home.join(".config/git")).expect("dir");
            fs::write(t.home.join(".config/git/ignore"), "*.swp\n").expect("w");
            t.write(s, "src/.lib.rs.swp", "s\n");
        }),
        ("a repository inside a new directory", |t, s| {
            fs::create_dir_all(s.join("vendor")).expect("dir");
            t.git(&s.join("vendor"), &["init", "-q", "inner"]);
        }),
        ("a file beside the tool's own in its directory", |t, s| {
            t.write(s, ".sandbox/mine.md", "m\n")
        }),
        ("core.ignoreCase: a tracked name in other case", |t, s| {
            t.git(&t.repo, &["config", "core.ignoreCase", "true"]);
            t.write(s, "README.MD", "hello\n");
            t.write(s, "SRC/lib.rs", "pub fn a() {}\n");
        }),
    ]
}

/// Puts the settings the cases changed back: the home's git files as `TestEnv` wrote them,
/// the exclude file and the repository's config.
fn restore_home(t: &TestEnv, gitconfig: &str) {
    fs::write(t.home.join(".gitconfig"), gitconfig).expect("w");
    let _ = fs::remove_dir_all(t.home.join(".config/git"));
    let exclude = t.repo.join(".git/info/exclude");
    let text = fs::read_to_string(&exclude).expect("exclude");
    fs::write(&exclude, text.replace("*.tmp\n", "")).expect("w");
    let _ = t
        .git_cmd(&t.repo)
        .args(["config", "--unset", "core.ignoreCase"])
        .output();
}

#[test]
fn untracked_paths_are_counted_as_git_counts_them_and_any_rule_leaves_them_to_git() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    let gitconfig = fs::read_to_string(t.home.join(".gitconfig")).expect("cfg");
    // Past the window in which a fresh checkout's index is healed by a `git status` instead.
    std::thread::sleep(std::time::Duration::from_millis(3200));
    for (what, change) in named_in_process() {
        settle(&t, &s);
        assert_eq!(t.git(&s, &["status", "--porcelain"]), "", "{what}: settled");
        change(&t, &s);
        let want = git_counts(&t, &s);
        let (got, proof) = tool_look(&t, "s");
        let porcelain = t.git(&s, &["status", "--porcelain"]);
        assert_eq!(got, want, "{what}: counted as git counts:\n{porcelain}");
        let expected = if want.2 == 0 {
            "look: proven clean"
        } else {
            "look: proven, untracked only"
        };
        assert_eq!(proof, Some(expected), "{what}: answered in-process");
        fs::remove_dir_all(s.join("hollow")).ok();
        fs::remove_dir_all(s.join("src/hollow")).ok();
    }
    for (what, change) in left_to_git() {
        settle(&t, &s);
        change(&t, &s);
        let want = git_counts(&t, &s);
        let (got, proof) = tool_look(&t, "s");
        assert_eq!(got, want, "{what}: counted as git counts");
        assert_eq!(proof, None, "{what}: answered in-process");
        restore_home(&t, &gitconfig);
        // What `git clean` leaves: a repository, and a directory its own rule ignores whole.
        fs::remove_dir_all(s.join("vendor")).ok();
        fs::remove_dir_all(s.join("cache")).ok();
    }
}
