//! Sandbox names: what a user may type, and the slug that names the directory and the instance
//! id; the branch `new` makes of a name ([`for_new`]); and the plain form of a repository's
//! directory name that starts every instance id.
//!
//! Names are written as people write branches: `feature/login` is branch `feature/login` in
//! the sandbox (and directory part) `feature-login`; `Fix-Login` keeps its case in the branch
//! and slugs to `fix-login`. A name with spaces is a title: its branch is its slug
//! (`My Feature!` → `my-feature`). Anything else git refuses as a branch name (`a..b`,
//! `feature/`, `x.lock`) is a usage error.
//!
//! An instance id (`<repo>--<slug>`) is also git's worktree admin name, a path component of
//! `refs/sandbox/trash/<id>/…` and, lower-cased, the compose project name. git rewrites an
//! admin name it does not like (a space becomes `-`), refs refuse spaces and `"`, and compose
//! takes only `[a-z0-9_-]`: so ids hold ASCII letters, digits, `-`, `_` and `.` only, whatever
//! the directory is called (`my repo`, `it's "q"`, `dépôt-ü`).

use anyhow::Result;

use crate::error::UserError;

/// What `new NAME` makes of a name: the slug and the branch (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewName {
    pub slug: String,
    pub branch: String,
}

/// The slug and branch of `new NAME` (see the module doc).
pub fn for_new(name: &str) -> Result<NewName> {
    let slug = slugify(name)?;
    if name.chars().any(char::is_whitespace) {
        return Ok(NewName {
            branch: slug.clone(),
            slug,
        });
    }
    if !crate::git::branch_name_valid(name) {
        return Err(invalid(
            name,
            "git does not accept it as a branch name (no `..`, `~^:?*[`, `@{`, trailing `/` or `.`, \
             `.lock` ending, or part starting with `.`)",
        ));
    }
    Ok(NewName {
        slug,
        branch: name.to_string(),
    })
}

fn invalid(name: &str, why: &str) -> anyhow::Error {
    UserError::usage(format!("invalid sandbox name {}: {why}", shown(name)))
        .hint("use letters, digits, -, _ and / as in a branch name (e.g. `git sandbox new feature/login`)")
        .into()
}

/// A name as an error shows it: quoted, and cut with `…` past 40 characters (a 10 000
/// character name must not bury the reason).
pub fn shown(name: &str) -> String {
    const MAX: usize = 40;
    if name.chars().count() <= MAX {
        return format!("{name:?}");
    }
    let cut: String = name.chars().take(MAX).collect();
    format!(
        "{:?} ({} characters)",
        format!("{cut}…"),
        name.chars().count()
    )
}

/// `My Feature!` → `my-feature`, `feature/login` → `feature-login`. Rejects what must never
/// reach a path: names that start with `-`, hold `..`, a backslash, or a `/` at either end or
/// doubled, or slug to nothing. A slug never holds a `/`.
pub fn slugify(name: &str) -> Result<String> {
    let bad = |why: &str| invalid(name, why);
    if name.starts_with('-') {
        return Err(bad("it starts with -"));
    }
    if name.contains("..") {
        return Err(bad("it contains .."));
    }
    if name.contains('\\') {
        return Err(bad("it contains a backslash"));
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err(bad("a / may only separate parts, as in a branch name"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(bad("it contains a control character"));
    }
    let mut slug = String::new();
    for c in name.chars().flat_map(fold) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if c == '_' || (c == '.' && !slug.ends_with('.')) {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches(|c| c == '-' || c == '.').to_string();
    if slug.is_empty() {
        return Err(bad("it has no letters or digits"));
    }
    if slug.len() > 64 {
        return Err(bad("it is longer than 64 characters"));
    }
    Ok(slug)
}

/// Whether `s` matches the glob `pat` (`*` any run of characters, `?` one character).
pub fn wildcard(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(&p, &s)
}

/// The plain form of a repository's directory name, for instance ids: ASCII letters (case
/// kept, so ids of existing sandboxes do not change), digits, `_`, `-` and single `.`s; common
/// accented Latin letters lose their accents; every other run of characters becomes one `-`.
/// Never empty, never starts or ends with `-` or `.`.
pub fn id_part(dir_name: &str) -> String {
    let mut out = String::new();
    let mut replaced = false;
    for c in dir_name.chars().flat_map(fold) {
        let keep = c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if keep || (c == '.' && !out.ends_with('.')) {
            out.push(c);
            replaced = false;
        } else if c == '.' {
            // A second `.` in a row: dropped (`..` is no admin name or ref component).
        } else if !replaced {
            out.push('-');
            replaced = true;
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '.');
    if out.is_empty() {
        "repo".to_string()
    } else {
        out.to_string()
    }
}

/// A letter with its accent dropped (`é` → `e`, `ß` → `ss`); any other character as it is.
fn fold(c: char) -> impl Iterator<Item = char> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let base: &str = match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => "",
    };
    let folded: Vec<char> = if base.is_empty() {
        vec![c]
    } else if lower != c {
        base.to_uppercase().chars().collect()
    } else {
        base.chars().collect()
    };
    folded.into_iter()
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs() {
        assert_eq!(slugify("My Feature!").ok().as_deref(), Some("my-feature"));
        assert_eq!(slugify("fix_42").ok().as_deref(), Some("fix_42"));
        assert!(slugify("!!!").is_err());
        assert!(slugify("-x").is_err());
        assert!(slugify("a..b").is_err());
        assert_eq!(slugify("a/b").ok().as_deref(), Some("a-b"));
        assert!(slugify("/a").is_err());
        assert!(slugify("a/").is_err());
        assert!(slugify("a\\b").is_err());
        assert_eq!(slugify("Café Crème").ok().as_deref(), Some("cafe-creme"));
    }

    #[test]
    fn names_for_new() {
        use super::{NewName, for_new};
        let n = |slug: &str, branch: &str| {
            Some(NewName {
                slug: slug.into(),
                branch: branch.into(),
            })
        };
        assert_eq!(
            for_new("feature/login").ok(),
            n("feature-login", "feature/login")
        );
        assert_eq!(for_new("Fix-Login").ok(), n("fix-login", "Fix-Login"));
        assert_eq!(for_new("My Feature!").ok(), n("my-feature", "my-feature"));
        for bad in ["a..b", "feature/", "x.lock", "a/.b", "a:b", "a~1"] {
            assert!(for_new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_parts_are_plain() {
        use super::id_part;
        assert_eq!(id_part("repo"), "repo");
        assert_eq!(id_part("My.Repo_2"), "My.Repo_2");
        assert_eq!(id_part("my repo"), "my-repo");
        assert_eq!(id_part("it's \"q\""), "it-s-q");
        assert_eq!(id_part("dépôt-ü"), "depot-u");
        assert_eq!(id_part("Ærø"), "AEro");
        assert_eq!(id_part("a..b"), "a.b");
        assert_eq!(id_part(".hidden"), "hidden");
        assert_eq!(id_part("日本"), "repo");
        assert_eq!(id_part("x 日本 y"), "x-y");
    }
}
