//! Per-user files that are symlinks (a dotfiles manager's): every write goes through the link
//! to its target, atomically there, and the link stays a link.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use crate::common::TestEnv;

/// Makes `link` a relative symlink to `target` (made with `text`, unless `None`).
fn link_to(link: &Path, target: &Path, text: Option<&str>) -> String {
    fs::create_dir_all(link.parent().expect("dir")).expect("mkdir");
    fs::create_dir_all(target.parent().expect("dir")).expect("mkdir");
    if let Some(text) = text {
        fs::write(target, text).expect("target");
    }
    let rel = pathdiff(target, link.parent().expect("dir"));
    symlink(&rel, link).expect("symlink");
    rel
}

/// `target` relative to `dir` (both under the test root).
fn pathdiff(target: &Path, dir: &Path) -> String {
    let depth = dir.components().count();
    let common = target
        .components()
        .zip(dir.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = "../".repeat(depth - common);
    let rest: Vec<String> = target
        .components()
        .skip(common)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    format!("{ups}{}", rest.join("/"))
}

/// `link` is still a link to `rel`, and no temp file is left beside it or its target.
fn still_linked(link: &Path, rel: &str, target: &Path) {
    let meta = fs::symlink_metadata(link).expect("link");
    assert!(
        meta.file_type().is_symlink(),
        "{} became a plain file",
        link.display()
    );
    assert_eq!(
        fs::read_link(link).expect("read link").to_string_lossy(),
        rel
    );
    for dir in [link.parent().expect("dir"), target.parent().expect("dir")] {
        for e in fs::read_dir(dir).expect("dir").flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            assert!(
                !n.ends_with(".tmp"),
                "left a temp file {n} in {}",
                dir.display()
            );
        }
    }
}

#[test]
fn a_symlinked_registry_is_written_through_to_its_target() {
    let t = TestEnv::new();
    let link = t.reg_home.join("registry.json");
    let target = t.root.join("dotfiles/git-sandbox/registry.json");
    let rel = link_to(
        &link,
        &target,
        Some("{\"version\": 1, \"instances\": []}\n"),
    );
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).expect("chmod");
    let p = t.new_sandbox("s");
    still_linked(&link, &rel, &target);
    assert!(
        fs::read_to_string(&target)
            .expect("target")
            .contains("repo--s")
    );
    assert_eq!(
        fs::metadata(&target).expect("meta").permissions().mode() & 0o777,
        0o640
    );
    t.ok(&t.repo, &["rm", "s", "--yes"]);
    still_linked(&link, &rel, &target);
    assert!(
        !fs::read_to_string(&target)
            .expect("target")
            .contains("repo--s")
    );
    assert!(!p.exists());
}

#[test]
fn a_dangling_registry_link_gets_its_target_made() {
    let t = TestEnv::new();
    let link = t.reg_home.join("registry.json");
    let target = t.root.join("dotfiles/registry.json");
    let rel = link_to(&link, &target, None);
    t.new_sandbox("s");
    still_linked(&link, &rel, &target);
    assert!(
        fs::read_to_string(&target)
            .expect("target")
            .contains("repo--s")
    );
}

#[test]
fn symlinked_trust_and_agent_settings_stay_links() {
    let t = TestEnv::new();
    t.write(&t.repo, ".sandbox.toml", "[commands]\nsetup = [\"true\"]\n");
    t.git(&t.repo, &["add", ".sandbox.toml"]);
    t.git(&t.repo, &["commit", "-q", "-m", "commands"]);
    let trust = t.reg_home.join("trust.json");
    let trust_target = t.root.join("dotfiles/trust.json");
    let trust_rel = link_to(&trust, &trust_target, Some("{}\n"));
    t.ok(&t.repo, &["trust"]);
    still_linked(&trust, &trust_rel, &trust_target);
    let approved = fs::read_to_string(&trust_target).expect("trust");
    assert!(
        approved.contains(&t.repo.display().to_string()),
        "{approved}"
    );

    let settings = t.home.join(".claude/settings.json");
    let settings_target = t.root.join("dotfiles/claude/settings.json");
    let settings_rel = link_to(&settings, &settings_target, Some("{\"model\": \"x\"}\n"));
    t.ok(&t.root, &["agent-setup", "claude", "--user"]);
    still_linked(&settings, &settings_rel, &settings_target);
    let text = fs::read_to_string(&settings_target).expect("settings");
    assert!(
        text.contains("\"model\": \"x\"") && text.contains("worktree-create"),
        "{text}"
    );
}
