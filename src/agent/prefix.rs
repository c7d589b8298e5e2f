//! `--branch-prefix`, checked and quoted: it is written into the command line of the
//! `WorktreeCreate` hook, which Claude Code runs through `sh -c`.

use anyhow::Result;

use crate::error::UserError;

/// The longest `--branch-prefix` taken.
const PREFIX_MAX: usize = 64;

/// Refuses (usage, exit 2) a `--branch-prefix` that is not the start of a branch name made of
/// `[A-Za-z0-9._/-]` (at most 64 bytes): it is written into a command line Claude Code runs
/// through `sh -c`, so nothing a shell reads specially may get there.
pub fn check_prefix(prefix: &str) -> Result<()> {
    let chars_ok = prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    let ok = chars_ok
        && prefix.len() <= PREFIX_MAX
        && crate::git::branch_name_valid(&format!("{prefix}x"));
    if ok {
        return Ok(());
    }
    Err(UserError::usage(format!(
        "--branch-prefix {prefix:?} is not a branch-name prefix: use at most {PREFIX_MAX} of \
         the characters A-Z a-z 0-9 . _ / - forming a valid branch name (e.g. `worktree-`)"
    ))
    .into())
}

/// `s` as one shell word: as it is when it holds only characters no shell treats specially,
/// else in single quotes.
pub fn shell_quoted(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | '=' | ':'));
    match plain {
        true => s.to_string(),
        false => format!("'{}'", s.replace('\'', r"'\''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_a_branch_start_of_safe_characters() {
        for good in ["worktree-", "wt/", "a.b_c-", "x"] {
            assert!(check_prefix(good).is_ok(), "{good}");
        }
        let long = "a".repeat(65);
        for bad in [
            "wt;touch /tmp/p;",
            "a b",
            "$(x)",
            "`x`",
            "..",
            "a..",
            "-",
            ".a",
            long.as_str(),
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_word_with_specials_is_single_quoted() {
        assert_eq!(shell_quoted("worktree-"), "worktree-");
        assert_eq!(shell_quoted("a;b"), "'a;b'");
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
        assert_eq!(shell_quoted(""), "''");
    }
}
