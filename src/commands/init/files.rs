//! Which compose files `init` reads (`-f FILE…`, else the way compose finds them, see
//! `compose::files`), how the config names them, and the inputs git ignores that `init`
//! records in `.worktreeinclude`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::compose;
use crate::compose::files::Origin;
use crate::config::Config;
use crate::error::UserError;
use crate::ui;

/// The compose files `init` read.
pub struct Chosen {
    pub files: Vec<PathBuf>,
    /// Relative to the root, in order.
    pub rels: Vec<String>,
    origin: Origin,
}

impl Chosen {
    /// `a.yml + b.yml`, for the user.
    pub fn names(&self) -> String {
        self.rels.join(" + ")
    }

    /// The `[compose]` section: `file` for a standard name (compose finds its override
    /// itself), else the whole list as `compose_files`.
    pub fn section(&self) -> String {
        if self.origin == Origin::Found {
            return format!("[compose]\nfile = {:?}\n", self.rels[0]);
        }
        let list: Vec<String> = self.rels.iter().map(|r| format!("{r:?}")).collect();
        format!("[compose]\ncompose_files = [{}]\n", list.join(", "))
    }
}

/// `-f` files (relative to `cwd`, inside the repo), else the project's own.
pub fn choose(root: &Path, cwd: &Path, given: &[PathBuf]) -> Result<Chosen> {
    let (files, origin) = if given.is_empty() {
        compose::files::chosen(root, &Config::default())?
    } else {
        (
            given
                .iter()
                .map(|f| inside(root, cwd, f))
                .collect::<Result<_>>()?,
            Origin::Config,
        )
    };
    let rels = files
        .iter()
        .map(|f| {
            f.strip_prefix(root)
                .unwrap_or(f)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    Ok(Chosen {
        files,
        rels,
        origin,
    })
}

/// A `-f` file: it exists, inside the repo.
fn inside(root: &Path, cwd: &Path, f: &Path) -> Result<PathBuf> {
    let p = cwd.join(f);
    let real = p.canonicalize().map_err(|e| {
        UserError::usage(format!("-f {}: {e}", f.display()))
            .hint("name a compose file that exists, e.g. `git sandbox init -f docker-compose.yml -f docker-compose.dev.yml`")
    })?;
    if !real.is_file() || !real.starts_with(root) {
        return Err(UserError::usage(format!(
            "-f {}: not a file inside the repository {}",
            f.display(),
            root.display()
        ))
        .hint("sandboxes run the repo's own compose files: name one inside it")
        .into());
    }
    Ok(real)
}

/// What `init` says of the files it read once the config is written: they need no edit, and
/// the inputs git ignores (recorded in `.worktreeinclude`).
pub fn tell(root: &Path, chosen: &Chosen) {
    let need = if chosen.files.len() > 1 {
        "need"
    } else {
        "needs"
    };
    let unreadable: Vec<String> = chosen
        .files
        .iter()
        .filter(|f| crate::compose::raw::unreadable(f).is_some())
        .map(|f| f.display().to_string())
        .collect();
    if unreadable.is_empty() {
        ui::info(&format!(
            "  {} {need} no edit: each sandbox runs a copy rendered with its own ports and names (`git sandbox compose-file NAME` prints it)",
            chosen.names()
        ));
    } else {
        ui::warn(&format!(
            "{} could not be read, so the ports and the lint below are partial: fix the YAML, then run init again",
            unreadable.join(", ")
        ));
    }
    if let Err(e) = record_inputs(root, &chosen.files) {
        ui::warn(&format!(
            "the compose inputs git ignores were not recorded: {e:#}"
        ));
    }
}

/// Records the compose inputs git ignores in `.worktreeinclude` and says what it added, and
/// which required inputs do not exist yet (a sandbox's `up` refuses until they do).
fn record_inputs(root: &Path, files: &[PathBuf]) -> Result<()> {
    let ignored = compose::inputs::ignored_in_main(root, files)?;
    let rels: Vec<PathBuf> = ignored.iter().map(|i| i.rel.clone()).collect();
    let added = compose::inputs::include::record(root, &rels)?;
    for i in &ignored {
        let new = if added.contains(&i.rel) {
            " (added to .worktreeinclude)"
        } else {
            ""
        };
        ui::info(&format!(
            "  inputs: {} ({}) is git-ignored: each sandbox gets the main checkout's copy{new}",
            i.rel.display(),
            i.what.label()
        ));
    }
    for i in compose::inputs::inputs(root, files) {
        if i.required && std::fs::symlink_metadata(root.join(&i.rel)).is_err() {
            let who = i
                .service
                .map(|s| format!(" of service {s}"))
                .unwrap_or_default();
            ui::warn(&format!(
                "{} {}{who} does not exist: create it, or a sandbox's `up` refuses",
                i.what.label(),
                i.rel.display()
            ));
        }
    }
    Ok(())
}
