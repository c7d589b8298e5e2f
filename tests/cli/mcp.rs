//! `git sandbox mcp`: a Model Context Protocol conversation over stdio with the real binary,
//! as a client holds it (newline-delimited JSON-RPC, stdin kept open), every structured result
//! validated against the published schema its tool declares.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{TestEnv, tree};
use crate::json::{schema_dir, validate};

/// One client session with `git-sandbox mcp`.
struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    next_id: u64,
}

impl Session {
    fn start(t: &TestEnv, dir: &Path) -> Session {
        let mut child = t
            .cmd(dir)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout: ChildStdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            stdin,
            lines,
            next_id: 1,
        }
    }

    fn send(&mut self, msg: &Value) {
        writeln!(self.stdin, "{msg}").expect("write");
        self.stdin.flush().expect("flush");
    }

    /// A request; returns its response (every line on stdout must be JSON-RPC).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .expect("an answer while stdin stays open");
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout holds only protocol: {e}: {line:?}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{msg}");
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }

    /// `tools/call`: the result (never a protocol error).
    fn call(&mut self, tool: &str, args: Value) -> Value {
        let msg = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(msg.get("error").is_none(), "{msg}");
        msg["result"].clone()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A successful result's structured content, checked against `schema` (and its text twin).
fn structured(result: &Value, schema: &str) -> Value {
    assert_eq!(result["isError"], false, "{result:#}");
    let v = result["structuredContent"].clone();
    validate(schema, &v);
    let text = result["content"][0]["text"].as_str().expect("text");
    assert_eq!(serde_json::from_str::<Value>(text).expect("json text"), v);
    v
}

#[test]
fn a_conversation_creates_inspects_plans_removes_and_is_refused() {
    let t = TestEnv::new();
    let mut s = Session::start(&t, &t.repo);
    let init = s.request(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}
        }),
    );
    assert_eq!(
        init["result"]["serverInfo"]["name"], "git-sandbox",
        "{init}"
    );
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let listed = s.request("tools/list", json!({}));
    let tools = listed["result"]["tools"].as_array().expect("tools").clone();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "create", "list", "status", "remove", "up", "down", "logs", "urls"
        ]
    );
    for tool in &tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
    let declared = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["outputSchema"].clone())
            .expect("tool")
    };
    for (tool, file) in [
        ("create", "new.json"),
        ("list", "list.json"),
        ("status", "status.json"),
        ("remove", "rm.json"),
        ("urls", "urls.json"),
    ] {
        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(schema_dir().join(file)).expect("schema"),
        )
        .expect("json");
        assert_eq!(
            declared(tool),
            committed,
            "{tool}'s output schema is schema/{file}"
        );
    }

    // create → status → list → urls.
    let created = structured(&s.call("create", json!({"name": "task"})), "new.json");
    let path = created["sandbox"]["path"]
        .as_str()
        .expect("path")
        .to_string();
    assert!(Path::new(&path).is_dir());
    let status = structured(&s.call("status", json!({"name": "task"})), "status.json");
    assert_eq!(status["sandbox"]["name"], "task");
    let list = structured(&s.call("list", json!({})), "list.json");
    assert_eq!(list["sandboxes"].as_array().map(Vec::len), Some(1));
    structured(&s.call("urls", json!({"name": "task"})), "urls.json");

    // remove: a dry run by default, the plan as data, nothing changed.
    let before = (tree(Path::new(&path)), t.registry());
    let plan = structured(&s.call("remove", json!({"name": "task"})), "rm.json");
    assert_eq!(plan["outcome"], "dry-run", "{plan:#}");
    assert_eq!((tree(Path::new(&path)), t.registry()), before);

    // A dirty sandbox: refused, as a tool error with the reasons; nothing lost.
    t.write(Path::new(&path), "notes.txt", "precious\n");
    let before = (tree(Path::new(&path)), t.registry());
    let refused = s.call("remove", json!({"name": "task", "dry_run": false}));
    assert_eq!(refused["isError"], true, "{refused:#}");
    let rm = refused["structuredContent"].clone();
    validate("rm.json", &rm);
    assert_eq!(rm["outcome"], "refused", "{rm:#}");
    let reasons = rm["refusal"]["reasons"].to_string();
    assert!(reasons.contains("untracked"), "{reasons}");
    let text = refused["content"][0]["text"].as_str().expect("text");
    assert!(text.contains("refus"), "{text}");
    assert_eq!((tree(Path::new(&path)), t.registry()), before);

    // Clean again: removed for real.
    std::fs::remove_file(Path::new(&path).join("notes.txt")).expect("rm notes");
    let done = structured(
        &s.call("remove", json!({"name": "task", "dry_run": false})),
        "rm.json",
    );
    assert_eq!(done["outcome"], "removed", "{done:#}");
    assert!(!Path::new(&path).exists());
    assert!(t.entries().is_empty());

    // Bad arguments and unknown names are tool errors, never a crash of the session.
    let bad = s.call("status", json!({"name": "--all"}));
    assert_eq!(bad["isError"], true, "{bad}");
    let missing = s.call("status", json!({"name": "nope"}));
    assert_eq!(missing["isError"], true, "{missing}");
    let unknown = s.request("tools/call", json!({"name": "rm-rf", "arguments": {}}));
    assert!(unknown.get("error").is_some(), "{unknown}");
    // Still serving.
    structured(&s.call("list", json!({})), "list.json");
}

/// `agent-setup AGENT` writes the MCP server entry into `rel` in the agent's documented shape
/// (checked by `check`), a second run changes no byte, and `--remove` gives back `original`
/// (or no file, when there was none).
fn setup_round_trip(t: &TestEnv, agent: &str, rel: &str, original: Option<&str>, check: fn(&str)) {
    let file = t.repo.join(rel);
    if let Some(o) = original {
        t.write(&t.repo, rel, o);
    }
    t.ok(&t.repo, &["agent-setup", agent]);
    let written = std::fs::read_to_string(&file).expect("written");
    check(&written);
    t.ok(&t.repo, &["agent-setup", agent]);
    assert_eq!(std::fs::read_to_string(&file).expect("again"), written);
    t.ok(&t.repo, &["agent-setup", agent, "--remove"]);
    match original {
        Some(o) => assert_eq!(std::fs::read_to_string(&file).expect("restored"), o),
        None => assert!(!file.exists(), "{rel} was ours: deleted"),
    }
}

fn json_entry(text: &str) {
    let v: Value = serde_json::from_str(text).expect("json");
    assert_eq!(
        v["mcpServers"]["git-sandbox"],
        json!({"command": "git-sandbox", "args": ["mcp"]}),
        "{text}"
    );
}

fn toml_entry(text: &str) {
    let v: toml::Table = text.parse().expect("toml");
    let e = &v["mcp_servers"]["git-sandbox"];
    assert_eq!(e["command"].as_str(), Some("git-sandbox"), "{text}");
    assert_eq!(
        e["args"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>()),
        Some(vec!["mcp"]),
        "{text}"
    );
}

#[test]
fn agent_setup_writes_each_agents_mcp_entry_and_removes_it_byte_exactly() {
    let t = TestEnv::new();
    setup_round_trip(&t, "claude", ".mcp.json", None, json_entry);
    setup_round_trip(
        &t,
        "claude",
        ".mcp.json",
        Some("{\"mcpServers\":{\"other\":{\"command\":\"other\"}}}"),
        json_entry,
    );
    setup_round_trip(&t, "cursor", ".cursor/mcp.json", None, json_entry);
    setup_round_trip(
        &t,
        "cursor",
        ".cursor/mcp.json",
        Some("{\n    \"mcpServers\": {\n        \"other\": {\"url\": \"https://x\"}\n    }\n}\n"),
        json_entry,
    );
    setup_round_trip(&t, "codex", ".codex/config.toml", None, toml_entry);
    setup_round_trip(
        &t,
        "codex",
        ".codex/config.toml",
        Some("model = \"o3\"\n\n[mcp_servers.other]\ncommand = \"other\"\n"),
        toml_entry,
    );
    // A server of our name that runs something else is the user's: refused, nothing written.
    let theirs = "{\"mcpServers\":{\"git-sandbox\":{\"command\":\"/opt/fork/git-sandbox\",\"args\":[\"mcp\"]}}}";
    t.write(&t.repo, ".mcp.json", theirs);
    let settings = t.repo.join(".claude/settings.json");
    let before = settings.exists();
    let err = t.fails(&t.repo, &["agent-setup", "claude"], 1);
    assert!(err.contains("runs something else"), "{err}");
    assert_eq!(
        std::fs::read_to_string(t.repo.join(".mcp.json")).expect("mcp"),
        theirs
    );
    assert_eq!(settings.exists(), before);
}

#[test]
fn up_urls_logs_and_down_drive_the_sandboxs_stack() {
    use crate::services::{Cleanup, docker_env, docker_ready, get, wait_for};
    if !docker_ready() {
        return;
    }
    let t = docker_env("mcp", 19560);
    let _cleanup = Cleanup(t.repo_name());
    let mut s = Session::start(&t, &t.repo);
    s.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "test", "version": "1"}}),
    );
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    structured(&s.call("create", json!({"name": "svc"})), "new.json");

    let up = s.call("up", json!({"name": "svc"}));
    assert_eq!(up["isError"], false, "{up:#}");
    let urls = structured(&s.call("urls", json!({"name": "svc"})), "urls.json");
    assert_eq!(urls["urls"]["web"], "http://localhost:19561", "{urls:#}");
    assert!(wait_for(19561).contains("svc on 19561"));

    // A tail beyond the bound is clamped, never an error; the text stays bounded.
    let logs = s.call("logs", json!({"name": "svc", "tail": 100000}));
    assert_eq!(logs["isError"], false, "{logs:#}");
    let text = logs["content"][0]["text"].as_str().expect("text");
    assert!(text.len() <= 64 * 1024 + 1, "{}", text.len());
    assert!(!text.contains('\u{1b}'), "no colour codes: {text:?}");
    // `tail: 0` is no lines at all.
    let none = s.call("logs", json!({"name": "svc", "tail": 0}));
    assert_eq!(none["isError"], false, "{none:#}");
    let text = none["content"][0]["text"].as_str().expect("text");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains('|')).collect();
    assert!(lines.is_empty(), "tail 0 gave {lines:?}");

    let down = s.call("down", json!({"name": "svc"}));
    assert_eq!(down["isError"], false, "{down:#}");
    assert!(get(19561).is_none(), "still served after down");
    let done = structured(
        &s.call("remove", json!({"name": "svc", "dry_run": false})),
        "rm.json",
    );
    assert_eq!(done["outcome"], "removed", "{done:#}");
}
