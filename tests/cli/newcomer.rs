//! A newcomer's day (issue 22): each message says what is true and one next step, and the
//! tests follow that step to prove it works.

use std::fs;
use std::path::PathBuf;

use crate::common::TestEnv;

#[test]
fn a_detached_head_is_shown_as_detached_in_status_list_and_json() {
    let t = TestEnv::new();
    let s = t.new_sandbox("child");
    t.git(&s, &["checkout", "-q", "--detach"]);
    let head = t.git(&s, &["rev-parse", "HEAD"]).trim().to_string();
    let short = &head[..7];
    let status = t.ok(&t.repo, &["status", "child"]);
    assert!(
        status.contains(&format!("branch:   HEAD detached at {short}")),
        "{status}"
    );
    let list = t.ok(&t.repo, &["list"]);
    assert!(
        list.contains(&format!("HEAD detached at {short}")),
        "{list}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["status", "child", "--json"])).expect("json");
    assert_eq!(json["sandbox"]["branch"], serde_json::Value::Null, "{json}");
    assert_eq!(json["sandbox"]["detached_at"], head.as_str(), "{json}");
    // Back on its branch: the branch again, nothing detached.
    t.git(&s, &["checkout", "-q", "child"]);
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("json");
    assert_eq!(json["sandboxes"][0]["branch"], "child", "{json}");
    assert_eq!(json["sandboxes"][0]["detached_at"], serde_json::Value::Null);
}

#[test]
fn pr_whose_branch_is_checked_out_points_at_that_worktree_not_at_branch() {
    let t = TestEnv::new();
    let work = t.root.join("contrib");
    let remote = t.remote.to_str().expect("utf8");
    t.git(
        &t.root,
        &["clone", "-q", remote, work.to_str().expect("utf8")],
    );
    t.commit_file(&work, "pr.txt", "pr\n", "a request");
    t.git(&work, &["push", "-q", "origin", "HEAD:refs/pull/42/head"]);
    let first = PathBuf::from(t.ok(&t.repo, &["new", "--pr", "42"]).trim());
    let err = t.fails(&t.repo, &["new", "review", "--pr", "42"], 1);
    assert!(
        err.contains("branch pr-42 is already checked out at"),
        "{err}"
    );
    assert!(
        err.contains(&format!("cd \"{}\"", first.display())),
        "the hint names the worktree that has it: {err}"
    );
    assert!(
        !err.contains("--branch"),
        "--branch cannot go with --pr: {err}"
    );
}

#[test]
fn restore_onto_a_taken_path_says_how_to_free_it_and_that_works() {
    let t = TestEnv::new();
    t.new_sandbox("x");
    t.ok(&t.repo, &["rm", "x", "--yes", "--force"]);
    t.new_sandbox("x");
    let err = t.fails(&t.repo, &["restore", "x"], 1);
    assert!(!err.contains("pick another name"), "{err}");
    assert!(err.contains("git sandbox mv x OTHER-NAME"), "{err}");
    // The next step it gives, then restore again.
    t.ok(&t.repo, &["mv", "x", "other"]);
    let err = t.fails(&t.repo, &["restore", "x"], 1);
    let other = t.sandbox_path("other");
    let step = format!("git -C \"{}\" switch -c OTHER-BRANCH", other.display());
    assert!(err.contains(&step), "{err}");
    assert!(!err.contains("--branch"), "restore has no --branch: {err}");
    t.git(&other, &["switch", "-q", "-c", "other"]);
    let back = PathBuf::from(t.ok(&t.repo, &["restore", "x"]).trim());
    assert_eq!(back, t.sandbox_path("x"));
}

#[test]
fn context_page_names_the_compose_project_the_env_file_sets() {
    let t = TestEnv::named("Web-App");
    let s = t.new_sandbox("t");
    let env = fs::read_to_string(s.join(".env.sandbox")).expect("env file");
    let project = env
        .lines()
        .find_map(|l| l.strip_prefix("COMPOSE_PROJECT_NAME="))
        .expect("COMPOSE_PROJECT_NAME");
    assert_eq!(project, "web-app--t");
    let page = fs::read_to_string(s.join(".sandbox/context.md")).expect("context.md");
    assert!(
        page.contains(&format!("compose project: `{project}`")),
        "{page}"
    );
    assert!(!page.contains("(also the compose project)"), "{page}");
}

#[test]
fn man_page_says_every_rm_saves_to_the_trash() {
    let t = TestEnv::new();
    let man = t.ok(&t.repo, &["__man"]);
    assert!(!man.contains("Work saved by a forced"), "{man}");
    assert!(man.contains("The work of every removed sandbox"), "{man}");
}

#[test]
fn missing_directory_in_list_says_prune_and_prune_clears_it() {
    let t = TestEnv::new();
    let gone = t.new_sandbox("gone");
    t.new_sandbox("kept");
    fs::remove_dir_all(&gone).expect("rm -r");
    let out = t.run(&t.repo, &["list"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("MISSING DIRECTORY"), "{stdout}");
    assert!(
        stderr.contains("MISSING DIRECTORY: the directory of gone is gone; `git sandbox prune`"),
        "{stderr}"
    );
    let status = t.ok(&t.repo, &["status", "gone"]);
    assert!(status.contains("`git sandbox prune` drops it"), "{status}");
    t.ok(&t.repo, &["prune"]);
    let out = t.run(&t.repo, &["list"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !stdout.contains("gone") && stdout.contains("kept"),
        "{stdout}"
    );
    assert!(!stderr.contains("MISSING"), "{stderr}");
}

#[test]
fn a_mistyped_command_never_suggests_a_hidden_one() {
    let t = TestEnv::new();
    for typo in ["complet", "__complet", "__ma", "hoo"] {
        let err = t.fails(&t.repo, &[typo], 2);
        assert!(err.contains("unrecognized subcommand"), "{err}");
        for hidden in ["'__complete'", "'__man'", "'hook'", "'__schema'"] {
            assert!(!err.contains(hidden), "{typo}: {err}");
        }
    }
    let err = t.fails(&t.repo, &["complet"], 2);
    assert!(err.contains("'completions'"), "{err}");
}

#[test]
fn a_repo_with_no_commit_says_to_make_one_and_then_new_works() {
    let t = TestEnv::new();
    let fresh = t.root.join("work/fresh");
    t.git(&t.root, &["init", "-q", fresh.to_str().expect("utf8")]);
    let err = t.fails(&fresh, &["new", "x"], 1);
    assert!(err.contains("has no commit yet"), "{err}");
    assert!(!err.contains("--from"), "{err}");
    assert!(err.contains("git commit --allow-empty -m"), "{err}");
    t.git(
        &fresh,
        &["commit", "-q", "--allow-empty", "-m", "first commit"],
    );
    let made = PathBuf::from(t.ok(&fresh, &["new", "x"]).trim());
    assert!(made.join(".git").exists(), "{}", made.display());
}

#[test]
fn a_bare_repo_says_to_clone_it_and_the_clone_works() {
    let t = TestEnv::new();
    let bare = t.root.join("work/shared.git");
    t.git(
        &t.root,
        &["init", "-q", "--bare", bare.to_str().expect("utf8")],
    );
    let err = t.fails(&bare, &["new", "x"], 1);
    assert!(err.contains("is a bare repository"), "{err}");
    assert!(err.contains("hint: run git sandbox in a clone"), "{err}");
    assert!(err.contains("git clone"), "{err}");
    let clone = t.root.join("work/shared");
    let bare_dir = fs::canonicalize(&bare).expect("canonical");
    t.git(
        &t.root,
        &[
            "clone",
            "-q",
            bare_dir.to_str().expect("utf8"),
            clone.to_str().expect("utf8"),
        ],
    );
    t.git(
        &clone,
        &["commit", "-q", "--allow-empty", "-m", "first commit"],
    );
    t.ok(&clone, &["new", "x"]);
}

#[test]
fn copy_reports_small_sizes_in_bytes() {
    let t = TestEnv::new();
    t.write(&t.repo, ".gitignore", "small.txt\n");
    t.write(&t.repo, ".sandbox.toml", "copy = [\"small.txt\"]\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "copy"]);
    t.write(&t.repo, "small.txt", &"x".repeat(35));
    t.ok(&t.repo, &["trust"]);
    let out = t.run(&t.repo, &["new", "a"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("copied 1 file(s), 35 B"), "{err}");
    assert!(!err.contains("MiB"), "{err}");
}

#[test]
fn list_on_a_narrow_terminal_folds_push_state_and_never_cuts_it() {
    let t = TestEnv::new();
    for name in ["login-page", "fix-typo-in-readme"] {
        let s = t.new_sandbox(name);
        t.commit_file(&s, "w.txt", "w\n", "work");
        t.write(&s, "new.txt", "n\n");
    }
    for columns in ["80", "60"] {
        let out = t
            .cmd(&t.repo)
            .args(["list"])
            .env("COLUMNS", columns)
            .output()
            .expect("list");
        let text = String::from_utf8_lossy(&out.stdout);
        let limit: usize = columns.parse().expect("n");
        for l in text.lines() {
            assert!(l.chars().count() <= limit, "{columns}: {l:?}\n{text}");
        }
        assert!(text.contains("never pushed,"), "{columns}: {text}");
        assert!(text.contains("1 unpushed"), "{columns}: {text}");
        assert!(!text.contains("pus…") && !text.contains("unp…"), "{text}");
        assert!(text.contains("login-page"), "{columns}: {text}");
    }
}

/// `compose` without `--`: the first word is the sandbox only when one has that name; else it
/// is compose's command, run for the current directory's sandbox, which is named.
#[test]
fn compose_takes_its_command_without_dashes_and_names_the_sandbox_it_used() {
    let compose_runs = std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !compose_runs {
        crate::common::skip("newcomer::compose_*", "docker-compose is not installed");
        return;
    }
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "compose.yml",
        "services:\n  web:\n    image: git-sandbox-test-httpd:1\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    let s = t.new_sandbox("s");
    t.new_sandbox("other");
    let run = |dir: &std::path::Path, args: &[&str]| {
        let out = t.run(dir, args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {err}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), err)
    };
    let (out, err) = run(&s, &["compose", "config", "--services"]);
    assert_eq!(out.trim(), "web", "{err}");
    assert!(err.contains("sandbox s (the current directory's)"), "{err}");
    // From a subdirectory too, and with its old spellings.
    let sub = s.join("src");
    let (out, _) = run(&sub, &["compose", "--", "config", "--services"]);
    assert_eq!(out.trim(), "web");
    // A sandbox's name first: that sandbox (named by the user, so not announced).
    let (out, err) = run(&s, &["compose", "other", "config", "--services"]);
    assert_eq!(out.trim(), "web");
    assert!(!err.contains("current directory"), "{err}");
    let (out, _) = run(&t.repo, &["compose", "other", "--", "config", "--services"]);
    assert_eq!(out.trim(), "web");
    // Nothing for compose: a usage error that says what to write.
    let err = t.fails(&t.repo, &["compose", "other"], 2);
    assert!(err.contains("no compose command given"), "{err}");
    // A sandbox named like a compose command: without `--` the word is compose's (and said),
    // `-- WORD` is always compose's, `WORD -- ARGS` is the sandbox.
    t.new_sandbox("config");
    let (out, err) = run(&s, &["compose", "config", "--services"]);
    assert_eq!(out.trim(), "web", "{err}");
    assert!(err.contains("taken as compose's command"), "{err}");
    assert!(err.contains("sandbox s (the current directory's)"), "{err}");
    let (out, err) = run(&s, &["compose", "--", "config", "--services"]);
    assert_eq!(out.trim(), "web", "{err}");
    assert!(err.contains("sandbox s (the current directory's)"), "{err}");
    let (out, err) = run(&s, &["compose", "--", "config"]);
    assert!(out.contains("web"), "{err}");
    assert!(err.contains("sandbox s (the current directory's)"), "{err}");
    let (out, err) = run(&s, &["compose", "config", "--", "config", "--services"]);
    assert_eq!(out.trim(), "web", "{err}");
    assert!(!err.contains("current directory"), "{err}");
    // `ps` on the engine, when there is one.
    if crate::services::docker_ready() {
        let (_, err) = run(&s, &["compose", "ps"]);
        assert!(err.contains("sandbox s (the current directory's)"), "{err}");
    }
}

#[test]
fn exec_runs_in_the_same_subdirectory_as_the_current_one() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    // From the main checkout's src/: the sandbox's src/.
    let out = t.ok(&t.repo.join("src"), &["exec", "s", "--", "pwd"]);
    assert_eq!(PathBuf::from(out.trim()), s.join("src"));
    // From inside the sandbox's own src/, no name.
    let out = t.ok(&s.join("src"), &["exec", "--", "pwd"]);
    assert_eq!(PathBuf::from(out.trim()), s.join("src"));
    // A directory the sandbox lacks: its root, and said.
    fs::create_dir_all(t.repo.join("only-here")).expect("mkdir");
    let o = t.run(&t.repo.join("only-here"), &["exec", "s", "--", "pwd"]);
    assert!(o.status.success());
    assert_eq!(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()), s);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("s has no only-here: running in its root"),
        "{err}"
    );
    // From the repo's root: the sandbox's root.
    let out = t.ok(&t.repo, &["exec", "s", "--", "pwd"]);
    assert_eq!(PathBuf::from(out.trim()), s);
}

/// `git sandbox rm | tail` from inside the sandbox: `tail` is the user's own pipeline, not a
/// process working in it; a process of its own (here `sleep`, started before) still refuses,
/// with the hint about processes only. Repeated: the pipeline's processes start in any order.
#[test]
fn rm_ignores_its_own_pipeline_and_says_so() {
    let t = TestEnv::new();
    for round in 0..3 {
        let name = format!("p{round}");
        let s = t.new_sandbox(&name);
        let bin = crate::common::BIN;
        let out = t
            .program("sh", &s)
            .args(["-c", &format!("{bin} rm --yes 2>&1 | cat")])
            .output()
            .expect("sh");
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(!shown.contains("refusing"), "{round}: {shown}");
        assert!(
            shown.contains("part of this command's own pipeline"),
            "{round}: {shown}"
        );
        assert!(!s.exists(), "{round}: removed: {shown}");
    }
    // A process that is not of the pipeline still counts, and the hint is about it alone.
    let s = t.new_sandbox("busy");
    let mut sleeper = t.program("sleep", &s).arg("60").spawn().expect("sleep");
    let out = t
        .program("sh", &s)
        .args(["-c", &format!("{} rm --yes 2>&1 | cat", crate::common::BIN)])
        .output()
        .expect("sh");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("refusing to remove busy"), "{shown}");
    assert!(shown.contains("sleep (pid"), "{shown}");
    assert!(!shown.contains("commit or stash"), "{shown}");
    assert!(shown.contains("--kill"), "{shown}");
    assert!(s.exists());
}

/// A pipeline mate that holds a file open in the sandbox (`writer | git sandbox rm`) may be
/// writing: it still counts, and the sandbox and the file stay.
#[test]
fn a_pipeline_mate_with_a_file_open_inside_still_refuses() {
    let t = TestEnv::new();
    let s = t.new_sandbox("w");
    let bin = crate::common::BIN;
    // The writer holds `log` open for the whole pipeline, as `tee`, a build or an editor would.
    let script = format!(
        "exec 3>>log; echo one >&3; {{ sleep 1; echo two >&3; }} | {bin} rm --yes 2>&1; echo three >&3"
    );
    let out = t
        .program("sh", &s)
        .args(["-c", &script])
        .output()
        .expect("sh");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("refusing to remove w"), "{shown}");
    assert!(s.exists(), "{shown}");
    let log = fs::read_to_string(s.join("log")).expect("log kept");
    assert_eq!(log, "one\ntwo\nthree\n", "{shown}");
}

/// A job started with `&` that shares rm's end of the pipe (`{ job & rm; } | head`) is not a
/// stage of the pipeline but work going on inside: it counts, and its write lands.
#[test]
fn a_background_job_sharing_rms_pipe_still_counts() {
    let t = TestEnv::new();
    let s = t.new_sandbox("bg");
    let bin = crate::common::BIN;
    let script =
        format!("{{ sh -c 'sleep 2; echo late > late.txt' & {bin} rm --yes; }} 2>&1 | cat; wait");
    let out = t
        .program("sh", &s)
        .args(["-c", &script])
        .output()
        .expect("sh");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("refusing to remove bg"), "{shown}");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        fs::read_to_string(s.join("late.txt")).expect("the job's write landed"),
        "late\n",
        "{shown}"
    );
}

/// `rm --kill --force 2>&1 | tee log` inside the sandbox: `tee` is the command's own pipeline
/// and writes in the sandbox; it is never killed, the removal is refused (even forced), and
/// every line of the refusal reaches the log.
#[test]
fn kill_never_stops_its_own_pipeline_and_a_stage_writing_inside_refuses() {
    let t = TestEnv::new();
    let s = t.new_sandbox("tee");
    let bin = crate::common::BIN;
    let out = t
        .program("sh", &s)
        .args([
            "-c",
            &format!("{bin} rm --kill --force --yes 2>&1 | tee log.txt; echo \"rc=$?\""),
        ])
        .output()
        .expect("sh");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("own pipeline writes in it"), "{shown}");
    assert!(shown.contains("rc=0"), "tee was not killed: {shown}");
    assert!(s.exists(), "{shown}");
    let log = fs::read_to_string(s.join("log.txt")).expect("log");
    assert!(log.contains("own pipeline writes in it"), "{log}");
}

/// Every command a user can run (clap's visible ones, as `__complete` offers them) is in the
/// README's command table, and so are the env file's `SANDBOX_URL_*` and `up --force`.
#[test]
fn the_readme_command_table_names_every_command() {
    let t = TestEnv::new();
    let readme = fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let table: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
    let commands = t.ok(&t.repo, &["__complete", "--", ""]);
    for cmd in commands.lines().filter(|c| *c != "help") {
        let named = table.iter().any(|row| {
            row.split('`')
                .skip(1)
                .step_by(2)
                .any(|code| code.split([' ', '\\']).next() == Some(cmd) || code == cmd)
        });
        assert!(named, "{cmd} is missing from the README's command table");
    }
    let all = table.join("\n");
    assert!(all.contains("SANDBOX_URL_"), "the env file's URLs");
    assert!(
        all.contains("[--force]") && all.contains("up [NAME]"),
        "up --force"
    );
    assert!(readme.contains("cargo install --path . --locked"));
}

/// A sandbox named like a command (or its alias) could never be reached by `sb NAME`: `new`
/// refuses it as a usage error, and makes nothing.
#[test]
fn new_refuses_a_name_that_is_a_command_and_shell_init_a_function_that_hides_git() {
    let t = TestEnv::new();
    for name in ["status", "ls", "ps", "help", "compose"] {
        let err = t.fails(&t.repo, &["new", name], 2);
        assert!(err.contains("is a git-sandbox command"), "{name}: {err}");
        assert!(err.contains("pick another name"), "{name}: {err}");
        assert!(!t.sandbox_path(name).exists(), "{name}");
        assert!(!t.branches().contains(&name.to_string()), "{name}");
    }
    for name in ["git", "cd"] {
        let err = t.fails(&t.repo, &["shell-init", "bash", "--name", name], 2);
        assert!(err.contains("would hide the shell's own"), "{name}: {err}");
    }
    t.ok(&t.repo, &["shell-init", "bash", "--name", "gsb"]);
}

/// `new b` where `../repo--b` is already a directory (no sandbox): the next step is to free
/// the path or pick another name, not to set `path` to what it already is.
#[test]
fn new_where_the_directory_exists_says_to_move_it_or_pick_another_name() {
    let t = TestEnv::new();
    let path = t.sandbox_path("b");
    fs::create_dir_all(&path).expect("mkdir");
    let err = t.fails(&t.repo, &["new", "b"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("move or remove"), "{err}");
    assert!(err.contains("pick another name"), "{err}");
    assert!(!err.contains("set `path`"), "{err}");
    // Following the hint works.
    fs::remove_dir(&path).expect("rmdir");
    t.ok(&t.repo, &["new", "b"]);
}

/// A detached HEAD is no branch in `rm`'s refusal, `mv`'s report and `.sandbox/context.md`.
#[test]
fn a_detached_head_is_no_branch_in_rm_mv_and_the_context_page() {
    let t = TestEnv::new();
    let s = t.new_sandbox("child");
    t.git(&s, &["checkout", "-q", "--detach"]);
    t.commit_file(&s, "lost.txt", "on no branch\n", "detached work");
    let head = t.git(&s, &["rev-parse", "HEAD"]).trim().to_string();
    let short = &head[..7];
    let err = t.fails(&t.repo, &["rm", "child"], 3);
    assert!(
        err.contains(&format!(
            "HEAD is detached at {short} with 1 commit(s) on no branch"
        )),
        "{err}"
    );
    assert!(!err.contains("the branch was never pushed"), "{err}");
    assert!(!err.contains("push the branch"), "{err}");
    // The hint's command gives the commits a branch; pushed, rm goes through.
    assert!(err.contains("switch -c NAME"), "{err}");
    let out = t.run(&t.repo, &["mv", "child", "kid"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("(HEAD detached at {short} and id")),
        "{err}"
    );
    assert!(!err.contains("branch child"), "{err}");
    let page =
        fs::read_to_string(t.sandbox_path("kid").join(".sandbox/context.md")).expect("context.md");
    assert!(
        page.contains(&format!("HEAD detached at `{short}`")),
        "{page}"
    );
    assert!(!page.contains("- branch: `child`"), "{page}");
}

/// `copy` while `copy` is untrusted: the summary says the file was skipped and why, and the
/// hint's `copy --yes` works (once, storing nothing).
#[test]
fn copy_untrusted_says_what_it_skipped_and_its_yes_works() {
    let t = TestEnv::new();
    t.ignore(".env.local\n");
    t.write(&t.repo, ".env.local", "SECRET=main\n");
    t.write(&t.repo, ".sandbox.toml", "copy = [\".env.local\"]\n");
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    let s = t.new_sandbox("s");
    assert!(!s.join(".env.local").exists());
    let out = t.run(&t.repo, &["copy", "s"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("nothing was missing"), "{err}");
    assert!(
        err.contains("skipped copy's files: not trusted yet"),
        "{err}"
    );
    assert!(err.contains("git sandbox copy --yes"), "{err}");
    assert!(!s.join(".env.local").exists());
    t.ok(&t.repo, &["copy", "s", "--yes"]);
    assert_eq!(
        fs::read_to_string(s.join(".env.local")).expect("copied"),
        "SECRET=main\n"
    );
    // Nothing stored: still untrusted.
    fs::remove_file(s.join(".env.local")).expect("rm");
    t.ok(&t.repo, &["copy", "s"]);
    assert!(!s.join(".env.local").exists());
}

/// With no commit yet, `list` and an unknown name do not send the user to `new` (which needs
/// a commit): they say to make a first commit, and that step works.
#[test]
fn with_no_commit_the_hint_is_a_first_commit_and_it_works() {
    let t = TestEnv::new();
    let fresh = t.root.join("work/fresh");
    fs::create_dir_all(&fresh).expect("mkdir");
    t.git(&fresh, &["init", "-q"]);
    let out = t.run(&fresh, &["list"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("no commit yet: make a first commit"), "{err}");
    let err = t.fails(&fresh, &["compose-file", "x"], 1);
    assert!(err.contains("no commit yet: make a first commit"), "{err}");
    t.git(
        &fresh,
        &["commit", "-q", "--allow-empty", "-m", "first commit"],
    );
    // With a commit, the hint is `new` again, and `new` works.
    let err = t.fails(&fresh, &["compose-file", "y"], 1);
    assert!(
        err.contains("git sandbox new <name>") && !err.contains("no commit"),
        "{err}"
    );
    t.ok(&fresh, &["new", "x"]);
}

/// The README calls `.ci/run` the one way to get the test prerequisites: it installs each tool
/// the README names (script(1) and man(1) included), by the package the README names.
#[test]
fn ci_run_installs_every_prerequisite_the_readme_names() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let run = fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    let readme = fs::read_to_string(root.join("README.md")).expect("README");
    for (tool, package) in [
        ("busybox", "busybox-static"),
        ("zsh", "zsh"),
        ("fish", "fish"),
        ("script", "bsdutils"),
        ("man", "man-db"),
    ] {
        assert!(
            run.contains(&format!("need+=({package})")),
            "{tool}: {package}"
        );
        assert!(run.contains(tool), "{tool}");
        assert!(readme.contains(package), "README names {package}");
    }
}
