//! `list` never answers from a cache that a change would not invalidate: a tracked file
//! rewritten with the same size in the same second as the index that recorded it (git's
//! racily clean case), and an untracked file made in the same second as git's untracked cache
//! was written, both show, round after round.

use std::fs;
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::common::TestEnv;

/// The sandbox's `(unstaged, untracked)` counts as `list --json` gives them.
fn counts(t: &TestEnv) -> (u64, u64) {
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    let d = &v["sandboxes"][0]["dirty"];
    (
        d["unstaged"].as_u64().expect("unstaged"),
        d["untracked"].as_u64().expect("untracked"),
    )
}

/// The whole seconds of a file's modification time.
fn secs(p: &Path) -> u64 {
    fs::metadata(p)
        .and_then(|m| m.modified())
        .expect("mtime")
        .duration_since(UNIX_EPOCH)
        .expect("epoch")
        .as_secs()
}

/// One round: the file back as committed and the index written by a plain `git status` (as
/// the user's, or the healing helper's), `list` says clean; then the same-size edit and a new
/// file, and `list` must say so. Returns whether the edit fell in the index's second.
fn round(t: &TestEnv, s: &Path, index: &Path, n: u32) -> bool {
    t.write(s, "src/lib.rs", "pub fn a() {}\n");
    t.git(s, &["status", "--porcelain"]);
    assert_eq!(counts(t), (0, 0), "round {n}: not clean before the edit");
    t.write(s, "src/lib.rs", "pub fn b() {}\n");
    t.write(s, &format!("src/new{n}.txt"), "new\n");
    let same_second = secs(&s.join("src/lib.rs")) == secs(index);
    assert_eq!(
        counts(t),
        (1, 1),
        "round {n}: list missed the same-size edit or the new file (same second: {same_second})"
    );
    fs::remove_file(s.join(format!("src/new{n}.txt"))).expect("remove");
    same_second
}

#[test]
fn list_sees_a_same_size_edit_and_a_new_file_in_the_index_s_second() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    t.git(&s, &["update-index", "--untracked-cache"]);
    let index = s.join(t.git(&s, &["rev-parse", "--git-path", "index"]).trim());
    let mut hits = 0;
    for n in 0..60 {
        hits += u32::from(round(&t, &s, &index, n));
        if hits >= 5 {
            break;
        }
    }
    assert!(
        hits >= 5,
        "the same-second window was hit only {hits} times"
    );
}
