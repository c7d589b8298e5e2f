//! The JSON a coding agent's hook receives on stdin, read leniently.
//!
//! Claude Code sends one JSON object and may keep its end of the pipe open, so exactly one
//! value is read and the rest of stdin is never waited for. Field names differ between
//! builds and the documented schema (`name` vs `worktree_name`; `base_commit`, `base_ref`,
//! `source_ref`), so each request takes the first of its spellings that holds a non-empty
//! string; `session_id` is kept (the registry records which session made a sandbox), every
//! other field (`transcript_path`, …) is ignored, except `hook_event_name`: when present it
//! must be the event the handler serves ([`expect_event`]), so a `WorktreeRemove` payload sent
//! to `worktree-create` makes nothing.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::Value;

use crate::error::UserError;

/// What `WorktreeCreate` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// The worktree's name, as the agent gave it (slugged later, like `new NAME`).
    pub name: String,
    /// The revision to start a new branch at, if the agent named one.
    pub base: Option<String>,
    /// The payload's `cwd`: the repository to work in. (`base_path` and `worktree_path` are
    /// ignored: the sandbox goes where `.sandbox.toml`'s path template puts it.)
    pub dir: Option<PathBuf>,
    /// The agent's `session_id`: the sandbox it makes is recorded as this session's, and only
    /// a sandbox this session made is handed out again.
    pub session: Option<String>,
}

/// What `WorktreeRemove` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveRequest {
    /// The worktree to remove.
    pub path: PathBuf,
    /// The payload's `cwd`, if any.
    pub dir: Option<PathBuf>,
}

/// Reads one JSON object from `input` without waiting for the end of the stream.
pub fn read_one(input: impl Read) -> Result<Value> {
    let value = serde_json::Deserializer::from_reader(input)
        .into_iter::<Value>()
        .next();
    match value {
        None => Err(UserError::usage("no JSON on stdin (the hook expects one JSON object)").into()),
        Some(Err(e)) => Err(UserError::usage(format!("the JSON on stdin is invalid: {e}")).into()),
        Some(Ok(v)) if v.is_object() => Ok(v),
        Some(Ok(_)) => Err(UserError::usage("the JSON on stdin is not an object").into()),
    }
}

/// The first of `keys` that holds a non-empty string.
fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(String::from)
}

/// Refuses a payload whose `hook_event_name` names another event than `event` (absent: the
/// older builds that do not send it, accepted).
pub fn expect_event(v: &Value, event: &str) -> Result<()> {
    match v.get("hook_event_name") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(e)) if e == event => Ok(()),
        Some(other) => Err(UserError::usage(format!(
            "the hook's JSON is a {} event, not {event}: check which git-sandbox agent-hook \
             command each hook runs in the agent's settings",
            other
                .as_str()
                .map_or_else(|| other.to_string(), String::from)
        ))
        .into()),
    }
}

impl CreateRequest {
    pub fn from_json(v: &Value) -> Result<CreateRequest> {
        let name = text(v, &["name", "worktree_name"]).ok_or_else(|| {
            UserError::usage(
                "the hook's JSON has no `name` or `worktree_name` to name the worktree",
            )
        })?;
        Ok(CreateRequest {
            name,
            base: text(v, &["base_commit", "base_ref", "source_ref"]),
            dir: text(v, &["cwd"]).map(PathBuf::from),
            session: text(v, &["session_id"]),
        })
    }
}

impl RemoveRequest {
    pub fn from_json(v: &Value) -> Result<RemoveRequest> {
        let path = text(v, &["worktree_path", "path"])
            .ok_or_else(|| UserError::usage("the hook's JSON has no `worktree_path`"))?;
        Ok(RemoveRequest {
            path: PathBuf::from(path),
            dir: text(v, &["cwd"]).map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_object_and_ignores_the_rest() {
        let v = read_one(&b"{\"name\": \"a\"} trailing garbage"[..]).unwrap_or_default();
        assert_eq!(v["name"], "a");
    }

    #[test]
    fn spellings() {
        let v = serde_json::json!({"worktree_name": "x", "base_ref": "main", "name": ""});
        let r = CreateRequest::from_json(&v).ok();
        assert_eq!(
            r,
            Some(CreateRequest {
                name: "x".into(),
                base: Some("main".into()),
                dir: None,
                session: None,
            })
        );
        assert!(CreateRequest::from_json(&serde_json::json!({"name": 3})).is_err());
        assert!(read_one(&b"[1]"[..]).is_err());
        assert!(read_one(&b""[..]).is_err());
    }

    #[test]
    fn event_names() {
        let remove = serde_json::json!({"hook_event_name": "WorktreeRemove"});
        assert!(expect_event(&remove, "WorktreeRemove").is_ok());
        assert!(expect_event(&remove, "WorktreeCreate").is_err());
        assert!(expect_event(&serde_json::json!({}), "WorktreeCreate").is_ok());
        assert!(
            expect_event(&serde_json::json!({"hook_event_name": 3}), "WorktreeCreate").is_err()
        );
    }
}
