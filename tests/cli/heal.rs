//! The index-healing helper (`src/git/heal.rs`) never makes a git command fail: `git add` and
//! `git commit` started at random moments of its window (a second after `new`, when it
//! looks), half of them beside a `status` that heals too, all succeed, and what they
//! staged and committed stays. And it never hides a change: a file changed in the checkout's
//! own instant, with stat data git cannot tell apart, is still modified after it ran.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::common::TestEnv;

/// A repo whose index is over 64 KiB (1,000 files), so `new` leaves the helper behind.
fn big_index(t: &TestEnv) {
    for d in 0..10 {
        for f in 0..100 {
            t.write(&t.repo, &format!("d{d}/f{f}.txt"), &format!("{d} {f}\n"));
        }
    }
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "big"]);
    t.git(&t.repo, &["push", "-q", "origin", "main"]);
}

/// A small xorshift generator: random offsets without a crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Runs git in `dir`, returning whether it succeeded and what it said.
fn git_try(t: &TestEnv, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = t.git_cmd(dir).args(args).output().expect("git runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// What one round saw.
#[derive(Default)]
struct Seen {
    /// Rounds whose first command started while the helper still ran.
    in_window: u64,
    /// Rounds where the helper had healed the index before the first command.
    healed: u64,
    /// Rounds where the commands came while it looked, so it gave up (no heal at all).
    gave_up: u64,
}

/// Makes the sandbox's index look freshly checked out again (100 files rewritten and staged
/// in one go, the `.git` file's time now) and starts the helper on it, as `new` does.
fn arm(t: &TestEnv, s: &Path, round: u64) -> std::process::Child {
    for f in 0..100 {
        t.write(
            s,
            &format!("d{}/f{f}.txt", round % 10),
            &format!("round {round} {f}\n"),
        );
    }
    t.git(s, &["add", "-A"]);
    let gitfile = fs::File::options()
        .write(true)
        .open(s.join(".git"))
        .expect("gitfile");
    // (A little in the past: file times come from a coarse clock that lags `now`.)
    let before = SystemTime::now() - Duration::from_millis(200);
    gitfile.set_modified(before).expect("touch .git");
    t.cmd(Path::new("/"))
        .arg("__heal")
        .arg(s)
        .spawn()
        .expect("helper")
}

/// At a random moment of the helper's window (it looks once the index is a second old,
/// looking every 100 ms) a `git add` and a `git commit`: both must succeed, and the commit
/// holds what was staged.
fn race(
    t: &TestEnv,
    s: &Path,
    name: &str,
    helper_alive: &dyn Fn() -> bool,
    rng: &mut Rng,
    seen: &mut Seen,
) {
    let admin = t
        .repo
        .join(".git/worktrees")
        .join(s.file_name().expect("n"));
    let index_at = fs::metadata(admin.join("index"))
        .and_then(|m| m.modified())
        .expect("index");
    let at = index_at + Duration::from_millis(950 + rng.below(300));
    if let Ok(wait) = at.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }
    let op_start = SystemTime::now();
    seen.in_window += u64::from(helper_alive());
    // Every other round `status` looks at the same moment: its own healing of a racy index
    // takes no lock either, so it never fails the commands.
    let look = spawn_status(t, s, rng);
    t.write(s, "round.txt", &format!("{name}\n"));
    let (ok, err) = git_try(t, s, &["add", "round.txt"]);
    assert!(ok, "{name}: git add failed: {err}");
    let (ok, err) = git_try(t, s, &["commit", "-q", "-m", name]);
    assert!(ok, "{name}: git commit failed: {err}");
    if let Some(mut look) = look {
        assert!(
            look.wait().expect("status").success(),
            "{name}: status failed"
        );
    }
    helper_gone_clean(name, &admin, helper_alive);
    let healed = fs::metadata(admin.join("git-sandbox-healed")).and_then(|m| m.modified());
    seen.healed += u64::from(
        healed
            .as_ref()
            .is_ok_and(|h| *h >= index_at && *h <= op_start),
    );
    seen.gave_up += u64::from(!healed.as_ref().is_ok_and(|h| *h >= index_at));
    // What was staged and committed is there: the helper put nothing over it.
    assert_eq!(
        t.git(s, &["show", "HEAD:round.txt"]),
        format!("{name}\n"),
        "{name}"
    );
    assert_eq!(t.git(s, &["status", "--porcelain"]), "", "{name}");
}

/// Every other round, a `status` of the sandbox started now (stdout and stderr dropped).
fn spawn_status(t: &TestEnv, s: &Path, rng: &mut Rng) -> Option<std::process::Child> {
    let sandbox = s
        .file_name()
        .expect("n")
        .to_string_lossy()
        .replace("repo--", "");
    (rng.below(2) == 0).then(|| {
        t.cmd(&t.repo)
            .args(["status", &sandbox])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("status")
    })
}

/// The helper ends within 10 s, leaving neither the index's lock nor a file of its own.
fn helper_gone_clean(name: &str, admin: &Path, helper_alive: &dyn Fn() -> bool) {
    let start = Instant::now();
    while helper_alive() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name}: the helper hangs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !admin.join("index.lock").exists(),
        "{name}: a lock was left"
    );
    let left: Vec<String> = fs::read_dir(admin)
        .expect("admin")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("index.git-sandbox-heal"))
        .collect();
    assert!(left.is_empty(), "{name}: the helper left {left:?}");
}

/// One sandbox's rounds: the first right after `new`, the rest with the helper started again.
fn rounds(t: &TestEnv, i: u64, count: u64, rng: &mut Rng) -> Seen {
    let mut seen = Seen::default();
    let name = format!("h{i}");
    let s = t.new_sandbox(&name);
    let admin = t
        .repo
        .join(".git/worktrees")
        .join(s.file_name().expect("n"));
    let pid = admin.join("git-sandbox-heal.pid");
    assert!(pid.exists(), "{name}: new started no helper");
    race(
        t,
        &s,
        &format!("{name}r0"),
        &|| pid.exists(),
        rng,
        &mut seen,
    );
    for r in 1..count {
        let child = std::cell::RefCell::new(arm(t, &s, r));
        let alive = || child.borrow_mut().try_wait().expect("wait").is_none();
        race(t, &s, &format!("{name}r{r}"), &alive, rng, &mut seen);
    }
    t.ok(&t.repo, &["rm", &name, "--yes", "--force"]);
    seen
}

/// Rounds that must come while the helper looked (and gave up): the race it is for.
const GAVE_UP: u64 = 10;

#[test]
fn the_healing_helper_never_makes_a_git_command_fail() {
    let t = TestEnv::new();
    big_index(&t);
    let threads: u64 = 10;
    let per_thread: u64 = std::env::var("HEAL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("time")
        .as_nanos() as u64
        | 1;
    let started = Instant::now();
    // Batches of rounds until the window was hit often enough (a loaded machine moves it,
    // and a fast one narrows it: the helper's look of 1,000 files takes ~3 ms there): every
    // round asserts; at most eight batches.
    let (mut total, mut in_window, mut healed, mut gave_up) = (0u64, 0u64, 0u64, 0u64);
    for batch in 0..8u64 {
        let seen: Vec<Seen> = std::thread::scope(|scope| {
            let t = &t;
            let workers: Vec<_> = (0..threads)
                .map(|i| {
                    let mut rng = Rng(seed.wrapping_mul(i + 7 + batch * threads));
                    scope.spawn(move || rounds(t, i + batch * threads, per_thread, &mut rng))
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("rounds"))
                .collect()
        });
        total += threads * per_thread;
        in_window += seen.iter().map(|s| s.in_window).sum::<u64>();
        healed += seen.iter().map(|s| s.healed).sum::<u64>();
        gave_up += seen.iter().map(|s| s.gave_up).sum::<u64>();
        if in_window >= 50 && gave_up >= GAVE_UP && healed > 0 {
            break;
        }
    }
    eprintln!(
        "{total} rounds ({} git commands): {in_window} while the helper ran, {healed} after it had healed, {gave_up} while it looked (it gave up); seed {seed}, {:?}",
        total * 2,
        started.elapsed()
    );
    // The window was hit, often: the rounds tested what they claim to.
    assert!(
        in_window >= 50,
        "only {in_window} of {total} rounds hit the helper's window"
    );
    assert!(healed > 0, "the helper never healed an index");
    assert!(
        gave_up >= GAVE_UP,
        "only {gave_up} of {total} rounds came while it looked"
    );
}

/// Overwrites `rel` in place with other bytes of the same size and gives it back its mtime:
/// with `core.trustctime=false`, git's stat data cannot tell it changed, only its racy check can.
fn change_invisibly(dir: &Path, rel: &str) {
    let path = dir.join(rel);
    let meta = fs::metadata(&path).expect("file");
    let old = fs::read(&path).expect("read");
    let new: Vec<u8> = old
        .iter()
        .map(|b| if *b == b'\n' { *b } else { b'x' })
        .collect();
    let file = fs::File::options().write(true).open(&path).expect("open");
    std::io::Write::write_all(&mut &file, &new).expect("write");
    file.set_modified(meta.modified().expect("mtime"))
        .expect("mtime back");
}

/// The tracked file git cannot trust by its stat data in a fresh sandbox: the newest of them,
/// when it is no older than the index ("racily clean"). `None` when the checkout's clock ticked
/// between the last file and the index.
fn racy_file(t: &TestEnv, s: &Path) -> Option<String> {
    let index = t.git(s, &["rev-parse", "--git-path", "index"]);
    let index_at = fs::metadata(s.join(index.trim())).and_then(|m| m.modified());
    let newest = (0..10)
        .flat_map(|d| (0..100).map(move |f| format!("d{d}/f{f}.txt")))
        .filter_map(|rel| Some((fs::metadata(s.join(&rel)).ok()?.modified().ok()?, rel)))
        .max()?;
    (newest.0 >= index_at.ok()?).then_some(newest.1)
}

/// Waits for the sandbox's helper to be done.
fn helper_done(t: &TestEnv, s: &Path) {
    let pid = t
        .repo
        .join(".git/worktrees")
        .join(s.file_name().expect("n"))
        .join("git-sandbox-heal.pid");
    let start = Instant::now();
    while pid.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the helper hangs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_change_in_the_checkouts_instant_is_never_healed_away() {
    let t = TestEnv::new();
    big_index(&t);
    t.git(&t.repo, &["config", "core.trustctime", "false"]);
    let mut hit = 0;
    for round in 0..20 {
        let name = format!("c{round}");
        let s = t.new_sandbox(&name);
        // Only a racily clean file tests it (git trusts the others' stat data, healed or not).
        let Some(rel) = racy_file(&t, &s) else {
            continue;
        };
        change_invisibly(&s, &rel);
        // The helper and a `list` (which heals too) both get their chance.
        std::thread::sleep(Duration::from_millis(1300));
        t.ok(&t.repo, &["list"]);
        helper_done(&t, &s);
        assert_eq!(
            t.git(&s, &["status", "--porcelain"]),
            format!(" M {rel}\n"),
            "{name}: the change was healed away"
        );
        hit += 1;
        if hit == 3 {
            return;
        }
    }
    panic!("only {hit} of 20 checkouts left a racily clean file");
}
