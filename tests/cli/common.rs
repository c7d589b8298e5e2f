//! The test environment: a temp dir holding a repo, a bare "remote", a fake HOME and the
//! registry. Every child (the real `git-sandbox` binary and the real `git`) runs with a cleared
//! environment: no global or system git config, no `GIT_*`, `XDG_*` or colour settings of the
//! caller, fixed dates, the registry under the temp dir. Only `DOCKER_HOST` passes through, so
//! the Docker tests reach the same engine `docker info` answered on; a test aims the binary at
//! another engine with `TestEnv::cmd_on` (`engines.rs`).
//!
//! PATH is the suite's own ([`own_path`]): the system directories, minus any that holds a
//! `git-sandbox` (an installed copy must never stand in for the binary under test), and a
//! `tools/` directory of links to the programs the tests need, found on the caller's PATH.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-sandbox");

// The second Docker engine (issue 24) and the per-engine helpers live in `engines.rs`;
// `TestEnv::cmd_on(engine, dir)` runs the binary with that engine as its `DOCKER_HOST`.
#[allow(unused_imports)]
pub use crate::engines::{docker_on, engine2};

pub struct TestEnv {
    _tmp: tempfile::TempDir,
    /// The directory holding everything.
    pub root: PathBuf,
    /// The main worktree of the repo under test (`<root>/work/repo`).
    pub repo: PathBuf,
    /// The bare remote.
    pub remote: PathBuf,
    pub home: PathBuf,
    /// The registry dir (`GIT_SANDBOX_HOME`).
    pub reg_home: PathBuf,
    /// Directories put first on PATH.
    pub path_prefix: Vec<PathBuf>,
    /// Extra variables for every child.
    pub extra_env: Vec<(String, String)>,
    /// The suite's own PATH (after `path_prefix`).
    pub own_path: Vec<PathBuf>,
}

/// The programs the tests and the binary under test run, linked into `tools/`.
const TOOLS: &[&str] = &[
    "git",
    "sh",
    "bash",
    "zsh",
    "fish",
    "busybox",
    "docker",
    "docker-compose",
    "script",
    "man",
    "mount",
    "umount",
    "sleep",
    "sync",
    "kill",
    "mkfifo",
    "cat",
    "cp",
    "env",
];

/// Directories searched after `tools/`, each only if it holds no `git-sandbox`.
const SYSTEM_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Builds the suite's PATH under `root` from the caller's `inherited` PATH: links to [`TOOLS`]
/// (never to a `git-sandbox`), then the system directories that hold no `git-sandbox`.
pub fn own_path(root: &Path, inherited: &std::ffi::OsStr) -> Vec<PathBuf> {
    let tools = root.join("tools");
    fs::create_dir_all(&tools).expect("tools dir");
    let dirs: Vec<PathBuf> = std::env::split_paths(inherited).collect();
    for tool in TOOLS {
        if let Some(found) = dirs.iter().map(|d| d.join(tool)).find(|p| is_executable(p)) {
            std::os::unix::fs::symlink(&found, tools.join(tool)).expect("link a tool");
        }
    }
    let mut path = vec![tools];
    path.extend(
        SYSTEM_DIRS
            .iter()
            .map(PathBuf::from)
            .filter(|d| !d.join("git-sandbox").exists()),
    );
    path
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Waits until a command run with `GIT_SANDBOX_PAUSE=<point>:…` and `GIT_SANDBOX_PAUSED=<flag>`
/// reached `point` (it creates `flag` there); fails after 20 s.
pub fn wait_until_paused(flag: &Path, point: &str) {
    let start = std::time::Instant::now();
    while !flag.exists() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "never reached {point}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Says on the terminal, past the test harness's capture, that a test could not run here and
/// what is missing; `cargo test` shows it whether or not the test passes.
pub fn skip(test: &str, missing: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {missing}");
}

impl TestEnv {
    /// A repo with two commits, pushed to `origin/main`, tracking it.
    pub fn new() -> TestEnv {
        Self::named("repo")
    }

    pub fn named(name: &str) -> TestEnv {
        Self::build(name, &std::env::var_os("PATH").unwrap_or_default())
    }

    /// A repo as [`TestEnv::new`], as if the caller's PATH were `inherited`.
    pub fn with_inherited_path(inherited: &std::ffi::OsStr) -> TestEnv {
        Self::build("repo", inherited)
    }

    fn build(name: &str, inherited: &std::ffi::OsStr) -> TestEnv {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical tempdir");
        let home = root.join("home");
        fs::create_dir_all(&home).expect("home");
        fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("gitconfig");
        let work = root.join("work");
        fs::create_dir_all(&work).expect("work");
        let own_path = own_path(&root, inherited);
        let env = TestEnv {
            repo: work.join(name),
            remote: root.join("remote.git"),
            reg_home: root.join("registry"),
            home,
            root,
            _tmp: tmp,
            path_prefix: Vec::new(),
            extra_env: Vec::new(),
            own_path,
        };
        env.git(&env.root, &["init", "-q", "--bare", "remote.git"]);
        env.git(&work, &["init", "-q", name]);
        env.write(&env.repo, "README.md", "hello\n");
        env.write(&env.repo, "src/lib.rs", "pub fn a() {}\n");
        env.git(&env.repo, &["add", "."]);
        env.git(&env.repo, &["commit", "-q", "-m", "first"]);
        env.write(&env.repo, "CHANGES", "one\n");
        env.git(&env.repo, &["add", "."]);
        env.git(&env.repo, &["commit", "-q", "-m", "second"]);
        env.git(
            &env.repo,
            &[
                "remote",
                "add",
                "origin",
                env.remote.to_str().expect("utf8"),
            ],
        );
        env.git(&env.repo, &["push", "-q", "-u", "origin", "main"]);
        env
    }

    fn apply_env(&self, cmd: &mut Command) {
        let mut path: Vec<PathBuf> = self.path_prefix.clone();
        path.extend(self.own_path.iter().cloned());
        cmd.env_clear()
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_SANDBOX_HOME", &self.reg_home)
            .env("GIT_SANDBOX_SWEEP", "foreground")
            .env("LANG", "C")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            cmd.env("DOCKER_HOST", host);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
    }

    /// Any program in `dir`, with the test environment.
    pub fn program(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        self.apply_env(&mut cmd);
        cmd.current_dir(dir);
        cmd
    }

    /// A `git` command in `dir`.
    pub fn git_cmd(&self, dir: &Path) -> Command {
        let mut cmd = Command::new("git");
        self.apply_env(&mut cmd);
        cmd.current_dir(dir);
        cmd
    }

    /// Runs git, asserting success; returns stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_cmd(dir).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A `git-sandbox` command in `dir`.
    pub fn cmd(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(BIN);
        self.apply_env(&mut cmd);
        cmd.current_dir(dir);
        cmd
    }

    /// Runs git-sandbox.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(dir).args(args).output().expect("run git-sandbox")
    }

    /// Runs git-sandbox, asserting success; returns stdout.
    pub fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.run(dir, args);
        assert!(
            out.status.success(),
            "git-sandbox {args:?} in {} failed ({}):\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs git-sandbox, asserting exit `code`; returns stderr.
    pub fn fails(&self, dir: &Path, args: &[&str], code: i32) -> String {
        let out = self.run(dir, args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "git-sandbox {args:?} should exit {code}; stdout:\n{}\nstderr:\n{err}",
            String::from_utf8_lossy(&out.stdout)
        );
        err
    }

    /// `new NAME`, returning the printed path.
    pub fn new_sandbox(&self, name: &str) -> PathBuf {
        let out = self.ok(&self.repo, &["new", name]);
        PathBuf::from(out.trim())
    }

    /// The path `new NAME` uses by default.
    pub fn sandbox_path(&self, slug: &str) -> PathBuf {
        self.repo
            .parent()
            .expect("parent")
            .join(format!("{}--{slug}", self.repo_name()))
    }

    pub fn repo_name(&self) -> String {
        self.repo
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned()
    }

    pub fn write(&self, dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, text).expect("write");
    }

    /// A linked worktree made by hand (`git worktree add -b BRANCH`) beside the repo.
    pub fn hand_made_worktree(&self, dir_name: &str, branch: &str) -> PathBuf {
        let path = self.repo.parent().expect("parent").join(dir_name);
        let p = path.to_str().expect("utf8");
        self.git(&self.repo, &["worktree", "add", "-q", "-b", branch, p]);
        path
    }

    /// Writes a file, stages it and commits it in `dir`.
    pub fn commit_file(&self, dir: &Path, rel: &str, text: &str, message: &str) {
        self.write(dir, rel, text);
        self.git(dir, &["add", rel]);
        self.git(dir, &["commit", "-q", "-m", message]);
    }

    /// A repo `lib` beside the test repo, added as the submodule `vendor/lib` of `dir`,
    /// committed and pushed. Returns the submodule's checkout.
    pub fn add_submodule(&self, dir: &Path) -> PathBuf {
        let lib = self.root.join("lib");
        self.git(&self.root, &["init", "-q", "lib"]);
        self.commit_file(&lib, "lib.txt", "lib\n", "lib");
        self.git(
            dir,
            &[
                "-c",
                "protocol.file.allow=always",
                "submodule",
                "add",
                "-q",
                lib.to_str().expect("utf8"),
                "vendor/lib",
            ],
        );
        self.git(dir, &["commit", "-q", "-m", "add submodule"]);
        self.git(dir, &["push", "-q", "-u", "origin", "HEAD"]);
        dir.join("vendor/lib")
    }

    /// Commits a `.gitignore` with `patterns` in the repo and pushes it.
    pub fn ignore(&self, patterns: &str) {
        self.write(&self.repo, ".gitignore", patterns);
        self.git(&self.repo, &["add", ".gitignore"]);
        self.git(&self.repo, &["commit", "-q", "-m", "ignore"]);
        self.git(&self.repo, &["push", "-q"]);
    }

    /// The registry as JSON (an empty one if there is no file).
    pub fn registry(&self) -> serde_json::Value {
        match fs::read(self.reg_home.join("registry.json")) {
            Ok(b) => serde_json::from_slice(&b).expect("registry parses"),
            Err(_) => serde_json::json!({ "version": 1, "instances": [] }),
        }
    }

    /// Registry entries as (id, slot, state).
    pub fn entries(&self) -> Vec<(String, u64, String)> {
        let r = self.registry();
        r["instances"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| {
                        (
                            i["id"].as_str().unwrap_or_default().to_string(),
                            i["slot"].as_u64().unwrap_or(99),
                            i["state"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Rewrites one registry entry's field.
    pub fn tamper(&self, id: &str, field: &str, value: serde_json::Value) {
        let mut r = self.registry();
        for i in r["instances"].as_array_mut().expect("instances") {
            if i["id"] == id {
                i[field] = value.clone();
            }
        }
        fs::write(
            self.reg_home.join("registry.json"),
            serde_json::to_vec_pretty(&r).expect("json"),
        )
        .expect("write registry");
    }

    /// Local branches of the repo.
    pub fn branches(&self) -> Vec<String> {
        self.git(
            &self.repo,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads/"],
        )
        .lines()
        .map(String::from)
        .collect()
    }

    /// The linked worktree admin names.
    pub fn admin_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.repo.join(".git/worktrees"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Entries of the directory holding the repo and its sandboxes.
    pub fn siblings(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.repo.parent().expect("parent"))
            .expect("read work")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Every file, directory and link under `dir` with its bytes and mode: a byte-for-byte picture.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (u32, Vec<u8>)>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).expect("prefix").to_path_buf();
            let meta = fs::symlink_metadata(&p).expect("meta");
            let mode = meta.permissions().mode();
            if meta.file_type().is_symlink() {
                let t = fs::read_link(&p).expect("link");
                out.insert(rel, (mode, t.to_string_lossy().as_bytes().to_vec()));
            } else if meta.is_dir() {
                out.insert(rel, (mode, Vec::new()));
                walk(base, &p, out);
            } else if meta.is_file() {
                out.insert(rel, (mode, fs::read(&p).expect("read")));
            } else {
                // A FIFO, socket or device: its type and mode, never its contents (a FIFO
                // would block the read).
                out.insert(rel, (mode, b"<special>".to_vec()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

impl TestEnv {
    /// Runs `git-sandbox ARGS` on a terminal (a pty from script(1)) with `answers` typed in;
    /// the exit code and everything the terminal showed (stdout and stderr, in order). `None` when script(1) is missing.
    pub fn on_terminal(&self, dir: &Path, args: &str, answers: &str) -> Option<(i32, String)> {
        use std::io::Write;
        if Command::new("script").arg("--version").output().is_err() {
            skip("a terminal test", "script(1) missing (util-linux)");
            return None;
        }
        let mut c = self.program("script", dir);
        c.args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("script");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(answers.as_bytes()).expect("answers");
        // Closed: a question beyond the answers reads end-of-file, a "no", never a hang.
        drop(stdin);
        let out = child.wait_with_output().expect("script");
        let shown = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        Some((out.status.code().unwrap_or(-1), shown))
    }
}

/// Installs a copy of the executable `from` at `to`, safe to run at once while other test
/// threads fork. A copy written by this process would hold a writable descriptor that every
/// child forked by another thread inherits until its exec closes it; running the copy in that
/// instant fails with "text file busy" (ETXTBSY). So the copy is written by a `cp` child
/// (its descriptor never lives in this process) and made durable with `sync` before the run.
pub fn install_executable(from: &Path, to: &Path) {
    let tmp = to.with_extension("installing");
    let out = Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(&tmp)
        .output()
        .expect("run cp");
    assert!(
        out.status.success(),
        "cp {} {}: {}",
        from.display(),
        tmp.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Synced and closed by a process of its own, then renamed into place whole.
    let synced = Command::new("sync").arg("--").arg(&tmp).status();
    assert!(synced.is_ok_and(|s| s.success()), "sync {}", tmp.display());
    fs::rename(&tmp, to).expect("rename the copy into place");
}

/// Writes an executable file (a script a test will run) the way [`install_executable`] does:
/// the text goes into a scratch file of this process, the executable inode is written by a
/// `cp` child only, so no fork of another test thread can hold it open for writing.
pub fn write_executable(path: &Path, body: &str, mode: u32) {
    let name = path.file_name().expect("a file name").to_string_lossy();
    let scratch = path.with_file_name(format!(".{name}.text"));
    fs::write(&scratch, body).expect("write the text");
    install_executable(&scratch, path);
    fs::remove_file(&scratch).expect("remove the scratch text");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}
