//! `init` records the compose inputs git ignores in `.worktreeinclude`, so the choice is
//! visible and committed: only the paths its patterns do not already cover are appended
//! (anchored, `/path`), and the file's bytes are otherwise kept as they are.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The file's name, in the repo's root.
pub const FILE: &str = ".worktreeinclude";

/// Appends the `rels` that `.worktreeinclude` in `root` does not cover; returns those added.
pub fn record(root: &Path, rels: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let file = root.join(FILE);
    if fs::symlink_metadata(&file).is_ok_and(|m| !m.file_type().is_file()) {
        anyhow::bail!("{} is not a regular file; left as it is", file.display());
    }
    let before = fs::read(&file).unwrap_or_default();
    let patterns = crate::config::worktreeinclude_patterns(&String::from_utf8_lossy(&before));
    let mut added: Vec<PathBuf> = Vec::new();
    for rel in rels {
        if !patterns.iter().any(|p| covers(p, rel)) && !added.contains(rel) {
            added.push(rel.clone());
        }
    }
    if added.is_empty() {
        return Ok(added);
    }
    let mut text = String::new();
    if !before.is_empty() && !before.ends_with(b"\n") {
        text.push('\n');
    }
    text.push_str("# compose inputs git ignores, brought into each sandbox (git sandbox init)\n");
    for rel in &added {
        text.push_str(&format!("/{}\n", rel.display()));
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(added)
}

/// Whether a `copy` pattern matches `rel` or a directory holding it.
fn covers(pattern: &str, rel: &Path) -> bool {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let pat: Vec<&str> = pattern
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    (1..=parts.len()).any(|n| matches(&pat, &parts[..n]))
}

fn matches(pat: &[&str], parts: &[String]) -> bool {
    match pat.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) => (0..=parts.len()).any(|k| matches(rest, &parts[k..])),
        Some((p, rest)) => parts
            .split_first()
            .is_some_and(|(s, tail)| crate::names::wildcard(p, s) && matches(rest, tail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_only_what_no_pattern_covers_and_keeps_the_bytes() {
        let dir = tempfile::tempdir().expect("tmp");
        fs::write(dir.path().join(FILE), "# mine\n.env\nsecrets/").expect("write");
        let added = record(
            dir.path(),
            &[
                PathBuf::from(".env"),
                PathBuf::from("secrets/pw.txt"),
                PathBuf::from("compose.override.yaml"),
            ],
        )
        .expect("record");
        assert_eq!(added, vec![PathBuf::from("compose.override.yaml")]);
        let text = fs::read_to_string(dir.path().join(FILE)).expect("read");
        assert!(
            text.starts_with("# mine\n.env\nsecrets/\n# compose"),
            "{text}"
        );
        assert!(text.ends_with("/compose.override.yaml\n"), "{text}");
        let again = record(dir.path(), &[PathBuf::from("compose.override.yaml")]).expect("again");
        assert!(again.is_empty());
    }
}
