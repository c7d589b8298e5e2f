//! `rm` rows: a clean, pushed sandbox made a moment ago against `git worktree remove` (with and
//! without a `sync` first), with the tree's page cache evicted against worktrunk's `wt remove`,
//! and `rm --force` right after `restore` against the same on a sandbox never removed.

use std::num::NonZeroU64;
use std::path::Path;
use std::time::Duration;

use xshell::{Shell, cmd};

use crate::fixtures::{new, rm_force};
use crate::harness::{BIN, Bench, Pair, skipped, timed};

/// `rm NAME --yes`, its sweep left to `prune` (off the clock, as in a user's session).
fn rm(sh: &Shell, name: &str, sync: bool) -> Duration {
    let _sweep = sh.push_env("GIT_SANDBOX_SWEEP", "prune");
    timed(sync, || {
        cmd!(sh, "{BIN} rm {name} --yes")
            .quiet()
            .ignore_stderr()
            .run()
            .expect("rm")
    })
}

fn prune(sh: &Shell) {
    cmd!(sh, "{BIN} prune")
        .quiet()
        .ignore_stderr()
        .run()
        .expect("prune");
}

/// A clean, pushed sandbox made a moment ago against a worktree made a moment ago.
pub fn fresh(b: &Bench, sh: &Shell, repo: &Path, sync: bool) {
    sh.change_dir(repo);
    let work = b.root.join("work");
    let mut p = Pair::default();
    for i in 0..b.rounds {
        let g = work.join(format!("rg{i}{}", u8::from(sync)));
        let n = format!("r{i}{}", u8::from(sync));
        cmd!(sh, "git worktree add -q --detach {g}")
            .quiet()
            .run()
            .expect("add");
        new(sh, &n, &[]);
        let git = || {
            timed(sync, || {
                cmd!(sh, "git worktree remove {g}")
                    .quiet()
                    .run()
                    .expect("remove")
            })
        };
        if i.is_multiple_of(2) {
            p.theirs.push(git());
            p.ours.push(rm(sh, &n, sync));
        } else {
            p.ours.push(rm(sh, &n, sync));
            p.theirs.push(git());
        }
        prune(sh);
    }
    // Issue 25's targets.
    let (how, target) = if sync {
        ("sync first", "<= 0.15")
    } else {
        ("no sync", "<= 0.40")
    };
    p.report(
        &format!("rm (fresh, clean, pushed) vs worktree remove, {how}"),
        "git",
        target,
    );
}

/// Drops the page cache of every file under `dir` (`fadvise(DONTNEED)`; the machine's
/// `drop_caches` needs more than root in a container). Dentries and inodes stay cached.
fn evict(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => evict(&p),
            Ok(t) if t.is_file() => {
                if let Ok(f) = std::fs::File::open(&p) {
                    let _ = rustix::fs::fadvise(
                        &f,
                        0,
                        NonZeroU64::new(0),
                        rustix::fs::Advice::DontNeed,
                    );
                }
            }
            _ => {}
        }
    }
}

/// Page cache evicted: `rm` against worktrunk's `wt remove` of a worktree made the same way.
pub fn cold_vs_worktrunk(b: &Bench, sh: &Shell, repo: &Path) {
    let name = "rm (page cache evicted) vs wt remove";
    if !crate::worktrunk::available() {
        skipped(name, crate::worktrunk::MISSING);
        return;
    }
    sh.change_dir(repo);
    let work = b.root.join("work");
    let mut p = Pair::default();
    for i in 0..b.rounds {
        let w = work.join(format!("wt{i}"));
        let branch = format!("wt{i}");
        cmd!(sh, "git worktree add -q -b {branch} {w}")
            .quiet()
            .run()
            .expect("add");
        let n = format!("cold{i}");
        let ours = new(sh, &n, &[]);
        let _ = std::process::Command::new("sync").status();
        evict(&ours);
        evict(&w);
        let wt = || {
            timed(false, || {
                cmd!(sh, "wt remove {w}")
                    .quiet()
                    .ignore_stdout()
                    .ignore_stderr()
                    .run()
                    .expect("wt remove")
            })
        };
        if i.is_multiple_of(2) {
            p.theirs.push(wt());
            p.ours.push(rm(sh, &n, false));
        } else {
            p.ours.push(rm(sh, &n, false));
            p.theirs.push(wt());
        }
        prune(sh);
        std::thread::sleep(Duration::from_millis(500));
    }
    p.report(name, "wt ", "<= 1.00");
}

/// `rm --force` right after `restore` against `rm --force` of a sandbox never removed, both
/// holding the same edit and both a few seconds old.
pub fn after_restore(b: &Bench, sh: &Shell, repo: &Path) {
    sh.change_dir(repo);
    let mut p = Pair::default();
    let edit = |dir: &Path| std::fs::write(dir.join("d000/f1.txt"), "edited\n").expect("edit");
    for i in 0..b.rounds {
        let restored = format!("rs{i}");
        let s = new(sh, &restored, &[]);
        edit(&s);
        rm_force(sh, &restored);
        cmd!(sh, "{BIN} restore {restored}")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .expect("restore");
        let plain = format!("np{i}");
        edit(&new(sh, &plain, &[]));
        std::thread::sleep(Duration::from_millis(1500));
        let force = |n: &str| timed(true, || rm_force(sh, n));
        if i.is_multiple_of(2) {
            p.theirs.push(force(&plain));
            p.ours.push(force(&restored));
        } else {
            p.ours.push(force(&restored));
            p.theirs.push(force(&plain));
        }
    }
    p.report(
        "rm --force right after restore vs never removed",
        "new",
        "<= 1.20",
    );
}
