//! Which paths git ignores in a worktree: `git check-ignore` (the CLI, so every source of
//! ignore rules counts: `.gitignore` files, `info/exclude`, `core.excludesFile`). A tracked
//! path is never ignored (it is checked out in every worktree).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};

use super::spawn::git_cmd;

/// Those of `rels` (relative to `worktree`) that git ignores there.
pub fn ignored(worktree: &Path, rels: &[PathBuf]) -> Result<BTreeSet<PathBuf>> {
    if rels.is_empty() {
        return Ok(BTreeSet::new());
    }
    let mut child = git_cmd(worktree)
        .args(["check-ignore", "-z", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run git check-ignore")?;
    if let Some(mut stdin) = child.stdin.take() {
        for r in rels {
            stdin.write_all(r.as_os_str().as_encoded_bytes())?;
            stdin.write_all(b"\0")?;
        }
    }
    let out = child.wait_with_output()?;
    // 0: some are ignored; 1: none is.
    match out.status.code() {
        Some(0) | Some(1) => {}
        _ => bail!(
            "git check-ignore failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect())
}
