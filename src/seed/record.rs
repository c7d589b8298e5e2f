//! What was seeded, and whether a copy finished: `seeds.json` beside the registry, one entry
//! per target volume. A copy is recorded `copying` before its target is created and `done`
//! only after the last byte landed, so a volume with a `copying` entry is a half-written one a
//! killed seed left: the next seed or `up` deletes it (it carries the sandbox's uuid) and
//! copies again. Compose compares a volume's labels with the model's, so this cannot be a
//! label on the volume.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One target volume's seed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The sandbox's uuid the volume carries.
    pub uuid: String,
    /// The compose key (`dbdata`).
    pub key: String,
    /// The source volume's name on the engine.
    pub from: String,
    /// `main` or `local-prod`.
    pub origin: String,
    /// Unix seconds of the copy's end (or start, while `copying`).
    pub at: u64,
    pub state: State,
    /// Bytes copied (of the archive stream).
    #[serde(default)]
    pub bytes: u64,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Copying,
    Done,
}

#[derive(Serialize, Deserialize, Default)]
struct File {
    version: u32,
    volumes: BTreeMap<String, Entry>,
}

/// The file, in the registry's directory.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("seeds.json")
}

fn load(file: &Path) -> Result<File> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a seed record", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File {
            version: 1,
            ..File::default()
        }),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

/// The entry of volume `name`, if any.
pub fn get(dir: &Path, name: &str) -> Result<Option<Entry>> {
    Ok(load(&path(dir))?.volumes.remove(name))
}

/// Sets (or with `None` drops) the entry of volume `name`, atomically, under `seeds.lock`
/// (two sandboxes' seeds at once each keep their entry).
pub fn set(dir: &Path, name: &str, entry: Option<Entry>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("seeds.lock"))
        .with_context(|| format!("cannot open the seed record's lock in {}", dir.display()))?;
    lock.lock().context("cannot lock the seed record")?;
    let file = path(dir);
    let mut all = load(&file)?;
    all.version = 1;
    match entry {
        Some(e) => all.volumes.insert(name.to_string(), e),
        None => all.volumes.remove(name),
    };
    let bytes = serde_json::to_vec_pretty(&all)?;
    crate::atomic::write(&file, &bytes, 0o600)
}

/// Now, in Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
