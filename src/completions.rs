//! Shell completion: thin bash, zsh and fish scripts that hand the words typed so far to
//! `git-sandbox __complete`, which walks the clap definition (subcommands, flags, possible
//! values) and adds the registered sandbox names wherever a NAME goes. One engine for three
//! shells, always in step with the CLI, for both `git-sandbox <TAB>` and `git sandbox <TAB>`
//! (bash's git completion calls `_git_sandbox`, zsh's calls `_git-sandbox`, fish's git
//! completion is extended with a condition on `sandbox`).

use clap::{Arg, Command};

/// The script for `completions SHELL`.
pub fn script(shell: &str) -> Option<&'static str> {
    match shell {
        "bash" => Some(BASH),
        "zsh" => Some(ZSH),
        "fish" => Some(FISH),
        _ => None,
    }
}

const BASH: &str = r#"# bash completion for git-sandbox; load with: source <(git-sandbox completions bash)
_git_sandbox_from() {
    local IFS=$'\n'
    COMPREPLY=($(git-sandbox __complete -- "${COMP_WORDS[@]:$1:$((COMP_CWORD - $1 + 1))}" 2>/dev/null))
}
# `git sandbox <TAB>`: git's own completion calls _git_sandbox.
_git_sandbox() {
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == sandbox ]] && break
    done
    _git_sandbox_from $((i + 1))
}
# `git-sandbox <TAB>`
_git-sandbox() {
    _git_sandbox_from 1
}
complete -F _git-sandbox git-sandbox
"#;

const ZSH: &str = r#"#compdef git-sandbox
# zsh completion for git-sandbox; put it on $fpath as _git-sandbox, or source it after compinit.
# zsh's git completion calls _git-sandbox for `git sandbox <TAB>`.
_git-sandbox() {
    local -a cands
    cands=(${(f)"$(git-sandbox __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)"})
    compadd -a cands
}
# Autoloaded from $fpath, this file is the function's first call: complete now. Sourced, it
# only registers the function.
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _git-sandbox "$@"
elif (( $+functions[compdef] )); then
    compdef _git-sandbox git-sandbox
fi
"#;

const FISH: &str = r#"# fish completion for git-sandbox, for `git-sandbox` and `git sandbox`. Install it in conf.d
# (git-sandbox completions fish > ~/.config/fish/conf.d/git-sandbox.fish): fish reads files in
# completions/ by command name only, so it would not find this one when completing `git`.
function __git_sandbox_complete
    set -l toks (commandline -opc)
    set -l cur (commandline -ct)
    if test "$toks[1]" = git
        set -l i (contains -i -- sandbox $toks)
        set toks $toks[(math $i + 1)..-1]
    else
        set toks $toks[2..-1]
    end
    git-sandbox __complete -- $toks "$cur" 2>/dev/null
end
complete -c git-sandbox -f -a '(__git_sandbox_complete)'
complete -c git -n '__fish_seen_subcommand_from sandbox' -f -a '(__git_sandbox_complete)'
"#;

/// Candidates for the last of `words` (the words after `git-sandbox` / `git sandbox`).
pub fn candidates(
    root: &Command,
    words: &[String],
    names: impl Fn() -> Vec<String>,
) -> Vec<String> {
    let Some((cur, done)) = words.split_last() else {
        return Vec::new();
    };
    let mut cmd = root;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0;
    for w in done {
        if pending.take().is_some() {
            continue;
        }
        if w == "--" {
            continue;
        }
        if let Some(flag) = w.strip_prefix("--") {
            if !flag.contains('=') {
                pending = find_long(root, cmd, flag).filter(|a| takes_value(a));
            }
            continue;
        }
        if let Some(short) = w.strip_prefix('-').and_then(|s| s.chars().last()) {
            pending = find_short(root, cmd, short).filter(|a| takes_value(a));
            continue;
        }
        if let Some(sub) = cmd.find_subcommand(w) {
            cmd = sub;
            positionals = 0;
            continue;
        }
        positionals += 1;
    }
    let mut out: Vec<String> = if let Some(arg) = pending {
        arg.get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect()
    } else if cur.starts_with('-') {
        cmd.get_arguments()
            .chain(root.get_arguments().filter(|a| a.is_global_set()))
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .chain(["--help".to_string()])
            .collect()
    } else {
        let mut v: Vec<String> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect();
        let positional = cmd.get_positionals().nth(positionals);
        if let Some(arg) = positional {
            v.extend(
                arg.get_possible_values()
                    .iter()
                    .filter(|p| !p.is_hide_set())
                    .map(|p| p.get_name().to_string()),
            );
        }
        if positional.is_some_and(|a| a.get_id() == "name") {
            v.extend(names());
        }
        v
    };
    out.retain(|c| c.starts_with(cur.as_str()));
    out.sort();
    out.dedup();
    out
}

fn takes_value(a: &Arg) -> bool {
    a.get_action().takes_values()
}

fn find_long<'a>(root: &'a Command, cmd: &'a Command, flag: &str) -> Option<&'a Arg> {
    cmd.get_arguments()
        .chain(root.get_arguments())
        .find(|a| a.get_long() == Some(flag))
}

fn find_short<'a>(root: &'a Command, cmd: &'a Command, c: char) -> Option<&'a Arg> {
    cmd.get_arguments()
        .chain(root.get_arguments())
        .find(|a| a.get_short() == Some(c))
}
