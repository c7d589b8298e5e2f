//! The MCP server entry `agent-setup` writes for the agents that read one: Claude Code's
//! project `.mcp.json` and Cursor's `.cursor/mcp.json` (both `{"mcpServers": {NAME: {"command",
//! "args"}}}`), and Codex's project `.codex/config.toml` (`[mcp_servers.NAME]` with `command`
//! and `args`; Codex reads it in a trusted project). The entry is `git-sandbox` running
//! `git-sandbox mcp`.
//!
//! As the other agent files: one run of bytes spliced in (JSON: our member last in
//! `mcpServers`, or an `mcpServers` member last in the file; TOML: our table appended), proved
//! by parsing; nothing when it is there already; an entry of that name that runs something
//! else is refused. `--remove` cuts the same bytes and proves adding them back gives the file
//! as it is; a file that is still exactly the one git-sandbox made is deleted.

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

use super::files::refuse;
use super::jsonsplice::{Place, cuts, elements, insert, open_of};

/// The server's name in every file.
pub const NAME: &str = "git-sandbox";
/// Claude Code's project file, at the repo's root.
pub const CLAUDE_FILE: &str = ".mcp.json";
/// Cursor's project file.
pub const CURSOR_FILE: &str = ".cursor/mcp.json";
/// Codex's project file.
pub const CODEX_FILE: &str = ".codex/config.toml";

/// Our server, as JSON.
fn entry() -> Value {
    json!({ "command": "git-sandbox", "args": ["mcp"] })
}

/// The JSON file git-sandbox writes when there is none.
pub fn json_template() -> String {
    let v = json!({ "mcpServers": { NAME: entry() } });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}

fn parse(text: &str, path: &Path) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| refuse(path, &format!("it is not valid JSON ({e})"), "fix it"))
}

/// The JSON file with our server added (`None`: it is there already); `None` text: no file.
pub fn json_install(text: Option<&str>, path: &Path) -> Result<Option<String>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Some(json_template()));
    };
    let mut want = parse(text, path)?;
    let Some(root) = want.as_object_mut() else {
        return Err(refuse(path, "it is not a JSON object", "fix it by hand"));
    };
    let next = match root.get_mut("mcpServers") {
        Some(Value::Object(servers)) => {
            match servers.get(NAME) {
                Some(v) if *v == entry() => return Ok(None),
                Some(_) => {
                    return Err(refuse(
                        path,
                        &format!("its server `{NAME}` runs something else"),
                        "remove or rename that entry by hand",
                    ));
                }
                None => {}
            }
            servers.insert(NAME.into(), entry());
            let open = open_of(text, &["mcpServers"])
                .ok_or_else(|| refuse(path, "no mcpServers", "fix it"))?;
            insert(text, open, Some(NAME), &entry(), Place::Last)
        }
        Some(_) => return Err(refuse(path, "`mcpServers` is not an object", "fix it")),
        None => {
            root.insert("mcpServers".into(), json!({ NAME: entry() }));
            let open = open_of(text, &[]).ok_or_else(|| refuse(path, "no object", "fix it"))?;
            insert(
                text,
                open,
                Some("mcpServers"),
                &json!({ NAME: entry() }),
                Place::Last,
            )
        }
    };
    let got = parse(&next, path)?;
    if serde_json::to_string(&got).ok() != serde_json::to_string(&want).ok() {
        return Err(refuse(
            path,
            "it is written in a way git-sandbox cannot add to safely",
            &format!("add the server `{NAME}` (command `git-sandbox`, args [\"mcp\"]) by hand"),
        ));
    }
    Ok(Some(next))
}

/// The JSON file without our server (`Some(None)`: delete it, still exactly ours); `None`:
/// our server is not there.
pub fn json_uninstall(text: Option<&str>, path: &Path) -> Result<Option<Option<String>>> {
    let Some(text) = text else {
        return Ok(None);
    };
    if text == json_template() {
        return Ok(Some(None));
    }
    let root = parse(text, path)?;
    if root.get("mcpServers").and_then(|s| s.get(NAME)) != Some(&entry()) {
        return Ok(None);
    }
    let mut candidates = Vec::new();
    if let Some(open) = open_of(text, &[]) {
        let members = elements(text, open);
        if let Some(i) = members
            .iter()
            .rposition(|e| e.key.as_deref() == Some("mcpServers"))
        {
            candidates.extend(cuts(text, open, i));
        }
    }
    if let Some(open) = open_of(text, &["mcpServers"]) {
        let members = elements(text, open);
        if let Some(i) = members.iter().rposition(|e| e.key.as_deref() == Some(NAME)) {
            candidates.extend(cuts(text, open, i));
        }
    }
    for c in candidates {
        if json_install(Some(&c), path).ok().flatten().as_deref() == Some(text) {
            return Ok(Some(Some(c)));
        }
    }
    Err(refuse(
        path,
        &format!("the server `{NAME}` was moved or changed"),
        &format!("remove `{NAME}` from `mcpServers` by hand"),
    ))
}

/// Our TOML table, as appended, its lines ended by `eol`.
pub fn toml_block(eol: &str) -> String {
    format!("[mcp_servers.{NAME}]{eol}command = \"git-sandbox\"{eol}args = [\"mcp\"]{eol}")
}

fn toml_parse(text: &str, path: &Path) -> Result<toml::Table> {
    text.parse::<toml::Table>().map_err(|e| {
        refuse(
            path,
            &format!("it is not valid TOML ({})", e.message()),
            "fix it",
        )
    })
}

/// Our server as the TOML file holds it, if it does.
fn toml_ours(t: &toml::Table) -> Option<&toml::Value> {
    t.get("mcp_servers")?.get(NAME)
}

fn toml_entry() -> toml::Value {
    let mut e = toml::Table::new();
    e.insert("command".into(), "git-sandbox".into());
    e.insert("args".into(), toml::Value::Array(vec!["mcp".into()]));
    toml::Value::Table(e)
}

/// The TOML file with our table appended (`None`: there already); `None` text: no file.
pub fn toml_install(text: Option<&str>, path: &Path) -> Result<Option<String>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Some(toml_block("\n")));
    };
    let table = toml_parse(text, path)?;
    match toml_ours(&table) {
        Some(v) if *v == toml_entry() => return Ok(None),
        Some(_) => {
            return Err(refuse(
                path,
                &format!("its `[mcp_servers.{NAME}]` runs something else"),
                "remove or rename that table by hand",
            ));
        }
        None => {}
    }
    // A blank line before our table; a file without a final newline gets only the newline
    // (so `--remove` knows which it was).
    let eol = super::files::eol(text);
    let next = format!("{text}{eol}{}", toml_block(eol));
    let mut want = table;
    let servers = want
        .entry("mcp_servers")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(s) = servers.as_table_mut() {
        s.insert(NAME.into(), toml_entry());
    }
    if toml_parse(&next, path).ok() != Some(want) {
        return Err(refuse(
            path,
            "its `mcp_servers` cannot take a table appended (an inline table?)",
            &format!(
                "add `[mcp_servers.{NAME}]` with command = \"git-sandbox\", args = [\"mcp\"] by hand"
            ),
        ));
    }
    Ok(Some(next))
}

/// The TOML file without our table (`Some(None)`: delete it); `None`: not there.
pub fn toml_uninstall(text: Option<&str>, path: &Path) -> Result<Option<Option<String>>> {
    let Some(text) = text else {
        return Ok(None);
    };
    if text == toml_block("\n") {
        return Ok(Some(None));
    }
    if toml_ours(&toml_parse(text, path)?) != Some(&toml_entry()) {
        return Ok(None);
    }
    let candidates = ["\n", "\r\n"].map(|eol| {
        text.strip_suffix(&format!("{eol}{}", toml_block(eol)))
            .map(str::to_string)
    });
    for c in candidates.into_iter().flatten() {
        if toml_install(Some(&c), path).ok().flatten().as_deref() == Some(text) {
            return Ok(Some(Some(c)));
        }
    }
    Err(refuse(
        path,
        &format!("`[mcp_servers.{NAME}]` was moved or changed"),
        &format!("remove `[mcp_servers.{NAME}]` by hand"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_round_trip(original: &str) {
        let p = Path::new("m.json");
        let text = json_install(Some(original), p)
            .expect("install")
            .expect("changed");
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["mcpServers"][NAME], entry(), "{text}");
        assert_eq!(json_install(Some(&text), p).expect("again"), None);
        assert_eq!(
            json_uninstall(Some(&text), p).expect("uninstall"),
            Some(Some(original.to_string())),
            "{text}"
        );
    }

    fn toml_round_trip(original: &str) {
        let p = Path::new("c.toml");
        let text = toml_install(Some(original), p)
            .expect("install")
            .expect("changed");
        assert_eq!(toml_install(Some(&text), p).expect("again"), None);
        assert_eq!(
            toml_uninstall(Some(&text), p).expect("uninstall"),
            Some(Some(original.to_string())),
            "{text}"
        );
    }

    #[test]
    fn json_layouts_round_trip() {
        json_round_trip("{}");
        json_round_trip("{\"mcpServers\":{\"x\":{\"command\":\"x\"}}}");
        json_round_trip(
            "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"x\"\n    }\n  }\n}\n",
        );
        json_round_trip("{\n\t\"other\": 1\n}");
        assert_eq!(
            json_uninstall(Some(&json_template()), Path::new("m.json")).expect("ours"),
            Some(None)
        );
    }

    #[test]
    fn toml_layouts_round_trip() {
        toml_round_trip("model = \"o3\"\n");
        toml_round_trip("model = \"o3\"");
        toml_round_trip("[mcp_servers.other]\ncommand = \"x\"\n");
        toml_round_trip("model = \"o3\"\r\n[x]\r\ny = 1\r\n");
        let crlf = toml_install(Some("model = \"o3\"\r\n"), Path::new("c.toml"));
        let crlf = crlf.expect("install").expect("changed");
        assert!(!crlf.replace("\r\n", "").contains('\n'), "{crlf:?}");
        let refused = toml_install(
            Some("mcp_servers = { other = { command = \"x\" } }\n"),
            Path::new("c.toml"),
        );
        assert!(refused.is_err());
    }

    #[test]
    fn a_foreign_entry_of_our_name_is_refused() {
        let other = "{\"mcpServers\":{\"git-sandbox\":{\"command\":\"other\"}}}";
        assert!(json_install(Some(other), Path::new("m.json")).is_err());
    }
}
