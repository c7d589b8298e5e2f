//! One tool call as one run of our own binary (`current_exe`), in the server's directory,
//! with `--json` where the command has it: the command's own checks, gates and exit codes,
//! its stdout captured (so nothing it prints can reach the protocol stream), its stdin empty
//! (nothing is ever asked), its stderr kept for the tool's error.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

/// What one run said.
pub struct Ran {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Its stdout as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.stdout)
            .ok()
            .filter(serde_json::Value::is_object)
    }

    /// Its stderr without the blank lines, bounded to the last `max` bytes (at a char boundary).
    pub fn messages(&self, max: usize) -> String {
        tail(self.stderr.trim(), max).to_string()
    }
}

/// The last `max` bytes of `text`, cut at a line start when one is near.
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let rest = &text[start..];
    // The cut first line goes, unless it is all there is (one line longer than `max`): a
    // tail is never empty when the text is not.
    match rest.find('\n') {
        Some(i) if i + 1 < rest.len() => &rest[i + 1..],
        _ => rest,
    }
}

/// Runs `git-sandbox -C DIR --color never ARGS…` and waits for it.
pub fn run(dir: &Path, args: &[String]) -> Result<Ran> {
    let exe = std::env::current_exe().context("cannot find git-sandbox's own binary")?;
    let out = Command::new(exe)
        .arg("-C")
        .arg(dir)
        .args(["--color", "never"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run git-sandbox")?;
    Ok(Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_whole_lines_at_the_end() {
        assert_eq!(tail("abc", 10), "abc");
        assert_eq!(tail("one\ntwo\nthree", 7), "three");
        assert_eq!(tail("ééé", 3), "é");
    }

    #[test]
    fn a_tail_is_never_empty_when_the_text_is_not() {
        let long = format!("{}\n", "x".repeat(100));
        assert_eq!(tail(&long, 10), "xxxxxxxxx\n");
        let two = format!("{}\nend\n", "x".repeat(100));
        assert_eq!(tail(&two, 10), "end\n");
    }
}
