//! Seeded volumes: a sandbox's stack starts on a copy of the main checkout's (or
//! local-prod's) volumes, named by `[compose] seed`. One volume's seed, step by step
//! ([`one`]):
//! 1. [`clear_target`]: the target absent; or this sandbox's (its uuid label) and, for
//!    `--reset`, not used by a running container of the sandbox: its data copied aside into a
//!    saved volume first (undoable), then deleted; a half-written one a killed seed left
//!    (`record.rs`: `copying`) deleted. A volume not carrying the uuid is never written.
//! 2. recorded `copying`, then the target created as compose would (`volumes::create`).
//! 3. the source's running containers paused (`pause.rs`), the copy (`copy.rs`), unpaused.
//! 4. recorded `done`; on any failure or Ctrl-C the target is deleted (absent or whole,
//!    never half-written) and the record dropped.

pub mod copy;
pub mod listing;
pub mod pause;
pub mod progress;
pub mod record;
mod replace;
pub mod volumes;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use anyhow::Result;

use crate::error::UserError;
use progress::{Mode, Shown};
use replace::{Cleared, clear_target};
use volumes::Target;

pub use listing::saved_copies;

/// One seed run's fixed parts.
pub struct Job {
    /// The sandbox's name, for messages.
    pub name: String,
    pub uuid: String,
    /// The sandbox's compose project.
    pub project: String,
    /// The registry's directory (`seeds.json`).
    pub dir: PathBuf,
    pub mode: Mode,
    /// compose's version, for the label compose reads.
    pub compose_version: String,
}

/// What to do with a target that exists.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it (`up`): only missing volumes are seeded.
    Keep,
    /// Refuse (`seed` without `--reset`).
    Refuse,
    /// Save it aside and copy again (`--reset`).
    Replace,
}

/// How one volume went.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub key: String,
    pub volume: String,
    pub from: String,
    /// `seeded` or `kept` (it existed).
    pub result: String,
    pub bytes: u64,
    pub seconds: f64,
    pub paused: Vec<String>,
    pub paused_ms: u64,
    /// Where `--reset` put the old data.
    pub saved: Option<String>,
}

/// Seeds `t` from the source volume `from` (`origin`: `main`, `local-prod`, `saved`).
pub fn one(job: &Job, t: &Target, from: &str, origin: &str, existing: Existing) -> Result<Outcome> {
    let mut out = Outcome {
        key: t.key.clone(),
        volume: t.name.clone(),
        from: from.to_string(),
        result: "kept".into(),
        bytes: 0,
        seconds: 0.0,
        paused: Vec::new(),
        paused_ms: 0,
        saved: None,
    };
    // Helpers a killed seed of this sandbox left would hold the target.
    copy::sweep(&job.uuid);
    match clear_target(job, t, existing)? {
        Cleared::Keep => return Ok(out),
        Cleared::Saved(s) => out.saved = s,
    }
    let image = helper_image(t)?;
    record::set(
        &job.dir,
        &t.name,
        Some(entry(job, t, from, origin, record::State::Copying, 0)),
    )?;
    if let Err(e) = volumes::create(t, &job.project, &job.uuid, &job.compose_version) {
        record::set(&job.dir, &t.name, None)?;
        return Err(UserError::new(format!("cannot create volume {}: {e}", t.name)).into());
    }
    let started = Instant::now();
    let copied = copy_paused(job, t, from, &image, &mut out);
    out.seconds = started.elapsed().as_secs_f64();
    match copied {
        Ok(bytes) => {
            out.bytes = bytes;
            out.result = "seeded".into();
            record::set(
                &job.dir,
                &t.name,
                Some(entry(job, t, from, origin, record::State::Done, bytes)),
            )?;
            Ok(out)
        }
        Err(stop) => {
            let removed = remove_volume(&t.name);
            record::set(&job.dir, &t.name, None)?;
            Err(failed(t, stop, removed))
        }
    }
}

fn entry(
    job: &Job,
    t: &Target,
    from: &str,
    origin: &str,
    state: record::State,
    bytes: u64,
) -> record::Entry {
    record::Entry {
        uuid: job.uuid.clone(),
        key: t.key.clone(),
        from: from.into(),
        origin: origin.into(),
        at: record::now(),
        state,
        bytes,
    }
}

/// Step 3: the source's running containers paused for the copy, unpaused after whatever
/// happens (the guard), the pause's length said.
fn copy_paused(
    job: &Job,
    t: &Target,
    from: &str,
    image: &str,
    out: &mut Outcome,
) -> Result<u64, copy::Stop> {
    let total = crate::compose::kept::sizes()
        .ok()
        .and_then(|s| s.get(from).and_then(|v| progress::parse_size(v)));
    let helpers = copy::helpers(image, from, &t.name, &job.uuid)?;
    let mut shown = Shown::start(job.mode, &t.key, from, total);
    let mut paused = pause::Paused::volume(from).map_err(copy::Stop::Failed)?;
    let copied = copy::run(&helpers, &mut |b| shown.tick(b));
    let took = paused.end();
    out.paused = paused.names.clone();
    out.paused_ms = took.as_millis() as u64;
    let pause_text = if out.paused.is_empty() {
        "nothing was running on it".to_string()
    } else {
        format!(
            "{} paused for {:.2} s",
            out.paused.join(", "),
            took.as_secs_f64()
        )
    };
    let line = match &copied {
        Ok(b) => format!(
            "seeded {} from {from}: {} ({pause_text})",
            t.name,
            progress::human(*b)
        ),
        Err(_) => format!("seeding {} stopped ({pause_text})", t.name),
    };
    shown.done(
        &line,
        serde_json::json!({
            "event": if copied.is_ok() { "done" } else { "failed" },
            "key": t.key, "volume": t.name, "from": from,
            "bytes": copied.as_ref().ok(), "paused": out.paused, "paused_ms": out.paused_ms,
        }),
    );
    copied
}

pub(crate) fn failed(t: &Target, stop: copy::Stop, removed: Result<(), String>) -> anyhow::Error {
    let left = match removed {
        Ok(()) => format!("volume {} was deleted, not left half-written", t.name),
        Err(e) => format!(
            "volume {} could not be deleted ({e}): delete it with `docker volume rm {}`",
            t.name, t.name
        ),
    };
    match stop {
        copy::Stop::Interrupted => {
            let mut e = UserError::new(format!("seeding {} interrupted; {left}", t.key));
            e.code = crate::interrupt::EXIT_INTERRUPTED;
            e.into()
        }
        copy::Stop::Failed(why) => UserError::new(format!("seeding {} failed: {why}", t.key))
            .hint(left)
            .hint("free space on the engine (or fix what the error names) and run `git sandbox seed` again")
            .into(),
    }
}

/// The label a saved copy carries: the volume it was saved from.
pub const SAVED_LABEL: &str = "dev.git-sandbox.saved-from";

/// The helper containers' image: a service's that mounts the volume when the engine has it,
/// else any local image.
pub(crate) fn helper_image(t: &Target) -> Result<String> {
    if let Some(i) = &t.image
        && docker(&["image", "inspect", "--format", "{{.Id}}", i]).is_ok()
    {
        return Ok(i.clone());
    }
    let any = docker(&["image", "ls", "-q"]).unwrap_or_default();
    any.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(String::from)
        .ok_or_else(|| {
            UserError::new("the Docker engine has no image to make the copy's helper containers from")
                .hint("build or pull the stack's images first (`docker-compose build` in the main checkout)")
                .into()
        })
}

pub(crate) fn remove_volume(name: &str) -> Result<(), String> {
    docker(&["volume", "rm", name]).map(|_| ())
}

/// `docker ARGS`' stdout, or the first line of its error.
pub(crate) fn docker(args: &[&str]) -> Result<String, String> {
    let out = crate::engine::docker()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(first_line(&out.stderr))
    }
}

/// The first non-empty line of an error output (compose's removal words it the same way).
pub(crate) use crate::compose::removal::first_line;
