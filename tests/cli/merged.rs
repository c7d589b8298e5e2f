//! Integration into the default branch (`list`'s `integrated`) and `prune --merged`, on real
//! merges made with the real git CLI: fast-forward, merge commit, squash, rebase (cherry-pick).

use std::path::{Path, PathBuf};

use crate::common::TestEnv;

struct Repo {
    t: TestEnv,
    dirs: Vec<(&'static str, PathBuf)>,
}

fn with_work(t: &TestEnv, name: &str, commits: usize) -> PathBuf {
    let s = t.new_sandbox(name);
    for k in 0..commits {
        t.commit_file(
            &s,
            &format!("{name}-{k}.txt"),
            &format!("{name} {k}\n"),
            name,
        );
    }
    s
}

fn main_git(t: &TestEnv, args: &[&str]) {
    t.git(&t.repo, args);
}

/// Sandboxes in every state `prune --merged` must tell apart.
fn setup() -> Repo {
    let t = TestEnv::new();
    let ff = with_work(&t, "ff", 1);
    let mg = with_work(&t, "mg", 1);
    let sq = with_work(&t, "sq", 2);
    let rb = with_work(&t, "rb", 1);
    let um = with_work(&t, "um", 1);
    let dt = with_work(&t, "dt", 1);
    let fresh = t.new_sandbox("fresh");
    main_git(&t, &["merge", "-q", "--ff-only", "ff"]);
    main_git(&t, &["merge", "-q", "--no-ff", "-m", "merge mg", "mg"]);
    main_git(&t, &["merge", "-q", "--squash", "sq"]);
    main_git(&t, &["commit", "-q", "-m", "squashed sq"]);
    let rb_tip = t.git(&rb, &["rev-parse", "HEAD"]).trim().to_string();
    main_git(&t, &["cherry-pick", &rb_tip]);
    main_git(&t, &["merge", "-q", "--no-ff", "-m", "merge dt", "dt"]);
    main_git(&t, &["push", "-q", "origin", "main"]);
    // Pushed but not merged: stays for that reason alone.
    t.git(&um, &["push", "-q", "-u", "origin", "um"]);
    // Merged, but with an untracked file: rm's gate keeps it.
    t.write(&dt, "notes.txt", "not committed anywhere\n");
    Repo {
        dirs: vec![
            ("ff", ff),
            ("mg", mg),
            ("sq", sq),
            ("rb", rb),
            ("um", um),
            ("dt", dt),
            ("fresh", fresh),
        ],
        t,
    }
}

fn integrated(t: &TestEnv) -> Vec<(String, serde_json::Value)> {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    let mut rows: Vec<(String, serde_json::Value)> = v["sandboxes"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("").to_string(),
                r["integrated"].clone(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn names(t: &TestEnv) -> Vec<String> {
    let mut n: Vec<String> = t.entries().into_iter().map(|(id, _, _)| id).collect();
    n.sort();
    n
}

#[test]
fn list_tells_how_each_branch_was_integrated() {
    let r = setup();
    let got = integrated(&r.t);
    let want = [
        ("dt", "merged"),
        ("ff", "fast-forward"),
        ("fresh", ""),
        ("mg", "merged"),
        ("rb", "rebased"),
        ("sq", "squashed"),
        ("um", ""),
    ];
    for ((name, value), (wname, wvalue)) in got.iter().zip(want) {
        assert_eq!(name, wname);
        let shown = value.as_str().unwrap_or("");
        assert_eq!(shown, wvalue, "{name}: {got:?}");
    }
    let table = r.t.ok(&r.t.repo, &["list"]);
    assert!(table.contains("merged (squash)"), "{table}");
}

#[test]
fn prune_merged_removes_exactly_the_integrated_clean_ones() {
    let r = setup();
    let t = &r.t;
    let before = names(t);
    let out = t.run(&t.repo, &["prune", "--merged", "--dry-run"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert_eq!(names(t), before, "--dry-run changed nothing");
    for goes in ["ff", "mg", "sq", "rb"] {
        assert!(
            said.contains(&format!("would remove {goes}: merged")),
            "{goes}: {said}"
        );
    }
    assert!(said.contains("would keep um: not merged"), "{said}");
    assert!(
        said.contains("would keep fresh: no commits of its own"),
        "{said}"
    );
    assert!(said.contains("would keep dt: rm refused"), "{said}");
    let sq_tip = t
        .git(&r.dirs[2].1, &["rev-parse", "HEAD"])
        .trim()
        .to_string();

    // Like rm: no terminal to ask on and no --yes, nothing is removed.
    let said = t.fails(&t.repo, &["prune", "--merged"], 2);
    assert!(said.contains("pass --yes"), "{said}");
    assert!(r.dirs.iter().all(|(_, d)| d.exists()), "{said}");
    let out = t.run(&t.repo, &["prune", "--merged", "--yes"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let id = |n: &str| format!("{}--{n}", t.repo_name());
    assert_eq!(names(t), vec![id("dt"), id("fresh"), id("um")], "{said}");
    for (name, dir) in &r.dirs {
        let kept = ["dt", "fresh", "um"].contains(name);
        assert_eq!(dir.exists(), kept, "{name}: {said}");
    }
    assert!(
        r.dirs[5].1.join("notes.txt").exists(),
        "dt's work untouched"
    );
    // The squashed branch's own commits are gone from the branches, but saved: restore.
    assert!(
        !t.branches().contains(&"sq".to_string()),
        "{:?}",
        t.branches()
    );
    t.ok(&t.repo, &["restore", "sq"]);
    let back = t.sandbox_path("sq");
    assert_eq!(t.git(&back, &["rev-parse", "HEAD"]).trim(), sq_tip);
    assert!(Path::new(&back.join("sq-1.txt")).exists());
}
