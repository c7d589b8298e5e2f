//! The JSON contract: every `--json` output of the real binary validated against the schema
//! committed under `schema/`, the committed schemas checked against the types, and
//! `.sandbox/context.md`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, tree};

pub(crate) fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema")
}

/// Validates `value` against the committed `schema/<name>`, panicking with boon's report.
pub(crate) fn validate(name: &str, value: &Value) {
    let file = schema_dir().join(name);
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let index = compiler
        .compile(file.to_str().expect("utf8"), &mut schemas)
        .unwrap_or_else(|e| panic!("schema/{name} does not compile: {e:#}"));
    if let Err(e) = schemas.validate(value, index) {
        panic!("output does not match schema/{name}: {e:#}\n{value:#}");
    }
}

/// Parses the whole of stdout as one JSON document (so nothing else may be on it).
fn parse(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

/// Runs git-sandbox expecting `code`; returns its stdout parsed and validated.
fn json(t: &TestEnv, dir: &Path, args: &[&str], code: i32, schema: &str) -> Value {
    let out = t.run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = parse(&out.stdout);
    validate(schema, &v);
    assert_eq!(v["version"], 1);
    v
}

/// A repo with two ports planned (high bases, away from the other tests).
fn with_ports() -> TestEnv {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "env_prefix = \"SHOP_\"\n[ports]\nbackend = 41000\nworkers = { base = 42000, count = 2, stride = 10 }\n",
    );
    t
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let t = TestEnv::new();
    let fresh = t.root.join("fresh");
    let dir = fresh.to_str().expect("utf8");
    t.ok(&t.repo, &["__schema", "--out", dir]);
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        for e in fs::read_dir(&fresh).expect("fresh").flatten() {
            fs::copy(e.path(), schema_dir().join(e.file_name())).expect("copy");
        }
    }
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&schema_dir()),
        names(&fresh),
        "schema/ holds other files"
    );
    for name in names(&fresh) {
        assert_eq!(
            fs::read_to_string(schema_dir().join(&name)).expect("committed"),
            fs::read_to_string(fresh.join(&name)).expect("fresh"),
            "schema/{name} is stale: run `UPDATE_SCHEMA=1 cargo test --test cli json::`"
        );
    }
    // Without --out: every schema on stdout, keyed by file name.
    let all = parse(&t.run(&t.repo, &["__schema"]).stdout);
    assert_eq!(all["rm.json"]["title"], "Rm");
}

#[test]
fn a_schema_refuses_a_wrong_shape() {
    // The validation below can fail: a missing field and a wrong version are caught.
    let file = schema_dir().join("env.json");
    let mut schemas = boon::Schemas::new();
    let index = boon::Compiler::new()
        .compile(file.to_str().expect("utf8"), &mut schemas)
        .expect("compiles");
    let ok = serde_json::json!({"version": 1, "env": {"A": "1"}});
    assert!(schemas.validate(&ok, index).is_ok());
    for bad in [
        serde_json::json!({"version": 2, "env": {}}),
        serde_json::json!({"version": 1}),
        serde_json::json!({"version": 1, "env": {"A": 1}}),
    ] {
        assert!(schemas.validate(&bad, index).is_err(), "{bad}");
    }
}

#[test]
fn new_json_says_where_everything_is() {
    let t = with_ports();
    let v = json(&t, &t.repo, &["new", "feat", "--json"], 0, "new.json");
    let s = &v["sandbox"];
    let slot = s["slot"].as_u64().expect("slot");
    let path = PathBuf::from(s["path"].as_str().expect("path"));
    assert_eq!(path, t.sandbox_path("feat"));
    assert!(path.join(".git").is_file());
    assert_eq!(s["id"], "repo--feat");
    assert_eq!(s["branch"], "feat");
    assert_eq!(s["compose_project"], "repo--feat");
    assert_eq!(s["ports"]["backend"], 41000 + slot);
    assert_eq!(s["ports"]["workers[1]"], 42000 + slot * 10 + 1);
    assert_eq!(
        s["urls"]["backend"],
        format!("http://localhost:{}", 41000 + slot)
    );
    assert_eq!(s["env"]["SHOP_BACKEND_PORT"], (41000 + slot).to_string());
    assert_eq!(s["env"]["SANDBOX_SLOT"], slot.to_string());
    let env_file = PathBuf::from(s["env_file"].as_str().expect("env_file"));
    assert_eq!(env_file, path.join(".env.sandbox"));
    assert!(env_file.is_file());
    let context = PathBuf::from(s["context_file"].as_str().expect("context_file"));
    assert_eq!(context, path.join(".sandbox/context.md"));
    assert!(context.is_file());

    // adopt --json: the same shape.
    let hand = t.hand_made_worktree("by-hand", "by-hand");
    let hand_dir = hand.to_str().expect("utf8");
    let v = json(&t, &t.repo, &["adopt", hand_dir, "--json"], 0, "new.json");
    assert_eq!(v["sandbox"]["name"], "by-hand");
    assert!(hand.join(".sandbox/context.md").is_file());
}

#[test]
fn list_status_env_and_ports_json_match_their_schemas() {
    let t = with_ports();
    let p = t.new_sandbox("a");
    let list = json(&t, &t.repo, &["list", "--json"], 0, "list.json");
    assert_eq!(list["sandboxes"][0]["name"], "a");
    let status = json(&t, &p, &["status", "--json"], 0, "status.json");
    assert_eq!(status["sandbox"]["id"], "repo--a");
    let env = json(&t, &p, &["env", "--json"], 0, "env.json");
    assert_eq!(env["env"]["SANDBOX_NAME"], "a");
    let ports = json(&t, &t.repo, &["ports", "--json"], 0, "ports.json");
    assert_eq!(ports["slots"][0]["ports"][0]["port"], 41000);
}

#[test]
fn rm_dry_run_json_shows_the_plan_and_changes_nothing() {
    let t = with_ports();
    let p = t.new_sandbox("s");
    let before = tree(&p);
    let v = json(
        &t,
        &t.repo,
        &["rm", "s", "--dry-run", "--json"],
        0,
        "rm.json",
    );
    assert_eq!(v["outcome"], "dry-run");
    assert!(v["refusal"].is_null() && v["done"].is_null());
    assert_eq!(v["plan"]["branch"]["name"], "s");
    assert_eq!(v["plan"]["branch"]["delete"], true);
    assert_eq!(v["plan"]["remove_worktree"], true);
    let steps: Vec<&str> = v["plan"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(steps.contains(&"delete branch s"), "{steps:?}");
    // git-sandbox's own files are not in the report.
    assert_eq!(v["report"]["ignored"], serde_json::json!([]));
    assert_eq!(tree(&p), before);
    assert_eq!(t.entries().len(), 1);
}

#[test]
fn refusing_rm_dry_run_json_prints_the_refusal_and_exits_3() {
    let t = TestEnv::new();
    let p = t.new_sandbox("s");
    t.write(&p, "notes.txt", "mine\n");
    t.write(&p, "src/lib.rs", "changed\n");
    let before = tree(&p);
    for args in [
        &["rm", "s", "--dry-run", "--json"][..],
        &["rm", "s", "--yes", "--json"],
    ] {
        let out = t.run(&t.repo, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let v = parse(&out.stdout);
        validate("rm.json", &v);
        assert_eq!(v["outcome"], "refused");
        assert_eq!(v["refusal"]["hard"], false);
        let reasons = v["refusal"]["reasons"].to_string();
        assert!(reasons.contains("1 untracked file(s)"), "{reasons}");
        assert!(reasons.contains("1 unstaged change(s)"), "{reasons}");
        assert_eq!(v["report"]["untracked"], serde_json::json!(["notes.txt"]));
        assert_eq!(v["report"]["unstaged"], serde_json::json!(["src/lib.rs"]));
        assert!(v["done"].is_null());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error: refusing to remove s"), "{err}");
    }
    assert_eq!(tree(&p), before);
    assert_eq!(t.entries().len(), 1);
}

#[test]
fn forced_rm_json_then_restore_json_round_trip() {
    let t = TestEnv::new();
    t.ignore(".env.local\n");
    let p = t.new_sandbox("w");
    t.write(&p, "draft.txt", "draft\n");
    t.write(&p, ".env.local", "SECRET=1\n");
    let v = json(
        &t,
        &t.repo,
        &["rm", "w", "--force", "--yes", "--json"],
        0,
        "rm.json",
    );
    assert_eq!(v["outcome"], "removed");
    assert!(!p.exists());
    let done = &v["done"];
    let trash_ref = done["trash_ref"].as_str().expect("trash_ref");
    assert!(
        trash_ref.starts_with("refs/sandbox/trash/repo--w/"),
        "{trash_ref}"
    );
    t.git(&t.repo, &["rev-parse", "--verify", "-q", trash_ref]);
    let trash_dir = PathBuf::from(done["trash_dir"].as_str().expect("trash_dir"));
    assert!(trash_dir.join("kept/.env.local").is_file());
    assert_eq!(done["kept_files"], 1);
    assert_eq!(done["kept_bytes"], 9);
    assert_eq!(v["plan"]["keep"], serde_json::json!([".env.local"]));
    assert_eq!(v["plan"]["save_snapshot"], true);

    let r = json(&t, &t.repo, &["restore", "w", "--json"], 0, "restore.json");
    let from = &r["restored_from"];
    assert_eq!(from["state_ref"], trash_ref);
    assert_eq!(from["kept_files"], 1);
    assert_eq!(r["sandbox"]["path"], p.to_str().expect("utf8"));
    assert_eq!(
        fs::read_to_string(p.join("draft.txt")).expect("draft"),
        "draft\n"
    );
    assert_eq!(
        fs::read_to_string(p.join(".env.local")).expect("kept"),
        "SECRET=1\n"
    );
    assert!(p.join(".sandbox/context.md").is_file());
}

#[test]
fn rm_keep_worktree_json_says_unregistered() {
    let t = TestEnv::new();
    let p = t.new_sandbox("k");
    let v = json(
        &t,
        &t.repo,
        &["rm", "k", "--keep-worktree", "--yes", "--json"],
        0,
        "rm.json",
    );
    assert_eq!(v["outcome"], "unregistered");
    assert_eq!(v["plan"]["branch"]["delete"], false);
    assert_eq!(v["plan"]["branch"]["reason"], "--keep-worktree");
    assert!(p.is_dir());
    assert!(t.entries().is_empty());
}

#[test]
fn context_md_tells_what_runs_where_and_is_ignored() {
    let t = with_ports();
    let p = t.new_sandbox("ctx");
    let text = fs::read_to_string(p.join(".sandbox/context.md")).expect("context.md");
    for want in [
        "# Sandbox ctx",
        "- branch: `ctx`",
        "- slot: 1",
        "| backend | 41001 | http://localhost:41001 | `SHOP_BACKEND_PORT` |",
        "| workers[0] | 42010 | http://localhost:42010 | `SHOP_WORKERS_PORT_0` |",
        "`.env.sandbox`",
        "`git sandbox exec -- CMD…`",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    // No compose file: no service commands.
    assert!(!text.contains("start the services"), "{text}");
    assert!(text.contains("services: none (no compose file)"), "{text}");
    // Ignored, not absent: plain status is clean, --ignored shows it.
    assert_eq!(t.git(&p, &["status", "--porcelain"]), "");
    let ignored = t.git(
        &p,
        &[
            "status",
            "--porcelain",
            "--ignored",
            "--untracked-files=all",
        ],
    );
    assert!(ignored.contains("!! .sandbox/context.md"), "{ignored}");
    // A clean sandbox still goes without --force, and nothing of it is kept.
    let err = t.fails(&t.repo, &["rm", "ctx", "--yes"], 0);
    assert!(!err.contains("kept"), "{err}");
    assert!(!p.exists());
}

#[test]
fn context_md_lists_service_commands_with_a_compose_file() {
    let t = TestEnv::new();
    t.write(&t.repo, "compose.yaml", "services: {}\n");
    t.git(&t.repo, &["add", "compose.yaml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    let p = t.new_sandbox("svc");
    let text = fs::read_to_string(p.join(".sandbox/context.md")).expect("context.md");
    for cmd in [
        "git sandbox up",
        "git sandbox down",
        "git sandbox logs -f",
        "git sandbox ps",
    ] {
        assert!(
            text.contains(&format!("`{cmd}`")),
            "{cmd} missing from:\n{text}"
        );
    }
    assert!(text.contains("No ports are configured"), "{text}");
}

#[test]
fn context_md_never_replaces_a_file_git_sandbox_did_not_write() {
    let t = TestEnv::new();
    t.write(&t.repo, ".sandbox/context.md", "the project's own notes\n");
    t.git(&t.repo, &["add", ".sandbox/context.md"]);
    t.git(&t.repo, &["commit", "-q", "-m", "notes"]);
    let out = t.run(&t.repo, &["new", "own", "--json"]);
    assert!(out.status.success());
    let v = parse(&out.stdout);
    validate("new.json", &v);
    assert!(v["sandbox"]["context_file"].is_null());
    assert!(v["warnings"].to_string().contains("context.md"), "{v}");
    let p = t.sandbox_path("own");
    assert_eq!(
        fs::read_to_string(p.join(".sandbox/context.md")).expect("read"),
        "the project's own notes\n"
    );
    assert_eq!(t.git(&p, &["status", "--porcelain"]), "");
}

#[test]
fn a_project_ignoring_dot_sandbox_whole_still_loses_nothing_to_it() {
    let t = TestEnv::new();
    t.ignore(".sandbox/\n");
    let p = t.new_sandbox("ig");
    assert!(p.join(".sandbox/context.md").is_file());
    let v = json(
        &t,
        &t.repo,
        &["rm", "ig", "--dry-run", "--json"],
        0,
        "rm.json",
    );
    assert_eq!(v["report"]["ignored"], serde_json::json!([]));
    // A file of the user's own there is theirs: kept.
    t.write(&p, ".sandbox/mine.txt", "mine\n");
    let v = json(&t, &t.repo, &["rm", "ig", "--yes", "--json"], 0, "rm.json");
    assert_eq!(v["plan"]["keep"], serde_json::json!([".sandbox"]));
    let kept = PathBuf::from(v["done"]["trash_dir"].as_str().expect("trash_dir"));
    assert!(kept.join("kept/.sandbox/mine.txt").is_file());
    // Restored on another slot: the page comes back rewritten for it, the user's file too.
    t.new_sandbox("other");
    let r = json(&t, &t.repo, &["restore", "ig", "--json"], 0, "restore.json");
    assert_eq!(r["sandbox"]["slot"], 2);
    let text = fs::read_to_string(p.join(".sandbox/context.md")).expect("page");
    assert!(text.contains("- slot: 2"), "{text}");
    assert_eq!(
        fs::read_to_string(p.join(".sandbox/mine.txt")).expect("mine"),
        "mine\n"
    );
}

#[test]
fn local_prod_has_its_page_and_rm_json() {
    let t = with_ports();
    let out = t.ok(&t.repo, &["local-prod", "new"]);
    let p = PathBuf::from(out.trim());
    let text = fs::read_to_string(p.join(".sandbox/context.md")).expect("page");
    assert!(text.contains("# local-prod (repo--local-prod)"), "{text}");
    assert!(text.contains("| backend | 41000 |"), "{text}");
    assert!(text.contains("`git sandbox local-prod status`"), "{text}");
    let v = json(
        &t,
        &t.repo,
        &["local-prod", "rm", "--dry-run", "--json"],
        0,
        "rm.json",
    );
    assert_eq!(v["kind"], "local-prod");
    assert_eq!(v["plan"]["free_slot"], 0);
}

#[test]
fn a_late_refusal_prints_its_json_and_exits_3() {
    let t = TestEnv::new();
    let p = t.new_sandbox("late");
    let flag = t.root.join("paused");
    let child = t
        .cmd(&t.repo)
        .args(["rm", "late", "--yes", "--json"])
        .env("GIT_SANDBOX_PAUSE", "rm:confirmed:1500")
        .env("GIT_SANDBOX_PAUSED", &flag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    while !flag.exists() {
        assert!(start.elapsed().as_secs() < 20, "never paused");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    t.write(&p, "late.txt", "written while rm ran\n");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(3));
    let v = parse(&out.stdout);
    validate("rm.json", &v);
    assert_eq!(v["outcome"], "refused");
    let reasons = v["refusal"]["reasons"].to_string();
    assert!(reasons.contains("changed after the check"), "{reasons}");
    assert!(reasons.contains("late.txt"), "{reasons}");
    assert!(p.join("late.txt").is_file());
}
