//! The other rows: `new`, a checkout with the hooks, `status`/`rm --dry-run` on a long
//! history, and peak memory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use xshell::{Shell, cmd};

use crate::fixtures::{new as make, rm_force};
use crate::harness::{BIN, Bench, Pair, median, ms, peak_kib, timed};

/// `new` against `git worktree add -b`.
pub fn new(b: &Bench, sh: &Shell, repo: &Path) {
    sh.change_dir(repo);
    let work = b.root.join("work");
    let sync = crate::harness::sync_default();
    let p = Pair::run(
        b.rounds,
        |i| {
            let n = format!("n{i}");
            timed(sync, || {
                cmd!(sh, "{BIN} new {n}")
                    .quiet()
                    .ignore_stdout()
                    .ignore_stderr()
                    .run()
                    .expect("new")
            })
        },
        |i| {
            let (g, br) = (work.join(format!("g{i}")), format!("g{i}"));
            timed(sync, || {
                cmd!(sh, "git worktree add -q -b {br} {g}")
                    .quiet()
                    .run()
                    .expect("worktree add")
            })
        },
    );
    p.report("new vs worktree add -b", "git", "<= 0.80");
    for i in 0..b.rounds {
        let (g, br) = (work.join(format!("g{i}")), format!("g{i}"));
        cmd!(sh, "git worktree remove --force {g}")
            .quiet()
            .run()
            .expect("cleanup");
        cmd!(sh, "git branch -q -D {br}")
            .quiet()
            .run()
            .expect("cleanup");
        rm_force(sh, &format!("n{i}"));
    }
}

/// `status` and `rm --dry-run` of a branch 5,000 commits behind with 3 unpushed, and `status`
/// of a sandbox made there with a commit of its own, against `git rev-list --count B --not
/// --remotes` (the commit-graph written).
pub fn history(b: &Bench, sh: &Shell, repo: &Path) {
    sh.change_dir(repo);
    make(sh, "behind", &["--branch", "behind"]);
    aged();
    let revlist = |_| {
        timed(false, || {
            cmd!(sh, "git rev-list --count behind --not --remotes")
                .quiet()
                .ignore_stdout()
                .run()
                .expect("rev-list")
        })
    };
    let ours = |args: &'static [&'static str]| {
        move |_| {
            timed(false, || {
                cmd!(sh, "{BIN} {args...}")
                    .quiet()
                    .ignore_stdout()
                    .ignore_stderr()
                    .ignore_status()
                    .run()
                    .expect("ours")
            })
        }
    };
    let rounds = b.rounds.max(7);
    Pair::run(rounds, ours(&["status", "behind"]), revlist).report(
        "status, 5000 behind + 3 unpushed, 20k commits",
        "git",
        "<= 1.50",
    );
    Pair::run(rounds, ours(&["rm", "behind", "--dry-run"]), revlist).report(
        "rm --dry-run, the same branch",
        "git",
        "<= 1.50",
    );
    // A sandbox made 5,000 commits back with a commit of its own: `status` also asks whether
    // the default branch holds its work (where it forked from it), which must follow the
    // distance too.
    let deep = make(sh, "deep", &["--from", "behind~3"]);
    std::fs::write(deep.join("deep.txt"), "deep\n").expect("file");
    let s = b.shell();
    s.change_dir(&deep);
    cmd!(s, "git add deep.txt").quiet().run().expect("add");
    cmd!(s, "git commit -q -m deep")
        .quiet()
        .run()
        .expect("commit");
    aged();
    Pair::run(rounds, ours(&["status", "deep"]), revlist).report(
        "status, own commit 5000 behind the default",
        "git",
        "<= 1.50",
    );
}

/// Lets a sandbox just made age past its checkout's second, as a user's has by the time they
/// ask about it: until then git cannot trust the index's stat data for any file ("racily
/// clean", `src/git/racy.rs`) and every look, git's own included, reads all of them again.
/// The first round then heals the index, as a `git status` would. Bigger trees are healed by
/// the helper `new` leaves behind, which [`crate::harness::settle`] waits for.
fn aged() {
    std::thread::sleep(Duration::from_millis(1100));
}

/// `git checkout` between two branches in a sandbox with the hooks against a plain clone
/// without, ≥ 40 interleaved pairs.
pub fn hooks(b: &Bench, sh: &Shell) {
    let plain = hooked_repo(b, sh);
    let sb = make(sh, "hooked", &[]);
    cmd!(sh, "{BIN} hooks install")
        .quiet()
        .ignore_stderr()
        .run()
        .expect("install");
    let shell_in = |dir: &PathBuf| {
        let s = b.shell();
        s.change_dir(dir);
        cmd!(s, "git checkout -q -b x")
            .quiet()
            .ignore_stderr()
            .run()
            .expect("checkout");
        s
    };
    let (with, without) = (shell_in(&sb), shell_in(&plain));
    let flip = |s: &Shell, i: usize| {
        let to = if i.is_multiple_of(2) { "-" } else { "x" };
        timed(false, || {
            cmd!(s, "git checkout -q {to}")
                .quiet()
                .ignore_stderr()
                .run()
                .expect("checkout")
        })
    };
    let p = Pair::run(
        b.rounds.max(40) * 2,
        |i| flip(&with, i),
        |i| flip(&without, i),
    );
    let added: Vec<f64> = p
        .ours
        .iter()
        .zip(&p.theirs)
        .map(|(w, wo)| ms(*w) - ms(*wo))
        .collect();
    let mut sorted = added.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{:<44} with {:>6.2} ms  without {:>6.2} ms  added {:.2} ms (median of {} pairs; per-pair median {:.2})  (target < 2 ms)",
        "git checkout in a sandbox, hooks vs none",
        ms(median(&p.ours)),
        ms(median(&p.theirs)),
        ms(median(&p.ours)) - ms(median(&p.theirs)),
        added.len(),
        sorted[sorted.len() / 2]
    );
}

/// A small repo of 50 files (the shell's directory from now on) and a plain clone of it;
/// returns the clone's path.
fn hooked_repo(b: &Bench, sh: &Shell) -> PathBuf {
    let small = b.root.join("work").join("hooked");
    std::fs::create_dir_all(&small).expect("small");
    sh.change_dir(&small);
    cmd!(sh, "git init -q").quiet().run().expect("init");
    for i in 0..50 {
        std::fs::write(small.join(format!("f{i}")), format!("{i}\n")).expect("file");
    }
    cmd!(sh, "git add -A").quiet().run().expect("add");
    cmd!(sh, "git commit -q -m small")
        .quiet()
        .run()
        .expect("commit");
    let plain = b.root.join("work").join("plain");
    cmd!(sh, "git clone -q {small} {plain}")
        .quiet()
        .run()
        .expect("clone");
    plain
}

/// Peak resident memory of `new`, `list` and `rm` against git's own for the same job, over
/// five interleaved rounds (one sample moved by ±3% between runs: the peak of `rm` and of
/// `git worktree remove` is the same `git status` child).
pub fn memory(b: &Bench, sh: &Shell, repo: &Path) {
    sh.change_dir(repo);
    let home = b.root.join("home");
    let registry = b.root.join("registry");
    let gitconfig = home.join(".gitconfig");
    let envs: [(&str, &Path); 3] = [
        ("HOME", &home),
        ("GIT_SANDBOX_HOME", &registry),
        ("GIT_CONFIG_GLOBAL", &gitconfig),
    ];
    let mut rows: [(&str, Vec<u64>, Vec<u64>); 3] = [
        ("new", Vec::new(), Vec::new()),
        ("list (1 sandbox) vs git status", Vec::new(), Vec::new()),
        ("rm", Vec::new(), Vec::new()),
    ];
    for round in 0..5 {
        let (name, branch) = (format!("mem{round}"), format!("memg{round}"));
        let g = b.root.join("work").join(format!("mem-git{round}"));
        let g_s = g.to_string_lossy().into_owned();
        let samples = [
            (
                peak_kib(repo, &envs, BIN, &["new", &name]),
                peak_kib(
                    repo,
                    &envs,
                    "git",
                    &["worktree", "add", "-q", "-b", &branch, &g_s],
                ),
            ),
            (
                peak_kib(repo, &envs, BIN, &["list"]),
                peak_kib(&g, &envs, "git", &["status", "--porcelain"]),
            ),
            (
                peak_kib(repo, &envs, BIN, &["rm", &name, "--yes"]),
                peak_kib(repo, &envs, "git", &["worktree", "remove", &g_s]),
            ),
        ];
        for (row, (ours, git)) in rows.iter_mut().zip(samples) {
            row.1.extend(ours);
            row.2.extend(git);
        }
    }
    report_peaks(rows);
    std::thread::sleep(Duration::from_millis(10));
}

/// Prints each row's median peaks and their ratio.
fn report_peaks(rows: [(&str, Vec<u64>, Vec<u64>); 3]) {
    for (what, mut ours, mut git) in rows {
        if ours.is_empty() || git.is_empty() {
            crate::harness::skipped(
                &format!("peak memory: {what}"),
                "/usr/bin/time (GNU time) is missing",
            );
            continue;
        }
        ours.sort_unstable();
        git.sort_unstable();
        let (o, g) = (ours[ours.len() / 2], git[git.len() / 2]);
        println!(
            "{:<44} ours {:>6.1} MiB  git {:>6.1} MiB  ratio {:.2}  (target <= 1.00; median peak RSS of {} runs, GNU time)",
            format!("peak memory: {what}"),
            o as f64 / 1024.0,
            g as f64 / 1024.0,
            o as f64 / g as f64,
            ours.len()
        );
    }
}
