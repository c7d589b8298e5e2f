//! git-sandbox against the git commands it wraps (and worktrunk, when `wt` is on PATH), in one
//! run, as ratios.
//!
//! `cargo bench` (release build). Every row interleaves its two sides round after round, so
//! disk and cache swings hit both alike, and prints the medians and the min / median / max of
//! the per-round ratio ours/theirs. It never fails on a timing. Knobs: `GIT_SANDBOX_BENCH_FILES`
//! (the wide repo, default 25,000), `GIT_SANDBOX_BENCH_ROUNDS` (default 7),
//! `GIT_SANDBOX_BENCH_SYNC=0` (no `sync` before timed commands), `GIT_SANDBOX_BENCH_ONLY`
//! (a comma-separated list of sections: new, list, rm, restore, hooks, history, memory, curve).
//! The targets are issue 13's; BENCHMARKS.md holds the figures and what they say.

mod fixtures;
mod harness;
mod list;
mod rm;
mod rows;
mod worktrunk;

use harness::{Bench, sync_default};
use xshell::cmd;

fn env_num(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let b = Bench {
        root: std::fs::canonicalize(tmp.path()).expect("canonical"),
        rounds: env_num("GIT_SANDBOX_BENCH_ROUNDS", 7),
        files: env_num("GIT_SANDBOX_BENCH_FILES", 25_000),
    };
    let only = std::env::var("GIT_SANDBOX_BENCH_ONLY").unwrap_or_default();
    let on = |s: &str| only.is_empty() || only.split(',').any(|o| o.trim() == s);
    let sh = b.shell();
    let sync = sync_default();
    println!(
        "git-sandbox benchmark: {} files, {} interleaved rounds, sync {}, {}, worktrunk {}",
        b.files,
        b.rounds,
        if sync { "on" } else { "off" },
        cmd!(sh, "git --version").read().unwrap_or_default(),
        if worktrunk::available() {
            cmd!(sh, "wt --version").read().unwrap_or_default()
        } else {
            "not on PATH".into()
        }
    );
    let wide = fixtures::wide_repo(&b, &sh, "wide", b.files);
    let small = fixtures::wide_repo(&b, &sh, "small", b.files.min(3_000));
    let label = format!("{}k files", b.files / 1000);
    if on("new") {
        rows::new(&b, &sh, &wide);
    }
    if on("list") {
        list::against_git(&b, &sh, &small, "3k files", sync);
        list::against_git(&b, &sh, &wide, &label, sync);
        list::fresh_vs_refreshed(&b, &sh, &small, "3k files");
    }
    if on("curve") {
        list::curve(&b, &sh, &small, "3k files");
    }
    if on("rm") {
        rm::fresh(&b, &sh, &wide, true);
        rm::fresh(&b, &sh, &wide, false);
        rm::cold_vs_worktrunk(&b, &sh, &wide);
    }
    if on("restore") {
        rm::after_restore(&b, &sh, &wide);
    }
    if on("history") {
        let long = fixtures::long_repo(&b, &sh);
        rows::history(&b, &sh, &long);
    }
    if on("hooks") {
        rows::hooks(&b, &sh);
    }
    if on("memory") {
        rows::memory(&b, &sh, &wide);
    }
}
