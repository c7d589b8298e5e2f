//! Volumes kept with a trash state: `rm` stops a sandbox's stack but keeps its own volumes
//! (they carry its uuid label) for `restore`; `trash list` shows their sizes and `trash purge`
//! deletes them, only when the engine proves they are still that uuid's.

use std::collections::BTreeMap;
use std::process::Stdio;

use super::owner::LABEL;
use super::removal::first_line;

/// The sizes the engine reports for volumes (`docker system df -v`), by name; an error when
/// the engine cannot be reached.
pub fn sizes() -> Result<BTreeMap<String, String>, String> {
    let lines = super::owner::lines(&["system", "df", "-v", "--format", "{{json .Volumes}}"])?
        .ok_or("docker is not installed")?;
    let list: Vec<serde_json::Value> =
        serde_json::from_str(lines.first().map(String::as_str).unwrap_or("[]"))
            .map_err(|e| format!("docker system df: {e}"))?;
    Ok(list
        .iter()
        .filter_map(|v| {
            Some((
                v["Name"].as_str()?.to_string(),
                v["Size"].as_str().unwrap_or("unknown").to_string(),
            ))
        })
        .collect())
}

/// What became of one kept volume at a purge.
#[derive(Debug, PartialEq, Eq)]
pub enum Purged {
    Deleted,
    /// Not on the engine any more.
    Gone,
    /// It does not carry the state's uuid: never deleted.
    NotOurs,
}

/// Deletes `name` if it carries `uuid`'s label; an error when the engine cannot be reached or
/// refuses (the volume is in use).
pub fn delete_if_ours(name: &str, uuid: &str) -> Result<Purged, String> {
    let format = format!("{{{{index .Labels \"{LABEL}\"}}}}");
    let out = docker(&["volume", "inspect", "--format", &format, name])?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        if err.contains("no such volume") {
            return Ok(Purged::Gone);
        }
        return Err(first_line(&out.stderr));
    }
    if String::from_utf8_lossy(&out.stdout).trim() != uuid {
        return Ok(Purged::NotOurs);
    }
    let out = docker(&["volume", "rm", name])?;
    if out.status.success() {
        Ok(Purged::Deleted)
    } else {
        Err(first_line(&out.stderr))
    }
}

fn docker(args: &[&str]) -> Result<std::process::Output, String> {
    crate::engine::docker()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))
}
