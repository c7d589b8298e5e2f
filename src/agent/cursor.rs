//! Cursor's `.cursor/worktrees.json`: the commands Cursor runs in each worktree it makes
//! (`setup-worktree-unix` on macOS and Linux, else the generic `setup-worktree`; each a list
//! of shell commands, or a string naming a script). git-sandbox puts one command first in the
//! list that applies here: `git sandbox adopt .`, which gives the worktree a slot, ports, the
//! env file and the project's setup commands (under trust). Cursor has no removal hook: it
//! deletes its worktrees itself, and `git sandbox prune` drops the entries it leaves.
//!
//! The edit is one run of bytes spliced in: our command as the list's first element (in the
//! list's own spacing), or, when neither key is there, a `"setup-worktree-unix"` member as
//! the object's first. The result is parsed and must equal the file with our command added
//! and nothing else; `--remove` cuts the same bytes and proves that adding them back gives the
//! file as it is, so a file nobody touched since is restored byte for byte. A script path
//! (a string) is the user's script, which git-sandbox does not edit: it says what to add.

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

use super::files::refuse;
use super::jsonsplice::{Place, cuts, elements, insert, open_of};

/// The file, under the repo's root.
pub const FILE: &str = ".cursor/worktrees.json";
/// Our command.
pub const LINE: &str = "git sandbox adopt .";
/// The key written when the file has neither.
const UNIX_KEY: &str = "setup-worktree-unix";
/// The keys that apply on macOS and Linux, in Cursor's order of precedence.
const KEYS: [&str; 2] = [UNIX_KEY, "setup-worktree"];

/// The file git-sandbox writes when there is none.
pub fn template() -> String {
    format!("{{\n  \"{UNIX_KEY}\": [\n    {}\n  ]\n}}\n", quoted())
}

fn quoted() -> String {
    Value::String(LINE.into()).to_string()
}

/// The file with our command added (`None`: it was there already); `None` text: no file.
pub fn install(text: Option<&str>, path: &Path) -> Result<Option<String>> {
    // An empty (or blank) file holds nothing: written as a new one (`--remove` puts the
    // blank bytes back, `receipt`).
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Some(template()));
    };
    let root = parse(text, path)?;
    let mut want = root.clone();
    let Some(obj) = want.as_object_mut() else {
        return Err(refuse(path, "it is not a JSON object", "fix it by hand"));
    };
    let next = match KEYS.iter().find(|k| obj.contains_key(**k)) {
        Some(key) => {
            let list = match obj.get_mut(*key) {
                Some(Value::Array(list)) => list,
                Some(Value::String(script)) => {
                    return Err(refuse(
                        path,
                        &format!("`{key}` names the script {script}"),
                        &format!("add `{LINE}` as its first command"),
                    ));
                }
                _ => return Err(refuse(path, &format!("`{key}` is not a list"), "fix it")),
            };
            if list.iter().any(|v| v.as_str() == Some(LINE)) {
                return Ok(None);
            }
            list.insert(0, Value::String(LINE.into()));
            let open = open_of(text, &[key]).ok_or_else(|| refuse(path, "it moved", "retry"))?;
            insert(text, open, None, &json!(LINE), Place::First)
        }
        None => {
            obj.shift_insert(0, UNIX_KEY.into(), json!([LINE]));
            let root = open_of(text, &[]).ok_or_else(|| refuse(path, "no object", "fix it"))?;
            insert(text, root, Some(UNIX_KEY), &json!([LINE]), Place::First)
        }
    };
    if parse(&next, path)? != want || !same_order(&parse(&next, path)?, &want) {
        return Err(refuse(
            path,
            "it is written in a way git-sandbox cannot add to safely",
            &format!("add `{LINE}` as the first setup command by hand"),
        ));
    }
    Ok(Some(next))
}

/// The file without our command (`Some(None)`: delete the file, still exactly ours); `None`:
/// our command is not there.
pub fn uninstall(text: Option<&str>, path: &Path) -> Result<Option<Option<String>>> {
    let Some(text) = text else {
        return Ok(None);
    };
    if text == template() {
        return Ok(Some(None));
    }
    let root = parse(text, path)?;
    let Some(key) = KEYS.iter().find(|k| {
        root.get(**k)
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(LINE)))
    }) else {
        return Ok(None);
    };
    let mut candidates = Vec::new();
    if let Some(root) = open_of(text, &[]) {
        let members = elements(text, root);
        if let Some(i) = members.iter().rposition(|e| e.key.as_deref() == Some(*key)) {
            candidates.extend(cuts(text, root, i));
        }
    }
    if let Some(open) = open_of(text, &[key]) {
        let items = elements(text, open);
        for (i, e) in items.iter().enumerate() {
            if text[e.span.clone()] == quoted() {
                candidates.extend(cuts(text, open, i));
            }
        }
    }
    for c in candidates {
        if install(Some(&c), path).ok().flatten().as_deref() == Some(text) {
            return Ok(Some(Some(c)));
        }
    }
    Err(refuse(
        path,
        "git-sandbox's command was moved or changed",
        &format!("remove `{LINE}` from `{key}` by hand"),
    ))
}

/// Parses the file; invalid JSON refuses.
fn parse(text: &str, path: &Path) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| refuse(path, &format!("it is not valid JSON ({e})"), "fix it"))
}

/// Whether two objects list their keys in the same order (`==` ignores order).
fn same_order(a: &Value, b: &Value) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => a.keys().eq(b.keys()),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(original: &str) {
        let p = Path::new("w.json");
        let text = install(Some(original), p)
            .expect("install")
            .expect("changed");
        let v: Value = serde_json::from_str(&text).expect("json");
        let key = KEYS.iter().find(|k| v.get(**k).is_some()).expect("a key");
        assert_eq!(v[key][0], LINE, "{text}");
        assert_eq!(install(Some(&text), p).expect("again"), None);
        let back = uninstall(Some(&text), p).expect("uninstall");
        assert_eq!(back, Some(Some(original.to_string())), "{text}");
    }

    #[test]
    fn every_layout_round_trips() {
        round_trip("{\n  \"setup-worktree\": [\n    \"npm ci\"\n  ]\n}\n");
        round_trip("{\"setup-worktree-unix\":[\"npm ci\",\"cp $ROOT_WORKTREE_PATH/.env .env\"]}");
        round_trip("{\"setup-worktree-windows\": [\"npm ci\"], \"setup-worktree-unix\": []}");
        round_trip("{}");
        round_trip("{ }\n");
        round_trip(
            "{\n\t\"x\": {\"a\": [1, \"]\"]},\n\t\"setup-worktree-windows\": \"setup.ps1\"\n}",
        );
    }

    #[test]
    fn a_script_path_is_refused() {
        let err = install(
            Some("{\"setup-worktree-unix\": \"setup.sh\"}"),
            Path::new("w.json"),
        )
        .expect_err("a script");
        assert!(format!("{err:#}").contains("names the script"));
    }
}
