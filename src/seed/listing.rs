//! `volumes [NAME]`: every volume carrying the sandbox's uuid (the stack's own, and the copies
//! `--reset` saved), with the engine's size and the seed record.

use anyhow::Result;

use super::{Job, SAVED_LABEL, docker, record};
use crate::compose::owner::LABEL;
use crate::error::UserError;
use crate::json::seed::Volume;

/// The sandbox's volumes, by name.
pub fn of(job: &Job) -> Result<Vec<Volume>> {
    let format = format!(
        "{{{{.Name}}}}\t{{{{.Label \"{}\"}}}}\t{{{{.Label \"{SAVED_LABEL}\"}}}}",
        super::volumes::VOLUME_LABEL
    );
    let out = docker(&[
        "volume",
        "ls",
        "--filter",
        &format!("label={LABEL}={}", job.uuid),
        "--format",
        &format,
    ])
    .map_err(|e| UserError::new(format!("cannot ask the Docker engine: {e}")))?;
    let sizes = crate::compose::kept::sizes().unwrap_or_default();
    let mut list = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split('\t').map(str::trim);
        let name = f.next().unwrap_or_default().to_string();
        let key = f.next().filter(|k| !k.is_empty()).map(String::from);
        let saved_from = f.next().filter(|k| !k.is_empty()).map(String::from);
        let rec = record::get(&job.dir, &name)?.filter(|r| r.uuid == job.uuid);
        let state = match (&saved_from, &rec) {
            (Some(_), _) => "saved",
            (None, Some(r)) if r.state == record::State::Done => "seeded",
            (None, Some(_)) => "incomplete",
            (None, None) => "empty",
        };
        list.push(Volume {
            size: sizes.get(&name).cloned(),
            key,
            seeded_from: rec.as_ref().map(|r| format!("{} ({})", r.from, r.origin)),
            seeded_at: rec.as_ref().map(|r| r.at),
            state: state.into(),
            saved_from,
            name,
        });
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// The saved copies of `volume` carrying `uuid`, oldest first.
pub fn saved_copies(uuid: &str, volume: &str) -> Result<Vec<String>> {
    let out = docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label={LABEL}={uuid}"),
        "--filter",
        &format!("label={SAVED_LABEL}={volume}"),
    ])
    .map_err(|e| UserError::new(format!("cannot ask the Docker engine: {e}")))?;
    let mut names: Vec<String> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    // `<volume>.saved-<unix seconds>`: by the time in the name.
    names.sort_by_key(|n| {
        n.rsplit('-')
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0)
    });
    Ok(names)
}

/// Unix seconds as `2026-12-07 01:23:45 UTC`.
pub fn when(at: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    s.replace('T', " ").replace('Z', " UTC")
}
