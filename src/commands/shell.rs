//! `shell-init SHELL [--name sb]`: a shell function that `cd`s into sandboxes, for
//! `eval "$(git sandbox shell-init bash)"`: `sb new NAME` makes one and goes there, `sb NAME`
//! goes to one, `sb restore NAME` restores and goes there, and `sb` alone goes back to the
//! parent repo. Anything else is passed to `git-sandbox` as is.

use anyhow::Result;

use crate::error::UserError;
use crate::ui;

pub fn run(shell: &str, name: &str) -> Result<i32> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(UserError::usage(format!("{name:?} is not a usable function name")).into());
    }
    let text = match shell {
        "bash" | "zsh" => POSIX,
        "fish" => FISH,
        other => return Err(UserError::usage(format!("no shell integration for {other}")).into()),
    };
    ui::out(text.replace("__NAME__", name).trim_end());
    Ok(0)
}

const POSIX: &str = r#"# git-sandbox shell integration: __NAME__ new NAME | __NAME__ NAME | __NAME__ restore NAME | __NAME__
__NAME__() {
    local __sb_dir
    case "$1" in
        new|restore)
            __sb_dir=$(command git-sandbox "$@") && cd "$__sb_dir" ;;
        "")
            __sb_dir=$(command git rev-parse --path-format=absolute --git-common-dir) && cd "${__sb_dir%/.git}" ;;
        -*|list|ls|status|rm|prune|env|exec|up|down|logs|ps|ports|local-prod|hooks|trash|path|adopt|init)
            command git-sandbox "$@" ;;
        *)
            __sb_dir=$(command git-sandbox path "$1") && cd "$__sb_dir" ;;
    esac
}
"#;

const FISH: &str = r#"# git-sandbox shell integration: __NAME__ new NAME | __NAME__ NAME | __NAME__ restore NAME | __NAME__
function __NAME__
    switch "$argv[1]"
        case new restore
            set -l dir (command git-sandbox $argv); and cd $dir
        case ''
            set -l dir (command git rev-parse --path-format=absolute --git-common-dir); and cd (string replace -r '/\.git$' '' -- $dir)
        case '-*' list ls status rm prune env exec up down logs ps ports local-prod hooks trash path adopt init
            command git-sandbox $argv
        case '*'
            set -l dir (command git-sandbox path $argv[1]); and cd $dir
    end
end
"#;
