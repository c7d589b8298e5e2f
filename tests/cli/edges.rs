//! The edges of input and output: a reader that goes away, a full disk, a typo near hidden
//! commands, a repository in a format not read yet.

use std::path::PathBuf;

use crate::common::TestEnv;

/// A reader that goes away (`rm --dry-run --json | true`) stops the output, never the
/// command: it ends as it would have (its exit code, its index lock released), and git can
/// commit in the sandbox after it.
#[test]
fn a_closed_pipe_stops_the_output_not_the_command() {
    let t = TestEnv::new();
    let p = t.new_sandbox("piped");
    t.commit_file(&p, "u.txt", "u\n", "u");
    let admin = PathBuf::from(t.git(&p, &["rev-parse", "--absolute-git-dir"]).trim());
    for round in 0..5 {
        let mut child = t
            .cmd(&t.repo)
            .args(["rm", "piped", "--dry-run", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // The read end closed before the command writes a byte.
        drop(child.stdout.take());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(3), "round {round}: refused, as unpiped");
        assert!(
            !admin.join("index.lock").exists(),
            "round {round}: the index lock was left behind"
        );
    }
    t.commit_file(&p, "v.txt", "v\n", "v");
}

/// Output that cannot be written for another reason (a full disk) is an error.
#[test]
fn output_to_a_full_device_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return crate::common::skip("output_to_a_full_device_is_an_error", "/dev/full");
    };
    let t = TestEnv::new();
    t.new_sandbox("full");
    let out = t
        .cmd(&t.repo)
        .arg("list")
        .stdout(full)
        .output()
        .expect("list");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the output"), "{err}");
}

/// clap's tip for a mistyped command names no hidden one; with only hidden ones similar, no
/// empty tip either.
#[test]
fn a_typo_near_only_hidden_commands_gets_no_empty_tip() {
    let t = TestEnv::new();
    let err = t.fails(&t.repo, &["__"], 2);
    assert!(err.contains("unrecognized subcommand"), "{err}");
    assert!(!err.contains("tip:"), "{err}");
    let err = t.fails(&t.repo, &["rmm"], 2);
    assert!(err.contains("tip:") && err.contains("'rm'"), "{err}");
}

/// A repository libgit2 cannot read yet (reftable refs, SHA-256 objects) is named as such,
/// never "not inside a git repository"; and nothing is made in it.
#[test]
fn a_repository_in_a_format_not_read_yet_is_named_not_denied() {
    let t = TestEnv::new();
    for (name, flag) in [
        ("rt", "--ref-format=reftable"),
        ("sha", "--object-format=sha256"),
    ] {
        let dir = t.root.join(name);
        let made = t
            .git_cmd(&t.root)
            .args(["init", "-q", flag])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            crate::common::skip("a_repository_in_a_format_not_read_yet", flag);
            continue;
        }
        t.commit_file(&dir, "a.txt", "a\n", "a");
        let err = t.fails(&dir, &["new", "x"], 1);
        assert!(err.contains("cannot read yet"), "{flag}: {err}");
        assert!(
            !err.contains("not inside a git repository"),
            "{flag}: {err}"
        );
        let siblings: Vec<_> = std::fs::read_dir(&t.root)
            .expect("root")
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}--"))
            })
            .collect();
        assert!(siblings.is_empty(), "{flag}: nothing made");
    }
}
