//! The repos the rows run on: a wide one (`files` files in 100-file directories) and a long one
//! (20,000 commits), each pushed to a bare remote, with a commit-graph as a user's would have.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use xshell::{Shell, cmd};

use crate::harness::{BIN, Bench};

/// A repo of `files` files, committed and pushed; `.sandbox.toml` allows 60 sandboxes.
pub fn wide_repo(b: &Bench, sh: &Shell, name: &str, files: usize) -> PathBuf {
    let repo = b.root.join("work").join(name);
    std::fs::create_dir_all(&repo).expect("repo");
    for i in 0..files {
        let dir = repo.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir).expect("dir");
        }
        std::fs::write(
            dir.join(format!("f{i}.txt")),
            format!("file {i}\n{}\n", "x".repeat(i % 200)),
        )
        .expect("file");
    }
    std::fs::write(repo.join(".sandbox.toml"), "max_slots = 60\n").expect("config");
    publish(b, sh, &repo, name);
    repo
}

/// `git init`, commit everything, push to a new bare remote, write the commit-graph.
fn publish(b: &Bench, sh: &Shell, repo: &Path, name: &str) {
    let remote = b.root.join(format!("{name}.git"));
    sh.change_dir(repo);
    cmd!(sh, "git init -q").quiet().run().expect("init");
    cmd!(sh, "git add -A").quiet().run().expect("add");
    cmd!(sh, "git commit -q -m files")
        .quiet()
        .run()
        .expect("commit");
    push_to(sh, &remote);
}

/// Pushes `main` to a new bare `remote` and writes the commit-graph.
fn push_to(sh: &Shell, remote: &Path) {
    cmd!(sh, "git init -q --bare {remote}")
        .quiet()
        .run()
        .expect("bare");
    cmd!(sh, "git remote add origin {remote}")
        .quiet()
        .run()
        .expect("remote");
    cmd!(sh, "git push -q -u origin main")
        .quiet()
        .run()
        .expect("push");
    cmd!(sh, "git commit-graph write --reachable")
        .quiet()
        .run()
        .expect("graph");
}

/// A repo of 20,000 commits on `main` (pushed), and a branch `behind` cut 5,000 commits
/// back with 3 commits of its own, never pushed. Written with `git fast-import`.
pub fn long_repo(b: &Bench, sh: &Shell) -> PathBuf {
    let repo = b.root.join("work").join("long");
    std::fs::create_dir_all(&repo).expect("repo");
    sh.change_dir(&repo);
    cmd!(sh, "git init -q").quiet().run().expect("init");
    let mut stream = String::new();
    let commit = |s: &mut String, branch: &str, mark: usize, from: Option<usize>, file: &str| {
        let msg = format!("c{mark}");
        s.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{mark}\ncommitter B <b@e> {} +0000\ndata {}\n{msg}\n",
            1_700_000_000 + mark,
            msg.len()
        ));
        if let Some(f) = from {
            s.push_str(&format!("from :{f}\n"));
        }
        let body = format!("{mark}\n");
        s.push_str(&format!(
            "M 644 inline {file}\ndata {}\n{body}\n",
            body.len()
        ));
    };
    for i in 1..=20_000 {
        let from = (i > 1).then(|| i - 1);
        commit(&mut stream, "main", i, from, &format!("f{}.txt", i % 500));
    }
    for (n, i) in (20_001..=20_003).enumerate() {
        let from = if n == 0 { 15_000 } else { i - 1 };
        commit(&mut stream, "behind", i, Some(from), "mine.txt");
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&repo)
        .env("GIT_CONFIG_GLOBAL", b.root.join("home/.gitconfig"))
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream");
    assert!(child.wait().expect("fast-import").success());
    cmd!(sh, "git checkout -q -f main")
        .quiet()
        .run()
        .expect("checkout");
    push_to(sh, &b.root.join("long.git"));
    repo
}

/// `git sandbox new NAME [args]`, returning its path.
pub fn new(sh: &Shell, name: &str, args: &[&str]) -> PathBuf {
    PathBuf::from(
        cmd!(sh, "{BIN} new {name} {args...}")
            .quiet()
            .ignore_stderr()
            .read()
            .expect("new")
            .trim(),
    )
}

/// `git sandbox rm NAME --yes --force`, deleting before it returns.
pub fn rm_force(sh: &Shell, name: &str) {
    cmd!(sh, "{BIN} rm {name} --yes --force")
        .quiet()
        .ignore_stderr()
        .run()
        .expect("rm");
}
