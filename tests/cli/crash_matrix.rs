//! The crash matrix: `kill -9` of git-sandbox alone, or of its whole process group, at
//! pseudo-random moments of `new`, `rm --force` and `restore` on a repo of 20,000 files. After
//! `prune`, the registry, `git worktree list` and the directories agree, no half-made state is
//! left, and the sandbox's uncommitted work is in place or brought back by `restore`.

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::TestEnv;

const FILES: usize = 20_000;

/// A repo of `FILES` small files in 200 directories, pushed.
fn big_repo() -> TestEnv {
    let t = TestEnv::new();
    for d in 0..200 {
        let dir = t.repo.join(format!("src/d{d:03}"));
        fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..FILES / 200 {
            fs::write(dir.join(format!("f{f:03}.txt")), format!("{d} {f}\n")).expect("write");
        }
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "big"]);
    t.git(&t.repo, &["push", "-q"]);
    t
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Runs git-sandbox in its own process group and kills it (alone, or the whole group) after
/// `delay`. Returns whether it was killed before it finished.
fn kill_after(t: &TestEnv, args: &[&str], delay: Duration, group: bool) -> bool {
    let mut child = t
        .cmd(&t.repo)
        .args(args)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while start.elapsed() < delay {
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let target = if group {
        format!("-{}", child.id())
    } else {
        child.id().to_string()
    };
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &target])
        .status();
    let status = child.wait().expect("wait");
    !status.success()
}

/// After `prune`: every entry ready with its directory and git entry, git has no entry the
/// registry lacks, and nothing half-made is left beside the repo.
fn assert_agree(t: &TestEnv, what: &str) {
    let entries = t.entries();
    for (id, _, state) in &entries {
        assert_eq!(state, "ready", "{what}: {id} left {state}");
    }
    let mut ids: Vec<String> = entries.into_iter().map(|e| e.0).collect();
    ids.sort();
    assert_eq!(
        t.admin_entries(),
        ids,
        "{what}: git and the registry differ"
    );
    for id in &ids {
        let slug = id.trim_start_matches("repo--");
        assert!(
            t.sandbox_path(slug).join(".git").is_file(),
            "{what}: {id} has no directory"
        );
    }
    for s in t.siblings() {
        assert!(
            !s.starts_with(".git-sandbox-new."),
            "{what}: staging {s} left"
        );
        if s.starts_with(".git-sandbox-trash.") {
            let tree = t.repo.parent().expect("parent").join(&s).join("tree");
            assert!(!tree.exists(), "{what}: {s}/tree was never swept");
        }
    }
    let reg = t.registry();
    assert!(
        reg["sweep"].as_array().is_none_or(|a| a.is_empty()),
        "{what}: sweep queue not empty"
    );
    let listed = t.git(&t.repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(
        listed.matches("worktree ").count(),
        ids.len() + 1,
        "{what}: {listed}"
    );
}

/// The work is in the sandbox, or `restore` brings it back; either way it ends in place.
fn assert_work_kept(t: &TestEnv, what: &str, round: usize) {
    let p = t.sandbox_path("c");
    let want = format!("round {round}\n");
    if !p.exists() {
        let out = t.run(&t.repo, &["restore", "c"]);
        assert!(
            out.status.success(),
            "{what}: the sandbox is gone and restore failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        fs::read_to_string(p.join("work.txt")).ok().as_deref(),
        Some(want.as_str()),
        "{what}: the uncommitted work is lost"
    );
    assert_eq!(
        fs::read_to_string(p.join("keep.local")).ok().as_deref(),
        Some("ignored but kept\n"),
        "{what}: the ignored file is lost"
    );
}

/// Measures how long `args` takes when left alone (the window to kill in).
fn span(t: &TestEnv, args: &[&str]) -> Duration {
    let start = Instant::now();
    t.ok(&t.repo, args);
    start.elapsed()
}

#[test]
fn kill_9_at_random_moments_then_prune_agrees_and_keeps_every_byte() {
    let t = big_repo();
    fs::write(t.repo.join(".git/info/exclude"), "*.local\n").expect("exclude");
    // A new seed each run (printed, and `CRASH_SEED` replays one): each run tries new moments.
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("crash matrix seed: CRASH_SEED={seed}");
    let mut rng = Lcg(seed);
    let p = t.sandbox_path("c");
    let new_span = span(&t, &["new", "c"]);
    let rm_span = span(&t, &["rm", "c", "--yes", "--force"]);
    let restore_span = span(&t, &["restore", "c"]);
    let mut killed = 0;
    for round in 0..12 {
        let group = round % 2 == 1;
        let (what, args, window): (&str, Vec<&str>, Duration) = match round % 3 {
            0 => ("new", vec!["new", "c"], new_span),
            1 => ("rm --force", vec!["rm", "c", "--yes", "--force"], rm_span),
            _ => ("restore", vec!["restore", "c"], restore_span),
        };
        // Bring the sandbox to the state the operation starts from, with fresh work in it.
        if what == "new" {
            if p.exists() {
                t.ok(&t.repo, &["rm", "c", "--yes", "--force", "--delete-branch"]);
            }
            purge_states(&t);
            if t.branches().contains(&"c".to_string()) {
                t.git(&t.repo, &["branch", "-q", "-D", "c"]);
            }
        } else {
            if !p.exists() {
                t.ok(&t.repo, &["restore", "c"]);
            }
            fs::write(p.join("work.txt"), format!("round {round}\n")).expect("work");
            fs::write(p.join("keep.local"), "ignored but kept\n").expect("ignored");
            if what == "restore" {
                t.ok(&t.repo, &["rm", "c", "--yes", "--force"]);
            }
        }
        let delay = Duration::from_millis(rng.next(window.as_millis() as u64 + 1));
        let label = format!(
            "CRASH_SEED={seed} round {round}: {what} killed ({}) after {delay:?}",
            if group { "process group" } else { "alone" }
        );
        killed += usize::from(kill_after(&t, &args, delay, group));
        let out = t.run(&t.repo, &["prune"]);
        assert!(
            out.status.success(),
            "{label}: prune failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_agree(&t, &label);
        if what == "new" {
            // Rolled back or complete; either way the name works.
            if !p.exists() {
                t.ok(&t.repo, &["new", "c"]);
            }
            fs::write(p.join("work.txt"), format!("round {round}\n")).expect("work");
            fs::write(p.join("keep.local"), "ignored but kept\n").expect("ignored");
        }
        assert_work_kept(&t, &label, round);
        assert_agree(&t, &label);
    }
    eprintln!("crash matrix: {killed} of 12 runs were killed mid-way");
}

/// Deletes every saved state (between rounds that start from nothing).
fn purge_states(t: &TestEnv) {
    let out = t.run(&t.repo, &["trash", "purge", "--yes"]);
    assert!(out.status.success(), "{out:?}");
}
