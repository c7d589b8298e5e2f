//! Snapshots of user-facing output, with paths normalised, so that a change in wording is a
//! reviewed diff (`cargo insta review`, or `INSTA_UPDATE=always cargo test` then read the diff).

use crate::common::TestEnv;

/// Replaces the temp root with `[ROOT]` and dates with `[DATE]`.
fn normalise(t: &TestEnv, s: &str) -> String {
    let mut out = s.replace(t.root.to_str().expect("utf8"), "[ROOT]");
    // RFC 3339 times and trash-ref stamps.
    let mut cleaned = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("20") {
        let cand = &rest[i..];
        let stamp_len = cand
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z'))
            .count();
        if stamp_len >= 15 {
            cleaned.push_str(&rest[..i]);
            cleaned.push_str("[DATE]");
            rest = &cand[stamp_len..];
        } else {
            cleaned.push_str(&rest[..i + 2]);
            rest = &rest[i + 2..];
        }
    }
    cleaned.push_str(rest);
    out = cleaned;
    out
}

#[test]
fn rm_refusal_report() {
    let t = TestEnv::new();
    let p = t.new_sandbox("feature");
    t.write(&p, "README.md", "edited\n");
    t.write(&p, "notes.txt", "mine\n");
    t.commit_file(&p, "w.txt", "w\n", "work");
    let err = t.fails(&t.repo, &["rm", "feature", "--yes"], 3);
    insta::assert_snapshot!(normalise(&t, &err));
}

#[test]
fn rm_dry_run_plan() {
    let t = TestEnv::new();
    let p = t.new_sandbox("feature");
    // Ignored files are deleted by a removal without being saved: the plan says so.
    let exclude = t.repo.join(".git/info/exclude");
    let mut text = std::fs::read_to_string(&exclude).expect("exclude");
    text.push_str("build/\n");
    std::fs::write(&exclude, text).expect("exclude");
    t.write(&p, "build/out.bin", &"x".repeat(1000));
    t.write(&p, "build/deep/more.bin", &"y".repeat(3000));
    let out = t.run(&t.repo, &["rm", "feature", "--dry-run"]);
    insta::assert_snapshot!(normalise(&t, &String::from_utf8_lossy(&out.stderr)));
}

#[test]
fn list_table() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\nweb = 17700\nworkers = { base = 17800, count = 2, stride = 10 }\n",
    );
    let a = t.new_sandbox("alpha");
    t.new_sandbox("beta");
    t.write(&a, "x.txt", "x\n");
    insta::assert_snapshot!(normalise(&t, &t.ok(&t.repo, &["list"])));
}

#[test]
fn bad_name_error() {
    let t = TestEnv::new();
    let err = t.fails(&t.repo, &["new", "a/"], 2);
    insta::assert_snapshot!(normalise(&t, &err));
}

#[test]
fn port_collision_error() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "max_slots = 10\n[ports]\nbackend = 8000\nadmin = 8005\n",
    );
    let err = t.fails(&t.repo, &["ports"], 1);
    insta::assert_snapshot!(normalise(&t, &err));
}
