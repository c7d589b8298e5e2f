//! `shell-init SHELL [--name sb]`: a shell function that `cd`s into sandboxes, for
//! `eval "$(git sandbox shell-init bash)"`: `sb new NAME` makes one and goes there, `sb NAME`
//! goes to one, `sb restore NAME` restores and goes there, and `sb` alone goes back to the
//! parent repo; `sb new NAME -- CMD` runs CMD on the terminal (no `cd`). Anything else is passed
//! to `git-sandbox` untouched: the function keeps no list of the binary's commands.

use anyhow::Result;

use crate::error::UserError;
use crate::ui;

/// Names the function must not take: what it calls itself (`git`, `git-sandbox`, `cd`,
/// `command`…) and the shells' builtins and everyday commands a user would lose.
const SHADOWED: &[&str] = &[
    "git",
    "git-sandbox",
    "cd",
    "command",
    "printf",
    "test",
    "set",
    "string",
    "return",
    "local",
    "case",
    "for",
    "if",
    "then",
    "else",
    "fi",
    "do",
    "done",
    "while",
    "function",
    "end",
    "switch",
    "contains",
    "count",
    "echo",
    "exec",
    "eval",
    "source",
    "export",
    "builtin",
    "type",
    "alias",
    "unset",
    "ls",
    "rm",
    "mv",
    "cp",
    "sh",
    "bash",
    "zsh",
    "fish",
    "sudo",
    "env",
];

pub fn run(shell: &str, name: &str) -> Result<i32> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(UserError::usage(format!("{name:?} is not a usable function name")).into());
    }
    if SHADOWED.contains(&name) {
        return Err(UserError::usage(format!(
            "a function named {name} would hide the shell's own `{name}` (git-sandbox itself calls it)"
        ))
        .hint("pick another name, e.g. --name sb")
        .into());
    }
    let text = match shell {
        "bash" | "zsh" => POSIX,
        "fish" => FISH,
        other => return Err(UserError::usage(format!("no shell integration for {other}")).into()),
    };
    ui::out(text.replace("__NAME__", name).trim_end());
    Ok(0)
}

// The function knows its own words only: no arguments, one argument that is not a command of
// the binary (asked of the binary itself, `help WORD`, so no list here can go stale), and
// `new`/`restore` without `-- CMD`, whose stdout is the path (anything else, `--json` or
// `--help`, is printed as is). Everything else runs untouched on the terminal.
const POSIX: &str = r#"# git-sandbox shell integration: __NAME__ new NAME | __NAME__ NAME | __NAME__ restore NAME | __NAME__
__NAME__() {
    local __sb_out __sb_arg
    if [ $# -eq 0 ]; then
        __sb_out=$(command git rev-parse --path-format=absolute --git-common-dir) && cd "${__sb_out%/.git}"
        return
    fi
    case "$1" in
        new|restore)
            for __sb_arg in "$@"; do
                if [ "$__sb_arg" = "--" ]; then
                    command git-sandbox "$@"
                    return
                fi
            done
            __sb_out=$(command git-sandbox "$@") || return
            if [ -d "$__sb_out" ]; then cd "$__sb_out"; elif [ -n "$__sb_out" ]; then printf '%s\n' "$__sb_out"; fi ;;
        -*)
            command git-sandbox "$@" ;;
        *)
            if [ $# -eq 1 ] && ! command git-sandbox help "$1" >/dev/null 2>&1; then
                __sb_out=$(command git-sandbox path "$1") && cd "$__sb_out"
            else
                command git-sandbox "$@"
            fi ;;
    esac
}
"#;

const FISH: &str = r#"# git-sandbox shell integration: __NAME__ new NAME | __NAME__ NAME | __NAME__ restore NAME | __NAME__
function __NAME__
    if test (count $argv) -eq 0
        set -l dir (command git rev-parse --path-format=absolute --git-common-dir); and cd (string replace -r '/\.git$' '' -- $dir)
        return
    end
    switch "$argv[1]"
        case new restore
            if contains -- -- $argv
                command git-sandbox $argv
                return
            end
            set -l out (command git-sandbox $argv); or return
            if test (count $out) -eq 1; and test -d "$out[1]"
                cd $out[1]
            else if test (count $out) -gt 0
                printf '%s\n' $out
            end
        case '-*'
            command git-sandbox $argv
        case '*'
            if test (count $argv) -eq 1; and not command git-sandbox help $argv[1] >/dev/null 2>&1
                set -l dir (command git-sandbox path $argv[1]); and cd $dir
            else
                command git-sandbox $argv
            end
    end
end
"#;
