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

fn make_executable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// `prune --merged --dry-run`'s messages (it must succeed).
fn dry_run(t: &TestEnv) -> String {
    let out = t.run(&t.repo, &["prune", "--merged", "--dry-run"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{said}");
    said
}

#[test]
fn a_branch_that_only_changes_modes_or_undoes_itself_is_kept() {
    let t = TestEnv::new();
    // Mode only: the same blob, now executable. Main holds the blob, not the mode.
    let mo = t.new_sandbox("mo");
    make_executable(&mo.join("CHANGES"));
    t.git(&mo, &["commit", "-q", "-a", "-m", "executable"]);
    // Added, then removed again: the net change is empty, the commits are only here.
    let ar = t.new_sandbox("ar");
    t.commit_file(&ar, "scratch.txt", "draft only here\n", "add scratch");
    t.git(&ar, &["rm", "-q", "scratch.txt"]);
    t.git(&ar, &["commit", "-q", "-m", "drop scratch"]);
    // A rename only: merged once main has the file under the new name.
    let rn = t.new_sandbox("rn");
    t.git(&rn, &["mv", "src/lib.rs", "src/core.rs"]);
    t.git(&rn, &["commit", "-q", "-m", "rename"]);
    // Squashed into main, then main reverted it: the patch id still matches, the work is not
    // there.
    let rv = with_work(&t, "rv", 2);
    main_git(&t, &["merge", "-q", "--squash", "rv"]);
    main_git(&t, &["commit", "-q", "-m", "squashed rv"]);
    main_git(&t, &["revert", "--no-edit", "HEAD"]);
    let said = dry_run(&t);
    assert!(said.contains("would keep mo: not merged"), "{said}");
    assert!(
        said.contains("would keep ar: nothing to merge; its commits are only here"),
        "{said}"
    );
    assert!(said.contains("would keep rn: not merged"), "{said}");
    assert!(said.contains("would keep rv: not merged"), "{said}");
    // Pushed, its commits are elsewhere too: still nothing to merge.
    t.git(&ar, &["push", "-q", "origin", "ar"]);
    let said = dry_run(&t);
    assert!(
        said.contains("would keep ar: nothing to merge (its changes undo themselves)"),
        "{said}"
    );
    let rows = integrated(&t);
    assert!(rows.iter().all(|(_, v)| v.is_null()), "{rows:?}");

    // Now main takes the mode and the rename (squashed): those two count, the rest do not.
    make_executable(&t.repo.join("CHANGES"));
    main_git(&t, &["commit", "-q", "-a", "-m", "executable too"]);
    let rn_tip = t.git(&rn, &["rev-parse", "HEAD"]).trim().to_string();
    main_git(&t, &["cherry-pick", &rn_tip]);
    let said = dry_run(&t);
    assert!(said.contains("would remove mo: merged"), "{said}");
    assert!(said.contains("would remove rn: merged"), "{said}");
    assert!(said.contains("would keep ar: nothing to merge"), "{said}");
    assert!(said.contains("would keep rv: not merged"), "{said}");
    t.ok(&t.repo, &["prune", "--merged", "--yes"]);
    assert!(ar.join(".git").exists() && rv.exists() && !mo.exists() && !rn.exists());
    // The add-then-remove branch's commits are still on their branch.
    assert_eq!(
        t.git(&t.repo, &["rev-list", "--count", "main..ar"]).trim(),
        "2"
    );
}

#[test]
fn the_default_branch_is_never_merged_into_itself() {
    let t = TestEnv::new();
    main_git(&t, &["branch", "develop"]);
    main_git(&t, &["push", "-q", "origin", "develop"]);
    main_git(&t, &["remote", "set-head", "origin", "develop"]);
    // The default branch's own sandbox, with a commit pushed: its tip is origin/develop's.
    let dev = t.new_sandbox("develop");
    assert_eq!(t.git(&dev, &["branch", "--show-current"]).trim(), "develop");
    t.commit_file(&dev, "d.txt", "develop work\n", "develop work");
    let said = dry_run(&t);
    assert!(
        said.contains("would keep develop: it is develop, the default branch"),
        "{said}"
    );
    t.git(&dev, &["push", "-q", "origin", "develop"]);
    // A branch develop was fast-forwarded onto: its own commits are in develop, so it is
    // merged (fast-forward); develop itself, at the same commit, never is.
    let side = t.new_sandbox("side");
    t.git(&side, &["merge", "-q", "--ff-only", "develop"]);
    t.commit_file(&side, "s.txt", "side work\n", "side work");
    t.git(&dev, &["merge", "-q", "--ff-only", "side"]);
    let said = dry_run(&t);
    assert!(said.contains("would keep develop: it is develop"), "{said}");
    assert!(
        said.contains("would remove side: merged (fast-forward"),
        "{said}"
    );
    // A sandbox made at develop's tip with no commits of its own is not merged either.
    let fresh = t.new_sandbox("fresh");
    let said = dry_run(&t);
    assert!(
        said.contains("would keep fresh: no commits of its own"),
        "{said}"
    );
    t.ok(&t.repo, &["prune", "--merged", "--yes"]);
    assert!(dev.exists() && !side.exists() && fresh.exists());
    assert!(t.branches().contains(&"develop".to_string()));
    t.commit_file(&dev, "d2.txt", "more\n", "more develop work");
    let said = dry_run(&t);
    assert!(said.contains("would keep develop: it is develop"), "{said}");
}

/// Pushes two commits on top of main to `refs/pull/<n>/head` of the bare remote from a clone;
/// returns the clone.
fn push_pull_request(t: &TestEnv, n: u32) -> PathBuf {
    let work = t.root.join(format!("contrib-{n}"));
    let remote = t.remote.to_str().expect("utf8");
    t.git(
        &t.root,
        &["clone", "-q", remote, work.to_str().expect("utf8")],
    );
    t.commit_file(&work, "pr-a.txt", "a\n", "pr part a");
    t.commit_file(&work, "pr-b.txt", "b\n", "pr part b");
    let to = format!("HEAD:refs/pull/{n}/head");
    t.git(&work, &["push", "-q", "origin", &to]);
    work
}

#[test]
fn a_pull_request_sandbox_goes_once_the_request_is_squash_merged() {
    let t = TestEnv::new();
    let contrib = push_pull_request(&t, 42);
    let pr = std::path::PathBuf::from(t.ok(&t.repo, &["new", "--pr", "42"]).trim());
    let said = dry_run(&t);
    assert!(said.contains("would keep pr-42: not merged"), "{said}");
    // Its commits are on the remote as the request's head: pushed, never "never pushed".
    let plan = t.ok(&t.repo, &["rm", "pr-42", "--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("json");
    assert_eq!(plan["report"]["never_pushed"], false, "{plan}");
    assert_eq!(plan["report"]["unpushed"], 0, "{plan}");
    let listed: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    let rows = listed["sandboxes"].as_array().expect("rows");
    assert!(
        rows.iter()
            .any(|r| r["name"] == "pr-42" && r["never_pushed"] == false),
        "{listed}"
    );
    // The request is squash-merged on the remote (its two commits as one, other ids).
    t.git(&contrib, &["reset", "-q", "--hard", "origin/main"]);
    t.git(&contrib, &["fetch", "-q", "origin", "refs/pull/42/head"]);
    t.git(&contrib, &["merge", "-q", "--squash", "FETCH_HEAD"]);
    t.git(&contrib, &["commit", "-q", "-m", "Squashed #42"]);
    t.git(&contrib, &["push", "-q", "origin", "HEAD:main"]);
    t.git(&t.repo, &["fetch", "-q", "origin"]);
    let said = dry_run(&t);
    assert!(
        said.contains("would remove pr-42: merged (squashed"),
        "{said}"
    );
    // A local commit on top that the request never had: kept.
    t.commit_file(&pr, "mine.txt", "local only\n", "local follow-up");
    let said = dry_run(&t);
    assert!(said.contains("would keep pr-42: not merged"), "{said}");
    t.git(&pr, &["reset", "-q", "--hard", "HEAD~1"]);
    t.ok(&t.repo, &["prune", "--merged", "--yes"]);
    assert!(!pr.exists());
    assert!(!t.branches().contains(&"pr-42".to_string()));
}

#[test]
fn a_branch_merged_then_reverted_on_the_default_branch_is_kept() {
    let t = TestEnv::new();
    let rv = t.new_sandbox("rv");
    t.commit_file(&rv, "r.txt", "r\n", "add r");
    t.commit_file(&rv, "s.txt", "s\n", "add s");
    let later = t.new_sandbox("later");
    t.commit_file(&later, "l.txt", "one\n", "add l");
    main_git(&t, &["merge", "-q", "--no-ff", "rv", "-m", "merge rv"]);
    main_git(
        &t,
        &["merge", "-q", "--no-ff", "later", "-m", "merge later"],
    );
    // Both merged: both would go.
    let said = dry_run(&t);
    assert!(said.contains("would remove rv: merged"), "{said}");
    // rv's merge reverted: main no longer holds its changes. later's file edited again on
    // main after its merge: its work evolved, it is still merged.
    main_git(&t, &["revert", "--no-edit", "-m", "1", "HEAD~1"]);
    t.commit_file(&t.repo, "l.txt", "two\n", "edit l on main");
    main_git(&t, &["push", "-q", "origin", "main"]);
    let said = dry_run(&t);
    assert!(
        said.contains("would keep rv: merged into main, then reverted there"),
        "{said}"
    );
    assert!(said.contains("would remove later: merged"), "{said}");
    t.ok(&t.repo, &["prune", "--merged", "--yes"]);
    assert!(rv.join("r.txt").exists() && !later.exists());
    assert!(t.branches().contains(&"rv".to_string()));
}
