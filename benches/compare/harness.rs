//! Timing, interleaving and reporting: every row is a pair of commands run alternately, round
//! after round, and reported as the min, median and max of the per-round ratio ours/theirs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use xshell::Shell;

pub const BIN: &str = env!("CARGO_BIN_EXE_git-sandbox");

/// The run's settings and its scratch space.
pub struct Bench {
    pub root: PathBuf,
    pub rounds: usize,
    pub files: usize,
}

impl Bench {
    /// A shell with the bench's own HOME, git config and registry.
    pub fn shell(&self) -> Shell {
        let sh = Shell::new().expect("shell");
        let home = self.root.join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n",
        )
        .expect("gitconfig");
        sh.set_var("HOME", &home);
        sh.set_var("GIT_CONFIG_GLOBAL", home.join(".gitconfig"));
        sh.set_var("GIT_CONFIG_NOSYSTEM", "1");
        sh.set_var("GIT_SANDBOX_HOME", self.root.join("registry"));
        sh.set_var("NO_COLOR", "1");
        // Clean-up removals delete before returning, so no deletion runs under a timed command.
        sh.set_var("GIT_SANDBOX_SWEEP", "foreground");
        sh
    }
}

/// Times `f`; with `sync`, after flushing the disk's write-back, so one side's writes do not
/// land on the other side's clock.
pub fn timed(sync: bool, f: impl FnOnce()) -> Duration {
    settle();
    if sync {
        let _ = Command::new("sync").status();
    }
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Waits (up to 10 s) for the index-healing helpers that `new` and `restore` leave behind, so
/// their background work never lands on a timed command: the rows measure what a user waits
/// for.
pub fn settle() {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let busy = std::fs::read_dir("/proc").is_ok_and(|rd| {
            rd.flatten().any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == b"__heal"))
            })
        });
        if !busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `sync` runs before each timed command (`GIT_SANDBOX_BENCH_SYNC=0` turns it off).
pub fn sync_default() -> bool {
    std::env::var_os("GIT_SANDBOX_BENCH_SYNC").is_none_or(|v| v != "0")
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The rounds of one row.
#[derive(Default)]
pub struct Pair {
    pub ours: Vec<Duration>,
    pub theirs: Vec<Duration>,
}

impl Pair {
    /// Runs `rounds` rounds, alternating which side goes first.
    pub fn run(
        rounds: usize,
        mut ours: impl FnMut(usize) -> Duration,
        mut theirs: impl FnMut(usize) -> Duration,
    ) -> Pair {
        let mut p = Pair::default();
        for i in 0..rounds {
            if i.is_multiple_of(2) {
                p.theirs.push(theirs(i));
                p.ours.push(ours(i));
            } else {
                p.ours.push(ours(i));
                p.theirs.push(theirs(i));
            }
        }
        p
    }

    fn ratios(&self) -> Vec<f64> {
        let mut r: Vec<f64> = self
            .ours
            .iter()
            .zip(&self.theirs)
            .map(|(o, t)| o.as_secs_f64() / t.as_secs_f64().max(1e-9))
            .collect();
        r.sort_by(f64::total_cmp);
        r
    }

    /// One line: both medians, and the ratio's min / median / max.
    pub fn report(&self, name: &str, theirs: &str, target: &str) {
        let r = self.ratios();
        if r.is_empty() {
            return;
        }
        println!(
            "{name:<44} ours {:>8.1} ms  {theirs} {:>8.1} ms  ratio {:.2} / {:.2} / {:.2}  (min/med/max; target {target}; {} rounds)",
            ms(median(&self.ours)),
            ms(median(&self.theirs)),
            r[0],
            r[r.len() / 2],
            r[r.len() - 1],
            r.len()
        );
    }
}

pub fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

/// A command's peak resident memory in KiB, from GNU time (`None` without it).
pub fn peak_kib(dir: &Path, envs: &[(&str, &Path)], program: &str, args: &[&str]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return None;
    }
    let out = Command::new(time)
        .args(["-f", "PEAK %M"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (*k, *v)))
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("PEAK ")?.trim().parse().ok())
}

/// A note for a row that could not run here.
pub fn skipped(name: &str, why: &str) {
    println!("{name:<44} skipped: {why}");
}
