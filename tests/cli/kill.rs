//! `kill -9` of git-sandbox in the middle of `git worktree add`: no git it started survives
//! it, and `prune` then leaves the registry, git's worktree list and the directory agreeing.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::TestEnv;

/// `(ppid, state, start time)` of a process, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, String, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After `pid (comm)`: state is field 3, ppid 4, starttime 22.
    Some((
        f.get(1)?.parse().ok()?,
        f.first()?.to_string(),
        f.get(19)?.parse().ok()?,
    ))
}

fn pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Live descendants of `root` as `(pid, start time)`.
fn descendants(root: u32) -> BTreeSet<(u32, u64)> {
    let all: Vec<(u32, u32, String, u64)> = pids()
        .into_iter()
        .filter_map(|p| stat(p).map(|(pp, st, t)| (p, pp, st, t)))
        .collect();
    let mut out = BTreeSet::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (p, pp, st, t) in &all {
            if *pp == parent && st != "Z" && out.insert((*p, *t)) {
                frontier.push(*p);
            }
        }
    }
    out
}

fn alive(pid: u32, start: u64) -> bool {
    stat(pid).is_some_and(|(_, st, t)| t == start && st != "Z")
}

/// Processes whose current directory is under `dir` (git's checkout runs in the new tree).
fn working_in(dir: &Path) -> Vec<(u32, String)> {
    pids()
        .into_iter()
        .filter(|p| {
            fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c.starts_with(dir))
                && stat(*p).is_some_and(|(_, st, _)| st != "Z")
        })
        .map(|p| (p, cmdline(p)))
        .collect()
}

/// A repo of a few thousand files whose checkout takes seconds: a few files go through a smudge
/// filter that sleeps, so `git worktree add` is surely still running when we kill.
fn big_repo(t: &TestEnv, files: usize) {
    let body = "x".repeat(2048);
    for i in 0..files {
        t.write(&t.repo, &format!("d{}/f{i}.txt", i % 50), &body);
    }
    t.write(&t.repo, ".gitattributes", "*.slow filter=slow\n");
    for i in 0..5 {
        t.write(&t.repo, &format!("z/{i}.slow"), "slow\n");
    }
    t.git(&t.repo, &["config", "filter.slow.smudge", "sleep 1; cat"]);
    t.git(&t.repo, &["config", "filter.slow.clean", "cat"]);
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "many files"]);
    t.git(&t.repo, &["push", "-q", "origin", "main"]);
}

/// Starts `new big` and returns once git's checkout (`git reset --hard`, run by
/// `git worktree add`) is running under it (polling `/proc`); `None` if `new` finished first.
fn start_new_and_catch_checkout(t: &TestEnv) -> Option<std::process::Child> {
    let mut child = t
        .cmd(&t.repo)
        .args(["new", "big"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn new");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return None;
        }
        let checking_out = descendants(child.id())
            .iter()
            .any(|(p, _)| cmdline(*p).contains("reset --hard"));
        if checking_out {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("git worktree add never started");
}

#[test]
fn killing_git_sandbox_kills_its_git_and_prune_agrees_after() {
    let t = TestEnv::new();
    big_repo(&t, 3000);
    let mut child = start_new_and_catch_checkout(&t).expect("new finished before it was killed");
    let pid = child.id();
    let doomed = descendants(pid);
    let gits: Vec<String> = doomed.iter().map(|(p, _)| cmdline(*p)).collect();
    assert!(
        gits.iter().any(|c| c.contains("worktree add")),
        "no git worktree add under {pid}: {gits:?}"
    );
    child.kill().expect("kill -9 git-sandbox");
    child.wait().expect("reap");
    // The smudge filter alone keeps an orphaned checkout running for seconds more.
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut left: Vec<(u32, u64)> = doomed.iter().copied().collect();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left.retain(|(p, s)| alive(*p, *s));
    }
    let survivors: Vec<String> = left.iter().map(|(p, _)| cmdline(*p)).collect();
    assert!(survivors.is_empty(), "still running: {survivors:?}");
    let sandbox = t.sandbox_path("big");
    assert!(
        working_in(&sandbox).is_empty(),
        "{:?}",
        working_in(&sandbox)
    );

    t.ok(&t.repo, &["prune"]);
    assert_agree(&t);
}

/// The registry, `git worktree list` and the directory holding the repo tell the same story.
fn assert_agree(t: &TestEnv) {
    let entries = t.entries();
    let mut ids: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    ids.sort();
    for (id, _, state) in &entries {
        assert_eq!(state, "ready", "{id}");
    }
    assert_eq!(t.admin_entries(), ids);
    let listed: Vec<PathBuf> = t
        .git(&t.repo, &["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .map(PathBuf::from)
        .filter(|p| *p != t.repo)
        .collect();
    let registered: Vec<PathBuf> = t.registry()["instances"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["path"].as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed, registered);
    let mut on_disk: Vec<String> = t.siblings().into_iter().filter(|s| s != "repo").collect();
    on_disk.sort();
    let mut want: Vec<String> = registered
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .collect();
    want.sort();
    assert_eq!(on_disk, want, "directories beside the repo");
    if !ids.is_empty() {
        // Completed rather than rolled back: the checkout is whole.
        assert!(t.git(&registered[0], &["status", "--porcelain"]).is_empty());
    }
}
