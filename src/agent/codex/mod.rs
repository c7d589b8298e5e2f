//! Codex's local environments (`.codex/environments/*.toml`, the file the Codex app writes
//! and a project commits): a `[setup] script` Codex runs in each new worktree it makes, and a
//! `[cleanup] script` it runs before it deletes one. git-sandbox adds one line to each: setup
//! adopts the worktree (`git sandbox adopt`: a slot, ports, the env file, the project's setup
//! commands under trust), cleanup removes it through `rm`'s gate (`rm --yes --if-sandbox`: a worktree that is not a sandbox is a no-op, exit 0; a refusal of a real one still fails; never forced: a
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
pub const CLEANUP_LINE: &str =
    r#"cd "${CODEX_WORKTREE_PATH:-$PWD}" && git sandbox rm --yes --if-sandbox"#;

/// One script git-sandbox adds a line to: `[setup] script`, or a platform's own
/// (`[setup.linux] script`), which Codex runs instead of the default on that platform.
#[derive(Clone, Copy)]
struct Section {
    key: &'static str,
    platform: Option<&'static str>,
    line: &'static str,
    first: bool,
}

impl Section {
    /// `setup`, `setup.linux`.
    fn name(&self) -> String {
        match self.platform {
            Some(p) => format!("{}.{p}", self.key),
            None => self.key.to_string(),
        }
    }
}

const SECTIONS: [Section; 2] = [
    Section {
        key: "setup",
        platform: None,
        line: SETUP_LINE,
        first: true,
    },
    Section {
        key: "cleanup",
        platform: None,
        line: CLEANUP_LINE,
        first: false,
    },
];

/// The platforms whose own scripts get our line (git-sandbox runs where a POSIX shell does);
/// `win32` is said, not edited.
const PLATFORMS: [&str; 2] = ["linux", "darwin"];

/// What adding or removing did: the file's new text (`None`: delete it), the scripts
/// changed, and what the user should know.
#[derive(Debug, Default)]
pub struct Change {
    pub text: Option<String>,
    pub changed: Vec<String>,
    pub warnings: Vec<String>,
}

/// The file git-sandbox writes when there is none.
pub fn template(name: &str) -> String {
    let name = toml::Value::String(name.to_string()).to_string();
    let mut t = format!("version = 1\nname = {name}\n");
    for s in SECTIONS {
        t.push_str(&block(s, "\n"));
    }
    t
}

/// What is left of [`template`] with our tables cut out: a file that must stay (one
/// git tracks, or that git-sandbox has no record of writing) is never deleted.
pub fn bare(name: &str) -> String {
    let name = toml::Value::String(name.to_string()).to_string();
    format!("version = 1\nname = {name}\n")
}

/// The table appended for a section the file lacks, its lines ended by `eol`.
fn block(s: Section, eol: &str) -> String {
    format!(
        "{eol}[{}]{eol}script = '''{eol}{}{eol}'''{eol}",
        s.name(),
        s.line
    )
}

/// Every script to edit in `text`, in order: each default one, then its platforms' own that
/// the file has.
fn sections(text: &str, path: &Path) -> Result<Vec<Section>> {
    let doc = parse(text, path)?;
    let mut out = Vec::new();
    for s in SECTIONS {
        out.push(s);
        let table = doc.get(s.key).and_then(toml::Value::as_table);
        for p in PLATFORMS {
            if table.is_some_and(|t| t.contains_key(p)) {
                out.push(Section {
                    platform: Some(p),
                    ..s
                });
            }
        }
    }
    Ok(out)
}

/// Adds our lines to an environment file (`None`: there is none; `name` names a new one).
pub fn install(text: Option<&str>, name: &str, path: &Path) -> Result<Change> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Change {
            text: Some(template(name)),
            changed: SECTIONS.iter().map(Section::name).collect(),
            warnings: Vec::new(),
        });
    };
    let mut change = Change {
        text: Some(text.to_string()),
        warnings: windows_warning(text, path).into_iter().collect(),
        ..Change::default()
    };
    for s in sections(text, path)? {
        let cur = change.text.clone().unwrap_or_default();
        if let Some(next) = add(&cur, s, path)? {
            change.text = Some(next);
            change.changed.push(s.name());
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
            changed: SECTIONS.iter().map(Section::name).collect(),
            warnings: Vec::new(),
        });
    }
    let mut change = Change {
        text: Some(text.to_string()),
        ..Change::default()
    };
    for s in sections(text, path)?.into_iter().rev() {
        let cur = change.text.clone().unwrap_or_default();
        if let Some(next) = take(&cur, s, path)? {
            change.text = Some(next);
            change.changed.push(s.name());
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
    linux: Option<Platform>,
    darwin: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
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
                s.name(),
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
    let spanned = match (table, s.platform) {
        (None, _) => return Ok(None),
        (Some(t), None) => t.script,
        (Some(t), Some(p)) => {
            let platform = if p == "linux" { t.linux } else { t.darwin };
            match platform {
                Some(p) => p.script,
                None => return Ok(None),
            }
        }
    };
    Ok(Some(spanned.map(|sp| Script {
        span: sp.span(),
        value: sp.into_inner(),
    })))
}

/// The text with our line added to the section, `None` if it is there already.
fn add(text: &str, s: Section, path: &Path) -> Result<Option<String>> {
    let mut want = parse(text, path)?;
    let eol = super::files::eol(text);
    let (next, value) = match script(text, s, path)? {
        Some(Some(sc)) if sc.value.contains(s.line) => return Ok(None),
        Some(Some(sc)) => {
            let (at, insert, value) = tomlscript::insertion(text, &sc, s.line, s.first);
            (splice(text, at, &insert), value)
        }
        // The table is there without a script (`[setup]` alone, or with other keys): a
        // script with our line, right under its header.
        Some(None) if header_end(text, &s.name()).is_some() => {
            let at = header_end(text, &s.name()).unwrap_or(text.len());
            let sep = if at == text.len() && !text.ends_with('\n') {
                eol
            } else {
                ""
            };
            let script = format!("{sep}script = '''{eol}{}{eol}'''{eol}", s.line);
            (
                splice(text, at, &script),
                format!("{}{}", s.line, tomlscript::value_eol(eol)),
            )
        }
        // No default table, or one made only by its platforms' (`[setup.linux]` alone): a
        // `[setup]` appended, where TOML allows it, as the proof below says.
        Some(None) | None if s.platform.is_none() => (
            format!("{text}{}", block(s, eol)),
            format!("{}{}", s.line, tomlscript::value_eol(eol)),
        ),
        _ => {
            return Err(refuse(
                path,
                &format!("its [{}] has no script", s.name()),
                &format!("add `script = '''\\n{}\\n'''` to it by hand", s.line),
            ));
        }
    };
    set_script(&mut want, s, value);
    if parse(&next, path).ok().as_ref() != Some(&want) {
        return Err(refuse(
            path,
            &format!(
                "its [{}] script is written in a way git-sandbox cannot add to safely",
                s.name()
            ),
            &format!("add the line `{}` to it by hand", s.line),
        ));
    }
    Ok(Some(next))
}

/// Where the line after the table header `[name]` starts (the end of the text when the
/// header is its last line); `None` when no line is that header.
fn header_end(text: &str, name: &str) -> Option<usize> {
    let want = format!("[{name}]");
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or_default();
        let code = code.replace([' ', '\t', '\r', '\n'], "");
        at += line.len();
        if code == want {
            return Some(at);
        }
    }
    None
}

/// `doc` with the section's script set to `value`.
fn set_script(doc: &mut toml::Table, s: Section, value: String) {
    let new_table = || toml::Value::Table(toml::Table::new());
    let Some(mut table) = doc.entry(s.key).or_insert_with(new_table).as_table_mut() else {
        return;
    };
    if let Some(p) = s.platform {
        match table.entry(p).or_insert_with(new_table).as_table_mut() {
            Some(t) => table = t,
            None => return,
        }
    }
    table.insert("script".into(), toml::Value::String(value));
}

/// The text without our line in the section, `None` if it is not there. Proven by adding it
/// back: that must give the text as it is now.
fn take(text: &str, s: Section, path: &Path) -> Result<Option<String>> {
    let sc = match script(text, s, path)? {
        Some(Some(sc)) if sc.value.contains(s.line) => sc,
        _ => return Ok(None),
    };
    let mut candidates = Vec::new();
    for eol in ["\n", "\r\n"] {
        if let Some(c) = text.strip_suffix(&block(s, eol)) {
            candidates.push(c.to_string());
        }
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
            s.name()
        ),
        &format!("remove the line `{}` by hand", s.line),
    ))
}

/// A warning when the file has Windows scripts (`[setup.win32]`, `[cleanup.win32]`): Codex
/// runs those instead of the default on Windows, where git-sandbox does not run, so they are
/// left as they are.
fn windows_warning(text: &str, path: &Path) -> Option<String> {
    let doc = parse(text, path).ok()?;
    let found: Vec<String> = SECTIONS
        .iter()
        .filter(|s| {
            doc.get(s.key)
                .and_then(toml::Value::as_table)
                .is_some_and(|t| t.contains_key("win32"))
        })
        .map(|s| format!("[{}.win32]", s.key))
        .collect();
    (!found.is_empty()).then(|| {
        format!(
            "{}: {} left as it is (git-sandbox does not run on Windows, so worktrees Codex makes there are not sandboxes)",
            path.display(),
            found.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests;
