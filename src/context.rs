//! `.sandbox/context.md`: a short page in each sandbox telling a person or a coding agent what
//! runs where (name, branch, slot, each service's port and URL, the env file) and which
//! commands start, stop and show the services and run a command with the sandbox's env.
//!
//! Invariants:
//! - It is disposable tool output, like the env file: written whenever the env file is
//!   (`new`, `adopt`, `restore`, `local-prod new`, and a compose command that finds the env
//!   file gone), git-ignored through `$GIT_COMMON_DIR/info/exclude`, and not work `rm`
//!   protects ([`crate::safety`] leaves it out of the ignored files it keeps) — when it
//!   carries our mark: a page there without it is the user's, kept like any ignored file.
//! - Written atomically (temp file, fsync, rename) and never through a link or over a file
//!   git-sandbox did not write: such a file is left alone and the write is skipped.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::config::{Config, env_name};
use crate::env;
use crate::registry::{Instance, Kind};

/// The file's path relative to the sandbox (`/`-separated, as git prints it).
pub const REL: &str = ".sandbox/context.md";

/// The first line of every file git-sandbox writes here.
const MARK: &str = "<!-- Written by git-sandbox.";

/// The file in sandbox `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(REL)
}

/// Whether `file` is one git-sandbox wrote (a regular file starting with its mark).
pub fn ours(file: &Path) -> bool {
    let is_file = fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_file());
    is_file
        && fs::read_to_string(file)
            .map(|t| t.starts_with(MARK))
            .unwrap_or(false)
}

/// The ignored paths of sandbox `dir` that are git-sandbox's own, by their mark and never by
/// their name alone: the context page, the rendered compose file, the `.sandbox/` directory
/// when it holds only those, and an env file in the root (under the configured name or a
/// previous one). A file there without our mark is the user's.
pub fn is_ours(dir: &Path, ignored: &str) -> bool {
    match ignored {
        REL => ours(&path(dir)),
        crate::compose::render::REL => crate::compose::render::ours(&dir.join(ignored)),
        ".sandbox/" => fs::read_dir(dir.join(".sandbox")).is_ok_and(|rd| {
            rd.flatten().all(|e| match e.file_name().to_str() {
                Some("context.md") => ours(&path(dir)),
                Some("compose.yml") => crate::compose::render::ours(&e.path()),
                _ => false,
            })
        }),
        p if !p.contains('/') => env::ours(&dir.join(p)),
        _ => false,
    }
}

/// Writes the file, or says why it did not (the sandbox is usable without it).
pub fn refresh(cfg: &Config, inst: &Instance, dir: &Path) -> Option<String> {
    write(cfg, inst, dir)
        .err()
        .map(|e| format!("{REL} was not written: {e:#}"))
}

/// `<dir>/.sandbox/`, made if missing; an error if it is a link or not a directory (nothing
/// of git-sandbox's is ever written through one).
pub fn folder(dir: &Path) -> Result<PathBuf> {
    let folder = dir.join(".sandbox");
    match fs::symlink_metadata(&folder) {
        Ok(m) if !m.file_type().is_dir() => bail!("{} is not a directory", folder.display()),
        Ok(_) => {}
        Err(_) => fs::create_dir(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?,
    }
    Ok(folder)
}

/// Writes `<dir>/.sandbox/context.md` atomically.
pub fn write(cfg: &Config, inst: &Instance, dir: &Path) -> Result<()> {
    let folder = folder(dir)?;
    let file = path(dir);
    if fs::symlink_metadata(&file).is_ok() && !ours(&file) {
        bail!("{} exists and git-sandbox did not write it", file.display());
    }
    let text = render(cfg, inst, crate::compose::has_file(dir, cfg))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".context.md.")
        .tempfile_in(&folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(&file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

/// The page's Markdown.
pub fn render(cfg: &Config, inst: &Instance, has_compose: bool) -> Result<String> {
    let local_prod = inst.kind == Kind::LocalProd;
    let title = if local_prod {
        format!("local-prod ({})", inst.id)
    } else {
        format!("Sandbox {}", inst.name)
    };
    let mut t = format!(
        "{MARK} Do not edit or commit: it is rewritten with the env file. -->\n# {title}\n\n"
    );
    t.push_str(&format!("- name: `{}`\n", inst.name));
    let project = crate::compose::owner::project(inst);
    if project == inst.id {
        t.push_str(&format!("- id: `{}` (also the compose project)\n", inst.id));
    } else {
        t.push_str(&format!(
            "- id: `{}`; compose project: `{project}`\n",
            inst.id
        ));
    }
    // What is checked out now: a detached HEAD is no branch, whatever was recorded.
    if let Some(at) = crate::git::detached_at(&inst.path) {
        t.push_str(&format!(
            "- branch: none, HEAD detached at `{}`\n",
            &at[..at.len().min(7)]
        ));
    } else if let Some(b) = &inst.branch {
        t.push_str(&format!("- branch: `{b}`\n"));
    }
    t.push_str(&format!("- slot: {}\n", inst.slot));
    t.push_str(&format!("- path: `{}`\n", inst.path.display()));
    t.push_str(&format!(
        "- env file: `{}` (every variable below; `git sandbox env` prints them)\n",
        cfg.env_file
    ));
    t.push_str("\n## Ports\n\n");
    let ports = cfg.ports_for(inst.slot);
    if ports.is_empty() {
        t.push_str("No ports are configured (`[ports]` in `.sandbox.toml`).\n");
    } else {
        t.push_str("| service | port | URL | variable |\n|---|---|---|---|\n");
        for p in &ports {
            let base = env_name(&cfg.env_prefix, &p.service);
            let var = match p.index {
                Some(i) => format!("{base}_PORT_{i}"),
                None => format!("{base}_PORT"),
            };
            t.push_str(&format!(
                "| {} | {} | {} | `{var}` |\n",
                p.label(),
                p.port,
                env::url_of(inst, p.port)
            ));
        }
    }
    t.push_str(&commands(local_prod, has_compose));
    Ok(t)
}

/// The commands section: services (with a compose file), the env, the sandbox's state.
fn commands(local_prod: bool, has_compose: bool) -> String {
    let mut t = String::from("\n## Commands\n\nRun them anywhere inside this directory.\n\n");
    let svc = |cmd: &str| {
        if local_prod {
            format!("git sandbox local-prod {cmd}")
        } else {
            format!("git sandbox {cmd}")
        }
    };
    if has_compose {
        t.push_str(&format!("- start the services: `{}`\n", svc("up")));
        t.push_str(&format!("- stop them: `{}`\n", svc("down")));
        t.push_str(&format!("- their logs: `{}`\n", svc("logs -f")));
        t.push_str("- their containers: `git sandbox ps`\n");
    } else {
        t.push_str(&format!(
            "- services: none (no compose file); with one, `{}` starts its stack\n",
            svc("up")
        ));
    }
    t.push_str("- run a command with this env: `git sandbox exec -- CMD…`\n");
    t.push_str(&format!("- its state in detail: `{}`\n", svc("status")));
    if !local_prod {
        t.push_str(
            "- remove it (refuses if work would be lost; `git sandbox restore` undoes it): \
             `git sandbox rm`\n",
        );
    }
    t
}
