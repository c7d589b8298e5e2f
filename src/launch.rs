//! Starting a user's command inside a sandbox (`exec NAME -- CMD`, `new NAME -- CMD`), attached
//! to the terminal, the way a shell's `exec` would.
//!
//! git-sandbox *becomes* the command (`execvp`): the command has the terminal's stdin, stdout
//! and stderr, the sandbox as its directory, the sandbox's env on top of the caller's (git's
//! `GIT_DIR`-family variables removed, so its git sees the sandbox's repository), and no
//! git-sandbox process is left waiting. So Ctrl-C reaches only the command (an agent that
//! handles it keeps running), and the caller sees the command's own exit status: its code, or
//! the signal it died of, which a shell (and `git sandbox`, through git) reports as
//! 128+signal. A command that cannot be started exits 127 (not found) or 126 (found but not
//! runnable), as in a shell.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// Exit code of a command that was not found.
pub const NOT_FOUND: i32 = 127;
/// Exit code of a command that was found but could not run.
pub const CANNOT_RUN: i32 = 126;

/// Replaces this process with `argv` run in `dir` with `vars`. Returns only if the command
/// could not be started, with why.
pub fn exec(argv: &[String], dir: &Path, vars: &[(String, String)]) -> io::Error {
    let Some((prog, rest)) = argv.split_first() else {
        return io::Error::new(io::ErrorKind::InvalidInput, "no command given");
    };
    let mut cmd = Command::new(prog);
    cmd.args(rest).current_dir(dir);
    crate::git::without_git_env(&mut cmd);
    cmd.envs(vars.iter().map(|(k, v)| (k, v)));
    // Nothing buffered may be lost when the process image is replaced.
    let _ = io::Write::flush(&mut io::stdout());
    cmd.exec()
}

/// The shell's exit code for a command that could not be started.
pub fn exit_code(err: &io::Error) -> i32 {
    if err.kind() == io::ErrorKind::NotFound {
        NOT_FOUND
    } else {
        CANNOT_RUN
    }
}
