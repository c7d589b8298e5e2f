//! Agents own only what they made: the agent hook never hands out or removes a sandbox the
//! user made (by `new`, `adopt`, or one older than the registry's `made_by`), nor another
//! session's; a taken name gets a new, suffixed sandbox.

use std::path::PathBuf;

use crate::agent::{create, hook, remove};
use crate::common::{TestEnv, tree};

fn made_by(t: &TestEnv, name: &str) -> serde_json::Value {
    let reg = t.registry();
    let inst = reg["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no sandbox {name} in {reg}"));
    inst["made_by"].clone()
}

#[test]
fn agent_create_never_hands_out_the_users_sandbox() {
    let t = TestEnv::new();
    let mine = PathBuf::from(t.ok(&t.repo, &["new", "feat"]).trim());
    t.write(&mine, "wip.txt", "the user's work\n");
    let before = tree(&mine);
    assert_eq!(made_by(&t, "feat")["by"], "user");

    let input = serde_json::json!({"session_id": "s1", "name": "feat", "cwd": t.repo});
    let agents = create(&t, &t.repo, &input.to_string());
    assert_ne!(agents, mine);
    assert!(agents.ends_with("repo--feat-2"), "{}", agents.display());
    assert_eq!(
        t.git(&agents, &["branch", "--show-current"]).trim(),
        "feat-2"
    );
    assert_eq!(made_by(&t, "feat-2")["by"], "agent");
    assert_eq!(made_by(&t, "feat-2")["session"], "s1");
    assert_eq!(tree(&mine), before);
    // list/status say who made what.
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "feat-2", "--json"])).expect("json");
    assert_eq!(
        v["sandbox"]["made_by"],
        serde_json::json!({"by": "agent", "session": "s1"})
    );
    let status = t.ok(&t.repo, &["status", "feat-2"]);
    assert!(status.contains("an agent (session s1)"), "{status}");

    // The same session asks again: its own sandbox. Another session: a new one, and a
    // suffix whose branch the user has is passed over.
    assert_eq!(create(&t, &t.repo, &input.to_string()), agents);
    t.git(&t.repo, &["branch", "feat-3"]);
    let other = serde_json::json!({"session_id": "s2", "name": "feat", "cwd": t.repo});
    let second = create(&t, &t.repo, &other.to_string());
    assert!(second.ends_with("repo--feat-4"), "{}", second.display());
    assert_eq!(tree(&mine), before);
}

#[test]
fn agent_remove_refuses_the_users_sandboxes_non_zero() {
    let t = TestEnv::new();
    // Clean and pushed: rm would take it, so only ownership keeps it.
    let mine = PathBuf::from(t.ok(&t.repo, &["new", "mine"]).trim());
    t.commit_file(&mine, "done.txt", "done\n", "done");
    t.git(&mine, &["push", "-q", "-u", "origin", "mine"]);
    t.write(&mine, "notes.local", "ignored? no: untracked, the user's\n");
    let hand = t.hand_made_worktree("repo--adopted", "adopted");
    t.ok(&t.repo, &["adopt", hand.to_str().expect("utf8")]);
    for (path, who) in [(&mine, "made by you"), (&hand, "made by you (adopted)")] {
        let before = tree(path);
        let reg = t.registry();
        let err = remove(&t, path, 3);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("git-sandbox: kept "), "{err}");
        assert!(err.contains(who), "{err}");
        assert!(err.contains("not by an agent hook"), "{err}");
        assert_eq!(tree(path), before);
        assert_eq!(t.registry(), reg);
    }
    // An entry older than the field counts as the user's.
    t.tamper("repo--mine", "made_by", serde_json::Value::Null);
    let err = remove(&t, &mine, 3);
    assert!(err.contains("made by you"), "{err}");
    assert!(mine.join("notes.local").is_file());
}

#[test]
fn agent_remove_takes_what_the_hook_made() {
    let t = TestEnv::new();
    let input = serde_json::json!({"session_id": "s1", "name": "task", "cwd": t.repo});
    let path = create(&t, &t.repo, &input.to_string());
    let err = remove(&t, &path, 0);
    assert!(!path.exists(), "{err}");
    // Gone already: nothing to keep, exit 0 and no path on stdout.
    let again = serde_json::json!({"cwd": t.repo, "worktree_path": path});
    let out = hook(&t, &t.repo, "worktree-remove", &again.to_string());
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(0));
}
