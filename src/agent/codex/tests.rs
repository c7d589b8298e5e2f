//! The Codex edits round-tripped: every quoting, platform scripts, CRLF, the template.

use super::*;

fn round_trip(original: &str) {
    let p = Path::new("e.toml");
    let added = install(Some(original), "r", p).expect("install");
    let text = added.text.expect("text");
    for key in ["setup", "cleanup"] {
        assert!(added.changed.iter().any(|c| c == key), "{text}");
    }
    let doc = parse(&text, p).expect("parses");
    let setup = doc["setup"]["script"].as_str().expect("setup");
    let cleanup = doc["cleanup"]["script"].as_str().expect("cleanup");
    assert!(setup.starts_with(SETUP_LINE), "{setup:?}");
    assert!(cleanup.trim_end().ends_with(CLEANUP_LINE), "{cleanup:?}");
    let again = install(Some(&text), "r", p).expect("again");
    assert!(again.changed.is_empty());
    let removed = uninstall(Some(&text), "r", p).expect("uninstall");
    assert_eq!(removed.text.as_deref(), Some(original), "{text}");
}

#[test]
fn every_quoting_round_trips() {
    round_trip(
        "version = 1\nname = \"x\"\n\n[setup]\nscript = '''\nnpm ci\n'''\n\n[cleanup]\nscript = '''\nmake clean\n'''\n",
    );
    round_trip("[setup]\nscript = \"npm ci\"\n[cleanup]\nscript = 'make clean'\n");
    round_trip(
        "[setup]\nscript = \"\"\"\nnpm ci\"\"\"\n[cleanup]\nscript = \"\"\"make clean\"\"\"",
    );
    round_trip("[setup]\nscript = ''\n[cleanup]\nscript = \"\"\n");
    round_trip("version = 1\nname = \"no tables, no newline\"");
    round_trip("setup = { script = 'a' }\n[[actions]]\nname = \"Run\"\ncommand = \"npm start\"\n");
}

#[test]
fn platform_scripts_get_the_line_too_and_windows_is_said() {
    let original = "version = 1\n[setup]\nscript = 'npm ci'\n[setup.linux]\nscript = '''\napt-get x\n'''\n[setup.darwin]\nscript = \"brew x\"\n[setup.win32]\nscript = 'choco x'\n[cleanup.linux]\nscript = '''\nmake clean\n'''\n";
    round_trip(original);
    let p = Path::new("e.toml");
    let c = install(Some(original), "r", p).expect("install");
    assert_eq!(
        c.changed,
        [
            "setup",
            "setup.linux",
            "setup.darwin",
            "cleanup",
            "cleanup.linux"
        ]
    );
    let doc = parse(c.text.as_deref().unwrap_or_default(), p).expect("parses");
    for (k, pl) in [("setup", "linux"), ("setup", "darwin")] {
        let sc = doc[k][pl]["script"].as_str().unwrap_or_default();
        assert!(sc.starts_with(SETUP_LINE), "{sc:?}");
    }
    let cl = doc["cleanup"]["linux"]["script"]
        .as_str()
        .unwrap_or_default();
    assert!(cl.trim_end().ends_with(CLEANUP_LINE), "{cl:?}");
    assert_eq!(doc["setup"]["win32"]["script"].as_str(), Some("choco x"));
    assert!(
        c.warnings.iter().any(|w| w.contains("[setup.win32]")),
        "{:?}",
        c.warnings
    );
    // Only platform scripts: the default one is appended beside them.
    round_trip("[setup.darwin]\nscript = \"brew x\"\n");
}

#[test]
fn a_crlf_file_gets_crlf_lines() {
    let original = "version = 1\r\n[setup]\r\nscript = '''\r\nnpm ci\r\n'''\r\n[cleanup]\r\nscript = '''\r\nmake clean\r\n'''\r\n";
    round_trip(original);
    let text = install(Some(original), "r", Path::new("e.toml"))
        .expect("install")
        .text
        .expect("text");
    assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
    round_trip("version = 1\r\nname = \"x\"\r\n");
}

#[test]
fn a_new_file_is_the_template_and_goes_whole() {
    let p = Path::new("e.toml");
    let c = install(None, "shop", p).expect("install");
    let text = c.text.expect("text");
    assert!(parse(&text, p).is_ok());
    assert_eq!(uninstall(Some(&text), "shop", p).expect("rm").text, None);
}
