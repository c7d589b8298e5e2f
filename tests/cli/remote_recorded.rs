//! Later commands use the engine recorded at `up`, whatever the shell says (issue 24, on the
//! second real engine `tests/engine2.sh` starts): `rm`, `ps` and `down` reach the stack there,
//! `up` elsewhere is refused while it runs, restore and `trash purge` find its kept volumes,
//! and the teardown's docker talks to it. Skipped, with a visible line, without the engine.

use crate::engines::{CleanupOn, docker_on, engine_addr};
use crate::remote_engine::{MAIN, running, setup};
use crate::services::Cleanup;

#[test]
fn rm_in_a_shell_aimed_at_the_main_engine_removes_the_stack_on_the_recorded_one() {
    let base = 21440;
    let Some((e2, t)) = setup("rm", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = Cleanup(t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    // Another sandbox of the repo runs on the main engine.
    t.ok_on(MAIN, &t.repo, &["new", "b", "--up"]);
    let (on_e2, on_main) = (running(&t, Some(&e2)), running(&t, None));
    assert_eq!(on_e2.len(), 1, "a does not run on engine2: {on_e2:?}");
    assert_eq!(
        on_main.len(),
        1,
        "b does not run on the main engine: {on_main:?}"
    );
    // A shell aimed at the main engine: logs and ps still reach a's stack.
    let ps = t
        .cmd_on(MAIN, &t.repo)
        .args(["ps", "a"])
        .output()
        .expect("ps");
    assert!(
        String::from_utf8_lossy(&ps.stdout).contains("web"),
        "ps asked the wrong engine"
    );
    t.ok_on(MAIN, &t.repo, &["rm", "a", "--yes"]);
    assert_eq!(
        running(&t, Some(&e2)),
        Vec::<String>::new(),
        "a still runs on engine2"
    );
    assert_eq!(running(&t, None), on_main, "rm touched the main engine");
}

#[test]
fn up_on_another_engine_is_refused_while_the_stack_runs_and_moves_once_down() {
    let base = 21460;
    let Some((e2, t)) = setup("mv", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = Cleanup(t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    let err = t.fails(&t.repo, &["up", "a", "--engine", "local"], 1);
    assert!(err.contains("git sandbox down a"), "{err}");
    assert!(
        running(&t, None).is_empty(),
        "the refused up started on the main engine"
    );
    // A plain shell: `down` goes to the recorded engine; its volume stays there, so a move
    // is refused (the data would drop out of rm and restore) until `--force`.
    t.ok(&t.repo, &["down", "a"]);
    assert!(running(&t, Some(&e2)).is_empty(), "down left it on engine2");
    let err = t.fails(&t.repo, &["up", "a", "--engine", "local"], 1);
    assert!(
        err.contains("the volumes of a are on engine") && err.contains("--force"),
        "{err}"
    );
    assert!(running(&t, None).is_empty(), "the refused move started");
    t.ok(&t.repo, &["up", "a", "--engine", "local", "--force"]);
    assert_eq!(
        running(&t, None).len(),
        1,
        "a does not run on the main engine"
    );
    assert!(running(&t, Some(&e2)).is_empty());
    let reg = t.registry();
    let entry = &reg["instances"][0];
    assert_eq!(entry["engine"]["name"], "local", "{reg}");
}

/// Whether volume `name` exists on `host`.
pub fn volume_on(host: &str, name: &str) -> bool {
    docker_on(Some(host))
        .args(["volume", "inspect", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn restore_and_trash_purge_find_the_kept_volumes_on_the_recorded_engine() {
    let base = 21500;
    let Some((e2, t)) = setup("trash", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    let volume = format!("{}--a_data", t.repo_name());
    assert!(volume_on(&e2, &volume), "no {volume} on engine2");
    t.ok_on(MAIN, &t.repo, &["rm", "a", "--yes"]);
    assert!(volume_on(&e2, &volume), "rm did not keep {volume}");
    let listed = t.ok_on(MAIN, &t.repo, &["trash", "list"]);
    assert!(
        listed.contains(&format!("volume {volume}: on engine {e2}")),
        "{listed}"
    );
    // restore gives it its engine back: `up` in a plain shell runs there, on its volume.
    t.ok(&t.repo, &["restore", "a"]);
    assert_eq!(
        t.registry()["instances"][0]["engine"]["endpoint"],
        e2.as_str()
    );
    t.ok(&t.repo, &["up", "a"]);
    assert_eq!(
        running(&t, Some(&e2)).len(),
        1,
        "restored a does not run on engine2"
    );
    t.ok_on(MAIN, &t.repo, &["rm", "a", "--yes"]);
    t.ok_on(MAIN, &t.repo, &["trash", "purge", "--yes"]);
    assert!(
        !volume_on(&e2, &volume),
        "trash purge left {volume} on engine2"
    );
}

/// The engine's id, as `docker info` says it.
fn engine_id_of(host: Option<&str>) -> String {
    let out = docker_on(host)
        .args(["info", "--format", "{{.ID}}"])
        .output()
        .expect("docker info");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn teardown_talks_to_the_recorded_engine_and_a_silent_engine_is_never_recorded() {
    let base = 21520;
    let Some((e2, t)) = setup("td", base, "") else {
        return;
    };
    let _clean = CleanupOn(e2.clone(), t.repo_name());
    let _clean_main = Cleanup(t.repo_name());
    let seen = t.root.join("teardown-engine");
    t.write(
        &t.repo,
        ".sandbox.toml",
        &format!(
            "max_slots = 4\n[ports]\nweb = {base}\n[commands]\nteardown = [\"docker info --format '{{{{.ID}}}}' > {}\"]\n",
            seen.display()
        ),
    );
    t.git(&t.repo, &["commit", "-qam", "teardown"]);
    t.ok(&t.repo, &["trust"]);
    t.ok_on(&e2, &t.repo, &["new", "a", "--up"]);
    // An engine that does not answer: refused, nothing recorded, the stack where it was.
    let silent = format!("tcp://{}:1", engine_addr(&e2));
    let err = t.fails(&t.repo, &["up", "a", "--engine", &silent], 1);
    assert!(err.contains("does not answer"), "{err}");
    assert_eq!(
        t.registry()["instances"][0]["engine"]["endpoint"],
        e2.as_str()
    );
    // rm in a shell aimed at the main engine: the teardown's docker talks to engine2.
    let out = t
        .cmd_on(MAIN, &t.repo)
        .args(["rm", "a", "--yes"])
        .output()
        .expect("rm");
    assert!(out.status.success(), "{out:?}");
    let said = std::fs::read_to_string(&seen).expect("the teardown ran");
    assert_eq!(
        said.trim(),
        engine_id_of(Some(&e2)),
        "teardown asked another engine"
    );
    assert_ne!(said.trim(), engine_id_of(None));
}
