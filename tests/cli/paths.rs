//! Repo directories whose names hold a space, quotes or non-ASCII letters: `new`, `list`, `rm`
//! (clean and forced), `restore`, the git hooks under a real `git checkout`/`git push`, and
//! `shell-init`'s `cd`.

use std::fs;
use std::path::PathBuf;

use crate::common::{BIN, TestEnv};

const NAMES: &[&str] = &["my repo", "it's \"q\"", "dépôt-ü"];

/// A repo named `name` with `git-sandbox` on PATH and the hooks installed.
fn hooked(name: &str) -> TestEnv {
    let mut t = TestEnv::named(name);
    let bin = t.root.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BIN, bin.join("git-sandbox")).expect("link");
    t.path_prefix = vec![bin];
    t.ok(&t.repo, &["hooks", "install"]);
    t
}

/// The registry entry with `name`.
fn entry(t: &TestEnv, name: &str) -> serde_json::Value {
    let reg = t.registry();
    reg["instances"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no entry {name} in {reg}"))
}

fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `new` makes the sandbox beside the repo under the repo's own name, with a plain id that
/// is git's admin name and a valid compose project name; `list` shows it.
fn new_and_list(t: &TestEnv, label: &str) -> PathBuf {
    let s = t.new_sandbox("feat");
    assert_eq!(s, t.sandbox_path("feat"), "{label}");
    assert!(s.join("README.md").is_file(), "{label}");
    let id = entry(t, "feat")["id"].as_str().expect("id").to_string();
    assert!(plain(&id), "{label}: id {id:?} is not plain");
    assert_eq!(t.admin_entries(), vec![id.clone()], "{label}");
    let env = fs::read_to_string(s.join(".env.sandbox")).expect("env file");
    let project = env
        .lines()
        .find_map(|l| l.strip_prefix("COMPOSE_PROJECT_NAME="))
        .expect("project");
    assert!(
        project.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && project
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
        "{label}: compose project {project:?}"
    );
    let list = t.ok(&t.repo, &["list"]);
    assert!(list.contains("feat"), "{label}: {list}");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&s, &["list", "--json"])).expect("list --json");
    assert!(json.to_string().contains(&id), "{label}: {json}");
    assert_eq!(
        t.ok(&t.repo, &["path", "feat"]).trim(),
        s.to_str().expect("utf8")
    );
    s
}

/// A real `git checkout` in the sandbox runs the post-checkout shim, which warns about a
/// branch with work of its own that was never pushed; a real `git push` runs the pre-push
/// shim, which records the push.
fn hooks_run(t: &TestEnv, s: &std::path::Path, label: &str) {
    t.git(s, &["checkout", "-q", "-b", "feat2"]);
    t.commit_file(s, "feat2.txt", "x", "x");
    t.git(s, &["checkout", "-q", "feat"]);
    let out = t
        .git_cmd(s)
        .args(["checkout", "feat2"])
        .output()
        .expect("checkout");
    assert!(out.status.success(), "{label}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("never been pushed"), "{label}: {err}");
    // A checkout records nothing: the registered branch stays the one the tool made.
    assert_eq!(entry(t, "feat")["branch"], "feat", "{label}");
    t.git(s, &["push", "-q", "-u", "origin", "feat2"]);
    assert_eq!(
        entry(t, "feat")["pushed"]["remote_ref"],
        "refs/heads/feat2",
        "{label}"
    );
}

#[test]
fn repos_with_spaces_quotes_and_accents_get_working_sandboxes() {
    for name in NAMES {
        let t = hooked(name);
        let s = new_and_list(&t, name);
        hooks_run(&t, &s, name);
        // A clean, pushed sandbox goes without --force.
        t.ok(&t.repo, &["rm", "feat", "--yes"]);
        assert!(!s.exists(), "{name}");
        assert!(t.admin_entries().is_empty(), "{name}");
        assert!(t.entries().is_empty(), "{name}");
        assert_eq!(t.siblings(), vec![name.to_string()], "{name}");
    }
}

#[test]
fn dirty_sandboxes_in_such_repos_are_saved_and_restored() {
    for name in NAMES {
        let t = hooked(name);
        let s = t.new_sandbox("wip");
        t.commit_file(&s, "done.txt", "committed\n", "unpushed");
        t.write(&s, "README.md", "changed\n");
        t.write(&s, "new file é.txt", "untracked\n");
        let err = t.fails(&t.repo, &["rm", "wip", "--yes"], 3);
        assert!(err.contains("untracked"), "{name}: {err}");
        t.ok(&t.repo, &["rm", "wip", "--yes", "--force"]);
        assert!(!s.exists(), "{name}");
        assert!(t.admin_entries().is_empty(), "{name}");
        let back = PathBuf::from(t.ok(&t.repo, &["restore", "wip"]).trim());
        assert_eq!(back, s, "{name}");
        assert_eq!(
            fs::read_to_string(s.join("README.md")).expect("readme"),
            "changed\n"
        );
        assert_eq!(
            fs::read_to_string(s.join("new file é.txt")).expect("untracked"),
            "untracked\n"
        );
        assert_eq!(
            fs::read_to_string(s.join("done.txt")).expect("done"),
            "committed\n"
        );
        let id = entry(&t, "wip")["id"].as_str().expect("id").to_string();
        assert_eq!(t.admin_entries(), vec![id], "{name}");
    }
}

#[test]
fn shell_init_cds_into_sandboxes_of_such_repos() {
    for name in NAMES {
        let t = hooked(name);
        let script =
            "eval \"$(git-sandbox shell-init bash)\"\nsb new 'x y' >/dev/null && pwd && sb && pwd";
        let out = t
            .program("bash", &t.repo)
            .arg("-c")
            .arg(script)
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            vec![
                t.sandbox_path("x-y").to_str().expect("utf8"),
                t.repo.to_str().expect("utf8")
            ],
            "{name}"
        );
    }
}

#[test]
fn two_repos_whose_directories_share_a_name_each_get_sandbox_x() {
    let t = TestEnv::new();
    // A second repo, also called `repo`, elsewhere, sharing the registry.
    let other_parent = t.root.join("elsewhere");
    fs::create_dir_all(&other_parent).expect("dir");
    t.git(&other_parent, &["init", "-q", "repo"]);
    let other = other_parent.join("repo");
    t.write(&other, "f.txt", "other\n");
    t.git(&other, &["add", "."]);
    t.git(&other, &["commit", "-q", "-m", "other"]);
    let a = t.new_sandbox("x");
    let b = PathBuf::from(t.ok(&other, &["new", "x"]).trim());
    assert_ne!(a, b);
    t.ok(&t.repo, &["local-prod", "new"]);
    t.ok(&other, &["local-prod", "new"]);
    let all: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--all", "--json"])).expect("json");
    let ids: Vec<&str> = all["sandboxes"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "ids are unique per user: {ids:?}");
    // Removing one repo's x leaves the other's alone.
    t.ok(&other, &["rm", "x", "--yes"]);
    assert!(a.is_dir() && !b.exists());
    assert_eq!(
        t.ok(&t.repo, &["path", "x"]).trim(),
        a.to_str().expect("utf8")
    );
}
