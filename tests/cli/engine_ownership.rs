//! Ownership by proof on the machine's real Docker engine (skipped without one, like the other
//! service tests): every instance has a uuid that labels what its stack creates, and a compose
//! project chosen unique on the engine. Repos whose names differ only by case or by `.`/`-`,
//! two users' registries with the same repo and sandbox names, and sandboxes `feat` and
//! `feat_test` never share a container or a volume, and one's `rm` never touches the other's
//! data. A sandbox's volumes are part of its undo: `rm` (plain, forced, or by `prune
//! --merged`) keeps them with the saved state, `restore` + `up` runs on them again, and `trash
//! purge` deletes them. Entries an older git-sandbox made (no uuid, unlabelled volumes) are
//! listed, stopped and removed without losing a volume.

use std::path::{Path, PathBuf};

use crate::common::TestEnv;
use crate::services::{Cleanup, IMAGE, docker_ready};
use crate::volumes::{docker, ok_all, read_volume, volume_exists, write_volume};

const LABEL: &str = "dev.git-sandbox.instance";

/// A stack of one long-running service mounting each of `keys` as a named volume.
fn compose(keys: &[&str]) -> String {
    let mounts: Vec<String> = keys.iter().map(|k| format!("\"{k}:/{k}\"")).collect();
    let decl: String = keys.iter().map(|k| format!("  {k}:\n")).collect();
    format!(
        "services:\n  db:\n    image: {IMAGE}\n    entrypoint: [\"/busybox\"]\n    command: [\"sleep\", \"100000\"]\n    stop_signal: SIGKILL\n    volumes: [{}]\nvolumes:\n{decl}",
        mounts.join(", ")
    )
}

/// Puts a compose stack with `keys` into the repo at `dir` and commits it.
fn with_stack(t: &TestEnv, dir: &Path, keys: &[&str]) {
    t.write(dir, "docker-compose.sandbox.yml", &compose(keys));
    t.write(dir, ".sandbox.toml", "max_slots = 4\n");
    t.git(dir, &["add", "."]);
    t.git(dir, &["commit", "-q", "-m", "stack"]);
}

/// A second repo beside `t.repo`, in the same registry.
fn second_repo(t: &TestEnv, name: &str, keys: &[&str]) -> PathBuf {
    let dir = t.repo.parent().expect("work").join(name);
    t.git(t.repo.parent().expect("work"), &["init", "-q", name]);
    t.write(&dir, "README.md", "hello\n");
    with_stack(t, &dir, keys);
    dir
}

/// The registry entry of the sandbox whose path is `path`.
fn entry(t: &TestEnv, path: &Path) -> serde_json::Value {
    let reg = t.registry();
    let canon = std::fs::canonicalize(path).unwrap_or(path.to_path_buf());
    reg["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["path"].as_str() == canon.to_str())
        .cloned()
        .unwrap_or_else(|| panic!("no entry for {}: {reg}", path.display()))
}

fn uuid(t: &TestEnv, path: &Path) -> String {
    entry(t, path)["uuid"].as_str().expect("uuid").to_string()
}

/// Lines `docker ARGS` prints.
fn lines(args: &[&str]) -> Vec<String> {
    String::from_utf8_lossy(&docker(args).stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

/// The volumes carrying the uuid, sorted.
fn volumes_of(uuid: &str) -> Vec<String> {
    let mut v = lines(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label={LABEL}={uuid}"),
    ]);
    v.sort();
    v
}

/// The ids of the running containers carrying the uuid.
fn running_of(uuid: &str) -> Vec<String> {
    lines(&["ps", "-q", "--filter", &format!("label={LABEL}={uuid}")])
}

/// The one volume of the uuid for compose's volume `key`.
fn volume(uuid: &str, key: &str) -> String {
    let found = lines(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label={LABEL}={uuid}"),
        "--filter",
        &format!("label=com.docker.compose.volume={key}"),
    ]);
    assert_eq!(found.len(), 1, "{uuid} {key}: {found:?}");
    found[0].clone()
}

/// Reads `/<key>/db` inside the running container of the uuid.
fn read_inside(uuid: &str, key: &str) -> String {
    let ids = running_of(uuid);
    assert_eq!(ids.len(), 1, "one running container of {uuid}: {ids:?}");
    let out = docker(&["exec", &ids[0], "/busybox", "cat", &format!("/{key}/db")]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Two sandboxes `x` of repos named `a` and `b` in one registry, with data in each; `rm` of
/// b's (even deleting its volumes) leaves a's running container and data as they were.
fn two_repos_stay_apart(a: &str, b: &str) {
    let t = TestEnv::named(a);
    let _ca = Cleanup(a.to_lowercase().replace('.', "-"));
    with_stack(&t, &t.repo, &["data"]);
    let repo_b = second_repo(&t, b, &["data"]);
    let sa = PathBuf::from(t.ok(&t.repo, &["new", "x"]).trim());
    t.ok(&sa, &["up"]);
    let sb = PathBuf::from(t.ok(&repo_b, &["new", "x"]).trim());
    t.ok(&sb, &["up"]);
    let (ua, ub) = (uuid(&t, &sa), uuid(&t, &sb));
    let (pa, pb) = (
        entry(&t, &sa)["project"].clone(),
        entry(&t, &sb)["project"].clone(),
    );
    assert_ne!(pa, pb, "{a} and {b} got one compose project");
    let (va, vb) = (volume(&ua, "data"), volume(&ub, "data"));
    assert_ne!(va, vb);
    write_volume(&va, &format!("row-of-{a}"));
    write_volume(&vb, &format!("row-of-{b}"));
    let before = running_of(&ua);
    assert_eq!(before.len(), 1);
    // b's list sees its own stack up, not a's.
    let list = t.ok(&repo_b, &["list", "--json"]);
    assert!(list.contains("\"services_up\": true"), "{list}");

    let out = ok_all(&t, &repo_b, &["rm", "x", "--yes", "--delete-volumes"]);
    assert!(out.contains(&format!("deleted volume {vb}")), "{out}");
    assert!(!out.contains(&va), "b's rm names a's volume: {out}");
    assert_eq!(
        running_of(&ua),
        before,
        "a's container was stopped or recreated"
    );
    assert_eq!(read_volume(&va), format!("row-of-{a}"));
    assert_eq!(read_inside(&ua, "data"), format!("row-of-{a}"));
    assert!(!volume_exists(&vb));
    // And the other way round, with the default: b's nothing left, a's volume kept.
    t.ok(&t.repo, &["rm", "x", "--yes"]);
    assert_eq!(read_volume(&va), format!("row-of-{a}"));
    t.ok(&t.repo, &["trash", "purge", "--yes"]);
    assert!(!volume_exists(&va));
}

#[test]
fn repos_whose_names_differ_by_case_or_dot_never_share_a_stack() {
    if !docker_ready() {
        return;
    }
    let pid = std::process::id();
    two_repos_stay_apart(&format!("ShopX{pid}"), &format!("shopx{pid}"));
    two_repos_stay_apart(&format!("my.app{pid}"), &format!("my-app{pid}"));
}

/// Two registries (two GIT_SANDBOX_HOMEs) with the same repo path shape, each with a sandbox
/// `x` made before either stack exists, so both first chose the same project; the first
/// user's stack is up with a row in its volume. Returns both envs, both sandboxes, and the
/// first one's uuid.
fn two_users_one_project(name: &str) -> (TestEnv, TestEnv, Vec<PathBuf>, String) {
    let (t1, t2) = (TestEnv::named(name), TestEnv::named(name));
    let mut dirs = Vec::new();
    for t in [&t1, &t2] {
        with_stack(t, &t.repo, &["data"]);
        dirs.push(PathBuf::from(t.ok(&t.repo, &["new", "x"]).trim()));
    }
    assert_eq!(
        entry(&t1, &dirs[0])["project"],
        entry(&t2, &dirs[1])["project"]
    );
    t1.ok(&dirs[0], &["up"]);
    let u1 = uuid(&t1, &dirs[0]);
    write_volume(&volume(&u1, "data"), "first-users-row");
    (t1, t2, dirs, u1)
}

#[test]
fn two_users_on_one_engine_never_share_a_stack() {
    if !docker_ready() {
        return;
    }
    let name = format!("twouser{}", std::process::id());
    let _c = Cleanup(name.clone());
    // The second `up` finds the first's stack under the name and takes another before starting.
    let (t1, t2, dirs, u1) = two_users_one_project(&name);
    let out = ok_all(&t2, &dirs[1], &["up"]);
    assert!(
        out.contains("is taken on this engine by another stack"),
        "{out}"
    );
    let u2 = uuid(&t2, &dirs[1]);
    assert_ne!(
        entry(&t1, &dirs[0])["project"],
        entry(&t2, &dirs[1])["project"]
    );
    let (v1, v2) = (volume(&u1, "data"), volume(&u2, "data"));
    write_volume(&v2, "second-users-row");
    let before = running_of(&u1);
    let out = ok_all(&t2, &t2.repo, &["rm", "x", "--yes", "--delete-volumes"]);
    assert!(!out.contains(&v1), "{out}");
    assert_eq!(running_of(&u1), before);
    assert_eq!(read_inside(&u1, "data"), "first-users-row");
    assert!(!volume_exists(&v2));
    t1.ok(&t1.repo, &["rm", "x", "--yes", "--delete-volumes"]);
    assert!(!volume_exists(&v1));
}

/// The second user's stack never started: its project is still the first user's running
/// one. `down --volumes`, `ps`, `logs` and `compose --` act on a project as a whole, so none
/// of them may run there: `down` stops only what carries its uuid, the others refuse.
#[test]
fn compose_commands_never_reach_another_users_stack_under_the_same_project() {
    if !docker_ready() {
        return;
    }
    let name = format!("samename{}", std::process::id());
    let _c = Cleanup(name.clone());
    let (t1, t2, dirs, u1) = two_users_one_project(&name);
    let before = running_of(&u1);
    assert!(!before.is_empty());
    for args in [
        &["ps"][..],
        &["logs"],
        &["compose", "--", "exec", "-T", "db", "/busybox", "true"],
    ] {
        let out = t2.run(&dirs[1], args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("also holds what is not x's"),
            "{args:?}: {err}"
        );
    }
    let out = ok_all(&t2, &dirs[1], &["down", "--volumes"]);
    assert!(out.contains("left alone"), "{out}");
    assert_eq!(running_of(&u1), before, "{out}");
    assert_eq!(read_inside(&u1, "data"), "first-users-row");
    t1.ok(&t1.repo, &["rm", "x", "--yes", "--delete-volumes"]);
    t2.ok(&t2.repo, &["rm", "x", "--yes", "--delete-volumes"]);
}

/// An `external` volume whose name is 64 hex digits (an anonymous volume made elsewhere, then
/// named in the compose file) looks like the stack's own anonymous one: it is never deleted.
#[test]
fn an_external_volume_named_like_an_anonymous_one_is_never_deleted() {
    if !docker_ready() {
        return;
    }
    let name = format!("hexvol{}", std::process::id());
    let t = TestEnv::named(&name);
    let _c = Cleanup(name.clone());
    // 64 hex digits, as engines name anonymous volumes; digits only, the case YAML reads as a
    // number unless it is quoted (a pid-made name without a letter failed one run in ~25).
    let hex: String = format!("{:0>64}", std::process::id());
    let made = docker(&["volume", "create", &hex]);
    assert!(made.status.success());
    write_volume(&hex, "someone-elses");
    let file = format!(
        "services:\n  db:\n    image: {IMAGE}\n    entrypoint: [\"/busybox\"]\n    command: [\"sleep\", \"100000\"]\n    stop_signal: SIGKILL\n    volumes: [\"data:/data\", \"old:/old\"]\nvolumes:\n  data:\n  old:\n    external: true\n    name: \"{hex}\"\n"
    );
    t.write(&t.repo, "docker-compose.sandbox.yml", &file);
    t.write(&t.repo, ".sandbox.toml", "max_slots = 4\n");
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "stack"]);
    t.git(&t.repo, &["push", "-q"]);
    let s = t.new_sandbox("x");
    t.ok(&s, &["up"]);
    let out = ok_all(&t, &t.repo, &["rm", "x", "--yes", "--delete-volumes"]);
    assert!(volume_exists(&hex), "{out}");
    assert_eq!(read_volume(&hex), "someone-elses");
    let _ = docker(&["volume", "rm", "-f", &hex]);
}

#[test]
fn feat_and_feat_test_get_distinct_volumes() {
    if !docker_ready() {
        return;
    }
    let name = format!("feat{}", std::process::id());
    let t = TestEnv::named(&name);
    let _c = Cleanup(name.clone());
    with_stack(&t, &t.repo, &["db", "test_db"]);
    let feat = t.new_sandbox("feat");
    let feat_test = t.new_sandbox("feat_test");
    for s in [&feat, &feat_test] {
        t.ok(s, &["up"]);
    }
    let (uf, ut) = (uuid(&t, &feat), uuid(&t, &feat_test));
    for p in [&feat, &feat_test] {
        let project = entry(&t, p)["project"]
            .as_str()
            .expect("project")
            .to_string();
        assert!(!project.contains('_'), "{project}");
    }
    let (of_feat, of_test) = (volumes_of(&uf), volumes_of(&ut));
    assert_eq!((of_feat.len(), of_test.len()), (2, 2));
    assert!(
        of_feat.iter().all(|v| !of_test.contains(v)),
        "{of_feat:?} {of_test:?}"
    );
    let db = volume(&ut, "db");
    write_volume(&db, "feat-test-row");
    let out = ok_all(&t, &t.repo, &["rm", "feat", "--yes", "--delete-volumes"]);
    assert!(!out.contains(&db), "{out}");
    assert_eq!(read_inside(&ut, "db"), "feat-test-row");
    assert!(of_feat.iter().all(|v| !volume_exists(v)));
    t.ok(&t.repo, &["rm", "feat_test", "--yes", "--delete-volumes"]);
}

/// Removes the sandbox `s` by `how`, restores it, starts it, and reads its row back.
fn round_trip(t: &TestEnv, s: &Path, how: &[&str], row: &str) {
    let id = uuid(t, s);
    let vol = volume(&id, "data");
    let out = ok_all(t, &t.repo, how);
    assert!(volume_exists(&vol), "{how:?} deleted the volume: {out}");
    assert!(running_of(&id).is_empty(), "{how:?} left it running: {out}");
    let listed = t.ok(&t.repo, &["trash", "list"]);
    assert!(listed.contains(&format!("volume {vol}: ")), "{listed}");
    assert!(
        !listed.contains(&format!("volume {vol}: unknown")),
        "{listed}"
    );
    let out = ok_all(t, &t.repo, &["restore", "s"]);
    assert!(out.contains(&vol), "{out}");
    assert_eq!(uuid(t, s), id, "restore gave it another identity");
    t.ok(s, &["up"]);
    assert_eq!(read_inside(&id, "data"), row, "after {how:?}");
}

#[test]
fn a_sandboxs_data_survives_rm_force_and_prune_merged_until_purged() {
    if !docker_ready() {
        return;
    }
    let name = format!("undo{}", std::process::id());
    let t = TestEnv::named(&name);
    let _c = Cleanup(name.clone());
    with_stack(&t, &t.repo, &["data"]);
    t.git(&t.repo, &["push", "-q"]);
    let s = t.new_sandbox("s");
    t.ok(&s, &["up"]);
    let vol = volume(&uuid(&t, &s), "data");
    write_volume(&vol, "the-row");

    round_trip(&t, &s, &["rm", "s", "--yes"], "the-row");
    t.write(&s, "scratch.txt", "uncommitted\n");
    round_trip(&t, &s, &["rm", "s", "--yes", "--force"], "the-row");
    assert_eq!(
        std::fs::read_to_string(s.join("scratch.txt"))
            .ok()
            .as_deref(),
        Some("uncommitted\n")
    );
    // Merged into main: `prune --merged` removes it, and keeps its volume like rm.
    std::fs::remove_file(s.join("scratch.txt")).expect("rm scratch");
    t.commit_file(&s, "feature.txt", "done\n", "feature");
    t.git(&t.repo, &["merge", "-q", "--ff-only", "s"]);
    round_trip(&t, &s, &["prune", "--merged", "--yes"], "the-row");

    // Purged while it is registered again: its volume is its, so it stays.
    t.ok(&t.repo, &["trash", "purge", "--yes"]);
    assert!(volume_exists(&vol));
    // Removed and purged: gone.
    t.ok(&t.repo, &["rm", "s", "--yes"]);
    assert!(volume_exists(&vol));
    let out = ok_all(&t, &t.repo, &["trash", "purge", "--yes"]);
    assert!(out.contains(&format!("deleted volume {vol}")), "{out}");
    assert!(!volume_exists(&vol));
}

#[test]
fn an_older_releases_sandbox_is_stopped_and_removed_without_losing_its_volume() {
    if !docker_ready() {
        return;
    }
    let name = format!("legacy{}", std::process::id());
    let t = TestEnv::named(&name);
    let _c = Cleanup(name.clone());
    with_stack(&t, &t.repo, &["data"]);
    let s = t.new_sandbox("old");
    // The entry as the older release wrote it: no uuid, no project.
    let id = entry(&t, &s)["id"].as_str().expect("id").to_string();
    t.tamper(&id, "uuid", serde_json::Value::Null);
    t.tamper(&id, "project", serde_json::Value::Null);
    t.ok(&s, &["up"]);
    let project = id.to_lowercase();
    let vol = format!("{project}_data");
    assert!(volume_exists(&vol));
    let labels = lines(&["volume", "inspect", "--format", "{{json .Labels}}", &vol]);
    assert!(!labels.concat().contains(LABEL), "{labels:?}");
    write_volume(&vol, "old-row");
    let list = t.ok(&t.repo, &["list", "--json"]);
    assert!(list.contains("\"services_up\": true"), "{list}");

    let out = ok_all(&t, &t.repo, &["rm", "old", "--yes", "--delete-volumes"]);
    assert!(out.contains("stopped its services"), "{out}");
    assert!(
        out.contains(&format!("kept volume {vol} (made by an older")),
        "{out}"
    );
    let left = lines(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(read_volume(&vol), "old-row");
    // Restored, it is the older entry again, and `up` runs on its kept volume.
    t.ok(&t.repo, &["restore", "old"]);
    assert!(entry(&t, &s)["project"].is_null(), "{}", entry(&t, &s));
    t.ok(&s, &["up"]);
    let inside = lines(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert_eq!(inside.len(), 1, "{inside:?}");
    let out = docker(&["exec", &inside[0], "/busybox", "cat", "/data/db"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "old-row");
    ok_all(&t, &t.repo, &["rm", "old", "--yes"]);
    // Purge never deletes what carries no label of ours.
    t.ok(&t.repo, &["trash", "purge", "--yes"]);
    assert_eq!(read_volume(&vol), "old-row");
    docker(&["volume", "rm", &vol]);
}

/// Without an engine: a state restored twice (the first restore renamed away) does not give
/// two sandboxes one identity; `mv` keeps it.
#[test]
fn one_identity_is_never_given_twice() {
    let t = TestEnv::new();
    let s = t.new_sandbox("s");
    let first = uuid(&t, &s);
    let project = entry(&t, &s)["project"].clone();
    t.ok(&t.repo, &["rm", "s", "--yes"]);
    t.ok(&t.repo, &["restore", "s"]);
    assert_eq!(uuid(&t, &s), first);
    assert_eq!(entry(&t, &s)["project"], project);
    t.ok(&t.repo, &["mv", "s", "moved"]);
    let moved = t.sandbox_path("moved");
    assert_eq!(uuid(&t, &moved), first, "mv changed its identity");
    t.git(&moved, &["switch", "-q", "-c", "elsewhere"]);
    t.ok(&t.repo, &["restore", "s"]);
    let again = uuid(&t, &s);
    assert_ne!(again, first, "two sandboxes carry one uuid");
    assert_ne!(entry(&t, &s)["project"], entry(&t, &moved)["project"]);
}

/// `--delete-volumes` deletes only once the removal is done: one refused after the check
/// (the tree changed during it) keeps its volumes, and `up` runs on them again.
#[test]
fn a_removal_refused_late_keeps_the_volumes_it_was_to_delete() {
    if !docker_ready() {
        return;
    }
    let name = format!("late{}", std::process::id());
    let t = TestEnv::named(&name);
    let _c = Cleanup(name.clone());
    with_stack(&t, &t.repo, &["data"]);
    let s = t.new_sandbox("s");
    t.ok(&s, &["up"]);
    let id = uuid(&t, &s);
    let vol = volume(&id, "data");
    write_volume(&vol, "kept-row");
    let flag = t.root.join("paused");
    let child = t
        .cmd(&t.repo)
        .args(["rm", "s", "--yes", "--delete-volumes"])
        .env("GIT_SANDBOX_PAUSE", "rm:marked:1500")
        .env("GIT_SANDBOX_PAUSED", &flag)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    while !flag.exists() {
        assert!(start.elapsed().as_secs() < 60, "never paused");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    t.write(&s, "late.txt", "written while rm ran\n");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("deleted volume"), "{err}");
    assert_eq!(read_volume(&vol), "kept-row");
    t.ok(&s, &["up"]);
    assert_eq!(read_inside(&id, "data"), "kept-row");
    std::fs::remove_file(s.join("late.txt")).expect("rm late");
    t.ok(&t.repo, &["rm", "s", "--yes", "--delete-volumes"]);
    assert!(!volume_exists(&vol));
}

/// Without an engine: `x_y` and `x-y` (one project name once `_` is gone) made at the same
/// moment, round after round, always get two projects (chosen under the registry's lock).
#[test]
fn two_names_made_at_once_never_get_one_project() {
    let t = TestEnv::new();
    for round in 0..6 {
        let (a, b) = (format!("x_{round}"), format!("x-{round}"));
        let spawn = |n: &str| {
            t.cmd(&t.repo)
                .args(["new", n])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (ca, cb) = (spawn(&a), spawn(&b));
        let (oa, ob) = (
            ca.wait_with_output().expect("a"),
            cb.wait_with_output().expect("b"),
        );
        assert!(
            oa.status.success() && ob.status.success(),
            "round {round}: {}{}",
            String::from_utf8_lossy(&oa.stderr),
            String::from_utf8_lossy(&ob.stderr)
        );
        let (pa, pb) = (
            PathBuf::from(String::from_utf8_lossy(&oa.stdout).trim()),
            PathBuf::from(String::from_utf8_lossy(&ob.stdout).trim()),
        );
        let (ea, eb) = (entry(&t, &pa), entry(&t, &pb));
        assert_ne!(ea["project"], eb["project"], "round {round}");
        assert_ne!(ea["uuid"], eb["uuid"], "round {round}");
        for project in [&ea["project"], &eb["project"]] {
            assert!(
                !project.as_str().expect("project").contains('_'),
                "{project}"
            );
        }
        for n in [&a, &b] {
            t.ok(&t.repo, &["rm", n, "--yes"]);
        }
    }
}

/// `[compose] delete_volumes = true` is the repo's config, not the user's: it counts only once
/// the user trusts that config (`trust` shows it), and `--delete-volumes` always does.
#[test]
fn the_configs_delete_volumes_needs_trust() {
    let t = TestEnv::new();
    t.write(
        &t.repo,
        ".sandbox.toml",
        "[compose]\ndelete_volumes = true\n",
    );
    t.git(&t.repo, &["add", "."]);
    t.git(&t.repo, &["commit", "-q", "-m", "config"]);
    t.new_sandbox("s");
    let out = ok_all(&t, &t.repo, &["rm", "s", "--dry-run"]);
    assert!(out.contains("delete_volumes is not trusted yet"), "{out}");
    assert!(
        t.ok(&t.repo, &["trust", "--show"])
            .contains("delete_volumes")
    );
    t.ok(&t.repo, &["trust"]);
    let out = ok_all(&t, &t.repo, &["rm", "s", "--dry-run"]);
    assert!(!out.contains("not trusted"), "{out}");
}
