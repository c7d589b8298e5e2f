//! `git-sandbox`: parses the command line, runs the command, and maps errors to the exit codes
//! of DESIGN.md (0 done, 1 error, 2 usage, 3 refused because work would be lost).

mod agent;
mod atomic;
mod cli;
mod commands;
mod completions;
mod compose;
mod config;
mod context;
mod du;
mod engine;
mod env;
mod error;
mod fault;
mod git;
mod hooks;
mod interrupt;
mod json;
mod launch;
mod lifecycle;
mod man;
mod mcp;
mod names;
mod pr;
mod procs;
mod registry;
mod removal;
mod safety;
mod sandbox;
mod seed;
mod supervise;
mod target;
mod timings;
mod trust;
mod ui;

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;

use cli::{AgentSetupCommand, Cli, Command, Lazy};
use commands::Ctx;
use error::UserError;

fn main() {
    timings::start();
    // A supervisor of a git child (src/supervise.rs) is this binary under a hidden argument.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == supervise::ARG) {
        std::process::exit(supervise::run(args.get(2..).unwrap_or_default()));
    }
    // The detached helper that heals a new sandbox's racily clean index (src/git/racy.rs).
    if let [_, arg, worktree] = &args[..]
        && arg == git::HEAL_HELPER_ARG
    {
        std::process::exit(git::run_heal_helper(std::path::Path::new(worktree)));
    }
    // The post-checkout hook runs on every `git checkout`: straight to its handler, without
    // building the whole command line (most of a start-up is clap's model of the full CLI).
    if let [_, hook, event, prev, _new, flag] = &args[..]
        && hook == "hook"
        && event == "post-checkout"
    {
        let (prev, flag) = (prev.to_string_lossy(), flag.to_string_lossy());
        std::process::exit(hook_fast(&prev, &flag));
    }
    // Installed as the hook itself (a link named post-checkout, see src/hooks.rs).
    if let [me, prev, _new, flag] = &args[..]
        && std::path::Path::new(me).file_name() == Some(std::ffi::OsStr::new("post-checkout"))
    {
        let (prev, flag) = (prev.to_string_lossy(), flag.to_string_lossy());
        std::process::exit(hook_fast(&prev, &flag));
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let e = without_hidden_suggestions(e);
            let code = if e.use_stderr() {
                error::EXIT_USAGE
            } else {
                error::EXIT_OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    timings::step("clap parse");
    ui::init(cli.color, cli.quiet, cli.verbose);
    let in_hook = matches!(cli.command, Command::Hook(_));
    let code = match run(cli) {
        Ok(code) => code,
        // A hook never breaks git: one line, and success.
        Err(err) if in_hook => {
            eprintln!(
                "git-sandbox (hook): {}",
                format!("{err:#}").lines().next().unwrap_or_default()
            );
            0
        }
        Err(err) => report(&err),
    };
    std::process::exit(output_checked(code));
}

/// `code`, unless the output could not be written (a full disk, not a closed pipe): then an
/// error, as the output asked for is missing.
fn output_checked(code: i32) -> i32 {
    let Some(why) = ui::out_failure() else {
        return code;
    };
    eprintln!("error: cannot write the output: {why}");
    if code == error::EXIT_OK {
        error::EXIT_ERROR
    } else {
        code
    }
}

/// clap's "similar subcommands" tip never names a hidden command (`__complete`, `hook`…): the
/// user would be told to run an internal entry point.
fn without_hidden_suggestions(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::Strings(names)) = e.get(ContextKind::SuggestedSubcommand) else {
        return e;
    };
    let cmd = cli::full_command();
    let hidden: Vec<&str> = cmd
        .get_subcommands()
        .flat_map(|c| std::iter::once(c).chain(c.get_subcommands()))
        .filter(|c| c.is_hide_set())
        .map(|c| c.get_name())
        .collect();
    let shown: Vec<String> = names
        .iter()
        .filter(|n| !hidden.contains(&n.as_str()))
        .cloned()
        .collect();
    if !shown.is_empty() {
        e.insert(
            ContextKind::SuggestedSubcommand,
            ContextValue::Strings(shown),
        );
        return e;
    }
    // Only hidden ones were similar: the error without its tip (an empty one read "some
    // similar subcommands exist: " and named none).
    let mut plain = clap::Error::new(e.kind()).with_cmd(&cmd);
    for (kind, value) in e.context() {
        let empty = matches!(value, ContextValue::StyledStrs(v) if v.is_empty());
        if kind != ContextKind::SuggestedSubcommand && !empty {
            plain.insert(kind, value.clone());
        }
    }
    plain
}

/// The post-checkout handler with no clap: a hook never breaks git (one line, exit 0, even
/// after a panic: the shim `exec`s this, so its status is git's).
fn hook_fast(prev: &str, flag: &str) -> i32 {
    let _ = std::panic::catch_unwind(|| post_checkout_now(prev, flag));
    0
}

fn post_checkout_now(prev: &str, flag: &str) {
    let ctx = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|cwd| {
            let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
            Ok(Ctx {
                cwd,
                reg: registry::Registry::locate()?,
            })
        });
    if let Err(err) = ctx.and_then(|ctx| commands::hooks::post_checkout(&ctx, prev, flag)) {
        eprintln!(
            "git-sandbox (hook): {}",
            format!("{err:#}").lines().next().unwrap_or_default()
        );
    }
}

fn report(err: &anyhow::Error) -> i32 {
    let user = err.chain().find_map(|e| e.downcast_ref::<UserError>());
    ui::err_line(&format!(
        "{} {err:#}",
        ui::paint_err(ui::Style::Red, "error:")
    ));
    match user {
        Some(u) => {
            for h in &u.hints {
                ui::err_line(&format!(
                    "{} {h}",
                    ui::paint_err(ui::Style::Yellow, "hint:")
                ));
            }
            u.code
        }
        None => error::EXIT_ERROR,
    }
}

fn run(cli: Cli) -> Result<i32> {
    let ctx = context(cli.dir.as_deref())?;
    dispatch(&ctx, cli.command)
}

/// Where the command runs (`-C DIR`, else the current directory, canonical) and the registry.
fn context(dir: Option<&std::path::Path>) -> Result<Ctx> {
    let cwd = match dir {
        Some(d) => {
            let d = std::env::current_dir()?.join(d);
            if !d.is_dir() {
                return Err(
                    UserError::usage(format!("-C {}: no such directory", d.display())).into(),
                );
            }
            d
        }
        None => std::env::current_dir()
            .map_err(|e| UserError::new(format!("cannot read the current directory: {e}")))?,
    };
    let cwd: PathBuf = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    Ok(Ctx {
        cwd,
        reg: registry::Registry::locate()?,
    })
}

/// Each command to its handler.
fn dispatch(ctx: &Ctx, command: Command) -> Result<i32> {
    match command {
        Command::New(Lazy(a)) => commands::new::run(ctx, a),
        Command::List(Lazy(a)) => commands::list::list(ctx, a),
        Command::Status(Lazy(a)) => commands::list::status(ctx, a),
        Command::Path(Lazy(a)) => commands::list::path(ctx, a),
        Command::Setup(Lazy(a)) => commands::setup::run(ctx, a),
        Command::Copy(Lazy(a)) => commands::setup::copy(ctx, a),
        Command::Trust(Lazy(a)) => commands::setup::trust(ctx, a),
        Command::Rm(Lazy(a)) => commands::rm::run(ctx, a),
        Command::Mv(Lazy(a)) => commands::mv::run(ctx, a),
        Command::Restore(Lazy(a)) => commands::restore::restore(ctx, a),
        Command::Trash(Lazy(c)) => commands::trash::run(ctx, c),
        Command::Prune(Lazy(a)) => commands::prune::run(ctx, a),
        Command::Env(Lazy(a)) => commands::services::env(ctx, a),
        Command::Exec(Lazy(a)) => commands::services::exec(ctx, a),
        Command::Up(Lazy(a)) => commands::services::up(ctx, a),
        Command::Down(Lazy(a)) => commands::services::down(ctx, a),
        Command::Logs(Lazy(a)) => commands::services::logs(ctx, a),
        Command::Ps(Lazy(a)) => commands::services::ps(ctx, a),
        Command::Compose(Lazy(a)) => commands::compose_cmd::compose(ctx, a),
        Command::Seed(Lazy(a)) => commands::seed::seed(ctx, a),
        Command::Volumes(Lazy(a)) => commands::seed::volumes(ctx, a),
        Command::ComposeFile(Lazy(a)) => commands::services::compose_file(ctx, a),
        Command::Adopt(Lazy(a)) => commands::adopt::run(ctx, a),
        Command::Ports(Lazy(a)) => commands::ports::run(ctx, a),
        Command::Engines(Lazy(a)) => commands::engines::run(ctx, a),
        Command::LocalProd(Lazy(c)) => commands::local_prod::run(ctx, c),
        Command::Hooks(Lazy(c)) => commands::hooks::manage(ctx, c),
        Command::Hook(Lazy(c)) => commands::hooks::run(ctx, c),
        Command::AgentHook(Lazy(c)) => commands::agent::hook(ctx, c),
        Command::AgentSetup(Lazy(AgentSetupCommand::Claude(a))) => commands::agent::setup(ctx, a),
        Command::AgentSetup(Lazy(AgentSetupCommand::Codex(a))) => {
            commands::agent_setup::codex(ctx, a)
        }
        Command::AgentSetup(Lazy(AgentSetupCommand::Cursor(a))) => {
            commands::agent_setup::cursor(ctx, a)
        }
        Command::Mcp => commands::mcp::run(ctx),
        Command::Completions { shell } => print_completions(&shell),
        Command::Complete { words } => complete(ctx, &words),
        Command::Init { files } => commands::init::run(ctx, &files),
        Command::ShellInit { shell, name } => commands::shell::run(&shell, &name),
        Command::Man => print_man(),
        Command::Schema { out } => json::schema_command(out.as_deref()),
        Command::Unpause { ids } => Ok(seed::pause::watcher(&ids)),
        Command::Sweep { dir } => removal::sweep_now(&ctx.reg, &dir).map(|()| 0),
    }
}

/// `completions SHELL`: the script.
fn print_completions(shell: &str) -> Result<i32> {
    let script = completions::script(shell)
        .ok_or_else(|| UserError::usage(format!("no completions for {shell}")))?;
    ui::out(script.trim_end());
    Ok(0)
}

/// `__complete WORDS…`: the candidates, with this repo's sandbox names where a NAME goes.
fn complete(ctx: &Ctx, words: &[String]) -> Result<i32> {
    let names = || {
        let repo = git::Repo::discover(&ctx.cwd).ok();
        let data = ctx.reg.load().unwrap_or_default();
        repo.map(|r| {
            data.of_repo(&r.root)
                .filter(|i| i.kind == registry::Kind::Sandbox)
                .map(|i| i.name.clone())
                .collect()
        })
        .unwrap_or_default()
    };
    for c in completions::candidates(&cli::full_command(), words, names) {
        ui::out(&c);
    }
    Ok(0)
}

/// `__man`: the man page on stdout.
fn print_man() -> Result<i32> {
    use std::io::Write;
    let _ = std::io::stdout().write_all(&man::render());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }
}
