//! `rm --dry-run` of a small tree its index vouches for is answered in-process (no `git
//! status`), and must say what `rm` itself, which always asks git, then finds: the same
//! report, an ignored file of the user's included, on a settled sandbox and on one made a
//! moment ago (its entries racily clean, read again); and a change is never proven away.

use std::path::Path;
use std::time::Duration;

use crate::common::TestEnv;

/// `rm NAME` with `args` and `--json`: its report, and whether the proof answered.
fn report(t: &TestEnv, name: &str, args: &[&str]) -> (serde_json::Value, bool) {
    let out = t
        .cmd(&t.repo)
        .args(["rm", name, "--json"])
        .args(args)
        .env("GIT_SANDBOX_TIMINGS", "1")
        .output()
        .expect("rm");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let proven = String::from_utf8_lossy(&out.stderr).contains("look: proven clean");
    (v["report"].clone(), proven)
}

/// A file of the user's that `info/exclude` names, beside the tool's own.
fn user_ignored_file(t: &TestEnv, s: &Path) {
    let exclude = t.repo.join(".git/info/exclude");
    let mut text = std::fs::read_to_string(&exclude).expect("exclude");
    text.push_str("/notes.local\n");
    std::fs::write(&exclude, text).expect("w");
    t.write(s, "notes.local", "mine\n");
}

/// The dry run's report, then the removal's (which asked git): the same.
fn dry_run_then_rm(t: &TestEnv, name: &str, what: &str) {
    let (dry, proven) = report(t, name, &["--dry-run"]);
    assert!(proven, "{what}: the dry run was not proven in-process");
    let paths: Vec<&str> = dry["ignored"]
        .as_array()
        .expect("ignored")
        .iter()
        .filter_map(|i| i["path"].as_str())
        .collect();
    assert_eq!(paths, ["notes.local"], "{what}");
    let (real, proven) = report(t, name, &["--yes"]);
    assert!(!proven, "{what}: the removal itself used the proof");
    assert_eq!(
        dry, real,
        "{what}: the dry run said something else than rm found"
    );
}

#[test]
fn a_dry_run_answered_in_process_says_what_rm_then_finds() {
    let t = TestEnv::new();
    let s = t.new_sandbox("settled");
    std::thread::sleep(Duration::from_millis(1100));
    t.ok(&t.repo, &["status", "settled"]);
    user_ignored_file(&t, &s);
    dry_run_then_rm(&t, "settled", "settled");
    for n in 0..3 {
        let name = format!("fresh{n}");
        let s = t.new_sandbox(&name);
        t.write(&s, "notes.local", "mine\n");
        dry_run_then_rm(&t, &name, &name);
    }
}

#[test]
fn a_change_is_never_proven_away() {
    let t = TestEnv::new();
    for n in 0..3 {
        let name = format!("edited{n}");
        let s = t.new_sandbox(&name);
        // The same size, in the second the checkout's index was written (most rounds).
        t.write(&s, "src/lib.rs", "pub fn b() {}\n");
        let (dry, proven) = report(&t, &name, &["--dry-run"]);
        assert!(!proven, "round {n}: an edited tree was proven clean");
        assert_eq!(
            dry["unstaged"],
            serde_json::json!(["src/lib.rs"]),
            "round {n}"
        );
    }
}
