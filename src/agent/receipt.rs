//! What `agent-setup` wrote, per file (`agent-setup.json` beside the registry): the bytes
//! before (none: there was no file) and after, and the directories it made for it. `--remove`
//! on a file that still holds exactly the bytes written puts the bytes before back, whatever
//! they were (an empty file, whitespace, `{"hooks":{}}`, `{"mcpServers":{}}`: forms the cut
//! alone cannot tell from `{}` or no file), deletes a file it made, and the directories it made
//! if they are empty. A file changed since (or set up by someone else: the record is per user)
//! falls back to cutting git-sandbox's bytes out.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::registry::Registry;

/// One file's record.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Entry {
    pub before: Option<String>,
    pub after: String,
    #[serde(default)]
    pub made_dirs: Vec<PathBuf>,
}

#[derive(Serialize, Deserialize, Default)]
struct Store {
    version: u32,
    #[serde(default)]
    files: BTreeMap<PathBuf, Entry>,
}

fn store_file(reg: &Registry) -> PathBuf {
    reg.dir().join("agent-setup.json")
}

fn load(reg: &Registry) -> Store {
    fs::read_to_string(store_file(reg))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn save(reg: &Registry, mut store: Store) -> Result<()> {
    store.version = 1;
    fs::create_dir_all(reg.dir())?;
    let bytes = serde_json::to_vec_pretty(&store)?;
    crate::atomic::write(&store_file(reg), &bytes, 0o600)
}

/// The record of `path`, if its text now is exactly what was written.
pub fn matching(reg: &Registry, path: &Path, now: Option<&str>) -> Option<Entry> {
    let entry = load(reg).files.remove(path)?;
    (Some(entry.after.as_str()) == now).then_some(entry)
}

/// The directories `path` needs that do not exist (outermost last), to record before writing.
pub fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    path.ancestors()
        .skip(1)
        .take_while(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
        .map(Path::to_path_buf)
        .collect()
}

/// Records a write of `after` over `before`. A file that already held what an earlier run
/// wrote keeps that run's bytes before (and directories): they are the user's.
pub fn wrote(
    reg: &Registry,
    path: &Path,
    before: Option<&str>,
    after: &str,
    made_dirs: Vec<PathBuf>,
) -> Result<()> {
    let mut store = load(reg);
    let entry = match store.files.get(path) {
        Some(old) if Some(old.after.as_str()) == before => Entry {
            after: after.to_string(),
            ..old.clone()
        },
        _ => Entry {
            before: before.map(String::from),
            after: after.to_string(),
            made_dirs,
        },
    };
    store.files.insert(path.to_path_buf(), entry);
    save(reg, store).context("cannot record what agent-setup wrote")
}

/// Forgets `path`'s record (after `--remove`), and removes the directories it made, those
/// that are empty, innermost first.
pub fn forget(reg: &Registry, path: &Path, made_dirs: &[PathBuf]) -> Result<()> {
    remove_empty(made_dirs);
    let mut store = load(reg);
    if store.files.remove(path).is_some() {
        save(reg, store)?;
    }
    Ok(())
}

/// Removes the directories that are empty, deepest first (one holding another's file stays:
/// that file's removal comes back here).
pub fn remove_empty(dirs: &[PathBuf]) {
    let mut dirs = dirs.to_vec();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        // Only an empty directory goes; anything in it is someone's.
        let _ = fs::remove_dir(d);
    }
}
