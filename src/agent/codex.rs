//! Codex's local environments (`.codex/environments/*.toml`, the file the Codex app writes
//! and a project commits): a `[setup] script` Codex runs in each new worktree it makes, and a
//! `[cleanup] script` it runs before it deletes one. git-sandbox adds one line to each: setup
//! adopts the worktree (`git sandbox adopt`: a slot, ports, the env file, the project's setup
//! commands under trust), cleanup removes it through `rm`'s gate (`rm --yes`, never forced: a
//! refusal keeps the worktree's work and exits 3). What Codex deletes anyway, or a cleanup
//! Codex does not run, leaves an entry `git sandbox prune` drops.
//!
//! Each edit is one run of bytes spliced into the file: our line first in the setup script
//! (so the project's own lines see the env file), last in the cleanup script (after the
//! project's own cleanup), or a whole `[setup]`/`[cleanup]` table appended when there is none.
//! Every edit is proved by parsing the result: the script must read exactly as intended and
//! nothing else may change; `--remove` cuts the same bytes and proves that adding them again
//! gives back the file as it was, so a file nobody touched since is restored byte for byte.

use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use super::files::{cut, refuse, splice};
use super::tomlscript::{self, Script};

/// Where the environments live, under the repo's root.
pub const DIR: &str = ".codex/environments";
/// The file created when there is no environment yet (the name the Codex app uses).
pub const DEFAULT_FILE: &str = "environment.toml";
/// Our line in the setup script.
pub const SETUP_LINE: &str = r#"git sandbox adopt "${CODEX_WORKTREE_PATH:-$PWD}""#;
/// Our line in the cleanup script.
pub const CLEANUP_LINE: &str = r#"cd "${CODEX_WORKTREE_PATH:-$PWD}" && git sandbox rm --yes"#;

/// One script git-sandbox adds a line to.
#[derive(Clone, Copy)]
struct Section {
    key: &'static str,
    line: &'static str,
    first: bool,
}

const SECTIONS: [Section; 2] = [
    Section {
        key: "setup",
        line: SETUP_LINE,
        first: true,
    },
    Section {
        key: "cleanup",
        line: CLEANUP_LINE,
        first: false,
    },
];

/// What adding or removing did: the file's new text (`None`: delete it), the scripts
/// changed, and what the user should know.
#[derive(Debug, Default)]
pub struct Change {
    pub text: Option<String>,
    pub changed: Vec<&'static str>,
    pub warnings: Vec<String>,
}

/// The file git-sandbox writes when there is none.
pub fn template(name: &str) -> String {
    let name = toml::Value::String(name.to_string()).to_string();
    let mut t = format!("version = 1\nname = {name}\n");
    for s in SECTIONS {
        t.push_str(&block(s));
    }
    t
}

/// The table appended for a section the file lacks.
fn block(s: Section) -> String {
    format!("\n[{}]\nscript = '''\n{}\n'''\n", s.key, s.line)
}

/// Adds our lines to an environment file (`None`: there is none; `name` names a new one).
pub fn install(text: Option<&str>, name: &str, path: &Path) -> Result<Change> {
    let Some(text) = text else {
        return Ok(Change {
            text: Some(template(name)),
            changed: SECTIONS.iter().map(|s| s.key).collect(),
            warnings: Vec::new(),
        });
    };
    let mut change = Change {
        text: Some(text.to_string()),
        ..Change::default()
    };
    for s in SECTIONS {
        let cur = change.text.clone().unwrap_or_default();
        change.warnings.extend(platform_warning(&cur, s, path));
        if let Some(next) = add(&cur, s, path)? {
            change.text = Some(next);
            change.changed.push(s.key);
        }
    }
    Ok(change)
}

/// Removes our lines (the whole file when it is still exactly the one we wrote).
pub fn uninstall(text: Option<&str>, name: &str, path: &Path) -> Result<Change> {
    let Some(text) = text else {
        return Ok(Change::default());
    };
    if text == template(name) {
        return Ok(Change {
            text: None,
            changed: SECTIONS.iter().map(|s| s.key).collect(),
            warnings: Vec::new(),
        });
    }
    let mut change = Change {
        text: Some(text.to_string()),
        ..Change::default()
    };
    for s in SECTIONS.iter().rev() {
        let cur = change.text.clone().unwrap_or_default();
        if let Some(next) = take(&cur, *s, path)? {
            change.text = Some(next);
            change.changed.push(s.key);
        }
    }
    Ok(change)
}

#[derive(Deserialize)]
struct Doc {
    setup: Option<Table>,
    cleanup: Option<Table>,
}

#[derive(Deserialize)]
struct Table {
    script: Option<toml::Spanned<String>>,
}

/// The whole file as a TOML value; invalid TOML refuses.
fn parse(text: &str, path: &Path) -> Result<toml::Table> {
    toml::from_str(text).map_err(|e| {
        refuse(
            path,
            &format!("it is not valid TOML ({})", e.message()),
            "fix it",
        )
    })
}

/// The section's table and its script: `None` when there is no table.
fn script(text: &str, s: Section, path: &Path) -> Result<Option<Option<Script>>> {
    let doc: Doc = toml::from_str(text).map_err(|e| {
        refuse(
            path,
            &format!(
                "its [{}] is not a table with a string script ({})",
                s.key,
                e.message()
            ),
            "fix it by hand",
        )
    })?;
    let table = if s.key == "setup" {
        doc.setup
    } else {
        doc.cleanup
    };
    Ok(table.map(|t| {
        t.script.map(|sp| Script {
            span: sp.span(),
            value: sp.into_inner(),
        })
    }))
}

/// The text with our line added to the section, `None` if it is there already.
fn add(text: &str, s: Section, path: &Path) -> Result<Option<String>> {
    let mut want = parse(text, path)?;
    let (next, value) = match script(text, s, path)? {
        Some(Some(sc)) if sc.value.contains(s.line) => return Ok(None),
        Some(Some(sc)) => {
            let (at, insert, value) = tomlscript::insertion(text, &sc, s.line, s.first);
            (splice(text, at, &insert), value)
        }
        Some(None) => {
            return Err(refuse(
                path,
                &format!("its [{}] has no script", s.key),
                &format!("add `script = '''\\n{}\\n'''` to it by hand", s.line),
            ));
        }
        None => (format!("{text}{}", block(s)), format!("{}\n", s.line)),
    };
    let table = want
        .entry(s.key)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(t) = table.as_table_mut() {
        t.insert("script".into(), toml::Value::String(value));
    }
    if parse(&next, path)? != want {
        return Err(refuse(
            path,
            &format!(
                "its [{}] script is written in a way git-sandbox cannot add to safely",
                s.key
            ),
            &format!("add the line `{}` to it by hand", s.line),
        ));
    }
    Ok(Some(next))
}

/// The text without our line in the section, `None` if it is not there. Proven by adding it
/// back: that must give the text as it is now.
fn take(text: &str, s: Section, path: &Path) -> Result<Option<String>> {
    let sc = match script(text, s, path)? {
        Some(Some(sc)) if sc.value.contains(s.line) => sc,
        _ => return Ok(None),
    };
    let mut candidates = Vec::new();
    if text.ends_with(&block(s)) {
        candidates.push(text[..text.len() - block(s).len()].to_string());
    }
    for (at, insert) in tomlscript::insertions(text, &sc, s.line, s.first) {
        if text.get(at..at + insert.len()) == Some(insert.as_str()) {
            candidates.push(cut(text, at, insert.len()));
        }
    }
    for c in candidates {
        if add(&c, s, path).ok().flatten().as_deref() == Some(text) {
            return Ok(Some(c));
        }
    }
    Err(refuse(
        path,
        &format!(
            "git-sandbox's line in the [{}] script was moved or changed",
            s.key
        ),
        &format!("remove the line `{}` by hand", s.line),
    ))
}

/// A warning when the section has entries besides `script` (platform-specific scripts run
/// instead of the default one on their platform, without our line).
fn platform_warning(text: &str, s: Section, path: &Path) -> Option<String> {
    let doc = parse(text, path).ok()?;
    let table = doc.get(s.key)?.as_table()?;
    let others: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "script")
        .collect();
    (!others.is_empty()).then(|| {
        format!(
            "{}: [{}] also has {}; if one is a platform's own script, add `{}` to it too",
            path.display(),
            s.key,
            others.join(", "),
            s.line
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(original: &str) {
        let p = Path::new("e.toml");
        let added = install(Some(original), "r", p).expect("install");
        let text = added.text.expect("text");
        assert_eq!(added.changed, ["setup", "cleanup"], "{text}");
        let doc = parse(&text, p).expect("parses");
        let setup = doc["setup"]["script"].as_str().expect("setup");
        let cleanup = doc["cleanup"]["script"].as_str().expect("cleanup");
        assert!(setup.starts_with(SETUP_LINE), "{setup:?}");
        assert!(cleanup.trim_end().ends_with(CLEANUP_LINE), "{cleanup:?}");
        let again = install(Some(&text), "r", p).expect("again");
        assert!(again.changed.is_empty());
        let removed = uninstall(Some(&text), "r", p).expect("uninstall");
        assert_eq!(removed.text.as_deref(), Some(original), "{text}");
    }

    #[test]
    fn every_quoting_round_trips() {
        round_trip(
            "version = 1\nname = \"x\"\n\n[setup]\nscript = '''\nnpm ci\n'''\n\n[cleanup]\nscript = '''\nmake clean\n'''\n",
        );
        round_trip("[setup]\nscript = \"npm ci\"\n[cleanup]\nscript = 'make clean'\n");
        round_trip(
            "[setup]\nscript = \"\"\"\nnpm ci\"\"\"\n[cleanup]\nscript = \"\"\"make clean\"\"\"",
        );
        round_trip("[setup]\nscript = ''\n[cleanup]\nscript = \"\"\n");
        round_trip("version = 1\nname = \"no tables, no newline\"");
        round_trip("");
        round_trip(
            "setup = { script = 'a' }\n[[actions]]\nname = \"Run\"\ncommand = \"npm start\"\n",
        );
    }

    #[test]
    fn a_new_file_is_the_template_and_goes_whole() {
        let p = Path::new("e.toml");
        let c = install(None, "shop", p).expect("install");
        let text = c.text.expect("text");
        assert!(parse(&text, p).is_ok());
        assert_eq!(uninstall(Some(&text), "shop", p).expect("rm").text, None);
    }
}
