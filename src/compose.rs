//! docker compose for one instance, isolated by project name and env file.
//!
//! Every call is `<compose> -p <project> --env-file <env file> -f <file> [--profile P] …`,
//! run in the instance's directory with the env file's variables in its environment too, so
//! two sandboxes' stacks never share containers, networks or volumes. The project is the one
//! [`owner`] chose and stored (unique on the engine), and everything the stack creates carries
//! the instance's uuid label, which is what proves it the instance's. `docker compose` is used
//! where it exists, else the standalone `docker-compose`.
//!
//! Removal lives in [`removal`]: [`volume_plan`] lists, changing nothing, an instance's volumes
//! as own (its label: kept with the trash state, or deleted with `--delete-volumes`) vs not its
//! (never deleted), as a [`removal::VolumePlan`]; [`down_for_removal`] stops the stack and
//! returns a [`removal::DownReport`]. Both fail when the engine cannot be reached, which is
//! never taken for "nothing running". Volumes kept with trash states: [`kept`].

pub mod files;
pub mod inputs;
pub mod kept;
pub mod lint;
pub mod load;
pub mod merge_keys;
pub mod owner;
pub mod ports;
pub mod project_vars;
pub mod raw;
pub mod removal;
pub mod render;
pub mod rewrite;
pub mod socket;
pub mod taken;
pub mod vars;

pub use removal::{down_for_removal, stop_by_label, volume_plan};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Result;

use crate::config::Config;
use crate::env;
use crate::error::UserError;
use crate::registry::{Instance, Kind};

pub use files::find_file;

/// How to run compose on this machine.
#[derive(Clone, Debug)]
pub struct Tool {
    program: String,
    pre_args: Vec<String>,
}

impl Tool {
    /// The tool `GIT_SANDBOX_COMPOSE` names (`docker compose`, `podman-compose`, …), if its
    /// program can be found.
    fn named(value: &str) -> Result<Tool> {
        let mut parts = value.split_whitespace().map(String::from);
        let Some(program) = parts.next() else {
            return Err(UserError::new("GIT_SANDBOX_COMPOSE is set but empty")
                .hint("unset it, or set it to a compose command, e.g. `docker compose`")
                .into());
        };
        if !on_path(&program) {
            return Err(UserError::new(format!(
                "GIT_SANDBOX_COMPOSE names {program:?}, which is not an executable on PATH"
            ))
            .hint("install it, or set GIT_SANDBOX_COMPOSE to a compose command that is (e.g. `docker compose`), or unset it")
            .into());
        }
        Ok(Tool {
            program,
            pre_args: parts.collect(),
        })
    }

    /// `docker compose` if the plugin works, else `docker-compose`.
    pub fn detect() -> Result<Tool> {
        let works = |prog: &str, args: &[&str]| {
            Command::new(prog)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if let Some(p) = std::env::var_os("GIT_SANDBOX_COMPOSE") {
            return Self::named(&p.to_string_lossy());
        }
        if works("docker", &["compose", "version"]) {
            return Ok(Tool {
                program: "docker".into(),
                pre_args: vec!["compose".into()],
            });
        }
        if works("docker-compose", &["version"]) {
            return Ok(Tool {
                program: "docker-compose".into(),
                pre_args: Vec::new(),
            });
        }
        Err(
            UserError::new("neither `docker compose` nor `docker-compose` works on this machine")
                .hint("install Docker with its Compose plugin, or the standalone docker-compose")
                .into(),
        )
    }
}

/// Whether the directory has a compose file at all (a rendered one counts).
pub fn has_file(dir: &Path, cfg: &Config) -> bool {
    find_file(dir, cfg).is_ok() || render::existing(dir).is_some()
}

/// The profile an instance runs with.
pub fn profile(cfg: &Config, inst: &Instance) -> Option<String> {
    match inst.kind {
        Kind::LocalProd => cfg
            .local_prod_profile
            .clone()
            .or_else(|| cfg.compose_profile.clone()),
        Kind::Sandbox => cfg.compose_profile.clone(),
    }
}

/// A compose command for an instance, ready for its subcommand arguments, on the rendered
/// compose file (`up` renders it first, other commands render it when missing:
/// `commands::services`), else the project's own files (a broken config's, or one never
/// rendered). Rendering nothing here, it is what `down` and `rm` use.
pub fn command(tool: &Tool, cfg: &Config, inst: &Instance, dir: &Path) -> Result<Command> {
    let files = match render::existing(dir) {
        Some(f) => vec![f],
        None => render::sources(dir, cfg)?,
    };
    invocation(tool, cfg, inst, dir, &files)
}

/// `<compose> -p <id> --env-file … --project-directory <dir> -f <file>… [--profile P]`, with
/// the sandbox's variables in its environment.
fn invocation(
    tool: &Tool,
    cfg: &Config,
    inst: &Instance,
    dir: &Path,
    files: &[PathBuf],
) -> Result<Command> {
    let env_file = dir.join(&cfg.env_file);
    let vars = env::vars(cfg, inst)?;
    // Rewritten on every compose command, so a changed config (a new port) reaches compose;
    // the context page follows when the env changed. Not from a broken config's stand-ins:
    // the env file there is the last good one.
    if !cfg.degraded {
        let before = std::fs::read(&env_file).ok();
        env::write(&env_file, &vars)?;
        if std::fs::read(&env_file).ok() != before
            && let Some(w) = crate::context::refresh(cfg, inst, dir)
        {
            crate::ui::warn(&w);
        }
    }
    let (project, env_arg) = project_and_env(cfg, inst, dir);
    let mut cmd = Command::new(&tool.program);
    crate::engine::apply(&mut cmd);
    cmd.current_dir(&project)
        .args(&tool.pre_args)
        .arg("-p")
        .arg(owner::project(inst));
    if let Some(e) = &env_arg {
        cmd.arg("--env-file").arg(e);
    }
    cmd.arg("--project-directory")
        .arg(&project)
        // `${PWD}` in a compose file means the project's directory, never the caller's.
        .env("PWD", &project);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    // From a broken config, the profile the stack was started with (the rendered file's).
    let profile = profile(cfg, inst).or_else(|| {
        cfg.degraded
            .then(|| render::recorded_profile(dir))
            .flatten()
    });
    if let Some(p) = profile {
        cmd.arg("--profile").arg(p);
    }
    cmd.envs(vars);
    Ok(cmd)
}

/// Compose's project directory (the compose file's own: relative paths and `.env` are read
/// from there, as in the main checkout), and the env file compose reads.
///
/// Env layering: compose reads the project's own `.env` (its credentials, its settings), and
/// the sandbox's values win, because they are in compose's environment, which beats any env
/// file in compose v1 and v2 alike. A `.env` git ignores is not in the sandbox: the main
/// checkout's is read. Without any, the sandbox's env file; none at all when that is missing
/// too (a broken config's stand-in name), since compose refuses an env file that is not there.
pub fn project_and_env(cfg: &Config, inst: &Instance, dir: &Path) -> (PathBuf, Option<PathBuf>) {
    let project = find_file(dir, cfg)
        .ok()
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| dir.to_path_buf());
    let main_env = project
        .strip_prefix(dir)
        .ok()
        .map(|rel| inst.parent_repo.join(rel).join(".env"));
    let env = [
        Some(project.join(".env")),
        main_env,
        Some(dir.join(&cfg.env_file)),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file());
    (project, env)
}

/// Compose's own model (`config`) of the files, as the main checkout's stack sees them (its
/// `.env`, no sandbox's values); `None` when compose is missing or refuses them.
pub fn config_of(dir: &Path, files: &[PathBuf]) -> Option<String> {
    let tool = Tool::detect().ok()?;
    let project = files.first().and_then(|f| f.parent()).unwrap_or(dir);
    let mut cmd = Command::new(&tool.program);
    crate::engine::apply(&mut cmd);
    cmd.current_dir(project)
        .args(&tool.pre_args)
        .arg("--project-directory")
        .arg(project)
        .env("PWD", project);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    config_text(cmd)
}

/// The stdout of `<cmd> config`, when compose accepts the files.
fn config_text(mut cmd: Command) -> Option<String> {
    let out = cmd
        .arg("config")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `program` (a path, or a name looked up on PATH) is an executable file.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let runs = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return runs(Path::new(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| runs(&d.join(program))))
}
