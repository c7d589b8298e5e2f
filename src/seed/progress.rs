//! How a copy shows: a bar of bytes copied of the volume's size on a terminal (`indicatif`),
//! a plain line every few seconds otherwise, and with `--json` one JSON object a line on
//! stderr (`{"event":"progress",…}`), since stdout holds the command's one answer.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The way progress is told.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bar,
    Lines,
    Json,
}

impl Mode {
    /// Events with `--json`, a bar on a terminal, else lines.
    pub fn pick(json: bool) -> Mode {
        if json {
            Mode::Json
        } else if crate::ui::progress() && !ProgressDrawTarget::stderr().is_hidden() {
            // (indicatif draws nothing on a terminal without `TERM` or with `TERM=dumb`.)
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// One volume's copy being told.
pub struct Shown {
    mode: Mode,
    key: String,
    total: Option<u64>,
    bar: Option<ProgressBar>,
    last: Instant,
}

impl Shown {
    pub fn start(mode: Mode, key: &str, from: &str, total: Option<u64>) -> Shown {
        let size = total.map(human).unwrap_or_else(|| "unknown size".into());
        let bar = (mode == Mode::Bar).then(|| {
            let b = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            b.set_style(style);
            b.set_message(format!("seeding {key}"));
            b
        });
        match mode {
            Mode::Json => event(&serde_json::json!({
                "event": "start", "key": key, "from": from, "bytes_total": total
            })),
            _ => crate::ui::info(&format!("seeding {key} from {from} ({size})")),
        }
        Shown {
            mode,
            key: key.into(),
            total,
            bar,
            last: Instant::now(),
        }
    }

    /// Bytes copied so far.
    pub fn tick(&mut self, bytes: u64) {
        if let Some(b) = &self.bar {
            // The archive carries headers and padding beyond the volume's own bytes.
            if b.length().is_some_and(|l| bytes > l) {
                b.set_length(bytes);
            }
            b.set_position(bytes);
            return;
        }
        if self.last.elapsed() < Duration::from_secs(2) {
            return;
        }
        self.last = Instant::now();
        match self.mode {
            Mode::Json => event(&serde_json::json!({
                "event": "progress", "key": self.key, "bytes": bytes, "bytes_total": self.total
            })),
            _ => crate::ui::info(&format!("  {}: {} copied", self.key, human(bytes))),
        }
    }

    /// The end: the line that says how it went.
    pub fn done(self, line: &str, fields: serde_json::Value) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        match self.mode {
            Mode::Json => event(&fields),
            _ => crate::ui::info(line),
        }
    }
}

fn event(v: &serde_json::Value) {
    eprintln!("{v}");
}

/// `1.5 MiB`.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Docker's size text (`1.07GB`, `12kB`, `0B`: decimal units) in bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let at = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (n, unit) = s.split_at(at);
    let n: f64 = n.parse().ok()?;
    let m = match unit.trim() {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((n * m) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_docker_writes_them() {
        assert_eq!(parse_size("1.07GB"), Some(1_070_000_000));
        assert_eq!(parse_size("12kB"), Some(12_000));
        assert_eq!(parse_size("0B"), Some(0));
        assert_eq!(parse_size("N/A"), None);
        assert_eq!(human(1536), "1.5 KiB");
    }
}
