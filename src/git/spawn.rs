//! Spawning the git CLI: every `git` this crate runs goes through here, in a directory, with
//! stdin closed and the variables a hook's caller sets removed (so git acts on the repository
//! it is pointed at, not the one running the hook); long or writing ones under the supervisor.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};

/// Variables git sets for hooks and aliases that would redirect a child git.
const GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
];

/// A `git` command in `dir` with the hook variables removed.
pub fn git_cmd(dir: &Path) -> Command {
    with_git_env(Command::new("git"), dir)
}

/// [`git_cmd`] under a supervisor that kills it and everything it started when git-sandbox
/// dies (see `supervise.rs`): for commands that run long or write.
pub fn git_cmd_guarded(dir: &Path) -> Command {
    with_git_env(crate::supervise::command("git"), dir)
}

fn with_git_env(mut cmd: Command, dir: &Path) -> Command {
    cmd.current_dir(dir).stdin(Stdio::null());
    without_git_env(&mut cmd);
    cmd
}

/// Removes the variables git sets for hooks and aliases (`GIT_DIR`…) from a command's
/// environment, so a git it runs finds the repository of its own directory.
pub fn without_git_env(cmd: &mut Command) {
    for v in GIT_ENV {
        cmd.env_remove(v);
    }
}

/// Fails with git's own message when it exited non-zero.
pub fn check(out: &Output, what: &str) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    bail!("{what} failed: {}", err.trim())
}

/// Runs git in `dir` and returns stdout.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    run_cmd(git_cmd(dir), args)
}

/// [`run`] under a supervisor ([`git_cmd_guarded`]).
pub fn run_guarded(dir: &Path, args: &[&str]) -> Result<String> {
    run_cmd(git_cmd_guarded(dir), args)
}

fn run_cmd(mut cmd: Command, args: &[&str]) -> Result<String> {
    let out = cmd.args(args).output().context("cannot run git")?;
    check(
        &out,
        &format!("git {}", args.first().copied().unwrap_or("")),
    )?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a prepared git command with `input` on stdin; returns stdout.
pub fn run_with_stdin(mut cmd: Command, input: &str) -> Result<String> {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run git")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
        stdin.write_all(b"\n")?;
    }
    let out = child.wait_with_output()?;
    check(&out, "git")?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
