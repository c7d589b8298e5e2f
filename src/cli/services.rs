//! The arguments of the commands that drive a sandbox's environment and compose stack (env,
//! exec, up, down, logs, compose, ports) and local-prod.

use super::RmFlags;

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct EnvArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Run in the foreground instead of detached.
    #[arg(long)]
    pub attach: bool,
    /// Detached (the default; accepted for compose users).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Build images before starting (compose's `up --build`).
    #[arg(long)]
    pub build: bool,
    /// Start even when the compose file has what collides between sandboxes (a fixed
    /// container_name, a literal host port, a fixed subnet, host networking).
    #[arg(long)]
    pub force: bool,
    /// The Docker engine to run the stack on: a docker context, `local`, or an endpoint
    /// (tcp://host:2375, ssh://user@host). Default: the shell's DOCKER_HOST/DOCKER_CONTEXT
    /// when set, else the engine it last ran on. A running stack is never moved.
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// More arguments for `docker compose up`: services, `--force-recreate`, … (after `--`).
    #[arg(last = true, value_name = "COMPOSE_ARGS")]
    pub compose_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Remove its volumes too.
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Follow the logs.
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines of each service.
    #[arg(long, value_name = "N")]
    pub tail: Option<String>,
    /// More arguments for `docker compose logs`: services, `--since 10m`, … (after `--`).
    #[arg(last = true, value_name = "COMPOSE_ARGS")]
    pub compose_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ComposeFileArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// List every value the rendering rewrote (ports, variables kept or followed, URLs, names
    /// scoped…) and what it could not, one per line, instead of the file.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Args, Debug)]
pub struct ComposeArgs {
    /// `[NAME] COMPOSE_ARGS…`: the sandbox (default: the one containing the current
    /// directory, named on stderr), then the compose command and its arguments, e.g.
    /// `ps`, `exec web sh`, or `NAME -- logs -f` (`--` marks where they start: the word before
    /// it is the sandbox, the words after it are compose's). Without `--`, the first word is
    /// the sandbox only if one has that name and it is not a compose command (`ps`, `logs`…).
    #[arg(
        id = "name",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "[NAME] COMPOSE_ARGS"
    )]
    pub words: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortsArgs {
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct EnginesArgs {
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum LocalProdCommand {
    /// Make this repo's local-prod (slot 0, `../<repo>-prod` by default).
    New(LocalProdNewArgs),
    /// Start local-prod's stack.
    Up,
    /// Stop local-prod's stack.
    Down(LocalProdDownArgs),
    /// Show local-prod in detail.
    Status(LocalProdStatusArgs),
    /// Show local-prod's logs.
    Logs(LocalProdLogsArgs),
    /// Remove local-prod without losing work.
    Rm(RmFlags),
}

#[derive(Args, Debug)]
pub struct LocalProdNewArgs {
    /// Start at this revision on a new branch `local-prod` (default: check out the default branch's commit).
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// Use this branch.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
}

#[derive(Args, Debug)]
pub struct LocalProdDownArgs {
    /// Remove its volumes too.
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Args, Debug)]
pub struct LocalProdStatusArgs {
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct LocalProdLogsArgs {
    /// Follow the logs.
    #[arg(short, long)]
    pub follow: bool,
}
