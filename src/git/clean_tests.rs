//! The proof against git itself: a settled linked worktree, then one change at a time (each a
//! kind of thing `git status` reports, or a kind of tree the proof must not vouch for). On
//! every case, a proof is given only where `git status` reports nothing, and on the changed
//! trees it is not given at all.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::git::test_git as git;
use crate::git::{Repo, Scan};

/// A repository with files at the top and in directories, a settled linked worktree `wt` on
/// branch `feat` (every file's mtime 100 s back, the index written after), and its
/// info/exclude naming the tool's files the way `new` does.
fn settled() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let main = tmp.path().join("main");
    fs::create_dir_all(main.join("dir/sub")).expect("dirs");
    fs::create_dir_all(main.join("nest/only")).expect("dirs");
    for (name, body) in [
        ("a.txt", "a\n"),
        ("dir/b.txt", "b\n"),
        ("dir/sub/c.txt", "c\n"),
        ("dir-x.txt", "x\n"),
        // A directory holding only a directory.
        ("nest/only/n.txt", "n\n"),
        ("empty", ""),
        (".gitignore", "*.log\n"),
    ] {
        fs::write(main.join(name), body).expect("write");
    }
    git(&main, &["init", "-q", "-b", "main"]);
    git(&main, &["add", "-A"]);
    git(&main, &["commit", "-q", "-m", "one"]);
    let wt = tmp.path().join("wt");
    git(
        &main,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feat",
            wt.to_str().expect("utf-8"),
        ],
    );
    fs::write(
        main.join(".git/info/exclude"),
        "# git-sandbox\n/.env.sandbox\n/.sandbox/context.md\n",
    )
    .expect("exclude");
    settle(&wt);
    (tmp, wt)
}

/// Puts every file's mtime 100 s back and refreshes the index, so no entry is racy.
fn settle(wt: &Path) {
    let ok = Command::new("sh")
        .current_dir(wt)
        .args(["-c", "find . -path ./.git -prune -o -type f -exec touch -h -d @$(( $(date +%s) - 100 )) {} +"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "touch");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    git(wt, &["update-index", "--refresh", "-q"]);
    git(wt, &["status", "--porcelain"]);
}

fn proven_clean(wt: &Path) -> Option<crate::git::Status> {
    let repo = Repo::discover(wt).expect("repo");
    super::proven_clean(&repo, wt, Scan::Quick)
}

fn git_clean(wt: &Path) -> bool {
    let out = Command::new("git")
        .current_dir(wt)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["status", "--porcelain=v2", "--untracked-files=normal"])
        .output()
        .expect("git status");
    assert!(out.status.success());
    out.stdout.is_empty()
}

#[test]
fn a_settled_worktree_is_proven_clean_with_its_head_and_branch() {
    let (_tmp, wt) = settled();
    fs::write(wt.join(".env.sandbox"), "PORT=1\n").expect("env");
    fs::create_dir(wt.join(".sandbox")).expect("dir");
    fs::write(wt.join(".sandbox/context.md"), "ctx\n").expect("ctx");
    assert!(git_clean(&wt));
    let st = proven_clean(&wt).expect("proven");
    assert!(st.is_clean());
    assert_eq!(st.branch.as_deref(), Some("feat"));
    let head = fs::read_to_string(wt.join("../main/.git/refs/heads/feat")).expect("ref");
    assert_eq!(st.head.as_deref(), Some(head.trim()));
    assert!(st.upstream.is_none());
}

/// One change to a settled worktree.
type Change = fn(&Path);

/// Edits of tracked files, including the ones that keep the size and put the mtime back.
fn tracked_file_changes() -> Vec<(&'static str, Change)> {
    vec![
        ("same-size rewrite, mtime put back", |w| {
            let t = fs::metadata(w.join("a.txt"))
                .and_then(|m| m.modified())
                .expect("mtime");
            fs::write(w.join("a.txt"), "A\n").expect("w");
            fs::File::options()
                .write(true)
                .open(w.join("a.txt"))
                .and_then(|f| f.set_modified(t))
                .expect("mtime back");
        }),
        ("edit in a subdirectory", |w| {
            fs::write(w.join("dir/sub/c.txt"), "cc\n").expect("w")
        }),
        ("an empty file filled", |w| {
            fs::write(w.join("empty"), "now\n").expect("w")
        }),
        ("deleted", |w| {
            fs::remove_file(w.join("dir/b.txt")).expect("rm")
        }),
        ("mode", |w| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(w.join("a.txt"), fs::Permissions::from_mode(0o755)).expect("chmod")
        }),
    ]
}

/// Names the index does not have: untracked, ignored by a rule the proof does not read, a
/// negation, a nested repository, a directory swapped for a symlink.
fn tree_changes() -> Vec<(&'static str, Change)> {
    vec![
        ("untracked at the top", |w| {
            fs::write(w.join("new.txt"), "n\n").expect("w")
        }),
        ("untracked deep", |w| {
            fs::write(w.join("dir/sub/new.txt"), "n\n").expect("w")
        }),
        ("untracked directory", |w| {
            fs::create_dir_all(w.join("fresh/inner")).expect("d");
            fs::write(w.join("fresh/inner/f"), "f").expect("w");
        }),
        ("ignored by .gitignore", |w| {
            fs::write(w.join("x.log"), "l").expect("w")
        }),
        ("a negation in info/exclude", |w| {
            fs::write(
                w.join("../main/.git/info/exclude"),
                "/.env.sandbox\n!/.env.sandbox\n",
            )
            .expect("w");
            fs::write(w.join(".env.sandbox"), "P=1\n").expect("w");
        }),
        ("unknown file beside the tool's context", |w| {
            fs::create_dir(w.join(".sandbox")).expect("d");
            fs::write(w.join(".sandbox/other.md"), "o").expect("w");
        }),
        ("nested repository", |w| {
            git(&w.join("dir"), &["init", "-q", "inner"])
        }),
        ("directory swapped for a symlink to itself", |w| {
            fs::rename(w.join("dir"), w.join("../moved")).expect("mv");
            std::os::unix::fs::symlink(w.join("../moved"), w.join("dir")).expect("ln");
        }),
    ]
}

/// Changes of the index and the branch: staged, flagged, intent-to-add, an upstream, a
/// replace ref (git compares the index with the replacement's tree).
fn index_changes() -> Vec<(&'static str, Change)> {
    vec![
        ("staged", |w| {
            fs::write(w.join("a.txt"), "staged\n").expect("w");
            git(w, &["add", "a.txt"]);
        }),
        ("skip-worktree", |w| {
            git(w, &["update-index", "--skip-worktree", "a.txt"])
        }),
        ("intent to add", |w| {
            fs::write(w.join("ita.txt"), "i\n").expect("w");
            git(w, &["add", "-N", "ita.txt"]);
        }),
        ("an upstream", |w| {
            git(w, &["branch", "--set-upstream-to=main"])
        }),
        ("HEAD's commit replaced by one of another tree", |w| {
            let out = Command::new("git")
                .current_dir(w)
                .args([
                    "commit-tree",
                    "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                    "-m",
                    "r",
                ])
                .output()
                .expect("commit-tree");
            let other = String::from_utf8(out.stdout).expect("utf-8");
            git(w, &["replace", "HEAD", other.trim()]);
        }),
    ]
}

/// A settled worktree, proven clean; then `change`: no proof, and never one where git
/// reports a change.
fn no_proof_after(what: &str, change: Change) {
    let (_tmp, wt) = settled();
    assert!(proven_clean(&wt).is_some(), "{what}: settled before");
    change(&wt);
    let proof = proven_clean(&wt);
    if proof.is_some() {
        assert!(
            git_clean(&wt),
            "{what}: proven clean where git reports changes"
        );
    }
    assert!(proof.is_none(), "{what}: proven clean");
}

#[test]
fn no_proof_for_any_change_git_reports_or_any_tree_it_cannot_vouch_for() {
    let cases = [tracked_file_changes(), tree_changes(), index_changes()];
    for (what, change) in cases.into_iter().flatten() {
        no_proof_after(what, change);
    }
}

/// Puts the index's mtime back to its files' second: every entry is racily clean, and git
/// (and the proof) must read each file again.
fn make_racy(wt: &Path) {
    let t = fs::metadata(wt.join("a.txt"))
        .and_then(|m| m.modified())
        .expect("mtime");
    fs::File::options()
        .write(true)
        .open(wt.join("../main/.git/worktrees/wt/index"))
        .and_then(|f| f.set_modified(t))
        .expect("index mtime");
}

/// Points `a.txt`'s entry at another blob of the same size, its stat data kept (what a write
/// in the index's second looks like where timestamps are coarse): only its content tells.
/// The trailing checksum is zeroed, which git reads as "not kept" (`index.skipHash`).
fn swap_blob_keeping_stat(wt: &Path) {
    let other = Command::new("git")
        .current_dir(wt)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(b"A\n")?;
            c.wait_with_output()
        })
        .expect("hash-object");
    let hex = String::from_utf8(other.stdout).expect("hex");
    let oid: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let index = wt.join("../main/.git/worktrees/wt/index");
    let t = fs::metadata(&index)
        .and_then(|m| m.modified())
        .expect("mtime");
    let mut bytes = fs::read(&index).expect("index");
    let at = bytes
        .windows(6)
        .position(|w| w == b"a.txt\0")
        .expect("entry");
    bytes[at - 22..at - 2].copy_from_slice(&oid);
    let len = bytes.len();
    bytes[len - 20..].fill(0);
    fs::write(&index, bytes).expect("write index");
    fs::File::options()
        .write(true)
        .open(&index)
        .and_then(|f| f.set_modified(t))
        .expect("index mtime");
}

/// Racily clean trees git reads as clean: the proof reads them too, and agrees.
fn racy_clean() -> Vec<(&'static str, Change)> {
    vec![
        ("every entry racy", make_racy),
        ("a commit in the same second as the index", |w| {
            fs::write(w.join("a.txt"), "racy\n").expect("w");
            git(w, &["commit", "-q", "-am", "racy"]);
            make_racy(w);
        }),
    ]
}

/// Racily clean trees the proof must not vouch for: a content the index does not name, and
/// any setting under which git would convert content before comparing it.
fn racy_unproven() -> Vec<(&'static str, Change)> {
    vec![
        ("same stat data, another blob", |w| {
            make_racy(w);
            swap_blob_keeping_stat(w);
        }),
        ("line endings in the repository's config", |w| {
            let config = w.join("../main/.git/config");
            let mut text = fs::read_to_string(&config).expect("config");
            text.push_str("[core]\n\tautocrlf = input\n");
            fs::write(config, text).expect("w");
            make_racy(w);
        }),
        ("an ignored .gitattributes", |w| {
            fs::write(w.join("../main/.git/info/exclude"), "/.gitattributes\n").expect("w");
            fs::write(w.join(".gitattributes"), "* text=auto\n").expect("w");
            make_racy(w);
        }),
        ("info/attributes", |w| {
            fs::write(w.join("../main/.git/info/attributes"), "*.txt ident\n").expect("w");
            make_racy(w);
        }),
    ]
}

#[test]
fn racily_clean_entries_are_read_again_and_proven_only_as_git_reads_them() {
    for (what, change) in racy_clean() {
        let (_tmp, wt) = settled();
        change(&wt);
        assert!(git_clean(&wt), "{what}: git reports changes");
        assert!(proven_clean(&wt).is_some(), "{what}: not proven");
    }
    for (what, change) in racy_unproven() {
        no_proof_after(what, change);
    }
}

/// `rm --dry-run`'s proof lists the ignored files `rm`'s own `git status` lists: the tool's
/// files and a path the user named in `info/exclude`; a named directory is left to git.
#[test]
fn with_ignored_files_the_proof_lists_what_rms_git_status_lists() {
    let (_tmp, wt) = settled();
    let exclude = wt.join("../main/.git/info/exclude");
    let mut lines = fs::read_to_string(&exclude).expect("exclude");
    lines.push_str("/secret.key\n");
    fs::write(&exclude, lines).expect("w");
    fs::write(wt.join(".env.sandbox"), "PORT=1\n").expect("env");
    fs::create_dir(wt.join(".sandbox")).expect("dir");
    fs::write(wt.join(".sandbox/context.md"), "ctx\n").expect("ctx");
    fs::write(wt.join("secret.key"), "k\n").expect("key");
    let repo = Repo::discover(&wt).expect("repo");
    let out = Command::new("git")
        .current_dir(&wt)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["status", "--porcelain=v2", "-z", "--untracked-files=all"])
        .arg("--ignored=matching")
        .output()
        .expect("git status");
    let git = crate::git::status::parse(&out.stdout);
    assert!(git.is_clean());
    let proof = super::proven_clean(&repo, &wt, Scan::Full).expect("proven");
    assert_eq!(proof.ignored, git.ignored);
    assert_eq!(proof.ignored.len(), 3, "{:?}", proof.ignored);
    fs::remove_file(wt.join("secret.key")).expect("rm");
    fs::create_dir(wt.join("secret.key")).expect("dir");
    fs::write(wt.join("secret.key/inside"), "i\n").expect("w");
    assert!(super::proven_clean(&repo, &wt, Scan::Full).is_none());
    assert!(
        super::proven_clean(&repo, &wt, Scan::Quick).is_some(),
        "the quick look vouches for it"
    );
}

/// Above `TWO_THREADS_FROM` entries the pass runs on two threads, each half of the files:
/// a change is found in either half, and a clean tree is proven whole.
#[test]
fn a_tree_split_between_two_threads_is_proven_or_refused_whole() {
    let (_tmp, wt) = settled();
    let count = super::TWO_THREADS_FROM + 200;
    for i in 0..count {
        let dir = wt.join(format!("many/d{:02}", i / 100));
        fs::create_dir_all(&dir).expect("dir");
        fs::write(dir.join(format!("f{i}.txt")), format!("{i}\n")).expect("write");
    }
    git(&wt, &["add", "-A"]);
    git(&wt, &["commit", "-q", "-m", "many"]);
    settle(&wt);
    assert!(git_clean(&wt));
    assert!(proven_clean(&wt).is_some(), "a clean tree split in two");
    // A change in the first file and in the last: each half finds its own.
    for i in [0, count - 1] {
        let f = wt.join(format!("many/d{:02}/f{i}.txt", i / 100));
        fs::write(&f, "changed, longer\n").expect("write");
        assert!(!git_clean(&wt));
        assert!(proven_clean(&wt).is_none(), "file {i} changed");
        fs::write(&f, format!("{i}\n")).expect("write");
        settle(&wt);
        assert!(proven_clean(&wt).is_some(), "file {i} back");
    }
}
