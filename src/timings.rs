//! Opt-in step timings: with `GIT_SANDBOX_TIMINGS=1`, each [`step`] prints to stderr how long
//! the step took since the previous mark (or since the process started), and the process's
//! peak resident memory so far (`VmHWM` of `/proc/self/status`), so `rm`'s time and memory can
//! be split by step (BENCHMARKS.md). Off (the default), a step costs one relaxed load.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

/// The environment variable that turns the timings on.
pub const ENV: &str = "GIT_SANDBOX_TIMINGS";

struct Clock {
    start: Instant,
    last: Instant,
}

fn clock() -> Option<&'static Mutex<Clock>> {
    static CLOCK: OnceLock<Option<Mutex<Clock>>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            let on = std::env::var_os(ENV)
                .is_some_and(|v| !matches!(v.to_str(), Some("" | "0" | "false" | "no" | "off")));
            let now = Instant::now();
            on.then(|| {
                Mutex::new(Clock {
                    start: now,
                    last: now,
                })
            })
        })
        .as_ref()
}

/// Starts the clock (call first thing, so the first step counts the start-up after it).
pub fn start() {
    let _ = clock();
}

/// Ends the step `name`: prints its wall time, the time since the start, and the peak RSS.
pub fn step(name: &str) {
    let Some(c) = clock() else {
        return;
    };
    let Ok(mut c) = c.lock() else {
        return;
    };
    let now = Instant::now();
    let ms = |from: Instant| now.duration_since(from).as_secs_f64() * 1000.0;
    let kib = |key| status_kib(key).map_or_else(|| "?".into(), |k| k.to_string());
    eprintln!(
        "timing: {name:<24} {:>8.1} ms  (at {:>7.1} ms)  peak {:>6} KiB  (now anon {} file {})",
        ms(c.last),
        ms(c.start),
        kib("VmHWM:"),
        kib("RssAnon:"),
        kib("RssFile:"),
    );
    c.last = Instant::now();
}

/// A `/proc/self/status` figure in KiB: `VmHWM:` the peak resident set so far, `RssAnon:`
/// and `RssFile:` what is resident now.
fn status_kib(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_peak() {
        assert!(super::status_kib("VmHWM:").is_some_and(|k| k > 0));
    }
}
