//! Seeding on a remote engine (issue 24): the main checkout's stack runs on engine2, and a
//! sandbox whose stack runs there is seeded from main's volume there, through the archive API
//! of that engine (both `docker cp` ends), by `new --up` and later by `seed --reset` in a shell
//! that names no engine. Nothing is made on the main engine. Skipped without engine2.

use std::process::Command;

use crate::common::TestEnv;
use crate::engines::{CleanupOn, docker_on, engine2};
use crate::services::{IMAGE, docker_ready};

fn compose() -> String {
    format!(
        r#"services:
  w:
    image: {IMAGE}
    entrypoint: ["/busybox", "sh", "-c"]
    command: ["[ -f /data/marker ] || echo $$MARK > /data/marker; exec /busybox sleep 100000"]
    environment:
      MARK: ${{MARK:-main-data}}
    stop_signal: SIGKILL
    volumes: ["data:/data"]
volumes:
  data:
"#
    )
}

/// Whether volume `name` exists on the main engine (asked without creating it).
fn exists_on_main(name: &str) -> bool {
    docker_on(None)
        .args(["volume", "inspect", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The text of `file` in volume `volume` on `host` (`None`: no such file).
fn read_on(host: &str, volume: &str, file: &str) -> Option<String> {
    let out = docker_on(Some(host))
        .args(["run", "--rm", "-v", &format!("{volume}:/v:ro"), IMAGE])
        .args(["cat", &format!("/v/{file}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Writes `text` into `file` of `volume` on `host`.
fn write_on(host: &str, volume: &str, file: &str, text: &str) {
    let script = format!("echo {text} > /v/{file}");
    let out = docker_on(Some(host))
        .args(["run", "--rm", "-v", &format!("{volume}:/v"), IMAGE])
        .args(["sh", "-c", &script])
        .output()
        .expect("docker run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// On drop, removes from `.0` the copies `seed --reset` saved aside of volume `.1`.
struct SavedCopies(String, String);

impl Drop for SavedCopies {
    fn drop(&mut self) {
        let filter = format!("label=dev.git-sandbox.saved-from={}", self.1);
        let Ok(out) = docker_on(Some(&self.0))
            .args(["volume", "ls", "-q", "--filter", &filter])
            .output()
        else {
            return;
        };
        for v in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = docker_on(Some(&self.0)).args(["volume", "rm", v]).output();
        }
    }
}

#[test]
fn a_sandbox_on_a_remote_engine_is_seeded_there_from_mains_volume_there() {
    let Some(e2) = engine2() else { return };
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("reseed{}", std::process::id()));
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    t.write(&t.repo, "docker-compose.yml", &compose());
    t.write(
        &t.repo,
        ".sandbox.toml",
        "max_slots = 4\n[compose]\nseed = [\"data\"]\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    // Main's stack, on engine2, as its user runs it there.
    let up = Command::new("docker-compose")
        .args(["up", "-d"])
        .current_dir(&t.repo)
        .env("DOCKER_HOST", &e2)
        .output()
        .expect("docker-compose");
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let main = format!("{}_data", t.repo_name().to_lowercase());
    let mine = format!("{}--a_data", t.repo_name());
    let _saved = SavedCopies(e2.clone(), mine.clone());
    let mut tries = 0;
    while read_on(&e2, &main, "marker").is_none() && tries < 100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        tries += 1;
    }
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    assert_eq!(read_on(&e2, &mine, "marker").as_deref(), Some("main-data"));
    assert!(
        !exists_on_main(&mine),
        "a volume was made on the main engine"
    );
    // Main's data changes; `seed --reset` in a shell naming no engine copies it again, there.
    write_on(&e2, &main, "marker", "main-data-2");
    t.ok(&t.repo, &["down", "a"]);
    t.ok(&t.repo, &["seed", "a", "--reset"]);
    assert_eq!(
        read_on(&e2, &mine, "marker").as_deref(),
        Some("main-data-2")
    );
    assert!(!exists_on_main(&mine), "seed --reset used the main engine");
}
