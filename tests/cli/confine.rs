//! `path` is confined whatever the trust: a committed config can never make `new` check the
//! repository out into a home dot-directory, a git directory, another repository's tree, the
//! repository itself or an existing directory. Each refusal names the place and why, exits 1
//! and creates nothing.

use std::fs;

use crate::common::TestEnv;

fn commit_config(t: &TestEnv, text: &str) {
    t.write(&t.repo, ".sandbox.toml", text);
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
}

/// What `new` could have made: directories beside the repo and under HOME, branches, entries.
fn made(t: &TestEnv) -> (Vec<String>, Vec<String>, usize, Vec<std::path::PathBuf>) {
    let mut home: Vec<_> = walkdir(&t.home);
    home.sort();
    (t.siblings(), t.branches(), t.entries().len(), home)
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walkdir(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn a_path_without_its_own_directory_is_a_config_error() {
    let t = TestEnv::new();
    commit_config(&t, "path = \"../../home/.config/git\"\n");
    let before = made(&t);
    let err = t.fails(&t.repo, &["new", "x"], 1);
    assert!(err.contains("{name} or {id}"), "{err}");
    assert_eq!(made(&t), before);
    assert!(!t.home.join(".config/git").exists());
}

#[test]
fn paths_outside_where_sandboxes_go_are_refused_and_nothing_is_made() {
    let t = TestEnv::new();
    let home = t.home.display().to_string();
    fs::create_dir_all(t.home.join(".ssh")).expect("ssh");
    fs::create_dir_all(t.home.join(".config")).expect("config");
    // Another repository beside ours, and a link that leads into ~/.ssh.
    let other = t.root.join("work/other");
    t.git(&t.root.join("work"), &["init", "-q", "other"]);
    std::os::unix::fs::symlink(t.home.join(".ssh"), t.root.join("work/keys")).expect("link");
    // A non-empty directory where the sandbox would go.
    t.write(&t.root.join("work/repo--x"), "mine.txt", "the user's\n");
    let cases: Vec<(String, &str)> = vec![
        (
            "../../home/.config/{name}".into(),
            "dot-directory of your home",
        ),
        (
            format!("{home}/.ssh/{{name}}"),
            "dot-directory of your home",
        ),
        (
            format!("{home}/.new-dot-{{name}}"),
            "dot-directory of your home",
        ),
        ("../keys/{name}".into(), "dot-directory of your home"),
        ("../other/src/{name}".into(), "another repository"),
        ("../other/.git/{name}".into(), "git directory"),
        ("../../remote.git/{name}".into(), "git directory"),
        ("sub/{name}".into(), "inside the repository"),
        ("../{repo}--{name}".into(), "already exists"),
    ];
    for (path, why) in cases {
        commit_config(&t, &format!("path = {path:?}\n"));
        t.ok(&t.repo, &["trust"]);
        let before = made(&t);
        let remote_refs = t.git(&t.remote, &["for-each-ref"]);
        let err = t.fails(&t.repo, &["new", "x", "--yes"], 1);
        assert!(
            err.contains("refusing to make a sandbox at"),
            "{path}: {err}"
        );
        assert!(err.contains(why), "{path}: {err}");
        assert_eq!(made(&t), before, "{path}");
        assert_eq!(t.git(&t.remote, &["for-each-ref"]), remote_refs, "{path}");
        assert!(!other.join("src").exists() && !other.join(".git/x").exists());
    }
    assert_eq!(
        fs::read_to_string(t.root.join("work/repo--x/mine.txt")).expect("kept"),
        "the user's\n"
    );
}

#[test]
fn mv_and_local_prod_are_confined_too() {
    let t = TestEnv::new();
    let a = t.new_sandbox("a");
    fs::create_dir_all(t.home.join(".config")).expect("config");
    commit_config(
        &t,
        "path = \"../../home/.config/{name}\"\n[local_prod]\npath = \"../../home/.config/git\"\n",
    );
    t.ok(&t.repo, &["trust"]);
    let err = t.fails(&t.repo, &["mv", "a", "b"], 1);
    assert!(err.contains("dot-directory of your home"), "{err}");
    assert!(a.is_dir() && !t.home.join(".config/b").exists());
    let err = t.fails(&t.repo, &["local-prod", "new"], 1);
    assert!(err.contains("dot-directory of your home"), "{err}");
    assert!(!t.home.join(".config/git").exists());
}
