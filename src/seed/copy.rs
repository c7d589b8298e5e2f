//! The copy through the engine's archive API, as `docker cp` does it: two short-lived
//! containers created (never started) from a local image, one mounting only the source volume
//! (read-only) at `/from`, one mounting only the target at `/to`; `docker cp -a SRC:/from/. -`
//! streams a tar of the volume through this process into `docker cp -a - DST:/to`. Nothing in
//! the image runs, so an image without a shell or `tar` (`FROM scratch`) works, and so does a
//! remote engine; owners and modes travel in the archive. Memory stays one buffer.

use std::io::{Read, Write};
use std::process::{Child, Stdio};

use super::docker;

/// The label of a helper container: the uuid of the sandbox whose seed made it.
pub const HELPER_LABEL: &str = "dev.git-sandbox.seed-helper";

/// Removes the helpers a killed seed of sandbox `uuid` left (never started, never running).
pub fn sweep(uuid: &str) {
    let filter = format!("label={HELPER_LABEL}={uuid}");
    let ids = docker(&[
        "ps",
        "-aq",
        "--filter",
        &filter,
        "--filter",
        "status=created",
    ]);
    for id in ids.unwrap_or_default().split_whitespace() {
        let _ = docker(&["rm", id]);
    }
}

/// A created helper container, removed when dropped.
struct Helper(String);

impl Helper {
    fn create(image: &str, mount: &str, uuid: &str) -> Result<Helper, String> {
        let label = format!("{HELPER_LABEL}={uuid}");
        let id = docker(&[
            "create",
            "--network",
            "none",
            "--label",
            &label,
            // Never started: the entrypoint need not exist in the image.
            "--entrypoint",
            "/git-sandbox-seed-helper-never-runs",
            "-v",
            mount,
            image,
        ])?;
        Ok(Helper(id.trim().to_string()))
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}

/// Why a copy stopped.
pub enum Stop {
    Interrupted,
    Failed(String),
}

/// The two helper containers of one copy (made before any pause, removed when dropped).
pub struct Helpers {
    src: Helper,
    dst: Helper,
}

/// Creates the helpers for copying volume `from` into volume `to`, from `image`.
pub fn helpers(image: &str, from: &str, to: &str, uuid: &str) -> Result<Helpers, Stop> {
    let src = Helper::create(image, &format!("{from}:/from:ro"), uuid).map_err(Stop::Failed)?;
    let dst = Helper::create(image, &format!("{to}:/to"), uuid).map_err(Stop::Failed)?;
    Ok(Helpers { src, dst })
}

/// Copies volume `from` into volume `to` with helper containers of `image`.
pub fn volume(
    image: &str,
    from: &str,
    to: &str,
    uuid: &str,
    tick: &mut dyn FnMut(u64),
) -> Result<u64, Stop> {
    run(&helpers(image, from, to, uuid)?, tick)
}

/// The copy through `h`; `tick` hears the bytes streamed so far. Stops (killing both `docker
/// cp`) at a caught Ctrl-C/SIGTERM.
pub fn run(h: &Helpers, tick: &mut dyn FnMut(u64)) -> Result<u64, Stop> {
    let (src, dst) = (&h.src, &h.dst);
    let reader = spawn(&["cp", "-a", &format!("{}:/from/.", src.0), "-"], false)?;
    let writer = spawn(&["cp", "-a", "-", &format!("{}:/to", dst.0)], true)?;
    let mut pair = Pair { reader, writer };
    let pumped = pump(&mut pair, tick);
    let (r, w) = pair.wait();
    // The terminal's Ctrl-C reaches the `docker cp` children too: their failure is the stop.
    if crate::interrupt::check().is_err() {
        return Err(Stop::Interrupted);
    }
    let bytes = pumped?;
    match (r, w) {
        (Ok(()), Ok(())) => Ok(bytes),
        (_, Err(e)) | (Err(e), _) => Err(Stop::Failed(e)),
    }
}

/// The two `docker cp` processes; killed if still running when dropped.
struct Pair {
    reader: Child,
    writer: Child,
}

impl Pair {
    /// Waits for both; each one's error (its stderr's first line).
    fn wait(&mut self) -> (Result<(), String>, Result<(), String>) {
        drop(self.writer.stdin.take());
        (finish(&mut self.reader), finish(&mut self.writer))
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for c in [&mut self.reader, &mut self.writer] {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

fn spawn(args: &[&str], input: bool) -> Result<Child, Stop> {
    crate::engine::docker()
        .args(args)
        .stdin(if input { Stdio::piped() } else { Stdio::null() })
        .stdout(if input { Stdio::null() } else { Stdio::piped() })
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Stop::Failed(format!("cannot run docker cp: {e}")))
}

/// The archive from the reader to the writer, counted.
fn pump(pair: &mut Pair, tick: &mut dyn FnMut(u64)) -> Result<u64, Stop> {
    let mut from = pair
        .reader
        .stdout
        .take()
        .ok_or(Stop::Failed("no pipe".into()))?;
    let mut into = pair
        .writer
        .stdin
        .take()
        .ok_or(Stop::Failed("no pipe".into()))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        if crate::interrupt::check().is_err() {
            let _ = pair.reader.kill();
            let _ = pair.writer.kill();
            return Err(Stop::Interrupted);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::Failed(format!("reading the archive: {e}"))),
        };
        if into.write_all(&buf[..n]).is_err() {
            // The writer died: its own error says why (disk full, engine gone).
            let _ = pair.reader.kill();
            let reason = finish(&mut pair.writer).err();
            return Err(Stop::Failed(reason.unwrap_or("the copy was cut".into())));
        }
        total += n as u64;
        tick(total);
    }
    Ok(total)
}

/// A finished `docker cp`: its error, else nothing.
fn finish(child: &mut Child) -> Result<(), String> {
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(super::first_line(err.as_bytes()))
    }
}
