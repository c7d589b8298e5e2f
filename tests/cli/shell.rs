//! Completions in real bash, zsh and fish, and the shell integration.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{BIN, TestEnv};

/// A TestEnv with `git-sandbox` on PATH and two sandboxes.
fn env_with_sandboxes() -> TestEnv {
    let mut t = TestEnv::new();
    let bin = t.root.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BIN, bin.join("git-sandbox")).expect("link");
    t.path_prefix = vec![bin];
    t.new_sandbox("alpha");
    t.new_sandbox("beta");
    t
}

fn shell(t: &TestEnv, sh: &str, script: &str) -> String {
    let out = t
        .program(sh, &t.repo)
        .arg("-c")
        .arg(script)
        .output()
        .expect("run shell");
    assert!(
        out.status.success(),
        "{sh} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(sh: &str) -> bool {
    let ok = Command::new(sh)
        .arg("-c")
        .arg("exit 0")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        crate::common::skip(
            &format!("the {sh} completion tests"),
            &format!("{sh} missing (.ci/run installs it)"),
        );
    }
    ok
}

#[test]
fn bash_completes_commands_and_names_for_both_spellings() {
    if !have("bash") {
        return;
    }
    let t = env_with_sandboxes();
    let script = t.root.join("c.bash");
    std::fs::write(&script, t.ok(&t.repo, &["completions", "bash"])).expect("write");
    let out = shell(
        &t,
        "bash",
        &format!(
            r#"source {s}
COMP_WORDS=(git-sandbox rm ""); COMP_CWORD=2; _git-sandbox; echo "direct: ${{COMPREPLY[*]}}"
COMP_WORDS=(git-sandbox st); COMP_CWORD=1; _git-sandbox; echo "sub: ${{COMPREPLY[*]}}"
COMP_WORDS=(git-sandbox rm --f); COMP_CWORD=2; _git-sandbox; echo "flag: ${{COMPREPLY[*]}}"
COMP_WORDS=(git sandbox path a); COMP_CWORD=3; _git_sandbox; echo "git: ${{COMPREPLY[*]}}"
if [ -f /usr/share/bash-completion/completions/git ]; then
  source /usr/share/bash-completion/completions/git
  COMP_WORDS=(git sandbox status ""); COMP_CWORD=3; COMP_LINE="git sandbox status "; COMP_POINT=${{#COMP_LINE}}
  __git_wrap__git_main; echo "gitcomp: ${{COMPREPLY[*]}}"
fi
"#,
            s = script.display()
        ),
    );
    assert!(out.contains("direct: alpha beta"), "{out}");
    assert!(out.contains("sub: status"), "{out}");
    assert!(out.contains("flag: --force"), "{out}");
    assert!(out.contains("git: alpha"), "{out}");
    if std::path::Path::new("/usr/share/bash-completion/completions/git").exists() {
        assert!(out.contains("gitcomp: alpha beta"), "{out}");
    }
}

#[test]
fn zsh_completion_loads_and_offers_names() {
    if !have("zsh") {
        return;
    }
    let t = env_with_sandboxes();
    let script = t.root.join("_git-sandbox");
    std::fs::write(&script, t.ok(&t.repo, &["completions", "zsh"])).expect("write");
    // Loads under compinit; compadd is then stood in for, to read what would be offered.
    let out = shell(
        &t,
        "zsh",
        &format!(
            r#"autoload -U compinit && compinit -u -D
source {s}
print "registered: $_comps[git-sandbox]"
compadd() {{ local n=${{@[-1]}}; print -l -- ${{(P)n}} }}
words=(git-sandbox rm ""); CURRENT=3; _git-sandbox
words=(sandbox local-prod ""); CURRENT=3; _git-sandbox
"#,
            s = script.display()
        ),
    );
    assert!(out.contains("registered: _git-sandbox"), "{out}");
    assert!(
        out.lines().any(|l| l == "alpha") && out.lines().any(|l| l == "beta"),
        "{out}"
    );
    assert!(out.lines().any(|l| l == "up"), "{out}");
}

#[test]
fn fish_completes_names_for_both_spellings() {
    if !have("fish") {
        return;
    }
    let t = env_with_sandboxes();
    let script = t.root.join("c.fish");
    std::fs::write(&script, t.ok(&t.repo, &["completions", "fish"])).expect("write");
    let out = shell(
        &t,
        "fish",
        &format!(
            "source {s}; complete -C 'git-sandbox rm '; echo ---; complete -C 'git sandbox path b'; echo ---; complete -C 'git-sandbox lo'",
            s = script.display()
        ),
    );
    let parts: Vec<&str> = out.split("---\n").collect();
    assert!(
        parts[0].lines().any(|l| l.starts_with("alpha"))
            && parts[0].lines().any(|l| l.starts_with("beta")),
        "{out}"
    );
    assert!(parts[1].lines().any(|l| l.starts_with("beta")), "{out}");
    assert!(
        parts[2].lines().any(|l| l.starts_with("local-prod"))
            && parts[2].lines().any(|l| l.starts_with("logs")),
        "{out}"
    );
}

#[test]
fn shell_init_cds_into_new_and_named_sandboxes() {
    let t = env_with_sandboxes();
    for sh in ["bash", "zsh"] {
        if !have(sh) {
            continue;
        }
        let out = shell(
            &t,
            sh,
            &format!(
                r#"eval "$(git-sandbox shell-init {sh})"
sb new via-{sh} >/dev/null 2>&1; pwd
sb alpha; pwd
sb; pwd"#
            ),
        );
        let lines: Vec<PathBuf> = out.lines().map(PathBuf::from).collect();
        assert_eq!(
            lines[0],
            t.sandbox_path(&format!("via-{sh}")),
            "{sh}: {out}"
        );
        assert_eq!(lines[1], t.sandbox_path("alpha"), "{sh}: {out}");
        assert_eq!(lines[2], t.repo, "{sh}: {out}");
    }
    if have("fish") {
        let out = shell(
            &t,
            "fish",
            "git-sandbox shell-init fish | source; sb new via-fish >/dev/null 2>&1; pwd; sb beta; pwd",
        );
        let lines: Vec<PathBuf> = out.lines().map(PathBuf::from).collect();
        assert_eq!(
            lines,
            vec![t.sandbox_path("via-fish"), t.sandbox_path("beta")],
            "{out}"
        );
    }
}

#[test]
fn completion_offers_shell_names_and_never_hidden_commands() {
    let t = env_with_sandboxes();
    let complete = |words: &[&str]| -> Vec<String> {
        let mut args = vec!["__complete", "--"];
        args.extend_from_slice(words);
        t.ok(&t.repo, &args).lines().map(String::from).collect()
    };
    for cmd in ["completions", "shell-init"] {
        assert_eq!(complete(&[cmd, ""]), ["bash", "fish", "zsh"], "{cmd}");
    }
    for words in [&[""][..], &["_"], &["__"], &["help", ""]] {
        let got = complete(words);
        assert!(
            got.iter().all(|c| !c.starts_with('_') && c != "hook"),
            "{words:?}: {got:?}"
        );
    }
    assert!(complete(&[""]).contains(&"new".to_string()));
}

/// Runs `script_text` in `sh` on a real terminal (a pty from script(1)); what it showed.
fn on_pty(t: &TestEnv, sh: &str, script_text: &str) -> String {
    let file = t.root.join(format!("pty-{sh}.sh"));
    std::fs::write(&file, script_text).expect("write the script");
    let out = t
        .program("script", &t.repo)
        .args(["-qec", &format!("{sh} {}", file.display()), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script(1)");
    let shown = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(out.status.success(), "{sh}: {shown}");
    shown
}

/// `sb new NAME -- CMD` runs CMD on the terminal (its stdout is the terminal, never captured)
/// and stays where it is; `sb new NAME` goes there; every command of the binary the function
/// does not know (here `mv`, `copy`, `setup`, `trust`, `compose-file`, `agent-setup`,
/// `completions`, `help`) reaches `git-sandbox` untouched, never read as a sandbox name.
#[test]
fn shell_function_runs_a_command_on_the_terminal_and_passes_every_other_word_through() {
    if Command::new("script").arg("--version").output().is_err() {
        crate::common::skip(
            "the shell-function pty test",
            "script(1) missing (util-linux)",
        );
        return;
    }
    let t = env_with_sandboxes();
    for sh in ["bash", "zsh", "fish"] {
        if !have(sh) {
            continue;
        }
        let init = if sh == "fish" {
            "git-sandbox shell-init fish | source".to_string()
        } else {
            format!(r#"eval "$(git-sandbox shell-init {sh})""#)
        };
        let words = "mv copy setup trust compose-file agent-setup completions help";
        let pass = if sh == "fish" {
            format!("for w in {words}; sb $w; echo \"[$w]\"; end")
        } else {
            format!("for w in {words}; do sb $w; echo \"[$w]\"; done")
        };
        let script_text = format!(
            r#"{init}
sb new cmd-{sh} -- sh -c 'if [ -t 1 ]; then echo "on a terminal"; fi; echo "ran in $(pwd)"'
echo "then in $(pwd)"
sb new plain-{sh} >/dev/null 2>&1; echo "plain in $(pwd)"
sb
sb mv plain-{sh} moved-{sh}
sb moved-{sh}; echo "now in $(pwd)"
sb
{pass}
"#
        );
        let shown = on_pty(&t, sh, &script_text);
        let cmd_dir = t.sandbox_path(&format!("cmd-{sh}"));
        assert!(shown.contains("on a terminal"), "{sh}: {shown}");
        assert!(
            shown.contains(&format!("ran in {}", cmd_dir.display())),
            "{sh}: {shown}"
        );
        assert!(
            shown.contains(&format!("then in {}\n", t.repo.display())),
            "{sh}: a command given, no cd: {shown}"
        );
        assert!(!shown.contains("No such file"), "{sh}: {shown}");
        let moved = t.sandbox_path(&format!("moved-{sh}"));
        assert!(
            shown.contains(&format!("now in {}", moved.display())),
            "{sh}: {shown}"
        );
        let plain = t.sandbox_path(&format!("plain-{sh}"));
        assert!(
            shown.contains(&format!("plain in {}", plain.display())),
            "{sh}: {shown}"
        );
        assert!(!shown.contains("no sandbox named"), "{sh}: {shown}");
        for w in words.split(' ') {
            assert!(shown.contains(&format!("[{w}]")), "{sh} {w}: {shown}");
        }
        // `sb help` is the binary's help; `sb completions` its usage error.
        assert!(shown.contains("Usage:"), "{sh}: {shown}");
    }
}
