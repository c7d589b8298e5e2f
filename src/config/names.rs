//! Path templates (`../{repo}--{name}`) and the variable names made from service names.

use std::path::{Path, PathBuf};

pub(super) fn check_template(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("the template is empty".into());
    }
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("{t:?} has an unclosed {{"))?;
        let key = &rest[open + 1..open + close];
        if !matches!(key, "repo" | "name" | "id") {
            return Err(format!(
                "{t:?} uses {{{key}}}; the placeholders are {{repo}}, {{name}} and {{id}}"
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

/// Fills a path template; relative results are relative to the repo's root.
pub fn expand_template(t: &str, root: &Path, repo: &str, name: &str, id: &str) -> PathBuf {
    let s = t
        .replace("{repo}", repo)
        .replace("{name}", name)
        .replace("{id}", id);
    normalize(&root.join(s))
}

/// Lexically removes `.` and `..` from an absolute path.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// ASCII letters and digits kept (lower-cased), everything else as `_`.
pub fn word(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `<PREFIX><SERVICE>` in upper case, other characters as `_`.
pub fn env_name(prefix: &str, service: &str) -> String {
    format!("{prefix}{}", word(service).to_ascii_uppercase())
}
