//! Compose volumes and the Docker engine during `rm`, on the machine's real engine (skipped
//! without one, like the other service tests): only a sandbox's own volumes (labelled as its)
//! are deleted, and only with `--delete-volumes` (else they are kept with its saved state), a
//! volume with a fixed `name:` or `external: true` (shared with local-prod) survives with its
//! data, and an engine that cannot be reached stops `rm` unless `--force`.

use std::process::{Command, Output};

use crate::common::TestEnv;
use crate::services::{Cleanup, IMAGE, docker_env, docker_ready, get, project_objects, wait_for};

/// Force-removes the named volumes when dropped (fixed names carry no project of the test's).
struct DropVolumes(Vec<String>);

impl Drop for DropVolumes {
    fn drop(&mut self) {
        for v in &self.0 {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", v])
                .output();
        }
    }
}

pub(crate) fn docker(args: &[&str]) -> Output {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The anonymous volumes mounted by a compose project's containers.
fn anonymous_volumes(project: &str) -> Vec<String> {
    let ids = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    let ids = String::from_utf8_lossy(&ids.stdout).into_owned();
    let mut args = vec![
        "inspect",
        "--format",
        "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
    ];
    args.extend(ids.split_whitespace());
    let out = docker(&args);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

pub(crate) fn volume_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["volume", "inspect", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Writes `text` into the file `db` of a volume, through a throwaway container.
pub(crate) fn write_volume(volume: &str, text: &str) {
    docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{volume}:/v"),
        IMAGE,
        "sh",
        "-c",
        &format!("echo {text} > /v/db"),
    ]);
}

pub(crate) fn read_volume(volume: &str) -> String {
    let out = docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{volume}:/v"),
        IMAGE,
        "cat",
        "/v/db",
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs git-sandbox, asserting success; returns stdout and stderr together.
pub(crate) fn ok_all(t: &TestEnv, dir: &std::path::Path, args: &[&str]) -> String {
    let out = t.run(dir, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "git-sandbox {args:?} failed:\n{text}");
    text
}

/// The volume names the test looks at: the fixed-name and external ones, the projects of
/// s1, s2 and local-prod.
struct Names {
    shared: String,
    ext: String,
    p1: String,
    p2: String,
    lp: String,
}

#[test]
fn rm_deletes_only_the_sandboxs_own_volumes() {
    if !docker_ready() {
        return;
    }
    let pid = std::process::id();
    let t = TestEnv::named(&format!("dkvol{pid}"));
    let n = Names {
        shared: format!("gsbx-test-shared-{pid}"),
        ext: format!("gsbx-test-ext-{pid}"),
        p1: format!("{}--s1", t.repo_name()),
        p2: format!("{}--s2", t.repo_name()),
        lp: format!("{}--local-prod", t.repo_name()),
    };
    // Dropped after the containers that use them.
    let mut volumes = DropVolumes(vec![n.shared.clone(), n.ext.clone()]);
    let _cleanup = Cleanup(t.repo_name());
    volumes_repo(&t, &n);
    let (s1, s2, anon1) = start_stacks(&t, &n, &mut volumes);
    dry_runs_change_nothing(&t, &n, &anon1);
    rm_deletes_with_delete_volumes(&t, &n, &s1, &s2, &anon1);
    rm_keeps_by_default(&t, &n, &s2, &mut volumes);
    local_prod_rm_keeps_the_shared_volume(&t, &n);
}

/// The repo: a compose file with a volume of its own, a fixed-name one, an external one (made
/// now, with data) and an anonymous one.
fn volumes_repo(t: &TestEnv, n: &Names) {
    let (shared, ext) = (&n.shared, &n.ext);
    t.write(
        &t.repo,
        "docker-compose.sandbox.yml",
        &format!(
            r#"services:
  db:
    image: {IMAGE}
    entrypoint: ["/busybox"]
    command: ["sleep", "100000"]
    stop_signal: SIGKILL
    volumes: ["pg:/pg", "data:/data", "ext:/ext", "/anon"]
volumes:
  data:
  pg:
    name: {shared}
  ext:
    external: true
    name: {ext}
"#
        ),
    );
    t.write(
        &t.repo,
        ".sandbox.toml",
        "max_slots = 4\n[ports]\nweb = 19500\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "compose"]);
    docker(&["volume", "create", ext]);
    write_volume(ext, "outside");
}

/// s1 and s2 up, local-prod up then down (its fixed-name volume with data): every volume is
/// there. Returns the sandboxes and s1's anonymous volume.
fn start_stacks(
    t: &TestEnv,
    n: &Names,
    volumes: &mut DropVolumes,
) -> (std::path::PathBuf, std::path::PathBuf, Vec<String>) {
    let (shared, ext, p1, p2, lp) = (&n.shared, &n.ext, &n.p1, &n.p2, &n.lp);
    // Each sandbox gets its own `pg` (<project>_pg: the fixed name is scoped to it); only
    // local-prod uses the fixed-name volume.
    let s1 = t.new_sandbox("s1");
    t.ok(&s1, &["up"]);
    t.ok(&t.repo, &["local-prod", "new"]);
    t.ok(&t.repo, &["local-prod", "up"]);
    write_volume(shared, "precious");
    // Stopped, local-prod's database no longer holds the volume in use. (`down` leaves the
    // anonymous volumes, as compose does: the test removes them.)
    volumes.0.extend(anonymous_volumes(lp));
    t.ok(&t.repo, &["local-prod", "down"]);
    let s2 = t.new_sandbox("s2");
    t.ok(&s2, &["up"]);
    for v in [
        &format!("{p1}_data"),
        &format!("{p1}_pg"),
        &format!("{p2}_data"),
        &format!("{p2}_pg"),
        shared,
        ext,
    ] {
        assert!(volume_exists(v), "{v} exists after up");
    }
    // Anonymous volumes (an image's VOLUME, a bare `- /path`) went with `down --volumes` too.
    let (anon1, anon2) = (anonymous_volumes(p1), anonymous_volumes(p2));
    assert_eq!((anon1.len(), anon2.len()), (1, 1), "{anon1:?} {anon2:?}");
    volumes.0.extend(anon1.iter().chain(&anon2).cloned());
    (s1, s2, anon1)
}

/// The dry run says what would go and what stays, and changes nothing.
fn dry_runs_change_nothing(t: &TestEnv, n: &Names, anon1: &[String]) {
    let (shared, ext, p1) = (&n.shared, &n.ext, &n.p1);
    let dry = ok_all(t, &t.repo, &["rm", "s1", "--dry-run", "--delete-volumes"]);
    assert!(dry.contains(&format!("delete volume {p1}_data")), "{dry}");
    assert!(
        dry.contains(&format!("delete volume {}", anon1[0])),
        "{dry}"
    );
    assert!(dry.contains(&format!("delete volume {p1}_pg")), "{dry}");
    assert!(!dry.contains(&format!("delete volume {shared}")), "{dry}");
    assert!(
        dry.contains(&format!("keep volume {ext}, not its")),
        "{dry}"
    );
    assert!(volume_exists(&format!("{p1}_data")));
    // Without --delete-volumes, its own volumes are kept with the saved state.
    let dry = ok_all(t, &t.repo, &["rm", "s1", "--dry-run"]);
    assert!(
        dry.contains(&format!("keep volume {p1}_data (kept with the saved state")),
        "{dry}"
    );
    assert!(!dry.contains("delete volume"), "{dry}");
}

/// `--delete-volumes` deletes s1's own volumes (its anonymous one too), never the shared ones.
fn rm_deletes_with_delete_volumes(
    t: &TestEnv,
    n: &Names,
    s1: &std::path::Path,
    s2: &std::path::Path,
    anon1: &[String],
) {
    let (shared, ext, p1) = (&n.shared, &n.ext, &n.p1);
    // Nothing holds the shared volume in use now: `down --volumes` would delete it.
    t.ok(s2, &["down"]);
    let out = ok_all(t, &t.repo, &["rm", "s1", "--yes", "--delete-volumes"]);
    assert!(out.contains(&format!("deleted volume {p1}_data")), "{out}");
    assert!(out.contains(&format!("deleted volume {p1}_pg")), "{out}");
    assert!(out.contains(&format!("kept volume {ext} (")), "{out}");
    assert!(!volume_exists(&format!("{p1}_data")));
    assert!(!volume_exists(&format!("{p1}_pg")));
    assert!(!volume_exists(&anon1[0]), "s1's anonymous volume is gone");
    assert_eq!(project_objects(p1).0, 0, "s1's containers are gone");
    assert!(!s1.exists());
    assert_eq!(
        read_volume(shared),
        "precious",
        "local-prod's data survives"
    );
    assert_eq!(read_volume(ext), "outside");
}

/// By default the sandbox's own volumes stay.
fn rm_keeps_by_default(t: &TestEnv, n: &Names, s2: &std::path::Path, volumes: &mut DropVolumes) {
    let (shared, p2) = (&n.shared, &n.p2);
    // By default (--keep-volumes is the old spelling) the sandbox's own volumes stay.
    t.ok(s2, &["up"]);
    let anon2 = anonymous_volumes(p2);
    volumes.0.extend(anon2.iter().cloned());
    let out = ok_all(t, &t.repo, &["rm", "s2", "--yes", "--keep-volumes"]);
    assert!(
        out.contains(&format!("kept volume {p2}_data (kept with the saved state")),
        "{out}"
    );
    assert!(volume_exists(&format!("{p2}_data")));
    assert!(volume_exists(&format!("{p2}_pg")));
    volumes.0.extend([format!("{p2}_data"), format!("{p2}_pg")]);
    assert!(volume_exists(&anon2[0]));
    assert_eq!(project_objects(p2).0, 0);
    assert_eq!(read_volume(shared), "precious");
}

/// local-prod's own rm keeps the shared volume.
fn local_prod_rm_keeps_the_shared_volume(t: &TestEnv, n: &Names) {
    let (shared, ext, lp) = (&n.shared, &n.ext, &n.lp);
    // local-prod's own rm keeps the shared volume (its fixed name carries no label of its).
    t.ok(&t.repo, &["local-prod", "up"]);
    let out = ok_all(
        t,
        &t.repo,
        &["local-prod", "rm", "--yes", "--delete-volumes"],
    );
    assert!(out.contains(&format!("deleted volume {lp}_data")), "{out}");
    assert!(out.contains(&format!("kept volume {shared} (")), "{out}");
    assert!(!volume_exists(&format!("{lp}_data")));
    assert_eq!(read_volume(shared), "precious");
    assert_eq!(read_volume(ext), "outside");
}

#[test]
fn rm_refuses_when_the_engine_cannot_be_reached() {
    if !docker_ready() {
        return;
    }
    let t = docker_env("unreach", 19400);
    let _cleanup = Cleanup(t.repo_name());
    let a = t.new_sandbox("a");
    t.ok(&a, &["up"]);
    wait_for(19401);
    let id = format!("{}--a", t.repo_name());
    // `rm` uses the engine recorded at `up` (whatever the shell says): record one that is gone.
    let gone = serde_json::json!({"name": "gone", "endpoint": "unix:///nonexistent.sock"});
    t.tamper(&id, "engine", gone);
    let before = (t.entries(), t.branches(), t.admin_entries());
    let unreachable = |args: &[&str]| t.cmd(&t.repo).args(args).output().expect("rm");

    for args in [&["rm", "a", "--yes"][..], &["rm", "a", "--dry-run"][..]] {
        let out = unreachable(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(
                "the Docker engine cannot be reached, so the services of a cannot be stopped"
            ),
            "{err}"
        );
        assert!(
            err.contains("engine gone (unix:///nonexistent.sock)") && err.contains("--force"),
            "{err}"
        );
    }
    // Nothing changed: the tree, its registry entry, its branch, its running stack.
    assert!(a.join(".env.sandbox").exists());
    assert_eq!((t.entries(), t.branches(), t.admin_entries()), before);
    assert_eq!(project_objects(&id), (1, 1));
    assert!(get(19401).is_some(), "still serving");

    // --force goes on, with a warning; the unreachable stack is left as it is.
    let out = unreachable(&["rm", "a", "--yes", "--force"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("cannot be reached") && err.contains("removing anyway"),
        "{err}"
    );
    assert!(!a.exists());
    assert!(t.entries().iter().all(|e| e.0 != id));
    assert_eq!(project_objects(&id), (1, 1));
}
