//! An agent's config file as git-sandbox edits it: read as text (a symlink is followed to
//! its target, invalid UTF-8 refuses), and written atomically (a temp file in the same
//! directory, fsync, rename), keeping the file's permissions. Nothing to change writes nothing.
//!
//! The edits themselves (`codex`, `cursor`) are byte splices: one run of bytes inserted at one
//! place, so the rest of the file keeps every byte, and `--remove` cuts exactly that run.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UserError;

/// A config file as found: where it really is, and its text (`None`: there is none).
pub struct ConfigFile {
    pub path: PathBuf,
    pub text: Option<String>,
}

impl ConfigFile {
    /// Reads `path`, following a symlink to its target.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let path = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)
                .with_context(|| format!("{} is a symlink to a missing file", path.display()))?,
            _ => path.to_path_buf(),
        };
        let text = match fs::read(&path) {
            Ok(b) => Some(String::from_utf8(b).map_err(|_| {
                UserError::new(format!("{} is not UTF-8 text", path.display()))
                    .hint("fix it (or move it away) and run this again; nothing was changed")
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(ConfigFile { path, text })
    }

    /// Puts `new` in place of the file: written atomically, or the file deleted for `None`.
    /// Returns whether anything changed.
    pub fn store(&self, new: Option<&str>) -> Result<bool> {
        if new == self.text.as_deref() {
            return Ok(false);
        }
        match new {
            Some(text) => write_atomic(&self.path, text.as_bytes())?,
            None => fs::remove_file(&self.path)
                .with_context(|| format!("cannot remove {}", self.path.display()))?,
        }
        Ok(true)
    }
}

/// Writes `bytes` to `path` through a temp file and a rename, keeping an existing file's
/// permissions (0644 for a new one); creates the directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("the file has no directory")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mode = fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// `text` with `insert` put at byte `at`.
pub fn splice(text: &str, at: usize, insert: &str) -> String {
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at]);
    out.push_str(insert);
    out.push_str(&text[at..]);
    out
}

/// `text` without the bytes `at..at + len`.
pub fn cut(text: &str, at: usize, len: usize) -> String {
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    out.push_str(&text[at + len..]);
    out
}

/// The line ending a file uses: CRLF when its first line ends so, else LF.
pub fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// The refusal for a file whose shape git-sandbox will not edit.
pub fn refuse(path: &Path, what: &str, fix: &str) -> anyhow::Error {
    UserError::new(format!(
        "{}: {what}, so git-sandbox will not edit it",
        path.display()
    ))
    .hint(format!("{fix}; nothing was changed"))
    .into()
}
