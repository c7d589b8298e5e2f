//! git-sandbox against the git commands it wraps, in one run, as ratios.
//!
//! `cargo bench` (release build). Generates a repo of `GIT_SANDBOX_BENCH_FILES` files (default
//! 25,000) and interleaves the runs of each pair, so that disk and cache swings hit both sides
//! alike. Reports medians and the ratio ours/git; it never fails on a timing.
//!
//! - `new` against `git worktree add -b` (target: ratio ≤ 1.0)
//! - `list` of 20 sandboxes against a loop of `git status --porcelain` + `git rev-list --count`
//!   per worktree (target: ≤ 0.5)
//! - `rm` of a clean, pushed sandbox against `git worktree remove` (target: ≤ 0.2), and the time
//!   `prune` then takes to sweep the renamed directory
//! - `git checkout` in a small repo with the hooks installed against without (target: < 5 ms
//!   added, median), and the binary's start-up time

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use xshell::{Shell, cmd};

const BIN: &str = env!("CARGO_BIN_EXE_git-sandbox");

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `f` after flushing the disk's write-back, so that one side's writes do not land on
/// the other side's clock. (It also means a worktree's files are on disk before it is removed,
/// as they are for any sandbox that has lived for a while.)
fn timed(f: impl FnOnce()) -> Duration {
    if std::env::var_os("GIT_SANDBOX_BENCH_SYNC").is_none_or(|v| v != "0") {
        let _ = std::process::Command::new("sync").status();
    }
    let t = Instant::now();
    f();
    t.elapsed()
}

fn shell(root: &Path) -> Shell {
    let sh = Shell::new().expect("shell");
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n",
    )
    .expect("gitconfig");
    sh.set_var("HOME", &home);
    sh.set_var("GIT_CONFIG_GLOBAL", home.join(".gitconfig"));
    sh.set_var("GIT_CONFIG_NOSYSTEM", "1");
    sh.set_var("GIT_SANDBOX_HOME", root.join("registry"));
    sh.set_var("NO_COLOR", "1");
    // Clean-up removals delete before returning, so no deletion runs under a timed command.
    sh.set_var("GIT_SANDBOX_SWEEP", "foreground");
    sh
}

/// A repo of `files` files in 100-file directories, committed and pushed to a bare remote.
fn big_repo(sh: &Shell, root: &Path, files: usize) -> PathBuf {
    let repo = root.join("work").join("big");
    std::fs::create_dir_all(&repo).expect("repo");
    for i in 0..files {
        let dir = repo.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir).expect("dir");
        }
        std::fs::write(
            dir.join(format!("f{i}.txt")),
            format!("file {i}\n{}\n", "x".repeat(i % 200)),
        )
        .expect("file");
    }
    std::fs::write(repo.join(".sandbox.toml"), "max_slots = 30\n").expect("config");
    sh.change_dir(&repo);
    let remote = root.join("remote.git");
    cmd!(sh, "git init -q").quiet().run().expect("init");
    cmd!(sh, "git add -A").quiet().run().expect("add");
    cmd!(sh, "git commit -q -m files")
        .quiet()
        .run()
        .expect("commit");
    cmd!(sh, "git init -q --bare {remote}")
        .quiet()
        .run()
        .expect("bare");
    cmd!(sh, "git remote add origin {remote}")
        .quiet()
        .run()
        .expect("remote");
    cmd!(sh, "git push -q -u origin main")
        .quiet()
        .run()
        .expect("push");
    cmd!(sh, "git commit-graph write --reachable")
        .quiet()
        .run()
        .expect("graph");
    repo
}

fn report(name: &str, ours: Duration, git: Duration, target: &str) {
    println!(
        "{name:<34} git-sandbox {:>8.1} ms   git {:>8.1} ms   ratio {:>5.2}   (target {target})",
        ms(ours),
        ms(git),
        ours.as_secs_f64() / git.as_secs_f64()
    );
}

fn main() {
    let files: usize = std::env::var("GIT_SANDBOX_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25_000);
    let rounds: usize = std::env::var("GIT_SANDBOX_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(tmp.path()).expect("canonical");
    let sh = shell(&root);
    println!(
        "git-sandbox benchmark: {files} files, {rounds} interleaved rounds, {}",
        cmd!(sh, "git --version").read().unwrap_or_default()
    );
    let repo = big_repo(&sh, &root, files);
    sh.change_dir(&repo);
    let work = root.join("work");

    // new against git worktree add -b.
    let (mut ours, mut git) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let g = work.join(format!("g{i}"));
        let b = format!("g{i}");
        let n = format!("n{i}");
        let run_git = || {
            timed(|| {
                cmd!(sh, "git worktree add -q -b {b} {g}")
                    .quiet()
                    .run()
                    .expect("worktree add")
            })
        };
        let run_ours = || {
            timed(|| {
                cmd!(sh, "{BIN} new {n}")
                    .quiet()
                    .ignore_stdout()
                    .ignore_stderr()
                    .run()
                    .expect("new")
            })
        };
        if i % 2 == 0 {
            git.push(run_git());
            ours.push(run_ours());
        } else {
            ours.push(run_ours());
            git.push(run_git());
        }
        cmd!(sh, "git worktree remove --force {g}")
            .quiet()
            .run()
            .expect("cleanup");
        cmd!(sh, "git branch -q -D {b}")
            .quiet()
            .run()
            .expect("cleanup");
        cmd!(sh, "{BIN} rm {n} --yes")
            .quiet()
            .ignore_stderr()
            .run()
            .expect("cleanup");
    }
    report(
        "new vs worktree add -b",
        median(ours),
        median(git),
        "<= 1.00",
    );

    // list of 20 sandboxes against a status + rev-list loop.
    let mut paths = Vec::new();
    for i in 0..20 {
        let n = format!("l{i:02}");
        let out = cmd!(sh, "{BIN} new {n}")
            .quiet()
            .ignore_stderr()
            .read()
            .expect("new");
        paths.push(PathBuf::from(out.trim()));
    }
    // Some state to report: a change in a few of them.
    for p in paths.iter().step_by(5) {
        std::fs::write(p.join("d000/f1.txt"), "changed\n").expect("edit");
    }
    let (mut ours, mut git) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        git.push(timed(|| {
            for p in &paths {
                let s = Shell::new().expect("sh");
                s.change_dir(p);
                cmd!(s, "git status --porcelain")
                    .quiet()
                    .ignore_stdout()
                    .run()
                    .expect("status");
                cmd!(s, "git rev-list --count HEAD --not --remotes")
                    .quiet()
                    .ignore_stdout()
                    .run()
                    .expect("rev-list");
            }
        }));
        ours.push(timed(|| {
            cmd!(sh, "{BIN} list")
                .quiet()
                .ignore_stdout()
                .run()
                .expect("list")
        }));
    }
    report(
        "list (20) vs status+rev-list loop",
        median(ours),
        median(git),
        "<= 0.50",
    );
    for p in &paths {
        let name = p
            .file_name()
            .expect("name")
            .to_string_lossy()
            .trim_start_matches("big--")
            .to_string();
        cmd!(sh, "{BIN} rm {name} --yes --force")
            .quiet()
            .ignore_stderr()
            .run()
            .expect("cleanup");
    }

    // rm of a clean, pushed sandbox against git worktree remove; then prune's sweep.
    let (mut ours, mut git, mut sweep) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let g = work.join(format!("r{i}"));
        cmd!(sh, "git worktree add -q --detach {g}")
            .quiet()
            .run()
            .expect("add");
        git.push(timed(|| {
            cmd!(sh, "git worktree remove {g}")
                .quiet()
                .run()
                .expect("remove")
        }));
        let n = format!("r{i}");
        cmd!(sh, "{BIN} new {n}")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .expect("new");
        let _keep = sh.push_env("GIT_SANDBOX_SWEEP", "prune");
        ours.push(timed(|| {
            cmd!(sh, "{BIN} rm {n} --yes")
                .quiet()
                .ignore_stderr()
                .run()
                .expect("rm")
        }));
        drop(_keep);
        sweep.push(timed(|| {
            cmd!(sh, "{BIN} prune")
                .quiet()
                .ignore_stderr()
                .run()
                .expect("prune")
        }));
    }
    report(
        "rm (clean, pushed) vs worktree remove",
        median(ours),
        median(git),
        "<= 0.20",
    );
    println!(
        "{:<34} {:>8.1} ms (median; deleting {files} files, off rm's path)",
        "prune sweeping the moved tree",
        ms(median(sweep))
    );

    // Hooks: git checkout in a small repo, with and without the hooks.
    let small = root.join("work").join("small");
    std::fs::create_dir_all(&small).expect("small");
    sh.change_dir(&small);
    cmd!(sh, "git init -q").quiet().run().expect("init");
    for i in 0..50 {
        std::fs::write(small.join(format!("f{i}")), format!("{i}\n")).expect("file");
    }
    cmd!(sh, "git add -A").run().expect("add");
    cmd!(sh, "git commit -q -m small").run().expect("commit");
    let plain = root.join("work").join("plain");
    cmd!(sh, "git clone -q {small} {plain}")
        .run()
        .expect("clone");
    let sb = PathBuf::from(
        cmd!(sh, "{BIN} new hooked")
            .quiet()
            .ignore_stderr()
            .read()
            .expect("new")
            .trim(),
    );
    let bindir = root.join("bin");
    std::fs::create_dir_all(&bindir).expect("bin");
    std::os::unix::fs::symlink(BIN, bindir.join("git-sandbox")).expect("link");
    let path = format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _p = sh.push_env("PATH", &path);
    cmd!(sh, "{BIN} hooks install")
        .quiet()
        .ignore_stderr()
        .run()
        .expect("install");
    let checkout_pair = |dir: &Path| {
        let s = shell(&root);
        s.set_var("PATH", &path);
        s.change_dir(dir);
        cmd!(s, "git checkout -q -b x")
            .quiet()
            .ignore_stderr()
            .run()
            .expect("checkout");
        let mut times = Vec::new();
        for i in 0..20 {
            let to = if i % 2 == 0 { "-" } else { "x" };
            times.push(timed(|| {
                cmd!(s, "git checkout -q {to}")
                    .quiet()
                    .ignore_stderr()
                    .run()
                    .expect("checkout")
            }));
        }
        times
    };
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(3) {
        with.extend(checkout_pair(&sb));
        without.extend(checkout_pair(&plain));
        let s = Shell::new().expect("sh");
        for d in [&sb, &plain] {
            s.change_dir(d);
            cmd!(s, "git checkout -q -")
                .quiet()
                .ignore_stderr()
                .run()
                .ok();
            cmd!(s, "git branch -q -D x")
                .quiet()
                .ignore_stderr()
                .run()
                .ok();
        }
    }
    let (w, wo) = (median(with), median(without));
    println!(
        "{:<34} with hooks {:>6.2} ms   without {:>6.2} ms   added {:>5.2} ms   (target < 5 ms)",
        "git checkout (small repo)",
        ms(w),
        ms(wo),
        ms(w) - ms(wo)
    );
    let startup: Vec<Duration> = (0..30)
        .map(|_| {
            timed(|| {
                cmd!(sh, "{BIN} --version")
                    .quiet()
                    .ignore_stdout()
                    .run()
                    .expect("version")
            })
        })
        .collect();
    println!(
        "{:<34} {:>8.2} ms (median of 30)",
        "git-sandbox start-up (--version)",
        ms(median(startup))
    );
}
