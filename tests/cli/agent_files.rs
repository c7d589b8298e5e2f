//! `agent-setup codex` and `agent-setup cursor`: the files each agent reads when it makes a
//! worktree, checked against the agent's documented format (parsed: TOML and JSON), kept byte
//! for byte apart from our line, and restored exactly by `--remove`; then the scripts run as
//! the agent runs them, in a worktree made the agent's way, through the same gate as `rm`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{BIN, TestEnv};

const CODEX_SETUP: &str = r#"git sandbox adopt "${CODEX_WORKTREE_PATH:-$PWD}""#;
const CODEX_CLEANUP: &str =
    r#"cd "${CODEX_WORKTREE_PATH:-$PWD}" && git sandbox rm --yes --if-sandbox"#;
const CURSOR_LINE: &str = "git sandbox adopt .";

/// A TestEnv whose PATH has `git-sandbox` on it, as the agents' scripts need.
pub(crate) fn env() -> TestEnv {
    let mut t = TestEnv::new();
    let bin = t.root.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BIN, bin.join("git-sandbox")).expect("link");
    t.path_prefix = vec![bin];
    t
}

pub(crate) fn toml_of(path: &Path) -> toml::Table {
    toml::from_str(&fs::read_to_string(path).expect("read")).expect("valid TOML")
}

fn stderr(t: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = t.run(dir, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn codex_new_file_has_the_documented_shape_and_goes_whole() {
    let t = env();
    let err = stderr(&t, &t.repo, &["agent-setup", "codex"]);
    assert!(err.contains("the file is new"), "{err}");
    assert!(err.contains("git sandbox prune"), "{err}");
    let file = t.repo.join(".codex/environments/environment.toml");
    let doc = toml_of(&file);
    assert_eq!(doc["version"].as_integer(), Some(1));
    assert_eq!(doc["name"].as_str(), Some("repo"));
    let setup = doc["setup"]["script"].as_str().expect("setup.script");
    let cleanup = doc["cleanup"]["script"].as_str().expect("cleanup.script");
    assert_eq!(setup.lines().collect::<Vec<_>>(), [CODEX_SETUP]);
    assert_eq!(cleanup.lines().collect::<Vec<_>>(), [CODEX_CLEANUP]);
    let bytes = fs::read(&file).expect("bytes");
    let err = stderr(&t, &t.repo, &["agent-setup", "codex"]);
    assert!(err.contains("nothing changed"), "{err}");
    assert_eq!(fs::read(&file).expect("bytes"), bytes);
    stderr(&t, &t.repo, &["agent-setup", "codex", "--remove"]);
    assert!(!file.exists());
}

#[test]
fn codex_existing_environments_keep_every_byte_and_remove_restores_them() {
    let t = env();
    let dir = t.repo.join(".codex/environments");
    fs::create_dir_all(&dir).expect("dir");
    let main = "version = 1\nname = \"shop\"\n\n[setup]\nscript = '''\nnpm ci   # keep me\n'''\n\n[cleanup]\nscript = '''\nmake drop-db\n'''\n\n[[actions]]\nname = \"Run\"\nicon = \"run\"\ncommand = \"npm start\"\n";
    let other = "version = 1\r\nname = 'lite'\r\n[setup]\r\nscript = \"make deps\"";
    fs::write(dir.join("environment.toml"), main).expect("write");
    fs::write(dir.join("lite.toml"), other).expect("write");
    fs::write(dir.join("notes.txt"), "not an environment").expect("write");
    stderr(&t, &t.repo, &["agent-setup", "codex"]);
    let doc = toml_of(&dir.join("environment.toml"));
    assert_eq!(
        doc["setup"]["script"].as_str(),
        Some(format!("{CODEX_SETUP}\nnpm ci   # keep me\n").as_str())
    );
    assert_eq!(
        doc["cleanup"]["script"].as_str(),
        Some(format!("make drop-db\n{CODEX_CLEANUP}\n").as_str())
    );
    assert_eq!(doc["actions"][0]["command"].as_str(), Some("npm start"));
    let lite = toml_of(&dir.join("lite.toml"));
    assert_eq!(
        lite["setup"]["script"].as_str(),
        Some(format!("{CODEX_SETUP}\nmake deps").as_str())
    );
    assert_eq!(
        lite["cleanup"]["script"].as_str(),
        Some(format!("{CODEX_CLEANUP}\n").as_str())
    );
    assert_eq!(
        fs::read_to_string(dir.join("notes.txt")).expect("read"),
        "not an environment"
    );
    stderr(&t, &t.repo, &["agent-setup", "codex", "--remove"]);
    assert_eq!(
        fs::read_to_string(dir.join("environment.toml")).expect("r"),
        main
    );
    assert_eq!(fs::read_to_string(dir.join("lite.toml")).expect("r"), other);
    let err = stderr(&t, &t.repo, &["agent-setup", "codex", "--remove"]);
    assert!(err.contains("nothing changed"), "{err}");
}

#[test]
fn codex_refuses_a_file_it_cannot_edit_and_writes_none() {
    let t = env();
    let dir = t.repo.join(".codex/environments");
    fs::create_dir_all(&dir).expect("dir");
    let good = "[setup]\nscript = 'npm ci'\n";
    fs::write(dir.join("a.toml"), good).expect("write");
    for bad in [
        "[setup\nscript = 'x'\n",
        "[setup]\nlinux = 'x'\n",
        "setup = 'x'\n",
    ] {
        fs::write(dir.join("b.toml"), bad).expect("write");
        let err = t.fails(&t.repo, &["agent-setup", "codex"], 1);
        assert!(
            err.contains("b.toml") && err.contains("nothing was changed"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(dir.join("a.toml")).expect("r"), good);
        assert_eq!(fs::read_to_string(dir.join("b.toml")).expect("r"), bad);
    }
}

#[test]
fn cursor_file_has_the_documented_shape_and_remove_restores_bytes() {
    let t = env();
    let file = t.repo.join(".cursor/worktrees.json");
    let err = stderr(&t, &t.repo, &["agent-setup", "cursor"]);
    assert!(
        err.contains("no hook for removing") && err.contains("git sandbox prune"),
        "{err}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(v["setup-worktree-unix"], serde_json::json!([CURSOR_LINE]));
    stderr(&t, &t.repo, &["agent-setup", "cursor", "--remove"]);
    assert!(!file.exists());
    // It made .cursor too: gone with its files.
    assert!(!t.repo.join(".cursor").exists());
    fs::create_dir_all(t.repo.join(".cursor")).expect("dir");
    // The user's file: compact, a generic list and a Windows script.
    let original = "{\"setup-worktree\":[\"npm ci\",\"cp $ROOT_WORKTREE_PATH/.env .env\"],\"setup-worktree-windows\":\"setup.ps1\"}";
    fs::write(&file, original).expect("write");
    stderr(&t, &t.repo, &["agent-setup", "cursor"]);
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(
        v["setup-worktree"],
        serde_json::json!([CURSOR_LINE, "npm ci", "cp $ROOT_WORKTREE_PATH/.env .env"])
    );
    assert_eq!(v["setup-worktree-windows"], "setup.ps1");
    let err = stderr(&t, &t.repo, &["agent-setup", "cursor"]);
    assert!(err.contains("nothing changed"), "{err}");
    stderr(&t, &t.repo, &["agent-setup", "cursor", "--remove"]);
    assert_eq!(fs::read_to_string(&file).expect("read"), original);
    // A script path is the user's script: refused, the file untouched.
    let script = "{\n  \"setup-worktree-unix\": \"scripts/setup.sh\"\n}\n";
    fs::write(&file, script).expect("write");
    let err = t.fails(&t.repo, &["agent-setup", "cursor"], 1);
    assert!(
        err.contains("names the script") && err.contains(CURSOR_LINE),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), script);
}

/// Runs `script` with `sh -c` in `dir`, as an agent runs its setup or cleanup.
pub(crate) fn run_script(
    t: &TestEnv,
    dir: &Path,
    script: &str,
    envs: &[(&str, &Path)],
) -> std::process::Output {
    let mut cmd = t.program("sh", dir);
    cmd.args(["-c", script]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run the script")
}

/// A worktree made the way the agents make theirs: detached, outside the repo.
fn agent_worktree(t: &TestEnv, name: &str) -> PathBuf {
    let path = t.root.join(name);
    t.git(
        &t.repo,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            path.to_str().expect("utf8"),
        ],
    );
    path
}

#[test]
fn codex_scripts_adopt_and_remove_through_the_gate() {
    let t = env();
    stderr(&t, &t.repo, &["agent-setup", "codex"]);
    let doc = toml_of(&t.repo.join(".codex/environments/environment.toml"));
    let (setup, cleanup) = (
        doc["setup"]["script"].as_str().expect("setup").to_string(),
        doc["cleanup"]["script"]
            .as_str()
            .expect("cleanup")
            .to_string(),
    );
    for name in ["clean", "dirty"] {
        let wt = agent_worktree(&t, name);
        let envs = [
            ("CODEX_WORKTREE_PATH", wt.as_path()),
            ("CODEX_SOURCE_TREE_PATH", t.repo.as_path()),
        ];
        let out = run_script(&t, &t.repo, &setup, &envs);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(wt.join(".env.sandbox").is_file());
        if name == "dirty" {
            t.write(&wt, "notes/unsaved.txt", "precious\n");
        }
        let out = run_script(&t, &t.repo, &cleanup, &envs);
        if name == "clean" {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!wt.exists());
        } else {
            assert_eq!(
                out.status.code(),
                Some(3),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                fs::read_to_string(wt.join("notes/unsaved.txt")).expect("kept"),
                "precious\n"
            );
        }
    }
    let ids: Vec<String> = t.entries().into_iter().map(|e| e.0).collect();
    assert_eq!(ids, ["repo--dirty"]);
}

#[test]
fn cursor_setup_adopts_and_prune_drops_what_cursor_deletes() {
    let t = env();
    stderr(&t, &t.repo, &["agent-setup", "cursor"]);
    let wt = agent_worktree(&t, "cursor-wt");
    let out = run_script(
        &t,
        &wt,
        CURSOR_LINE,
        &[("ROOT_WORKTREE_PATH", t.repo.as_path())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.entries().len(), 1);
    assert!(wt.join(".env.sandbox").is_file());
    // Cursor deletes its worktree itself; prune drops the entry left behind.
    t.git(
        &t.repo,
        &["worktree", "remove", "--force", wt.to_str().expect("utf8")],
    );
    t.ok(&t.repo, &["prune"]);
    assert!(t.entries().is_empty(), "{:?}", t.entries());
}

#[test]
fn claude_compact_settings_stay_compact_and_remove_restores_bytes() {
    let t = env();
    let file = t.repo.join(".claude/settings.json");
    let original = r#"{"model":"opus","permissions":{"allow":["Bash(ls)"]},"hooks":{"Stop":[{"hooks":[{"type":"command","command":"say done"}]}]},"env":{"Z":"1","A":"2"}}"#;
    t.write(&t.repo, ".claude/settings.json", original);
    t.ok(&t.repo, &["agent-setup", "claude"]);
    let added = fs::read_to_string(&file).expect("settings");
    assert!(!added.contains('\n'), "no longer one line: {added}");
    assert!(
        added.starts_with(r#"{"model":"opus","permissions":{"allow":["Bash(ls)"]},"hooks":{"Stop":[{"hooks":[{"type":"command","command":"say done"}]}],"WorktreeCreate":"#),
        "{added}"
    );
    assert!(added.ends_with(r#"]},"env":{"Z":"1","A":"2"}}"#), "{added}");
    let v: serde_json::Value = serde_json::from_str(&added).expect("json");
    assert_eq!(
        v["hooks"]["WorktreeRemove"][0]["hooks"][0]["command"],
        "git sandbox agent-hook worktree-remove"
    );
    t.ok(&t.repo, &["agent-setup", "claude"]);
    assert_eq!(fs::read_to_string(&file).expect("settings"), added);
    t.ok(&t.repo, &["agent-setup", "claude", "--remove"]);
    assert_eq!(fs::read_to_string(&file).expect("settings"), original);
    // A pretty file with an odd indentation and no hooks: the same, byte for byte.
    let pretty = "{\n   \"model\" : \"opus\"\n}\n";
    t.write(&t.repo, ".claude/settings.json", pretty);
    t.ok(&t.repo, &["agent-setup", "claude"]);
    let added = fs::read_to_string(&file).expect("settings");
    assert!(
        added.starts_with(
            "{\n   \"model\" : \"opus\",\n   \"hooks\" : {\n      \"WorktreeCreate\": [\n"
        ),
        "{added}"
    );
    t.ok(&t.repo, &["agent-setup", "claude", "--remove"]);
    assert_eq!(fs::read_to_string(&file).expect("settings"), pretty);
}
