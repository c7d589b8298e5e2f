//! `env`, `exec`, `up`, `down`, `logs`, `ps` and `ports`: a sandbox's environment and its
//! compose stack.

use std::process::Stdio;

use anyhow::{Context, Result};

use crate::cli::{DownArgs, EnvArgs, ExecArgs, LogsArgs, OptNameArg, UpArgs};
use crate::commands::Ctx;
use crate::compose;
use crate::config::Config;
use crate::env;
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::Instance;
use crate::target;
use crate::ui;

/// The instance a service command means: a named or enclosing sandbox or local-prod.
fn instance(ctx: &Ctx, name: Option<&str>) -> Result<(Repo, Config, Instance)> {
    let (repo, cfg) = ctx.repo_config()?;
    let data = ctx.reg.load()?;
    let inst = target::resolve(&repo, &data, name, &ctx.cwd)?;
    Ok((repo, cfg, inst))
}

pub fn env(ctx: &Ctx, args: EnvArgs) -> Result<i32> {
    let (repo, cfg, inst) = instance(ctx, args.name.as_deref())?;
    let vars = env::vars(&cfg, &inst)?;
    if let Ok(path) = target::verify(&repo, &inst) {
        refresh_env_file(&path, &cfg, &vars);
    }
    if args.json {
        crate::json::print(&crate::json::Env {
            version: crate::json::Version,
            env: vars.into_iter().collect(),
        })?;
    } else {
        for (k, v) in &vars {
            ui::out(&format!("export {k}='{v}'"));
        }
    }
    Ok(0)
}

/// `exec [NAME] -- CMD`: CMD in the sandbox, in the same subdirectory as the current one.
pub fn exec(ctx: &Ctx, args: ExecArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let data = ctx.reg.load()?;
    let inst = target::resolve(&repo, &data, args.name.as_deref(), &ctx.cwd)?;
    let path = target::verify(&repo, &inst)?;
    refresh_env_file(&path, &cfg, &env::vars(&cfg, &inst)?);
    let vars = env::command_vars(&cfg, &inst)?;
    if args.command.is_empty() {
        return Err(UserError::usage("no command given")
            .hint("git sandbox exec NAME -- CMD…")
            .into());
    }
    let (dir, lacking) = target::same_subdir(&repo, &data, &ctx.cwd, &path);
    if let Some(rel) = lacking {
        ui::info(&format!(
            "{} has no {}: running in its root",
            inst.name,
            rel.display()
        ));
    }
    let err = crate::launch::exec(&args.command, &dir, &vars);
    Err(cannot_start(&args.command, &err).into())
}

/// Rewrites the env file in the instance's verified directory `path` (never stale), or warns
/// why not: the sandbox is usable without it.
fn refresh_env_file(path: &std::path::Path, cfg: &Config, vars: &[(String, String)]) {
    if let Err(e) = env::write(&path.join(&cfg.env_file), vars) {
        ui::warn(&format!("{} was not rewritten: {e:#}", cfg.env_file));
    }
}

/// The error for a command `launch::exec` could not start, with the shell's exit code.
pub fn cannot_start(command: &[String], err: &std::io::Error) -> UserError {
    let mut e = UserError::new(format!(
        "cannot run {}: {err}",
        command.first().map(String::as_str).unwrap_or_default()
    ));
    e.code = crate::launch::exit_code(err);
    e
}

/// Starts an instance's stack after checking its ports are free.
pub fn up_instance(repo: &Repo, cfg: &Config, inst: &Instance, attach: bool) -> Result<i32> {
    up_instance_with(repo, cfg, inst, &Up::plain(attach))
}

/// How `up` runs: attached, more arguments for `docker compose up` (`--build`, services),
/// `--force`, seeding, `--engine`.
pub struct Up<'a> {
    pub attach: bool,
    pub extra: &'a [String],
    pub force: bool,
    pub seed: bool,
    pub engine: Option<&'a str>,
}

impl Up<'_> {
    pub fn plain(attach: bool) -> Up<'static> {
        Up {
            attach,
            extra: &[],
            force: false,
            seed: true,
            engine: None,
        }
    }
}

/// [`up_instance`], with the options of [`Up`].
pub fn up_instance_with(repo: &Repo, cfg: &Config, inst: &Instance, up: &Up) -> Result<i32> {
    let (attach, extra, force, seed) = (up.attach, up.extra, up.force, up.seed);
    let path = target::verify(repo, inst)?;
    let tool = compose::Tool::detect()?;
    let engine = crate::engine::choose::for_up(inst, up.engine, force)?;
    let inst = &crate::engine::choose::record(inst, &engine)?;
    let inst = &compose::owner::settle(&crate::registry::Registry::locate()?, inst)?;
    if compose::owner::legacy(inst) {
        // An older entry's project was never checked against the engine.
        refuse_foreign(inst, compose::removal::foreign(inst)?)?;
    }
    // Before anything runs: the ignored files the stack reads, from the main checkout.
    super::inputs::bring_or_refuse(repo, cfg, inst, &path)?;
    let rendered = render(repo, cfg, inst, &tool, &path)?;
    isolation(&rendered, inst, force)?;
    crate::engine::mounts::check(&engine, inst, &rendered.file, force)?;
    if inst.kind == crate::registry::Kind::Sandbox {
        super::inputs::say_shared_once(cfg, &path);
    }
    crate::engine::ports::refuse_busy(cfg, inst, &engine)?;
    if seed {
        // Volumes `[compose] seed` names that do not exist yet start as copies of main's.
        super::seed::before_up(repo, cfg, inst, &rendered.file)?;
    }
    let mut cmd = compose::command(&tool, cfg, inst, &path)?;
    cmd.arg("up");
    if !attach {
        // Detached, compose only reports progress: a message, so stdout stays data (the
        // JSON of `new --json --up`).
        cmd.arg("-d").stdout(std::io::stderr());
    }
    cmd.args(extra);
    ui::detail(&format!("using {}", rendered.file.display()));
    cmd.stdin(Stdio::null());
    crate::engine::ports::compose_up(&mut cmd, &engine, &inst.name)?;
    Ok(0)
}

/// What rendering the compose file changed is said; what it could not make the sandbox's own
/// (host networking) refuses a sandbox's `up` (never local-prod's, which is the real stack)
/// unless `--force`.
fn isolation(rendered: &compose::render::Rendered, inst: &Instance, force: bool) -> Result<()> {
    for n in rendered.notes.iter().filter(|n| !n.blocking) {
        ui::info(&format!("  rendered: {}", n.text));
    }
    let blocking: Vec<&str> = rendered
        .notes
        .iter()
        .filter(|n| n.blocking)
        .map(|n| n.text.as_str())
        .collect();
    for b in &blocking {
        ui::warn(b);
    }
    if blocking.is_empty() || force || inst.kind == crate::registry::Kind::LocalProd {
        return Ok(());
    }
    Err(UserError::new(format!(
        "not starting the services of {}: it would share the host's ports with every other stack",
        inst.name
    ))
    .hint(
        "change that in the compose file (see the warning above), or pass --force to start anyway",
    )
    .into())
}

/// Renders the instance's compose file, git-ignored (sandboxes made before rendering existed
/// get the exclude line here).
fn render(
    repo: &Repo,
    cfg: &Config,
    inst: &Instance,
    tool: &compose::Tool,
    path: &std::path::Path,
) -> Result<compose::render::Rendered> {
    let line = format!("/{}", compose::render::REL);
    crate::sandbox::exclude(repo, &line, "git-sandbox's rendered compose file")?;
    // An env_file renamed in the config since the sandbox was made is ignored too.
    let line = format!("/{}", cfg.env_file);
    crate::sandbox::exclude(repo, &line, "git-sandbox's env file")?;
    compose::render::render(tool, cfg, inst, path)
}

/// `compose-file [NAME]`: renders the sandbox's compose file and prints it; `--explain`, the
/// renderer's notes instead (the one list of what it rewrote), blocking ones marked.
pub fn compose_file(ctx: &Ctx, args: crate::cli::ComposeFileArgs) -> Result<i32> {
    let (repo, cfg, inst) = instance(ctx, args.name.as_deref())?;
    let path = target::verify(&repo, &inst)?;
    let tool = compose::Tool::detect()?;
    super::inputs::bring(&repo, &cfg, &path)?;
    let rendered = render(&repo, &cfg, &inst, &tool, &path)?;
    if args.explain {
        if rendered.notes.is_empty() {
            ui::info("nothing was rewritten: the project's compose files run as they are");
        }
        for n in &rendered.notes {
            let mark = if n.blocking { "refuses: " } else { "" };
            ui::out(&format!("{mark}{}", n.text));
        }
        return Ok(0);
    }
    let text = std::fs::read_to_string(&rendered.file)
        .with_context(|| format!("cannot read {}", rendered.file.display()))?;
    ui::out_raw(&text);
    for n in &rendered.notes {
        if n.blocking {
            ui::warn(&n.text);
        } else {
            ui::detail(&n.text);
        }
    }
    Ok(0)
}

/// Runs one compose subcommand for an instance, passing its exit code through.
pub fn compose_run(repo: &Repo, cfg: &Config, inst: &Instance, args: &[&str]) -> Result<i32> {
    refuse_foreign(inst, compose::removal::foreign(inst)?)?;
    compose_run_on(repo, cfg, inst, args, false)
}

/// [`compose_run`] without its look at the engine (the caller made it); `as_is` renders nothing (`down`: the file the stack was started from).
pub fn compose_run_on(
    repo: &Repo,
    cfg: &Config,
    inst: &Instance,
    args: &[&str],
    as_is: bool,
) -> Result<i32> {
    let path = target::verify(repo, inst)?;
    let tool = compose::Tool::detect()?;
    if !as_is && compose::render::existing(&path).is_none() && !cfg.degraded {
        render(repo, cfg, inst, &tool, &path)?;
    }
    let mut cmd = compose::command(&tool, cfg, inst, &path)?;
    cmd.args(args);
    let status = cmd.status().context("cannot run docker compose")?;
    Ok(status.code().unwrap_or(1))
}

pub fn up(ctx: &Ctx, args: UpArgs) -> Result<i32> {
    let (repo, cfg, inst) = instance(ctx, args.name.as_deref())?;
    let mut extra = args.compose_args;
    if args.build {
        extra.insert(0, "--build".into());
    }
    up_instance_with(
        &repo,
        &cfg,
        &inst,
        &Up {
            attach: args.attach && !args.detach,
            extra: &extra,
            force: args.force,
            seed: true,
            engine: args.engine.as_deref(),
        },
    )
}

pub fn down(ctx: &Ctx, args: DownArgs) -> Result<i32> {
    // A broken config must never strand a running stack.
    let repo = ctx.repo()?;
    let cfg = Config::load_or_safe(&repo.root);
    let inst = target::resolve(&repo, &ctx.reg.load()?, args.name.as_deref(), &ctx.cwd)?;
    down_instance(&repo, &cfg, &inst, args.volumes)
}

/// `down` of an instance's stack, from whatever is left: the rendered file (as started), else
/// the project's files, else the stack's labels (a broken config and a deleted `.sandbox/`
/// never strand it). Services renamed since `up` go too (`--remove-orphans`).
pub fn down_instance(repo: &Repo, cfg: &Config, inst: &Instance, volumes: bool) -> Result<i32> {
    let path = target::verify(repo, inst)?;
    if !compose::has_file(&path, cfg) {
        let stopped = compose::stop_by_label(inst)?;
        ui::info(&if stopped {
            format!(
                "stopped the containers of {} by their labels (no compose file is left)",
                inst.name
            )
        } else {
            format!("nothing of {} runs", inst.name)
        });
        return Ok(0);
    }
    let foreign = compose::removal::foreign(inst)?;
    if !foreign.is_empty() && !compose::owner::legacy(inst) {
        // Its project is shared on the engine: only what carries its uuid is stopped.
        compose::stop_by_label(inst)?;
        ui::warn(&format!(
            "stopped {}'s own containers by their label; compose project {} also holds {}, which is not its and was left alone",
            inst.name,
            compose::owner::project(inst),
            foreign.join(", ")
        ));
        return Ok(0);
    }
    refuse_foreign(inst, foreign)?;
    let mut a = vec!["down", "--remove-orphans"];
    if volumes {
        a.push("--volumes");
    }
    compose_run_on(repo, cfg, inst, &a, true)
}

pub fn logs(ctx: &Ctx, args: LogsArgs) -> Result<i32> {
    let (repo, cfg, inst) = instance(ctx, args.name.as_deref())?;
    let mut a = vec!["logs"];
    if args.follow {
        a.push("--follow");
    }
    if let Some(n) = &args.tail {
        a.extend(["--tail", n.as_str()]);
    }
    a.extend(args.compose_args.iter().map(String::as_str));
    compose_run(&repo, &cfg, &inst, &a)
}

pub fn ps(ctx: &Ctx, args: OptNameArg) -> Result<i32> {
    let (repo, cfg, inst) = instance(ctx, args.name.as_deref())?;
    compose_run(&repo, &cfg, &inst, &["ps"])
}

/// Compose acts on a whole project: while the instance's holds anything that is not its
/// (another repo's or user's stack under the same name), no compose command runs on it.
fn refuse_foreign(inst: &Instance, foreign: Vec<String>) -> Result<()> {
    if foreign.is_empty() {
        return Ok(());
    }
    Err(UserError::new(format!(
        "compose project {} on this engine also holds what is not {}'s: {}; compose would act on it too",
        compose::owner::project(inst),
        inst.name,
        foreign.join(", ")
    ))
    .hint(format!(
        "see it with `docker ps -a --filter label=com.docker.compose.project={}`; `git sandbox down {}` stops only its own",
        compose::owner::project(inst),
        inst.name
    ))
    .into())
}
