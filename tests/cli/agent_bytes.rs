//! Every file `agent-setup claude|codex|cursor` edits, round-tripped through setup and
//! `--remove` with the shapes a splice alone cannot tell apart (empty containers, empty and
//! blank files, no file), CRLF files (our lines CRLF too), and Codex's per-platform scripts;
//! then Codex's setup run as Codex runs it, in several worktrees that share a basename.

use std::fs;
use std::path::{Path, PathBuf};

use crate::agent_files::{env, run_script, toml_of};
use crate::common::TestEnv;

const CODEX_SETUP: &str = r#"git sandbox adopt "${CODEX_WORKTREE_PATH:-$PWD}""#;
const CODEX_CLEANUP: &str =
    r#"cd "${CODEX_WORKTREE_PATH:-$PWD}" && git sandbox rm --yes --if-sandbox"#;
const CODEX_ENV: &str = ".codex/environments/environment.toml";

/// What is in the repo's root besides `.git`, and under the agents' directories.
fn agent_files(t: &TestEnv) -> Vec<String> {
    let mut out = Vec::new();
    for e in fs::read_dir(&t.repo).expect("repo").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name != ".git" && name != ".gitignore" {
            out.push(name);
        }
    }
    out.sort();
    out
}

fn setup(t: &TestEnv, agent: &str, remove: bool) -> String {
    let mut args = vec!["agent-setup", agent];
    if remove {
        args.push("--remove");
    }
    let out = t.run(&t.repo, &args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {err}");
    err
}

/// Setup then `--remove` with `rel` holding `bytes` (`None`: no file): every file comes back
/// as it was, and nothing else is left.
fn round_trip(t: &TestEnv, agent: &str, rel: &str, bytes: Option<&str>) -> String {
    let before = agent_files(t);
    let path = t.repo.join(rel);
    if let Some(b) = bytes {
        fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        fs::write(&path, b).expect("write");
    }
    let seeded = agent_files(t);
    setup(t, agent, false);
    let written = fs::read_to_string(&path).expect("setup wrote it");
    setup(t, agent, true);
    match bytes {
        Some(b) => assert_eq!(
            fs::read_to_string(&path).ok().as_deref(),
            Some(b),
            "{agent} {rel} {b:?}, written as {written:?}"
        ),
        None => assert!(!path.exists(), "{agent}: {rel} made by setup is left"),
    }
    assert_eq!(agent_files(t), seeded, "{agent} {rel} {bytes:?}");
    if bytes.is_some() {
        fs::remove_file(&path).expect("clean");
        let _ = fs::remove_dir_all(t.repo.join(rel.split('/').next().unwrap_or(rel)));
    }
    assert_eq!(agent_files(t), before);
    written
}

#[test]
fn empty_containers_blank_files_and_no_file_come_back_exactly() {
    let t = env();
    let blank = [None, Some(""), Some("  \n"), Some("\n"), Some("{}")];
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "claude",
            ".claude/settings.json",
            &[
                "{\"hooks\":{}}",
                "{\n  \"hooks\": {}\n}\n",
                "{\"hooks\": {\"Stop\": []}}",
            ],
        ),
        (
            "claude",
            ".mcp.json",
            &["{\"mcpServers\":{}}", "{\n  \"mcpServers\": {\n  }\n}\n"],
        ),
        ("cursor", ".cursor/mcp.json", &["{\"mcpServers\":{}}"]),
        (
            "cursor",
            ".cursor/worktrees.json",
            &["{\"setup-worktree\":[]}", "{\"setup-worktree-unix\": []}\n"],
        ),
        (
            "codex",
            ".codex/config.toml",
            &["[mcp_servers]\n", "# none yet\n"],
        ),
    ];
    for (agent, rel, shapes) in cases {
        let toml = rel.ends_with(".toml");
        for b in blank.iter().filter(|b| !(toml && **b == Some("{}"))) {
            round_trip(&t, agent, rel, *b);
        }
        for s in shapes {
            round_trip(&t, agent, rel, Some(s));
        }
    }
    for b in [None, Some(""), Some(" \n")] {
        round_trip(&t, "codex", CODEX_ENV, b);
    }
}

#[test]
fn crlf_files_get_crlf_lines_and_come_back_exactly() {
    let t = env();
    let json = "{\r\n  \"model\": \"opus\",\r\n  \"hooks\": {\r\n    \"Stop\": []\r\n  }\r\n}\r\n";
    let servers = "{\r\n  \"mcpServers\": {\r\n    \"x\": {\r\n      \"command\": \"y\"\r\n    }\r\n  }\r\n}\r\n";
    let cursor = "{\r\n  \"setup-worktree\": [\r\n    \"npm ci\"\r\n  ]\r\n}\r\n";
    let environment = "version = 1\r\nname = \"x\"\r\n\r\n[setup]\r\nscript = '''\r\nnpm ci\r\n'''\r\n\r\n[cleanup]\r\nscript = \"\"\"\r\nmake clean\r\n\"\"\"\r\n";
    let cases = [
        ("claude", ".claude/settings.json", json),
        ("claude", ".mcp.json", servers),
        ("cursor", ".cursor/mcp.json", servers),
        ("cursor", ".cursor/worktrees.json", cursor),
        (
            "codex",
            ".codex/config.toml",
            "model = \"o3\"\r\n[x]\r\ny = 1\r\n",
        ),
        ("codex", CODEX_ENV, environment),
    ];
    for (agent, rel, text) in cases {
        let written = round_trip(&t, agent, rel, Some(text));
        assert!(written.len() > text.len(), "{rel}: nothing added");
        let bare_lf = written.replace("\r\n", "");
        assert!(
            !bare_lf.contains('\n'),
            "{rel}: an LF-only line in {written:?}"
        );
    }
}

#[test]
fn codex_platform_scripts_get_the_line_and_windows_is_said() {
    let t = env();
    let original = "version = 1\nname = \"x\"\n\n[setup]\nscript = \"npm ci\"\n\n[setup.linux]\nscript = '''\napt-get install -y jq\n'''\n\n[setup.darwin]\nscript = 'brew install jq'\n\n[setup.win32]\nscript = 'choco install jq'\n\n[cleanup.linux]\nscript = '''\nmake clean\n'''\n";
    let path = t.repo.join(CODEX_ENV);
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    fs::write(&path, original).expect("write");
    let err = setup(&t, "codex", false);
    assert!(
        err.contains("[setup.win32]") && err.contains("Windows"),
        "{err}"
    );
    let doc = toml_of(&path);
    let script = |k: &str, p: Option<&str>| -> String {
        let table = &doc[k];
        let table = p.map_or(table, |p| &table[p]);
        table["script"].as_str().expect("script").to_string()
    };
    for p in [None, Some("linux"), Some("darwin")] {
        assert!(script("setup", p).starts_with(CODEX_SETUP), "{p:?}");
    }
    for p in [None, Some("linux")] {
        assert!(
            script("cleanup", p).trim_end().ends_with(CODEX_CLEANUP),
            "{p:?}"
        );
    }
    assert_eq!(script("setup", Some("win32")), "choco install jq");
    assert_eq!(
        script("setup", Some("linux")),
        format!("{CODEX_SETUP}\napt-get install -y jq\n")
    );
    // The Linux script, as Codex runs it here, makes the worktree a sandbox.
    let wt = codex_worktree(&t, "t1");
    let linux = script("setup", Some("linux")).replace("apt-get install -y jq", "true");
    let out = run_script(&t, &wt, &linux, &[("CODEX_WORKTREE_PATH", wt.as_path())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wt.join(".env.sandbox").is_file());
    setup(&t, "codex", true);
    assert_eq!(fs::read_to_string(&path).expect("read"), original);
}

/// A worktree where the Codex app puts its own: `…/worktrees/<id>/<repo name>`, detached.
fn codex_worktree(t: &TestEnv, id: &str) -> PathBuf {
    let path = t
        .root
        .join("codex-home/worktrees")
        .join(id)
        .join(t.repo_name());
    let arg = path.to_str().expect("utf8");
    t.git(&t.repo, &["worktree", "add", "-q", "--detach", arg]);
    path
}

#[test]
fn codex_worktrees_sharing_a_basename_all_become_sandboxes_and_go() {
    let t = env();
    setup(&t, "codex", false);
    let doc = toml_of(&t.repo.join(CODEX_ENV));
    let setup_script = doc["setup"]["script"].as_str().expect("setup").to_string();
    let cleanup = doc["cleanup"]["script"]
        .as_str()
        .expect("cleanup")
        .to_string();
    let first = codex_worktree(&t, "a000");
    let run = |wt: &Path, script: &str| {
        let envs = [
            ("CODEX_WORKTREE_PATH", wt),
            ("CODEX_SOURCE_TREE_PATH", t.repo.as_path()),
        ];
        run_script(&t, wt, script, &envs)
    };
    let out = run(&first, &setup_script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Four more at once, as parallel threads start.
    let more: Vec<PathBuf> = (1..5)
        .map(|i| codex_worktree(&t, &format!("a{i:03}")))
        .collect();
    let outs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = more
            .iter()
            .map(|wt| s.spawn(|| run(wt, &setup_script)))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    for out in &outs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let entries = t.entries();
    assert_eq!(entries.len(), 5, "{entries:?}");
    let names: std::collections::BTreeSet<String> = t.registry()["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let repo = t.repo_name();
    let want: std::collections::BTreeSet<String> = std::iter::once(repo.clone())
        .chain((2..=5).map(|n| format!("{repo}-{n}")))
        .collect();
    assert_eq!(names, want);
    for wt in std::iter::once(&first).chain(more.iter()) {
        assert!(wt.join(".env.sandbox").is_file(), "{wt:?}");
        let out = run(wt, &cleanup);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!wt.exists(), "{wt:?}");
    }
    assert!(t.entries().is_empty());
}
