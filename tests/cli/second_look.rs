//! The second look after the quarantine: the quick one (stat data of the same entries,
//! `safety/second.rs`) and the full one (`GIT_SANDBOX_SECOND_LOOK=full`) catch the same
//! changes made between the first look and the quarantine, and the quick one is taken when
//! nothing changed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::common::{TestEnv, wait_until_paused};

/// A pushed sandbox holding a committed `a.txt`, left alone long enough to be settled.
fn settled(t: &TestEnv, name: &str) -> PathBuf {
    let p = t.new_sandbox(name);
    t.commit_file(&p, "a.txt", "aaaa\n", "a");
    t.git(&p, &["push", "-q", "-u", "origin", name]);
    std::thread::sleep(Duration::from_millis(400));
    p
}

/// `rm NAME --yes` with timings on, paused after the first look (before the quarantine) while
/// `during` runs; `full`: the full second look forced.
fn paused_rm(t: &TestEnv, name: &str, full: bool, during: impl FnOnce()) -> Output {
    let flag = t.root.join(format!("paused-{name}"));
    let mut cmd = t.cmd(&t.repo);
    cmd.args(["rm", name, "--yes"])
        .env("GIT_SANDBOX_TIMINGS", "1")
        .env("GIT_SANDBOX_PAUSE", "rm:marked:1500")
        .env("GIT_SANDBOX_PAUSED", &flag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if full {
        cmd.env("GIT_SANDBOX_SECOND_LOOK", "full");
    }
    let child = cmd.spawn().expect("spawn");
    wait_until_paused(&flag, "rm:marked");
    during();
    child.wait_with_output().expect("wait")
}

type Change = fn(&Path);

const CHANGES: [(&str, Change, &str); 4] = [
    (
        "same size",
        |p| fs::write(p.join("a.txt"), "bbbb\n").expect("w"),
        "unstaged: a.txt",
    ),
    (
        "new file",
        |p| fs::write(p.join("new.txt"), "n\n").expect("w"),
        "untracked: new.txt",
    ),
    (
        "deleted",
        |p| fs::remove_file(p.join("a.txt")).expect("rm"),
        "unstaged: a.txt",
    ),
    (
        "mode",
        |p| fs::set_permissions(p.join("a.txt"), fs::Permissions::from_mode(0o755)).expect("m"),
        "unstaged: a.txt",
    ),
];

#[test]
fn both_second_looks_catch_a_change_in_the_window() {
    let t = TestEnv::new();
    for (i, (what, change, news)) in CHANGES.iter().enumerate() {
        for full in [false, true] {
            let name = format!("c{i}{}", u8::from(full));
            let p = settled(&t, &name);
            let out = paused_rm(&t, &name, full, || change(&p));
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(3), "{what} (full {full}):\n{err}");
            assert!(err.contains("changed after the check"), "{what}:\n{err}");
            assert!(err.contains(&format!("new: {news}")), "{what}:\n{err}");
            // The quick look saw the difference and handed over to the full one.
            assert!(err.contains("second look: full"), "{what}:\n{err}");
            assert!(p.join(".git").is_file(), "{what}: the tree is back");
        }
    }
}

#[test]
fn the_quick_second_look_is_taken_when_nothing_changed() {
    let t = TestEnv::new();
    for full in [false, true] {
        let name = format!("q{}", u8::from(full));
        settled(&t, &name);
        let out = paused_rm(&t, &name, full, || {});
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        let look = if full { "full" } else { "quick" };
        assert!(err.contains(&format!("second look: {look}")), "{err}");
        t.ok(&t.repo, &["restore", &name]);
        let a = t.sandbox_path(&name).join("a.txt");
        assert_eq!(fs::read_to_string(a).expect("a"), "aaaa\n");
    }
}

/// `a.txt` rewritten at the same size once, a little later each round, while `rm` runs, in
/// both modes: each round either refuses (the tree is back with the write) or goes through
/// (restore brings the write back, or it came too late and failed). Rounds repeat until the
/// write landed between the first look and the quarantine ("changed after the check").
#[test]
fn a_write_in_the_window_is_caught_by_both_looks() {
    let t = TestEnv::new();
    for full in [false, true] {
        let mut hit = 0;
        for round in 0..40u64 {
            let name = format!("w{round}{}", u8::from(full));
            let p = settled(&t, &name);
            let delay = Duration::from_millis(round * 6);
            let (out, wrote) = rm_beside_writer(&t, &name, &p, full, delay);
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            match out.status.code() {
                Some(3) => hit += usize::from(err.contains("changed after the check")),
                Some(0) => {
                    t.ok(&t.repo, &["restore", &name]);
                }
                other => panic!("round {round}: rm exited {other:?}: {err}"),
            }
            let a = fs::read_to_string(t.sandbox_path(&name).join("a.txt")).expect("a");
            let want = if wrote { "bbbb\n" } else { "aaaa\n" };
            assert_eq!(
                a, want,
                "round {round} (full {full}): a write is lost\n{err}"
            );
            t.ok(&t.repo, &["rm", &name, "--yes", "--force"]);
            if hit >= 2 {
                break;
            }
        }
        assert!(hit > 0, "the window was never hit (full {full})");
    }
}

/// Runs `rm` while a thread rewrites `a.txt` (same size) once after `delay`, only if it is
/// still there; returns the output and whether the write happened.
fn rm_beside_writer(
    t: &TestEnv,
    name: &str,
    p: &Path,
    full: bool,
    delay: Duration,
) -> (Output, bool) {
    let f = p.join("a.txt");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(delay);
        // Never creates a file at the path (the tree may have moved away).
        fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .and_then(|mut h| std::io::Write::write_all(&mut h, b"bbbb\n"))
            .is_ok()
    });
    let mut cmd = t.cmd(&t.repo);
    cmd.args(["rm", name, "--yes"]);
    if full {
        cmd.env("GIT_SANDBOX_SECOND_LOOK", "full");
    }
    let out = cmd.output().expect("rm");
    (out, writer.join().expect("writer"))
}

/// A short-lived process whose working directory is the sandbox when it is quarantined: it
/// waits for the rename, then `delay_ms` later writes `late.txt` through its cwd and exits.
fn late_writer(p: &Path, delay_ms: u64) -> std::process::Child {
    let script = format!(
        "while [ -d '{}' ]; do sleep 0.002; done; sleep 0.{delay_ms:03}; echo late > late.txt",
        p.display()
    );
    std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(p)
        .spawn()
        .expect("writer")
}

#[test]
fn a_process_that_writes_during_the_second_look_and_leaves_loses_nothing() {
    let t = TestEnv::new();
    let (mut during_rm, mut rounds) = (0, 0);
    // Rounds until three writes landed while rm was at work (a fast machine finishes the
    // second look within a few ms of the rename: the delays stay short), at most 24; every
    // round asserts that nothing was lost.
    for round in 0..24u64 {
        if round >= 8 && during_rm >= 3 {
            break;
        }
        rounds += 1;
        let name = format!("w{round}");
        let p = settled(&t, &name);
        let mut writer = None;
        let out = paused_rm(&t, &name, round % 2 == 1, || {
            writer = Some(late_writer(&p, (round % 8) * 3));
        });
        let ended = std::time::SystemTime::now();
        let mut writer = writer.expect("writer started");
        assert!(writer.wait().expect("writer").success(), "round {round}");
        if out.status.success() {
            // Removed: the undo brings every byte back, the late file too.
            t.ok(&t.repo, &["restore", &name]);
        } else {
            assert_eq!(out.status.code(), Some(3), "round {round}: {out:?}");
        }
        let late = p.join("late.txt");
        assert_eq!(
            fs::read_to_string(&late).ok().as_deref(),
            Some("late\n"),
            "round {round}: the late file was lost ({out:?})"
        );
        let written = fs::metadata(&late)
            .and_then(|m| m.modified())
            .expect("mtime");
        during_rm += u64::from(written <= ended);
    }
    // The window was hit: writes landed while rm was still at work.
    assert!(
        during_rm >= 3,
        "only {during_rm} of {rounds} writes came during rm"
    );
}

/// Edits `a.txt` in place to other bytes of the same size and puts its mtime back.
fn same_size_edit_mtime_back(p: &Path) {
    let file = p.join("a.txt");
    let mtime = fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    fs::write(&file, "bbbb\n").expect("edit");
    fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(mtime))
        .expect("mtime back");
}

#[test]
fn an_edit_git_is_told_not_to_see_is_still_kept() {
    let t = TestEnv::new();
    for (key, value) in [("core.trustctime", "false"), ("core.checkStat", "minimal")] {
        // Until git itself is blind to the edit (its index written after the file, so the
        // entry is not racy); every round, rm keeps the edit.
        let mut blind = 0;
        for round in 0..10 {
            let name = format!("s{}r{round}", key.len());
            let p = settled(&t, &name);
            t.git(&p, &["config", key, value]);
            std::thread::sleep(Duration::from_millis(50));
            t.git(&p, &["read-tree", "HEAD"]);
            t.git(&p, &["update-index", "-q", "--refresh"]);
            same_size_edit_mtime_back(&p);
            blind += u64::from(t.git(&p, &["status", "--porcelain"]).is_empty());
            let err = t.fails(&t.repo, &["rm", &name, "--yes"], 3);
            assert!(err.contains("a.txt"), "{key} round {round}: {err}");
            assert_eq!(fs::read_to_string(p.join("a.txt")).expect("kept"), "bbbb\n");
            if blind >= 2 {
                break;
            }
        }
        assert!(blind >= 2, "{key}: git saw the edit in every round");
    }
}
