//! Claude Code's `settings.json` and the two hook entries git-sandbox owns in it.
//!
//! The file is the user's: it is parsed keeping its keys in order, only our two entries are
//! added or removed (`hooks.WorktreeCreate` / `hooks.WorktreeRemove`, each a group
//! `{"hooks": [{"type": "command", "command": …}]}`), and the bytes written are the file's own
//! with our entries spliced in or cut out (`settings_bytes`: every other byte kept, a compact
//! file stays compact, `--remove` gives back the original bytes), through a temp file and a
//! rename; only a file edited around our entries is written again in its own indentation. Nothing to change writes nothing, so a second `agent-setup` is byte-stable.
//! Invalid JSON, or a `hooks` of the wrong shape, refuses before anything is written.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::UserError;

/// The command of our `WorktreeCreate` hook (with `--branch-prefix P` when chosen).
pub const CREATE_COMMAND: &str = "git sandbox agent-hook worktree-create";
/// The command of our `WorktreeRemove` hook.
pub const REMOVE_COMMAND: &str = "git sandbox agent-hook worktree-remove";
/// Claude Code's events and the base of the command we run for each.
pub const EVENTS: [(&str, &str); 2] = [
    ("WorktreeCreate", CREATE_COMMAND),
    ("WorktreeRemove", REMOVE_COMMAND),
];

/// The commands our two entries run: the bases, the create hook's with the options chosen at
/// `agent-setup` time (`--branch-prefix worktree-`), which is where the hook reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commands {
    pub create: String,
    pub remove: String,
}

impl Default for Commands {
    fn default() -> Commands {
        Commands::new(None)
    }
}

impl Commands {
    pub fn new(branch_prefix: Option<&str>) -> Commands {
        let create = match branch_prefix.filter(|p| !p.is_empty()) {
            Some(p) => format!(
                "{CREATE_COMMAND} --branch-prefix {}",
                crate::agent::prefix::shell_quoted(p)
            ),
            None => CREATE_COMMAND.to_string(),
        };
        Commands {
            create,
            remove: REMOVE_COMMAND.to_string(),
        }
    }

    /// The command of `event`.
    pub fn of(&self, event: &str) -> &str {
        if event == "WorktreeCreate" {
            &self.create
        } else {
            &self.remove
        }
    }

    /// Our commands as the file holds them (the defaults for an event without ours).
    pub fn found_in(settings: &Value) -> Commands {
        let mut found = Commands::default();
        for (event, base) in EVENTS {
            let groups = settings
                .get("hooks")
                .and_then(|h| h.get(event))
                .and_then(Value::as_array);
            let hit = groups
                .map(|g| commands(g.as_slice()))
                .unwrap_or_default()
                .into_iter()
                .find(|c| is_ours(c, base));
            if let Some(c) = hit {
                match event {
                    "WorktreeCreate" => found.create = c.to_string(),
                    _ => found.remove = c.to_string(),
                }
            }
        }
        found
    }
}

/// Whether a hook's command is ours (`git sandbox …` or `git-sandbox …`, any spacing, any
/// options after the base).
fn is_ours(command: &str, base: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    let want: Vec<&str> = base.split_whitespace().collect();
    words.starts_with(&want)
        || (words.first() == Some(&"git-sandbox") && words[1..].starts_with(&want[2..]))
}

/// Whether `command` is exactly `ours` (word for word, either spelling).
fn is_exactly(command: &str, ours: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    let want: Vec<&str> = ours.split_whitespace().collect();
    words == want || (words.first() == Some(&"git-sandbox") && words[1..] == want[2..])
}

/// The commands of every command hook in an event's list of groups.
fn commands(groups: &[Value]) -> Vec<&str> {
    groups
        .iter()
        .filter_map(|g| g.get("hooks").and_then(Value::as_array))
        .flatten()
        .filter_map(|h| h.get("command").and_then(Value::as_str))
        .collect()
}

/// The `hooks` object of `settings`, created if missing; refuses a wrong shape.
fn hooks_mut<'a>(settings: &'a mut Value, file: &Path) -> Result<&'a mut Map<String, Value>> {
    let shape = |what: &str| -> anyhow::Error {
        UserError::new(format!(
            "{}: {what}, so git-sandbox will not edit it",
            file.display()
        ))
        .hint("fix the file by hand; nothing was changed")
        .into()
    };
    let root = settings
        .as_object_mut()
        .ok_or_else(|| shape("the settings are not a JSON object"))?;
    root.entry("hooks")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| shape("`hooks` is not an object"))
}

/// Adds our entry to each event that lacks it (word for word: an entry of ours with other
/// options is taken out first by the caller, `Commands::found_in`). Returns the events changed, and warnings about
/// other hooks of the same events (two `WorktreeCreate` hooks would both make a worktree).
pub fn install(
    settings: &mut Value,
    file: &Path,
    cmds: &Commands,
) -> Result<(Vec<&'static str>, Vec<String>)> {
    let hooks = hooks_mut(settings, file)?;
    for (event, _) in EVENTS {
        if hooks.get(event).is_some_and(|v| !v.is_array()) {
            return Err(UserError::new(format!(
                "{}: `hooks.{event}` is not a list, so git-sandbox will not edit it",
                file.display()
            ))
            .hint("fix the file by hand; nothing was changed")
            .into());
        }
    }
    let (mut added, mut warnings) = (Vec::new(), Vec::new());
    for (event, base) in EVENTS {
        let ours = cmds.of(event);
        let list = hooks.entry(event).or_insert_with(|| json!([]));
        let Some(groups) = list.as_array_mut() else {
            continue;
        };
        let present = commands(groups.as_slice());
        for other in present.iter().filter(|c| !is_ours(c, base)) {
            warnings.push(format!(
                "{event} also runs `{other}`; remove one of the two hooks, or both will act"
            ));
        }
        if present.iter().any(|c| is_exactly(c, ours)) {
            continue;
        }
        groups.push(json!({ "hooks": [{ "type": "command", "command": ours }] }));
        added.push(event);
    }
    Ok((added, warnings))
}

/// Removes our entries, and each group, event list or `hooks` object that removing them left
/// empty; everything else stays. Returns the events changed.
pub fn uninstall(settings: &mut Value) -> Vec<&'static str> {
    let mut removed = Vec::new();
    let Some(hooks) = settings.get_mut("hooks").and_then(Value::as_object_mut) else {
        return removed;
    };
    for (event, ours) in EVENTS {
        let Some(groups) = hooks.get_mut(event).and_then(Value::as_array_mut) else {
            continue;
        };
        let before = groups.len();
        let mut changed = false;
        groups.retain_mut(|g| {
            let Some(list) = g.get_mut("hooks").and_then(Value::as_array_mut) else {
                return true;
            };
            let n = list.len();
            list.retain(|h| {
                !h.get("command")
                    .and_then(Value::as_str)
                    .is_some_and(|c| is_ours(c, ours))
            });
            changed |= list.len() != n;
            !(list.is_empty() && n > 0)
        });
        if !changed {
            continue;
        }
        removed.push(event);
        if groups.is_empty() && before > 0 {
            hooks.remove(event);
        }
    }
    if !removed.is_empty() && hooks.is_empty() {
        settings.as_object_mut().map(|o| o.remove("hooks"));
    }
    removed
}

/// A settings file as read: where it really is (through a symlink), and how it was written.
pub struct SettingsFile {
    /// The file written to (a symlink's target).
    pub path: PathBuf,
    pub value: Value,
    existed: bool,
    mode: Option<u32>,
    indent: String,
    final_newline: bool,
    /// The file's text as read, which our entries are spliced into or cut out of.
    text: Option<String>,
    /// The commands of our entries (what `install` adds, what the cut looks for).
    pub commands: Commands,
}

impl SettingsFile {
    /// Reads `path` (missing: an empty object); invalid JSON refuses.
    pub fn load(path: &Path) -> Result<SettingsFile> {
        let path = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)
                .with_context(|| format!("{} is a symlink to a missing file", path.display()))?,
            _ => path.to_path_buf(),
        };
        let bytes = match fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let invalid = |why: String| -> anyhow::Error {
            UserError::new(format!("{} is not valid JSON ({why})", path.display()))
                .hint("fix it (or move it away) and run this again; nothing was changed")
                .into()
        };
        let text = match bytes.as_deref().map(std::str::from_utf8) {
            None => "",
            Some(Ok(t)) => t,
            Some(Err(e)) => return Err(invalid(e.to_string())),
        };
        let value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?
        };
        Ok(SettingsFile {
            mode: fs::metadata(&path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777),
            indent: indent_of(text),
            final_newline: bytes.is_none() || text.ends_with('\n'),
            existed: bytes.is_some(),
            text: bytes.is_some().then(|| text.to_string()),
            commands: Commands::found_in(&value),
            path,
            value,
        })
    }

    /// The bytes to write: the file's own bytes with our entries spliced in or cut out
    /// (`settings_bytes`), else (a new file, or one edited around our entries) the value in
    /// the file's own indentation.
    pub fn render(&self) -> Result<Vec<u8>> {
        if let Some(text) = self.text.as_deref().filter(|t| !t.trim().is_empty()) {
            if let Some(spliced) =
                super::settings_bytes::splice_to(text, &self.value, &self.commands)
            {
                return Ok(spliced.into_bytes());
            }
            crate::ui::warn(&format!(
                "{} was edited around git-sandbox's entries; it is written again in its indentation",
                self.path.display()
            ));
        }
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        self.value
            .serialize(&mut serde_json::Serializer::with_formatter(&mut out, fmt))?;
        if self.final_newline {
            out.push(b'\n');
        }
        Ok(out)
    }

    /// Writes the value atomically (temp file in the same directory, fsync, rename), keeping
    /// the file's permissions; creates the directory if needed.
    pub fn save(&self) -> Result<()> {
        let bytes = self.render()?;
        let dir = self
            .path
            .parent()
            .context("the settings file has no directory")?;
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // Through a symlink (dotfiles) to its target; a new file gets the mode read on load.
        crate::atomic::write(&self.path, &bytes, self.mode.unwrap_or(0o644))
    }

    /// The file's text as read (`None`: there was none).
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Whether the file existed before.
    pub fn existed(&self) -> bool {
        self.existed
    }
}

/// The indentation of the file's first indented line (two spaces if none).
fn indent_of(text: &str) -> String {
    text.lines()
        .skip(1)
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .find(|ws| !ws.is_empty())
        .unwrap_or("  ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_in_either_spelling() {
        assert!(is_ours(
            "git  sandbox agent-hook worktree-create",
            CREATE_COMMAND
        ));
        assert!(is_ours(
            "git-sandbox agent-hook worktree-create",
            CREATE_COMMAND
        ));
        assert!(!is_ours(
            "git-sandbox agent-hook worktree-remove",
            CREATE_COMMAND
        ));
        assert!(!is_ours("my-script", CREATE_COMMAND));
        assert!(is_ours(
            "git sandbox agent-hook worktree-create --branch-prefix worktree-",
            CREATE_COMMAND
        ));
        assert!(!is_exactly(
            "git sandbox agent-hook worktree-create --branch-prefix worktree-",
            CREATE_COMMAND
        ));
        assert!(!is_ours("", CREATE_COMMAND));
    }

    #[test]
    fn indentation() {
        assert_eq!(indent_of("{\n\t\"a\": 1\n}\n"), "\t");
        assert_eq!(
            indent_of("{\n    \"a\": {\n        \"b\": 1\n    }\n}"),
            "    "
        );
        assert_eq!(indent_of("{\"a\": 1}"), "  ");
    }

    #[test]
    fn install_then_uninstall_restores() {
        let original =
            json!({"a": 1, "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x"}]}]}});
        let mut v = original.clone();
        let cmds = Commands::default();
        let (added, _) = install(&mut v, Path::new("s.json"), &cmds).unwrap_or_default();
        assert_eq!(added, ["WorktreeCreate", "WorktreeRemove"]);
        let (again, _) = install(&mut v, Path::new("s.json"), &cmds).unwrap_or_default();
        assert!(again.is_empty());
        assert_eq!(uninstall(&mut v).len(), 2);
        assert_eq!(v, original);
    }
}
