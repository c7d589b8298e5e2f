//! A crash at every named point of `new` and `rm`, then `prune`: the registry, git's worktree
//! list and the files agree, and no committed or uncommitted work is lost.

use std::fs;

use crate::common::TestEnv;

/// The invariants after `prune`.
fn assert_consistent(t: &TestEnv, point: &str) {
    let entries = t.entries();
    for (id, _, state) in &entries {
        assert_eq!(state, "ready", "{point}: {id} left {state}");
    }
    let ids: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    let mut admin = t.admin_entries();
    admin.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(
        admin, want,
        "{point}: git's worktrees and the registry differ"
    );
    for id in &ids {
        let slug = id.trim_start_matches("repo--");
        assert!(
            t.sandbox_path(slug).join(".git").is_file(),
            "{point}: {id} has no directory"
        );
    }
    let strays: Vec<String> = t
        .siblings()
        .into_iter()
        .filter(|s| s.starts_with(".git-sandbox-"))
        .collect();
    assert!(strays.is_empty(), "{point}: left behind {strays:?}");
    let reg = t.registry();
    assert!(
        reg["sweep"].as_array().is_none_or(|a| a.is_empty()),
        "{point}: sweep queue not empty"
    );
}

fn crash(t: &mut TestEnv, point: &str, args: &[&str]) {
    t.extra_env = vec![("GIT_SANDBOX_FAULT".into(), point.into())];
    let out = t.run(&t.repo, args);
    t.extra_env.clear();
    assert!(
        !out.status.success(),
        "{point}: the command should have crashed"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("fault injected at {point}")),
        "{point}: the fault point was not reached: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn crash_during_new_then_prune_rolls_back() {
    let mut t = TestEnv::new();
    let keep = t.new_sandbox("keep");
    t.write(&keep, "mine.txt", "uncommitted\n");
    for point in [
        "new:reserved",
        "new:branch",
        "new:worktree",
        "new:env",
        "new:ready",
    ] {
        crash(&mut t, point, &["new", "crashy"]);
        // Another command refuses to act on the half-made sandbox.
        let busy = t.entries().into_iter().any(|e| e.0 == "repo--crashy");
        assert!(busy, "{point}: the reservation should be recorded");
        let out = t.run(&t.repo, &["prune"]);
        assert!(
            out.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{point}: {}", String::from_utf8_lossy(&out.stderr));
        assert_consistent(&t, point);
        assert!(
            !t.sandbox_path("crashy").exists(),
            "{point}: {:?} {:?}",
            crate::common::tree(&t.sandbox_path("crashy"))
                .keys()
                .collect::<Vec<_>>(),
            t.registry()
        );
        assert!(!t.branches().contains(&"crashy".to_string()), "{point}");
        assert_eq!(
            fs::read_to_string(keep.join("mine.txt")).expect("keep"),
            "uncommitted\n"
        );
        // The name is usable again.
        t.new_sandbox("crashy");
        t.ok(&t.repo, &["rm", "crashy", "--yes"]);
    }
}

#[test]
fn crash_during_rm_then_prune_loses_nothing() {
    let mut t = TestEnv::new();
    for point in [
        "rm:saved",
        "rm:marked",
        "rm:moved",
        "rm:verified",
        "rm:admin",
        "rm:branch",
        "rm:unregistered",
    ] {
        let p = t.new_sandbox("victim");
        t.commit_file(&p, "committed.txt", "committed\n", "unpushed work");
        let tip = t.git(&p, &["rev-parse", "HEAD"]).trim().to_string();
        t.write(&p, "uncommitted.txt", "uncommitted\n");
        crash(
            &mut t,
            point,
            &["rm", "victim", "--yes", "--force", "--delete-branch"],
        );
        t.ok(&t.repo, &["prune"]);
        assert_consistent(&t, point);
        if p.exists() {
            // Rolled back: everything is still in place.
            assert_eq!(
                fs::read_to_string(p.join("uncommitted.txt")).expect("u"),
                "uncommitted\n",
                "{point}"
            );
            assert_eq!(t.git(&p, &["rev-parse", "HEAD"]).trim(), tip, "{point}");
            t.ok(
                &t.repo,
                &["rm", "victim", "--yes", "--force", "--delete-branch"],
            );
        }
        assert!(!p.exists(), "{point}");
        // The work is in the saved state: the tip and the uncommitted file.
        let refs = t.git(
            &t.repo,
            &[
                "for-each-ref",
                "--format=%(refname)",
                "refs/sandbox/trash/repo--victim/",
            ],
        );
        let newest = refs.lines().last().expect("a saved state").to_string();
        assert_eq!(
            t.git(&t.repo, &["rev-parse", &format!("{newest}^1")])
                .trim(),
            tip,
            "{point}"
        );
        assert_eq!(
            t.git(&t.repo, &["show", &format!("{newest}:uncommitted.txt")]),
            "uncommitted\n",
            "{point}"
        );
        // Clean up for the next point: restore, then remove for good.
        let q = std::path::PathBuf::from(t.ok(&t.repo, &["restore", "victim"]).trim());
        assert_eq!(
            fs::read_to_string(q.join("uncommitted.txt")).expect("u"),
            "uncommitted\n"
        );
        t.ok(
            &t.repo,
            &["rm", "victim", "--yes", "--force", "--delete-branch"],
        );
        t.git(&t.repo, &["update-ref", "-d", "refs/heads/victim"]);
        for r in t
            .git(
                &t.repo,
                &["for-each-ref", "--format=%(refname)", "refs/sandbox/"],
            )
            .lines()
        {
            t.git(&t.repo, &["update-ref", "-d", r]);
        }
    }
}

#[test]
fn crash_during_local_prod_new_leaves_no_debris() {
    // local-prod's directory (`../repo-prod`) is not named after its id, so it is checked out
    // in a staging directory and moved: a crash at either side of the move is repaired too.
    let mut t = TestEnv::new();
    for point in ["new:staged", "new:worktree", "new:env"] {
        crash(&mut t, point, &["local-prod", "new"]);
        t.ok(&t.repo, &["prune"]);
        assert_consistent(&t, point);
        assert!(t.entries().is_empty(), "{point}");
        assert_eq!(t.siblings(), vec!["repo"], "{point}");
        assert_eq!(t.branches(), vec!["main"], "{point}");
    }
    let lp = std::path::PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    assert!(lp.join("README.md").is_file());
}

#[test]
fn prune_never_deletes_an_adopted_worktree() {
    let t = TestEnv::new();
    let hand = t.hand_made_worktree("repo--hand", "hand");
    t.ok(&t.repo, &["adopt", hand.to_str().expect("utf8")]);
    assert_eq!(
        t.entries()[0].2,
        "ready",
        "adopt never leaves a creating entry behind"
    );
    t.ok(&t.repo, &["prune"]);
    assert!(hand.join("README.md").is_file());
    assert_eq!(t.entries().len(), 1);
}

/// `git worktree list --porcelain`'s stanza for `path`, if git still lists it.
fn worktree_stanza(t: &TestEnv, path: &std::path::Path) -> Option<String> {
    let list = t.git(&t.repo, &["worktree", "list", "--porcelain"]);
    let want = format!("worktree {}", path.display());
    list.split("\n\n")
        .find(|s| s.lines().next() == Some(want.as_str()))
        .map(str::to_string)
}

#[test]
fn git_worktree_prune_cannot_take_a_quarantined_tree() {
    let mut t = TestEnv::new();
    for point in ["rm:marked", "rm:moved", "rm:saved", "rm:kept"] {
        let p = t.new_sandbox("victim");
        // A staged version and a different unstaged one of the same file, and an untracked file.
        t.write(&p, "CHANGES", "staged\n");
        t.git(&p, &["add", "CHANGES"]);
        t.write(&p, "CHANGES", "unstaged\n");
        t.write(&p, "new.txt", "untracked\n");
        crash(&mut t, point, &["rm", "victim", "--yes", "--force"]);
        // git's own cleanup, as `git gc` or a user would run it: it must keep the entry.
        t.git(&t.repo, &["worktree", "prune"]);
        assert!(
            t.admin_entries().contains(&"repo--victim".to_string()),
            "{point}: git pruned the entry of a quarantined tree"
        );
        if !p.exists() {
            let stanza = worktree_stanza(&t, &p).unwrap_or_default();
            assert!(
                stanza.contains("locked git-sandbox: removing"),
                "{point}: {stanza}"
            );
        }
        t.ok(&t.repo, &["prune"]);
        assert_consistent(&t, point);
        // Back as it was: a worktree, unlocked, its staged and unstaged versions and files.
        let stanza = worktree_stanza(&t, &p).expect("git lists it again");
        assert!(!stanza.contains("locked"), "{point}: {stanza}");
        assert_eq!(t.git(&p, &["show", ":CHANGES"]), "staged\n", "{point}");
        assert_eq!(
            fs::read_to_string(p.join("CHANGES")).expect("c"),
            "unstaged\n",
            "{point}"
        );
        assert_eq!(
            fs::read_to_string(p.join("new.txt")).expect("n"),
            "untracked\n",
            "{point}"
        );
        t.ok(&t.repo, &["rm", "victim", "--yes", "--force"]);
    }
}

#[test]
fn a_users_own_worktree_lock_is_never_replaced_or_removed() {
    let mut t = TestEnv::new();
    let p = t.new_sandbox("held");
    t.git(
        &t.repo,
        &[
            "worktree",
            "lock",
            "--reason",
            "on a USB disk",
            p.to_str().expect("utf8"),
        ],
    );
    let said = t.fails(&t.repo, &["rm", "held", "--yes"], 3);
    assert!(said.contains("locked (on a USB disk)"), "{said}");
    // A forced removal rolled back after a crash in quarantine leaves their lock as it was.
    crash(&mut t, "rm:moved", &["rm", "held", "--yes", "--force"]);
    let lock = t.repo.join(".git/worktrees/repo--held/locked");
    assert_eq!(
        fs::read_to_string(&lock).expect("lock").trim(),
        "on a USB disk"
    );
    t.ok(&t.repo, &["prune"]);
    assert!(p.join(".git").is_file());
    assert_eq!(
        fs::read_to_string(&lock).expect("lock").trim(),
        "on a USB disk"
    );
}
