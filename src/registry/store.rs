//! The registry file itself: where it lives, reading it (validated by `check`), and every
//! change through [`Registry::update`]: lock, re-read, change, write atomically (see the
//! module doc of `registry`).

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Data, VERSION};
use crate::error::UserError;

/// Where the registry lives.
#[derive(Clone, Debug)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The registry of this user: `$GIT_SANDBOX_HOME`, else the XDG data dir.
    pub fn locate() -> Result<Registry> {
        if let Some(home) = std::env::var_os("GIT_SANDBOX_HOME").filter(|h| !h.is_empty()) {
            return Ok(Registry {
                dir: PathBuf::from(home),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "git-sandbox").ok_or_else(|| {
            UserError::new("cannot find a home directory for the registry")
                .hint("set GIT_SANDBOX_HOME to a directory git-sandbox may write to")
        })?;
        Ok(Registry {
            dir: dirs.data_dir().to_path_buf(),
        })
    }

    /// The directory holding the registry (and the trust store beside it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The JSON file.
    pub fn file(&self) -> PathBuf {
        self.dir.join("registry.json")
    }

    fn lock_file(&self) -> PathBuf {
        self.dir.join("registry.lock")
    }

    /// Reads the registry without locking (a snapshot: readers never see a torn file).
    pub fn load(&self) -> Result<Data> {
        let file = self.file();
        match fs::read(&file) {
            Ok(bytes) => parse(&file, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Data::default()),
            Err(e) => Err(UserError::new(format!(
                "cannot read the registry {}: {e}",
                file.display()
            ))
            .into()),
        }
    }

    /// Locks, re-reads, applies `change`, and writes the result atomically. Nothing is written
    /// when `change` fails.
    pub fn update<T>(&self, change: impl FnOnce(&mut Data) -> Result<T>) -> Result<T> {
        self.update_inner(None, change)
    }

    /// Like [`update`](Self::update), but gives up after `wait` if another process holds the
    /// lock (for hooks, which must never hold up git).
    pub fn update_within<T>(
        &self,
        wait: Duration,
        change: impl FnOnce(&mut Data) -> Result<T>,
    ) -> Result<T> {
        self.update_inner(Some(wait), change)
    }

    fn update_inner<T>(
        &self,
        wait: Option<Duration>,
        change: impl FnOnce(&mut Data) -> Result<T>,
    ) -> Result<T> {
        fs::create_dir_all(&self.dir).with_context(|| {
            format!(
                "cannot create the registry directory {}",
                self.dir.display()
            )
        })?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.lock_file())
            .with_context(|| format!("cannot open {}", self.lock_file().display()))?;
        match wait {
            None => lock.lock().context("cannot lock the registry")?,
            Some(wait) => {
                let start = Instant::now();
                loop {
                    match lock.try_lock() {
                        Ok(()) => break,
                        Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(std::fs::TryLockError::WouldBlock) => {
                            anyhow::bail!("the registry is locked by another git-sandbox")
                        }
                        Err(std::fs::TryLockError::Error(e)) => {
                            return Err(e).context("cannot lock the registry");
                        }
                    }
                }
            }
        }
        let mut data = self.load()?;
        let out = change(&mut data)?;
        self.write(&data)?;
        drop(lock);
        Ok(out)
    }

    fn write(&self, data: &Data) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(data)?;
        json.push(b'\n');
        // Through a symlink (a dotfiles manager's) to its target, which stays where it is.
        crate::atomic::write(&self.file(), &json, 0o600)
    }
}

fn parse(file: &Path, bytes: &[u8]) -> Result<Data> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        UserError::new(format!(
            "the registry {} is corrupt ({e}); it was left untouched",
            file.display()
        ))
        .hint("repair the file by hand, or move it aside to start an empty registry")
    })?;
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => {
            return Err(UserError::new(format!(
                "the registry {} has version {v}, and this git-sandbox reads version {VERSION}; it was left untouched",
                file.display()
            ))
            .hint("use the git-sandbox that wrote it, or a newer one")
            .into());
        }
        None => {
            return Err(UserError::new(format!(
                "the registry {} has no version field; it was left untouched",
                file.display()
            ))
            .hint("repair the file by hand, or move it aside to start an empty registry")
            .into());
        }
    }
    let data: Data = serde_json::from_value(value).map_err(|e| {
        UserError::new(format!(
            "the registry {} is corrupt ({e}); it was left untouched",
            file.display()
        ))
        .hint("repair the file by hand, or move it aside to start an empty registry")
    })?;
    data.check().map_err(|why| {
        UserError::new(format!(
            "the registry {} cannot be trusted: {why}; it was left untouched and nothing was done",
            file.display()
        ))
        .hint("repair or delete that entry by hand, or move the file aside to start an empty registry")
    })?;
    Ok(data)
}
