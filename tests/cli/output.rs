//! Output conventions, JSON shapes, the man page, init and adopt.

use std::path::PathBuf;

use crate::common::TestEnv;

#[test]
fn no_escape_codes_off_a_terminal_or_with_no_color() {
    let mut t = TestEnv::new();
    t.new_sandbox("a");
    // Off a terminal (the tests' stdout is a pipe): none, even without NO_COLOR.
    t.extra_env = vec![];
    let mut cmd = t.cmd(&t.repo);
    cmd.env_remove("NO_COLOR").args(["list"]);
    let out = cmd.output().expect("run");
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
    // --color always does colour (so the checks above can fail).
    let out = t.run(&t.repo, &["--color", "always", "list"]);
    assert!(out.stdout.contains(&0x1b));
    // On a terminal (a pty from script(1)): colour, unless NO_COLOR or --color never.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        crate::common::skip(
            "output::colour on a terminal",
            "script(1) missing (util-linux)",
        );
        return;
    }
    let pty = |no_color: bool, args: &str| -> Vec<u8> {
        let mut c = t.program("script", &t.repo);
        if !no_color {
            c.env_remove("NO_COLOR");
        }
        c.args([
            "-qec",
            &format!("{} {args}", crate::common::BIN),
            "/dev/null",
        ]);
        c.output().expect("script").stdout
    };
    assert!(pty(false, "list").contains(&0x1b), "a terminal gets colour");
    assert!(!pty(true, "list").contains(&0x1b), "NO_COLOR");
    assert!(
        !pty(false, "--color never list").contains(&0x1b),
        "--color never"
    );
}

#[test]
fn json_outputs_parse_and_match_the_documented_shape() {
    let t = TestEnv::new();
    t.write(&t.repo, ".sandbox.toml", "[ports]\nweb = 18500\n");
    let p = t.new_sandbox("a");
    let list: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["list", "--json"])).expect("list");
    assert_eq!(list["version"], 1);
    let row = &list["sandboxes"][0];
    for key in [
        "name",
        "id",
        "kind",
        "slot",
        "state",
        "path",
        "parent_repo",
        "branch",
        "created_branch",
        "base_commit",
        "created_at",
        "missing",
        "invalid",
        "ports",
        "dirty",
        "upstream",
        "unpushed",
        "never_pushed",
        "pushed",
        "services_up",
        "error",
    ] {
        assert!(row.get(key).is_some(), "list row lacks {key}: {row}");
    }
    assert_eq!(row["ports"]["web"], 18501);
    for k in ["staged", "unstaged", "untracked", "conflicted"] {
        assert!(row["dirty"][k].is_u64(), "{k}");
    }
    let status: serde_json::Value =
        serde_json::from_str(&t.ok(&p, &["status", "--json"])).expect("status");
    assert_eq!(status["version"], 1);
    assert_eq!(status["sandbox"]["name"], "a");
    let env: serde_json::Value = serde_json::from_str(&t.ok(&p, &["env", "--json"])).expect("env");
    assert_eq!(env["version"], 1);
    assert_eq!(env["env"]["WEB_PORT"], "18501");
    let ports: serde_json::Value =
        serde_json::from_str(&t.ok(&t.repo, &["ports", "--json"])).expect("ports");
    assert_eq!(ports["version"], 1);
    assert_eq!(ports["slots"][1]["owner"], "repo--a");
    assert_eq!(ports["slots"][1]["ports"][0]["port"], 18501);
    assert!(ports["slots"][1]["ports"][0]["busy"].is_boolean());
}

#[test]
fn man_page_is_current() {
    let t = TestEnv::new();
    let fresh = t.run(&t.repo, &["__man"]).stdout;
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man/git-sandbox.1");
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::write(&file, &fresh).expect("write man page");
    }
    let checked_in = std::fs::read(&file).expect("man/git-sandbox.1");
    assert!(
        checked_in == fresh,
        "man/git-sandbox.1 is stale: run `UPDATE_MAN=1 cargo test man_page_is_current`"
    );
    let text = String::from_utf8_lossy(&fresh);
    for section in [
        "EXIT STATUS",
        "FILES",
        "ENVIRONMENT",
        "GIT_SANDBOX_HOME",
        "git sandbox rm",
    ] {
        assert!(text.contains(section), "the man page lacks {section}");
    }
}

#[test]
fn quiet_and_verbose() {
    let t = TestEnv::new();
    let out = t.run(&t.repo, &["-q", "new", "q"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "data still goes to stdout with -q");
    let out = t.run(&t.repo, &["-v", "rm", "q", "--yes", "--dry-run"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("dry run"));
}

#[test]
fn init_writes_a_config_from_compose_whose_env_drives_compose() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "docker-compose.yml",
        r#"services:
  web:
    image: nginx
    ports:
      - "${REPO_WEB_PORT:-18600}:80"
  api:
    image: api
    ports:
      - target: 8080
        published: "${REPO_API_PORT:-18700}"
  db:
    image: postgres
    ports:
      - "127.0.0.1:${REPO_DB_PORT:-18800}:5432"
"#,
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    t.ok(&t.repo, &["init"]);
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(cfg.contains("env_prefix = \"REPO_\""), "{cfg}");
    assert!(
        cfg.contains("web = 18600") && cfg.contains("api = 18700") && cfg.contains("db = 18800"),
        "{cfg}"
    );
    // It validates, and refuses to overwrite.
    t.ok(&t.repo, &["ports"]);
    let err = t.fails(&t.repo, &["init"], 1);
    assert!(err.contains("already exists"), "{err}");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    let p = t.new_sandbox("a");
    let env = std::fs::read_to_string(p.join(".env.sandbox")).expect("env");
    assert!(
        env.contains("REPO_WEB_PORT=18601")
            && env.contains("REPO_API_PORT=18701")
            && env.contains("REPO_DB_PORT=18801"),
        "{env}"
    );
    // docker compose config, driven by the env file, publishes the sandbox's ports.
    let compose = ["docker-compose", "docker"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(compose) = compose else {
        crate::common::skip(
            "output::init's ports through compose",
            "neither docker-compose nor docker compose runs",
        );
        return;
    };
    let mut cmd = t.program(compose, &p);
    if compose == "docker" {
        cmd.arg("compose");
    }
    let out = cmd
        .args(["--env-file", ".env.sandbox", "config"])
        .output()
        .expect("compose config");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for port in ["18601", "18701", "18801"] {
        assert!(text.contains(port), "{port} not published:\n{text}");
    }
}

#[test]
fn init_with_literal_ports_needs_no_edit_of_the_compose_file() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  web:\n    image: x\n    ports: [\"18900:80\", \"18910:81\"]\n",
    );
    let out = t.run(&t.repo, &["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("compose.yaml needs no edit"), "{err}");
    assert!(
        !err.contains("${REPO_WEB_PORT"),
        "no edit is suggested: {err}"
    );
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    assert!(
        cfg.contains("web = 18900") && cfg.contains("web_2 = 18910"),
        "{cfg}"
    );
    t.ok(&t.repo, &["ports"]);
}

#[test]
fn adopt_registers_a_hand_made_worktree_and_rm_treats_it_like_any() {
    let t = TestEnv::new();
    let hand = t.hand_made_worktree("by-hand", "hand");
    let out = t.ok(&t.repo, &["adopt", hand.to_str().expect("utf8")]);
    assert_eq!(PathBuf::from(out.trim()), hand);
    let env = std::fs::read_to_string(hand.join(".env.sandbox")).expect("env");
    assert!(
        env.contains("SANDBOX_SLOT=1") && env.contains("SANDBOX_NAME=by-hand"),
        "{env}"
    );
    assert_eq!(
        t.git(&hand, &["status", "--porcelain"]),
        "",
        "the env file is ignored"
    );
    let list = t.ok(&t.repo, &["list"]);
    assert!(list.contains("by-hand"), "{list}");
    // The main worktree, or a non-worktree: refused.
    // Adopting it again: it already is that sandbox (idempotent, exit 0).
    let again = t.run(&t.repo, &["adopt", hand.to_str().expect("utf8")]);
    assert!(again.status.success(), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already the sandbox"));
    t.fails(&t.repo, &["adopt", "."], 1);
    t.fails(&t.repo, &["adopt", t.root.to_str().expect("utf8")], 1);
    // rm's gate applies: untracked work refuses.
    t.write(&hand, "mine.txt", "mine\n");
    t.fails(&t.repo, &["rm", "by-hand", "--yes"], 3);
    std::fs::remove_file(hand.join("mine.txt")).expect("rm");
    t.ok(&t.repo, &["rm", "by-hand", "--yes"]);
    assert!(!hand.exists());
    assert!(t.admin_entries().is_empty());
    assert!(
        t.branches().contains(&"hand".to_string()),
        "a branch the tool did not make is kept"
    );
}

#[test]
fn git_help_sandbox_opens_the_man_page() {
    let t = TestEnv::new();
    if std::process::Command::new("man")
        .arg("-w")
        .arg("man")
        .output()
        .is_err()
    {
        crate::common::skip(
            "output::the man page through man(1)",
            "man(1) missing (man-db)",
        );
        return;
    }
    let man1 = t.root.join("share/man/man1");
    std::fs::create_dir_all(&man1).expect("mkdir");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man/git-sandbox.1"),
        man1.join("git-sandbox.1"),
    )
    .expect("install man page");
    let bin = t.root.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(crate::common::BIN, bin.join("git-sandbox")).expect("link");
    for args in [&["help", "sandbox"][..], &["sandbox", "--help"][..]] {
        let out = t
            .git_cmd(&t.repo)
            .env("MANPATH", t.root.join("share/man"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .args(args)
            .output()
            .expect("git help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("git sandbox rm") && text.contains("EXIT STATUS"),
            "git {args:?}:\n{text}"
        );
    }
}

#[test]
fn init_without_a_usable_compose_file_is_a_clear_error() {
    let t = TestEnv::new();
    let err = t.fails(&t.repo, &["init"], 1);
    assert!(
        err.contains("no compose file") && err.contains("compose.yaml"),
        "{err}"
    );
    t.write(&t.repo, "compose.yaml", "services: [unclosed\n");
    let err = t.fails(&t.repo, &["init"], 1);
    assert!(err.contains("compose.yaml"), "{err}");
    assert!(!t.repo.join(".sandbox.toml").exists());
    // Odd variables do not panic.
    t.write(&t.repo, "compose.yaml", "services:\n  a:\n    ports: [\"${É_PORT:-19000}:1\", \"${ÉX_PORT:-19010}:2\", \"${REPO__PORT:-19020}:3\"]\n");
    let out = t.run(&t.repo, &["init"]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_and_ports_fit_80_columns_and_non_ascii_names_line_up() {
    let mut t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[ports]\nbackend = 8000\nfrontend = 3000\npostgres = 5432\nredis = 6379\nmailhog = 8025\n[ports.workers]\nbase = 5020\ncount = 6\nstride = 10\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "ports"]);
    t.ok(
        &t.repo,
        &[
            "new",
            "a-rather-long-sandbox-name-for-the-checkout-rework-of-2026",
        ],
    );
    t.ok(&t.repo, &["new", "short", "--branch", "dépôt-日本"]);
    t.extra_env = vec![("COLUMNS".into(), "80".into())];
    for cmd in ["list", "ports"] {
        let out = t.ok(&t.repo, &[cmd]);
        for line in out.lines() {
            let width = unicode_width::UnicodeWidthStr::width(line);
            assert!(width <= 80, "{cmd}: {width} columns:\n{line}\n{out}");
        }
    }
    let listed = t.run(&t.repo, &["list"]);
    let out = String::from_utf8_lossy(&listed.stdout).into_owned();
    // Too narrow for every column: the least important (SLOT, SERVICES) are left out, and
    // the user is told which.
    let note = String::from_utf8_lossy(&listed.stderr);
    assert!(
        note.contains("SLOT, SERVICES left out to fit 80 columns"),
        "{note}"
    );
    // The CHANGES column starts at the same display column on every row.
    let changes_col = |l: &str| {
        let at = l.find("CHANGES").or_else(|| l.find("clean")).unwrap_or(0);
        unicode_width::UnicodeWidthStr::width(&l[..at])
    };
    let rows: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows[1].contains('…'), "the long name is cut: {out}");
    let cols: Vec<usize> = rows.iter().map(|l| changes_col(l)).collect();
    assert!(cols.iter().all(|c| *c == cols[0]), "{cols:?}\n{out}");
    let branch_col =
        |l: &str, b: &str| unicode_width::UnicodeWidthStr::width(&l[..l.find(b).unwrap_or(0)]);
    assert_eq!(
        branch_col(rows[0], "BRANCH"),
        branch_col(rows[2], "dépôt-日本"),
        "{out}"
    );
    // State colours where colour is on (a terminal, or --color always), and none off it.
    let coloured = t.ok(&t.repo, &["--color", "always", "list"]);
    assert!(coloured.contains("\x1b[31mnever"), "{coloured:?}");
    assert!(!out.contains('\x1b'), "{out:?}");
}

#[test]
fn declining_the_rm_prompt_exits_1_and_says_nothing_changed() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    let have_script = t
        .program("script", &t.repo)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        crate::common::skip("output::declining the rm prompt", "script(1) missing");
        return;
    }
    let before = crate::common::tree(&s);
    let mut c = t.program("script", &t.repo);
    c.args(["-qec", &format!("{} rm s", crate::common::BIN), "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().expect("script");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"n\n").expect("answer");
    }
    let out = child.wait_with_output().expect("wait");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("nothing was changed"), "{said}");
    assert!(!said.contains("error"), "{said}");
    assert_eq!(crate::common::tree(&s), before);
}

#[test]
fn init_handles_privileged_adjacent_dual_protocol_and_bound_ports() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        "compose.yaml",
        "services:\n  web:\n    image: x\n    ports: [\"80:80\"]\n  dns:\n    image: x\n    ports: [\"10053:53/tcp\", \"10053:53/udp\"]\n  api:\n    image: x\n    ports: [\"18000:8000\", \"18001:8001\"]\n  db:\n    image: x\n    ports: [\"127.0.0.1:15432:5432\"]\n  cache:\n    image: x\n    ports: [\"16379:6379\"]\n  queue:\n    image: x\n    ports: [\"16380:5672\"]\n",
    );
    let out = t.run(&t.repo, &["init"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let cfg = std::fs::read_to_string(t.repo.join(".sandbox.toml")).expect("config");
    // Privileged: moved up, and it says which compose port it stands for.
    assert!(
        cfg.contains("web = { base = 8080, published = 80 }"),
        "{cfg}"
    );
    // tcp+udp: one entry; adjacent ports of one service: one group.
    assert_eq!(cfg.matches("service dns").count(), 1, "{cfg}");
    assert!(
        cfg.contains("api = { base = 18000, count = 2, stride = 2 }"),
        "{cfg}"
    );
    // Adjacent ports of two services: the one whose slots would land on the other's compose
    // port (which the main checkout's stack publishes) moves; the other keeps its number.
    assert!(cfg.contains("published = 16379"), "{cfg}");
    assert!(cfg.contains("queue = 16380"), "{cfg}");
    assert!(
        err.contains("below 1024") && err.contains("planned from 8080"),
        "{err}"
    );
    assert!(err.contains("next to another published port"), "{err}");
    // The host binding is kept (sandboxes publish on 127.0.0.1 too).
    assert!(cfg.contains("db = 15432"), "{cfg}");
    // And the plan it wrote validates.
    t.ok(&t.repo, &["ports"]);
}
