//! The unpushed counts of `status`, `list` and `rm --dry-run` against git's own answer, where
//! a shortcut or the commit-graph walk could get them wrong: an upstream gone from the remote,
//! an upstream that is a local branch, and a long chain of commits newer than the graph.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::common::TestEnv;

fn status_unpushed(t: &TestEnv, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", name, "--json"])).expect("json");
    v["sandbox"]["unpushed"].clone()
}

fn list_unpushed(t: &TestEnv, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    let rows = v["sandboxes"].as_array().expect("rows").clone();
    let row = rows.into_iter().find(|r| r["name"] == name).expect("row");
    row["unpushed"].clone()
}

/// `rm --dry-run --json` (exit 3: it would refuse, the commits being nowhere else).
fn rm_unpushed(t: &TestEnv, name: &str) -> serde_json::Value {
    let out = t.run(&t.repo, &["rm", name, "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["report"]["unpushed"].clone()
}

/// git's answer: commits of the sandbox's HEAD on no remote-tracking ref.
fn truth(t: &TestEnv, dir: &Path) -> serde_json::Value {
    let n = t.git(dir, &["rev-list", "--count", "HEAD", "--not", "--remotes"]);
    serde_json::json!(n.trim().parse::<u64>().expect("count"))
}

fn all_agree(t: &TestEnv, name: &str, dir: &Path) {
    let want = truth(t, dir);
    assert_ne!(
        want,
        serde_json::json!(0),
        "the case needs unpushed commits"
    );
    assert_eq!(status_unpushed(t, name), want, "status");
    assert_eq!(list_unpushed(t, name), want, "list");
    assert_eq!(rm_unpushed(t, name), want, "rm --dry-run");
}

#[test]
fn an_upstream_gone_from_the_remote_does_not_make_commits_pushed() {
    let t = TestEnv::new();
    let p = t.new_sandbox("gone");
    t.commit_file(&p, "g.txt", "g\n", "g");
    t.git(&p, &["push", "-q", "-u", "origin", "gone"]);
    t.git(&p, &["push", "-q", "origin", "--delete", "gone"]);
    t.git(&p, &["fetch", "-q", "--prune"]);
    all_agree(&t, "gone", &p);
    // As git says `[gone]`: never "up to date" with a ref that is not there.
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "gone", "--json"])).expect("json");
    assert_eq!(v["sandbox"]["upstream"]["gone"], true, "{v}");
    let text = t.ok(&t.repo, &["status", "gone"]);
    assert!(text.contains("upstream origin/gone gone"), "{text}");
    assert!(!text.contains("up to date"), "{text}");
}

#[test]
fn a_local_branch_as_upstream_does_not_make_commits_pushed() {
    let t = TestEnv::new();
    let p = t.new_sandbox("local");
    t.commit_file(&p, "l.txt", "l\n", "l");
    t.git(&p, &["branch", "-q", "mirror"]);
    t.git(&p, &["branch", "-q", "--set-upstream-to=mirror"]);
    all_agree(&t, "local", &p);
    // Nor pushed at all: tracking a local branch pushes nothing anywhere.
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "local", "--json"])).expect("json");
    assert_eq!(v["sandbox"]["never_pushed"], true, "{v}");
    let out = t.run(&t.repo, &["rm", "local", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["report"]["never_pushed"], true, "{v}");
    // A remote-tracking upstream is a push.
    t.git(&p, &["push", "-q", "-u", "origin", "local"]);
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "local", "--json"])).expect("json");
    assert_eq!(v["sandbox"]["never_pushed"], false, "{v}");
}

/// `count` empty commits on top of HEAD in `dir`, by `git fast-import` (seconds, not minutes).
fn chain(t: &TestEnv, dir: &Path, branch: &str, count: usize) {
    let head = t.git(dir, &["rev-parse", "HEAD"]);
    let mut stream = String::new();
    for i in 0..count {
        stream.push_str(&format!(
            "commit refs/heads/{branch}\ncommitter T <t@e> {} +0000\ndata 2\nc\n",
            1_800_000_000 + i
        ));
        if i == 0 {
            stream.push_str(&format!("from {}\n", head.trim()));
        }
        stream.push('\n');
    }
    let mut child = t
        .git_cmd(dir)
        .args(["fast-import", "--quiet", "--force"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(stream.as_bytes()).expect("stream");
    drop(stdin);
    assert!(child.wait().expect("wait").success());
    t.git(dir, &["reset", "-q", "--hard", branch]);
}

#[test]
fn a_long_chain_newer_than_the_commit_graph_is_counted_whole() {
    let t = TestEnv::new();
    t.git(&t.repo, &["commit-graph", "write", "--reachable"]);
    let p = t.new_sandbox("long");
    // Walked through libgit2 (below its limit), then given to git (beyond it), and a chain
    // deep enough to overflow a recursive walk's stack.
    for count in [600, 900, 4_000] {
        chain(&t, &p, "long", count);
        all_agree(&t, "long", &p);
    }
}

/// `rm --dry-run --json`'s count of commits on no remote and no other local branch.
fn rm_unmerged(t: &TestEnv, name: &str) -> serde_json::Value {
    let out = t.run(&t.repo, &["rm", name, "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["report"]["unmerged_unpushed"].clone()
}

/// `check` on the commit-graph's walk (the graph written), then through `git rev-list` (the
/// graph turned off); it is told which.
fn for_both_walks(t: &TestEnv, mut check: impl FnMut(&str)) {
    for graph in ["true", "false"] {
        t.git(&t.repo, &["config", "core.commitGraph", graph]);
        if graph == "true" {
            t.git(&t.repo, &["commit-graph", "write", "--reachable"]);
        }
        check(graph);
    }
}

#[test]
fn a_symbolic_alias_of_the_sandboxs_own_branch_holds_none_of_its_commits() {
    let t = TestEnv::new();
    let p = t.new_sandbox("own");
    t.commit_file(&p, "a.txt", "a\n", "a");
    t.commit_file(&p, "b.txt", "b\n", "b");
    t.git(
        &t.repo,
        &["symbolic-ref", "refs/heads/alias", "refs/heads/own"],
    );
    for_both_walks(&t, |graph| {
        assert_eq!(
            rm_unmerged(&t, "own"),
            serde_json::json!(2),
            "graph {graph}"
        );
        let err = t.fails(&t.repo, &["rm", "own", "--yes"], 3);
        assert!(err.contains("commit"), "graph {graph}: {err}");
        assert!(p.is_dir(), "graph {graph}: refused, kept");
        assert!(t.branches().contains(&"own".to_string()), "graph {graph}");
    });
    // A real other branch holding the commits still counts as holding them.
    t.git(&t.repo, &["branch", "-q", "copy", "own"]);
    assert_eq!(rm_unmerged(&t, "own"), serde_json::json!(0));
}

/// A symbolic ref under `refs/remotes/` that leads to a local branch holds nothing pushed
/// (git's own `--remotes` follows it): the sandbox's commits stay unpushed, and `rm` keeps
/// them. Also when it is `origin/HEAD`, or leads there through an alias.
#[test]
fn a_symbolic_remote_ref_leading_to_the_branch_makes_nothing_pushed() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.commit_file(&p, "w.txt", "w\n", "work");
    let cases: [&[(&str, &str)]; 3] = [
        &[("refs/remotes/origin/s", "refs/heads/s")],
        &[("refs/remotes/origin/HEAD", "refs/heads/s")],
        &[
            ("refs/heads/alias", "refs/heads/s"),
            ("refs/remotes/origin/x", "refs/heads/alias"),
        ],
    ];
    for (k, refs) in cases.iter().enumerate() {
        for (name, target) in refs.iter() {
            t.git(&t.repo, &["symbolic-ref", name, target]);
        }
        for_both_walks(&t, |graph| {
            assert_eq!(
                rm_unpushed(&t, "s"),
                serde_json::json!(1),
                "case {k}, graph {graph}"
            );
            assert_eq!(
                status_unpushed(&t, "s"),
                serde_json::json!(1),
                "case {k}, graph {graph}"
            );
            let err = t.fails(&t.repo, &["rm", "s", "--yes"], 3);
            assert!(err.contains("no remote"), "case {k}, graph {graph}: {err}");
            assert!(p.is_dir() && t.branches().contains(&"s".to_string()));
        });
        for (name, _) in refs.iter() {
            t.git(&t.repo, &["symbolic-ref", "--delete", name]);
        }
    }
}
