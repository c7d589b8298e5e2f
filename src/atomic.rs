//! Writing a per-user file atomically, and through a symlink to the file it names.
//!
//! Dotfiles managers (stow, chezmoi, home-manager, yadm) make files such as `registry.json`,
//! `trust.json` or `~/.claude/settings.json` symlinks into the user's dotfiles. Renaming a
//! temp file over the link would turn it into a plain file and leave the dotfiles copy stale,
//! silently. So [`write`] resolves the chain of links first (a dangling one too: its target
//! is created), then writes a temp file in the *target's* directory, fsyncs it, renames it
//! over the target and fsyncs that directory. The link stays a link; a reader sees the old
//! bytes or the new ones, never a mix. The target keeps its permissions (a new one gets
//! `new_mode`).

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Links followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// The file `path` names once every symlink on the way is followed; `path` itself when it
/// is not a link (or does not exist).
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)
                    .with_context(|| format!("cannot read the link {}", p.display()))?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    bail!(
        "{} is a chain of more than {MAX_LINKS} symlinks (a loop?); fix the link",
        path.display()
    )
}

/// Replaces the file `path` names (through any symlinks) with `bytes`, atomically.
pub fn write(path: &Path, bytes: &[u8], new_mode: u32) -> Result<()> {
    let target = resolve(path)?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mode = fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(new_mode);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
