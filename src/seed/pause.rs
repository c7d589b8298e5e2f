//! A crash-consistent source: the running containers that mount a volume are paused
//! (`docker pause`, never stopped) while it is copied, and unpaused when the [`Paused`] guard
//! goes, whatever happened: an error, a caught Ctrl-C/SIGTERM (the copy stops, the guard
//! drops), a panic. Only containers this guard paused are unpaused. A git-sandbox killed
//! outright (SIGKILL) cannot run its guard: a watcher (`git-sandbox __unpause ID…`, in its
//! own process group so the terminal's Ctrl-C does not end it) holds a pipe from us and
//! unpauses them when the pipe closes without our `done`.

use super::docker;
use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Containers paused for one copy.
pub struct Paused {
    ids: Vec<String>,
    pub names: Vec<String>,
    since: Instant,
    took: Option<Duration>,
    watcher: Option<Child>,
}

impl Paused {
    /// Pauses every running container that mounts `volume`; an error names the engine's.
    pub fn volume(volume: &str) -> Result<Paused, String> {
        let filter = format!("volume={volume}");
        let out = docker(&[
            "ps",
            "--no-trunc",
            "--filter",
            &filter,
            "--filter",
            "status=running",
            "--format",
            "{{.ID}}\t{{.Names}}",
        ])?;
        let mut paused = Paused {
            ids: Vec::new(),
            names: Vec::new(),
            since: Instant::now(),
            took: None,
            watcher: None,
        };
        for line in out.lines().filter(|l| !l.trim().is_empty()) {
            let (id, name) = line.split_once('\t').unwrap_or((line, line));
            docker(&["pause", id.trim()])?;
            // Recorded at once: a later failure still unpauses this one.
            paused.ids.push(id.trim().to_string());
            paused.names.push(name.trim().to_string());
            paused.watch();
        }
        paused.since = Instant::now();
        Ok(paused)
    }

    /// Unpauses now; how long the containers were paused (zero when none were).
    pub fn end(&mut self) -> Duration {
        if let Some(t) = self.took {
            return t;
        }
        let took = if self.ids.is_empty() {
            Duration::ZERO
        } else {
            self.since.elapsed()
        };
        for id in &self.ids {
            if let Err(e) = docker(&["unpause", id]) {
                crate::ui::warn(&format!(
                    "cannot unpause container {id}: {e}; run `docker unpause {id}`"
                ));
            }
        }
        if let Some(mut w) = self.watcher.take() {
            if let Some(mut pipe) = w.stdin.take() {
                let _ = pipe.write_all(b"done\n");
            }
            let _ = w.wait();
        }
        self.took = Some(took);
        took
    }

    /// (Re)starts the watcher on the containers paused so far.
    fn watch(&mut self) {
        if let Some(mut old) = self.watcher.take() {
            if let Some(mut pipe) = old.stdin.take() {
                let _ = pipe.write_all(b"done\n");
            }
            let _ = old.wait();
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        self.watcher = Command::new(exe)
            .arg("__unpause")
            .args(&self.ids)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok();
    }
}

/// `__unpause ID…`: waits for stdin to close; unless it said `done`, unpauses the containers
/// (their pauser died before it could).
pub fn watcher(ids: &[String]) -> i32 {
    let mut said = String::new();
    let mut input = std::io::stdin().lock();
    while let Ok(n) = input.read_line(&mut said) {
        if n == 0 || said.contains("done") {
            break;
        }
    }
    if said.contains("done") {
        return 0;
    }
    for id in ids {
        let _ = docker(&["unpause", id]);
    }
    0
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.end();
    }
}
