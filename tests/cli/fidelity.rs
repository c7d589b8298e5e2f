//! Issue 19's fidelity fixes: what `rm` says and asks, and what `restore` brings back, exactly
//! (index states, the HEAD, the branch's config), checked with git's own views before and after.

use crate::common::{TestEnv, tree};

fn force_rm(t: &TestEnv, name: &str) {
    t.ok(&t.repo, &["rm", name, "--yes", "--force"]);
}

#[test]
fn forced_rm_without_a_terminal_needs_yes_and_changes_nothing() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.write(&p, "draft.txt", "draft\n");
    let before = tree(&p);
    let reg = t.registry();
    let err = t.fails(&t.repo, &["rm", "s", "--force"], 2);
    assert!(err.contains("without confirmation"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(tree(&p), before);
    assert_eq!(t.registry(), reg);
    assert!(
        t.git(&t.repo, &["for-each-ref", "refs/sandbox/"])
            .is_empty()
    );
    // With --yes it goes (and is saved).
    force_rm(&t, "s");
    assert!(!p.exists());
}
