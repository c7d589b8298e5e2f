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

/// `git status --porcelain=v2`'s (staged, unstaged, untracked, conflicted) counts.
pub fn git_counts(t: &TestEnv, s: &Path) -> (u64, u64, u64, u64) {
    let out = t.git(s, &["status", "--porcelain=v2", "--untracked-files=normal"]);
    let mut c = (0, 0, 0, 0);
    for line in out.lines() {
        let xy = line.split(' ').nth(1).unwrap_or("..").as_bytes();
        match line.as_bytes().first() {
            Some(b'1' | b'2') => {
                c.0 += u64::from(xy.first() != Some(&b'.'));
                c.1 += u64::from(xy.get(1) != Some(&b'.'));
            }
            Some(b'?') => c.2 += 1,
            Some(b'u') => c.3 += 1,
            _ => {}
        }
    }
    c
}

/// The same four counts from `status NAME --json`, and whether the look was proven clean
/// without a `git status` (its timing step).
fn tool_counts(t: &TestEnv, name: &str) -> ((u64, u64, u64, u64), bool) {
    let (counts, proof) = tool_look(t, name);
    (counts, proof == Some("look: proven clean"))
}

/// The four counts from `status NAME --json`, and which in-process proof answered (its
/// timing step), if one did.
pub fn tool_look(t: &TestEnv, name: &str) -> ((u64, u64, u64, u64), Option<&'static str>) {
    let out = t
        .cmd(&t.repo)
        .args(["status", name, "--json"])
        .env("GIT_SANDBOX_TIMINGS", "1")
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = &v["sandbox"]["dirty"];
    let n = |k: &str| d[k].as_u64().expect("count");
    let err = String::from_utf8_lossy(&out.stderr);
    let proof = ["look: proven clean", "look: proven, untracked only"]
        .into_iter()
        .find(|p| err.contains(p));
    (
        (n("staged"), n("unstaged"), n("untracked"), n("conflicted")),
        proof,
    )
}

/// Back to the commit (the tool's ignored files kept), every tracked file 100 s old and the
/// index refreshed after: a tree its index vouches for. The files are touched a second after
/// the last refresh: git compares whole seconds of the ctime, so a touch within the second
/// of the index's stat data would leave the old nanoseconds there (and the proof, which
/// compares them, would rightly give way to `git status`).
pub fn settle(t: &TestEnv, s: &Path) {
    t.git(s, &["reset", "-q", "--hard", "HEAD"]);
    t.git(s, &["clean", "-fdq"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
    for f in t.git(s, &["ls-files"]).lines() {
        fs::File::options()
            .write(true)
            .open(s.join(f))
            .and_then(|h| h.set_modified(old))
            .expect("mtime back");
    }
    t.git(s, &["update-index", "-q", "--refresh"]);
}

/// A settled sandbox is proven clean without a `git status` (`git/clean.rs`), and after each
/// kind of change `status` counts what git counts, with no proof given.
#[test]
fn a_settled_sandbox_is_proven_clean_and_every_change_after_shows_as_git_counts_it() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    // Past the window in which a fresh checkout's index is healed by a `git status` instead.
    std::thread::sleep(std::time::Duration::from_millis(3200));
    type Change = fn(&TestEnv, &Path);
    let changes: &[(&str, Change)] = &[
        ("same-size edit, mtime put back", |t, s| {
            // In a later second than the index's stat data: git compares whole seconds of
            // the ctime, and an edit within that second is invisible to git itself.
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let f = s.join("src/lib.rs");
            let m = fs::metadata(&f).and_then(|m| m.modified()).expect("mtime");
            t.write(s, "src/lib.rs", "pub fn b() {}\n");
            fs::File::options()
                .write(true)
                .open(&f)
                .and_then(|h| h.set_modified(m))
                .expect("mtime back");
        }),
        ("new file deep", |t, s| {
            t.write(s, "src/deep/new.txt", "n\n")
        }),
        ("deleted", |_, s| {
            fs::remove_file(s.join("src/lib.rs")).expect("rm")
        }),
        ("executable bit", |_, s| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(s.join("src/lib.rs"), fs::Permissions::from_mode(0o755))
                .expect("chmod")
        }),
        ("staged", |t, s| {
            t.write(s, "src/lib.rs", "pub fn staged() {}\n");
            t.git(s, &["add", "src/lib.rs"]);
        }),
        ("intent to add", |t, s| {
            t.write(s, "ita.txt", "i\n");
            t.git(s, &["add", "-N", "ita.txt"]);
        }),
        ("a nested repository", |t, s| {
            t.git(s, &["init", "-q", "src/inner"]);
        }),
    ];
    for (what, change) in changes {
        settle(&t, &s);
        let (counts, proven) = tool_counts(&t, "s");
        assert_eq!(counts, (0, 0, 0, 0), "{what}: settled");
        assert!(proven, "{what}: a settled tree was not proven clean");
        change(&t, &s);
        let want = git_counts(&t, &s);
        assert_ne!(want, (0, 0, 0, 0), "{what}: git sees the change");
        let (got, proven) = tool_counts(&t, "s");
        assert_eq!(got, want, "{what}: status counts as git does");
        assert!(!proven, "{what}: proven clean after a change");
    }
}
