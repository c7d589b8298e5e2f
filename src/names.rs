//! Sandbox names: what a user may type, and the slug that names the branch, the directory and
//! the instance id.

use anyhow::Result;

use crate::error::UserError;

/// `My Feature!` → `my-feature`. Rejects what must never reach a path: names that start with
/// `-`, hold `..` or a path separator, or slug to nothing.
pub fn slugify(name: &str) -> Result<String> {
    let bad = |why: &str| -> anyhow::Error {
        UserError::usage(format!("invalid sandbox name {name:?}: {why}"))
            .hint("use letters, digits, spaces, - and _ (e.g. `git sandbox new my-feature`)")
            .into()
    };
    if name.starts_with('-') {
        return Err(bad("it starts with -"));
    }
    if name.contains("..") {
        return Err(bad("it contains .."));
    }
    if name.contains('/') || name.contains('\\') {
        return Err(bad("it contains a path separator"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(bad("it contains a control character"));
    }
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if c == '_' || c == '.' {
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
        assert!(slugify("a/b").is_err());
    }
}
