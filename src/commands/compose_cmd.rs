//! `compose [NAME] [--] ARGS…`: any compose command for a sandbox, and the one rule that says
//! which of its words is the sandbox's name.
//!
//! With `--`: the word before it (at most one) is the name, every word after it is compose's.
//! Without `--`: the first word is the name only when a sandbox of this repo has it and it is
//! not a compose command (`ps`, `logs`…); a word that is both is compose's, and stderr says how
//! to mean the sandbox instead. When no name was given, the sandbox used is named on stderr.

use anyhow::Result;

use crate::commands::Ctx;
use crate::commands::services::compose_run;
use crate::error::UserError;
use crate::target;
use crate::ui;

/// Docker compose's commands (v1 and v2): a word among them is compose's, not a sandbox name,
/// unless `--` says otherwise.
const COMPOSE_COMMANDS: &[&str] = &[
    "attach", "build", "commit", "config", "cp", "create", "down", "events", "exec", "export",
    "help", "images", "kill", "logs", "ls", "pause", "port", "ps", "publish", "pull", "push",
    "restart", "rm", "run", "scale", "start", "stats", "stop", "top", "unpause", "up", "version",
    "viz", "wait", "watch",
];

/// How the words split: the sandbox's name (if given) and compose's arguments.
struct Split<'a> {
    name: Option<&'a str>,
    rest: &'a [String],
}

pub fn compose(ctx: &Ctx, args: crate::cli::ComposeArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let data = ctx.reg.load()?;
    let words = args.words;
    let is_sandbox = |w: &str| target::by_name(&repo, &data, w).is_ok();
    let split = split(&words, leading_dashes(&words), is_sandbox)?;
    if split.rest.is_empty() {
        return Err(UserError::usage("no compose command given")
            .hint("git sandbox compose [NAME] -- ps (or any docker compose command)")
            .into());
    }
    let inst = target::resolve(&repo, &data, split.name, &ctx.cwd)?;
    if split.name.is_none() {
        ui::info(&format!("sandbox {} (the current directory's)", inst.name));
    }
    let a: Vec<&str> = split.rest.iter().map(String::as_str).collect();
    compose_run(&repo, &cfg, &inst, &a)
}

/// Whether the command line had `--` right before the words: clap takes a leading `--` as its
/// own separator and drops it, so `compose -- ps` and `compose ps` reach us alike; the raw
/// arguments still tell them apart (the words are always their tail).
fn leading_dashes(words: &[String]) -> bool {
    let raw: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    raw.len() > words.len() && raw[raw.len() - words.len() - 1] == "--"
}

/// The rule of the module doc, on the words clap left (`dashed`: a `--` came before them all).
fn split<'a>(
    words: &'a [String],
    dashed: bool,
    is_sandbox: impl Fn(&str) -> bool,
) -> Result<Split<'a>> {
    if dashed {
        return Ok(Split {
            name: None,
            rest: words,
        });
    }
    match words.iter().position(|w| w == "--") {
        Some(0) => Ok(Split {
            name: None,
            rest: &words[1..],
        }),
        Some(1) => Ok(Split {
            name: Some(words[0].as_str()),
            rest: &words[2..],
        }),
        Some(_) => Err(UserError::usage("more than one word before `--`")
            .hint("git sandbox compose [NAME] -- COMPOSE_ARGS…")
            .into()),
        None => {
            let first = words.first().map(String::as_str).unwrap_or_default();
            if !is_sandbox(first) {
                return Ok(Split {
                    name: None,
                    rest: words,
                });
            }
            if COMPOSE_COMMANDS.contains(&first) {
                ui::info(&format!(
                    "`{first}` taken as compose's command; for the sandbox named {first}, write `git sandbox compose {first} -- ARGS…`"
                ));
                return Ok(Split {
                    name: None,
                    rest: words,
                });
            }
            Ok(Split {
                name: Some(first),
                rest: &words[1..],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn parts(words: &[String], dashed: bool, sandboxes: &[&str]) -> (Option<String>, String) {
        let s = split(words, dashed, |n| sandboxes.contains(&n)).expect("split");
        (s.name.map(String::from), s.rest.join(" "))
    }

    #[test]
    fn dashes_decide_and_a_word_both_sandbox_and_command_is_composes() {
        let sb = ["ps", "logs", "web"];
        assert_eq!(parts(&w("ps"), true, &sb), (None, "ps".into()));
        assert_eq!(parts(&w("ps -a"), true, &sb), (None, "ps -a".into()));
        assert_eq!(
            parts(&w("ps -- -a"), false, &sb),
            (Some("ps".into()), "-a".into())
        );
        assert_eq!(
            parts(&w("logs --tail 1"), false, &sb),
            (None, "logs --tail 1".into())
        );
        assert_eq!(
            parts(&w("web logs"), false, &sb),
            (Some("web".into()), "logs".into())
        );
        assert_eq!(parts(&w("other ps"), false, &sb), (None, "other ps".into()));
        assert!(split(&w("a b -- ps"), false, |_| true).is_err());
    }
}
