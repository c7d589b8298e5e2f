//! The predecessor's end-to-end scenarios: local-prod commands act on the registered
//! local-prod, never on the current directory.

use std::path::PathBuf;

use crate::common::{TestEnv, tree};

#[test]
fn created_from_inside_a_sandbox_it_lands_beside_the_repo() {
    let t = TestEnv::new();
    let s = t.new_sandbox("stream-b");
    let lp = PathBuf::from(t.ok(&s, &["local-prod", "new"]).trim());
    assert_eq!(lp, t.repo.parent().expect("p").join("repo-prod"));
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&s, &["local-prod", "status", "--json"])).expect("json");
    assert_eq!(json["sandbox"]["slot"], 0);
    assert_eq!(json["sandbox"]["kind"], "local-prod");
    let status = t.ok(&s, &["local-prod", "status"]);
    assert!(status.contains("kind:     local-prod"), "{status}");
    let err = t.fails(&t.repo, &["local-prod", "new"], 1);
    assert!(err.contains("already has a local-prod"), "{err}");
}

#[test]
fn local_prod_rm_inside_a_sandbox_removes_local_prod_only() {
    let t = TestEnv::new();
    let s = t.new_sandbox("stream-b");
    // Unpushed, uncommitted work in the sandbox, as in the disaster.
    t.write(&s, "m6.txt", "six tasks of work\n");
    t.write(&s, "README.md", "edited\n");
    let lp = PathBuf::from(t.ok(&s, &["local-prod", "new"]).trim());
    let before = tree(&s);
    let out = t.run(&s, &["local-prod", "rm", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("local-prod at {}", lp.display())),
        "{err}"
    );
    assert!(!err.contains("local-prod local-prod"), "{err}");
    assert!(err.contains("removed local-prod"), "{err}");
    assert!(!lp.exists());
    assert_eq!(
        tree(&s),
        before,
        "the sandbox must be untouched, byte for byte"
    );
    assert_eq!(t.entries().len(), 1);
}

#[test]
fn local_prod_rm_inside_local_prod_works() {
    let t = TestEnv::new();
    let lp = PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    t.ok(&lp, &["local-prod", "rm", "--yes"]);
    assert!(!lp.exists());
    assert!(t.entries().is_empty());
}

#[test]
fn plain_rm_inside_local_prod_refuses_and_points_at_local_prod_rm() {
    let t = TestEnv::new();
    let lp = PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    let before = tree(&lp);
    let err = t.fails(&lp, &["rm", "--yes", "--force"], 1);
    assert!(err.contains("git sandbox local-prod rm"), "{err}");
    assert_eq!(tree(&lp), before);
}

#[test]
fn sandbox_rm_never_touches_local_prod() {
    let t = TestEnv::new();
    let lp = PathBuf::from(t.ok(&t.repo, &["local-prod", "new"]).trim());
    t.write(&lp, "prod-data.txt", "keep\n");
    let before = tree(&lp);
    let s = t.new_sandbox("s");
    t.ok(&s, &["rm", "--yes"]);
    assert_eq!(tree(&lp), before);
    assert!(!s.exists());
}
