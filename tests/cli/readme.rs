//! The README's install section, run as written in a fresh HOME: its man-page and completion
//! lines, then `git help sandbox` and completion of `git sandbox <TAB>` in bash, zsh and a new
//! fish process. `cargo install --path .` itself is stood in for by a link in `~/.cargo/bin`
//! (building a second copy would take minutes and prove nothing more).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{BIN, TestEnv, skip};

/// The shell block that follows "do it once:" in the README.
fn install_lines() -> String {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let after = readme
        .split_once("do it once:")
        .expect("the README's install section")
        .1;
    let block = after.split_once("```sh\n").expect("a sh block").1;
    block
        .split_once("```")
        .expect("the block's end")
        .0
        .to_string()
}

/// The test env with HOME a fresh home whose `~/.cargo/bin` holds the binary.
fn fresh_home() -> (TestEnv, PathBuf) {
    let mut t = TestEnv::new();
    t.new_sandbox("alpha");
    t.new_sandbox("beta");
    let home = t.root.join("fresh-home");
    let bin = home.join(".cargo/bin");
    fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BIN, bin.join("git-sandbox")).expect("link");
    t.path_prefix = vec![bin];
    t.extra_env = vec![("HOME".into(), home.display().to_string())];
    (t, home)
}

fn run(t: &TestEnv, program: &str, args: &[&str], dir: &Path) -> String {
    let out = t.program(program, dir).args(args).output().expect(program);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?}:\n{all}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(t: &TestEnv, program: &str) -> bool {
    t.program("sh", &t.repo)
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_install_lines_work_in_a_fresh_home() {
    let (t, home) = fresh_home();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(&t, "bash", &["-euc", &install_lines()], manifest);

    if have(&t, "man") {
        let found = run(&t, "man", &["-w", "git-sandbox"], &t.repo);
        assert!(
            found.trim().starts_with(&home.display().to_string()),
            "{found}"
        );
        let mut help = t.git_cmd(&t.repo);
        help.args(["help", "sandbox"])
            .env("MANPAGER", "cat")
            .env("PAGER", "cat");
        let out = help.output().expect("git help");
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && page.contains("git sandbox"),
            "{page}"
        );
    } else {
        skip("readme::git help sandbox", "man(1) missing (man-db)");
    }
    bash_completes(&t, &home);
    zsh_completes(&t, &home);
    fish_completes(&t);
}

fn bash_completes(t: &TestEnv, home: &Path) {
    let loader = "/usr/share/bash-completion/bash_completion";
    let git = "/usr/share/bash-completion/completions/git";
    let setup = if Path::new(loader).exists() {
        // bash-completion loads git's completion and, through it, ours.
        format!("source {loader}; _completion_loader git")
    } else if Path::new(git).exists() {
        format!(
            "source {git}; source {}",
            home.join(".local/share/bash-completion/completions/git-sandbox")
                .display()
        )
    } else {
        skip("readme::bash completion", "git's bash completion missing");
        return;
    };
    let out = run(
        t,
        "bash",
        &[
            "-c",
            &format!(
                r#"{setup}
COMP_WORDS=(git sandbox path ""); COMP_CWORD=3; COMP_LINE="git sandbox path "; COMP_POINT=${{#COMP_LINE}}
__git_wrap__git_main; echo "${{COMPREPLY[*]}}""#
            ),
        ],
        &t.repo,
    );
    assert!(out.contains("alpha beta"), "bash: {out}");
}

fn zsh_completes(t: &TestEnv, home: &Path) {
    if !have(t, "zsh") {
        skip(
            "readme::zsh completion",
            "zsh missing (.ci/run installs it)",
        );
        return;
    }
    fs::write(
        home.join(".zshrc"),
        "fpath+=(~/.zfunc)\nautoload -U compinit && compinit -u\n",
    )
    .expect("zshrc");
    let out = run(
        t,
        "zsh",
        &[
            "-ic",
            r#"print "registered: $_comps[git-sandbox]"
compadd() { local n=${@[-1]}; print -l -- ${(P)n} }
words=(git-sandbox path ""); CURRENT=3; _git-sandbox"#,
        ],
        &t.repo,
    );
    assert!(out.contains("registered: _git-sandbox"), "zsh: {out}");
    assert!(out.lines().any(|l| l == "beta"), "zsh: {out}");
}

fn fish_completes(t: &TestEnv) {
    if !have(t, "fish") {
        skip(
            "readme::fish completion",
            "fish missing (.ci/run installs it)",
        );
        return;
    }
    // A new fish process, as a user starts one: nothing is sourced by hand.
    for line in ["git sandbox path ", "git-sandbox path "] {
        let out = run(
            t,
            "fish",
            &["-c", &format!("complete -C '{line}'")],
            &t.repo,
        );
        assert!(
            out.lines().any(|l| l.starts_with("alpha"))
                && out.lines().any(|l| l.starts_with("beta")),
            "fish, {line:?}: {out}"
        );
    }
    let out = run(t, "fish", &["-c", "complete -C 'git chec'"], &t.repo);
    assert!(
        out.contains("checkout"),
        "git's own completion still works: {out}"
    );
    let _ = Command::new("true").status();
}
