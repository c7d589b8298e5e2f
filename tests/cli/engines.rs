//! The Docker engines the tests use: the main one (whatever `docker` reaches from the caller's
//! environment) and a second, real engine at another address (issue 24), started by
//! `sudo tests/engine2.sh start` and named by `GIT_SANDBOX_TEST_ENGINE2`
//! (`tcp://10.213.77.2:2375`). One builder of the `FROM scratch` busybox test image serves both,
//! and so do the cleanup of compose projects and the page fetch.
//!
//! To run the binary under test on engine2: `t.cmd_on(&engine, dir)` (or `t.ok_on`), which is
//! `t.cmd(dir)` with `DOCKER_HOST` set to the engine; the docker CLI there: `docker_on(Some(&e))`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::TestEnv;
use crate::services::IMAGE;

/// The variable naming the second engine's `DOCKER_HOST`.
pub const ENGINE2_VAR: &str = "GIT_SANDBOX_TEST_ENGINE2";

/// Whether CI demands the Docker tests (a skip there is a failure).
pub fn docker_required() -> bool {
    std::env::var_os("GIT_SANDBOX_REQUIRE_DOCKER").is_some_and(|v| v == "1")
}

/// The docker CLI aimed at `host` (`-H host`), or at the caller's engine when `None`.
pub fn docker_on(host: Option<&str>) -> Command {
    let mut c = Command::new("docker");
    if let Some(h) = host {
        c.args(["-H", h]);
    }
    c
}

/// The second engine's `DOCKER_HOST`, once it answers `docker info` and holds the test image
/// [`IMAGE`] (checked and built once per process). `None`, with a visible skip line, when
/// `GIT_SANDBOX_TEST_ENGINE2` is unset or the engine does not answer; a panic instead when
/// `GIT_SANDBOX_REQUIRE_DOCKER=1` (CI must not skip silently).
pub fn engine2() -> Option<String> {
    static ENGINE: OnceLock<Result<String, String>> = OnceLock::new();
    let r = ENGINE.get_or_init(|| {
        let host = std::env::var(ENGINE2_VAR)
            .ok()
            .filter(|h| !h.trim().is_empty())
            .ok_or(format!(
                "{ENGINE2_VAR} is not set (run `sudo tests/engine2.sh start` and export \
                 {ENGINE2_VAR}=tcp://10.213.77.2:2375)"
            ))?;
        engine_id(Some(&host))?;
        build_test_image(Some(&host))?;
        Ok(host)
    });
    match r {
        Ok(host) => Some(host.clone()),
        Err(why) if docker_required() => panic!(
            "engine2 tests are required here (GIT_SANDBOX_REQUIRE_DOCKER=1) but cannot run: {why}"
        ),
        Err(why) => {
            crate::common::skip("engine2 tests", why);
            None
        }
    }
}

/// The engine's `docker info` ID: which engine answered.
pub fn engine_id(host: Option<&str>) -> Result<String, String> {
    let out = docker_on(host)
        .args(["info", "--format", "{{.ID}}"])
        .output()
        .map_err(|_| "the docker CLI is missing (not on PATH)".to_string())?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || id.is_empty() {
        let why = String::from_utf8_lossy(&out.stderr);
        let first = why.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let on = host.unwrap_or("the default engine");
        return Err(format!(
            "the Docker engine ({on}) does not answer `docker info`: {first}"
        ));
    }
    Ok(id)
}

/// Builds [`IMAGE`] (`FROM scratch` + Debian's static busybox) on `host` (the caller's engine
/// when `None`).
pub fn build_test_image(host: Option<&str>) -> Result<(), String> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .ok_or("busybox-static missing (apt-get install busybox-static)")?;
    let ctx = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::copy(busybox, ctx.path().join("busybox")).map_err(|e| e.to_string())?;
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /busybox\nENTRYPOINT [\"/busybox\"]\n",
    )
    .map_err(|e| e.to_string())?;
    let out = docker_on(host)
        .args(["build", "-q", "-t", IMAGE])
        .arg(ctx.path())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "docker build on {} failed: {}",
            host.unwrap_or("the default engine"),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The host part of a `tcp://HOST:PORT` engine address: where its published ports answer.
pub fn engine_addr(host: &str) -> &str {
    let rest = host.split_once("://").map_or(host, |(_, r)| r);
    rest.rsplit_once(':').map_or(rest, |(h, _)| h)
}

/// Removes every container, volume and network, on `host`, of compose projects starting with
/// `prefix` (the caller's engine when `None`).
pub fn remove_projects(host: Option<&str>, prefix: &str) {
    let label = "{{.Label \"com.docker.compose.project\"}}";
    for (list, id, rm) in [
        (&["ps", "-a"][..], "{{.ID}}", &["rm", "-f", "-v"][..]),
        (
            &["volume", "ls"][..],
            "{{.Name}}",
            &["volume", "rm", "-f"][..],
        ),
        (&["network", "ls"][..], "{{.ID}}", &["network", "rm"][..]),
    ] {
        let Ok(out) = docker_on(host)
            .args(list)
            .args(["--filter", "label=com.docker.compose.project"])
            .args(["--format", &format!("{id} {label}")])
            .output()
        else {
            continue;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((id, project)) = line.split_once(' ')
                && project.starts_with(prefix)
            {
                let _ = docker_on(host).args(rm).arg(id).output();
            }
        }
    }
}

/// On drop, [`remove_projects`] on engine `.0` for the prefix `.1`.
pub struct CleanupOn(pub String, pub String);

impl Drop for CleanupOn {
    fn drop(&mut self) {
        remove_projects(Some(&self.0), &self.1);
    }
}

/// `GET /` from `addr:port`; the response when it is a 200.
pub fn get_at(addr: &str, port: u32) -> Option<String> {
    let mut s = TcpStream::connect((addr, port as u16)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.contains("200 OK").then_some(body)
}

/// [`get_at`] until it answers; panics after 30 s.
pub fn wait_for_at(addr: &str, port: u32) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(b) = get_at(addr, port) {
            return b;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("nothing served on {addr}:{port} within 30 s");
}

impl TestEnv {
    /// A `git-sandbox` command in `dir` whose Docker engine is `engine` (its `DOCKER_HOST`).
    pub fn cmd_on(&self, engine: &str, dir: &Path) -> Command {
        let mut cmd = self.cmd(dir);
        cmd.env("DOCKER_HOST", engine);
        cmd
    }

    /// Runs git-sandbox on `engine`, asserting success; returns stdout.
    pub fn ok_on(&self, engine: &str, dir: &Path, args: &[&str]) -> String {
        let out = self.cmd_on(engine, dir).args(args).output().expect("run");
        assert!(
            out.status.success(),
            "git-sandbox {args:?} on {engine} in {} failed ({}):\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// As [`TestEnv::fails`], with `DOCKER_HOST` set to `engine`: its stderr.
    pub fn fails_on(&self, engine: &str, dir: &Path, args: &[&str], code: i32) -> String {
        let out = self.cmd_on(engine, dir).args(args).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "git-sandbox {args:?} on {engine}: {err}"
        );
        err
    }
}
