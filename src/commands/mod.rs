//! One module per command, each with a `run` that turns clap's arguments into plain values and
//! calls the domain modules. [`Ctx`] carries what every command needs.

pub mod adopt;
pub mod agent;
mod agent_create;
pub mod agent_remove;
pub mod agent_setup;
pub mod compose_cmd;
pub mod engines;
pub mod hooks;
pub mod init;
mod inputs;
pub mod list;
pub mod local_prod;
pub mod mcp;
pub mod merged;
pub mod mv;
pub mod new;
pub mod ports;
pub mod prune;
pub mod restore;
pub mod rm;
mod saved;
pub mod seed;
pub mod services;
pub mod setup;
pub mod shell;
pub mod stack;
pub mod trash;

use std::path::PathBuf;

use anyhow::Result;

use crate::config::Config;
use crate::git::Repo;
use crate::registry::{Data, Instance, Kind, Registry};
use crate::target;

/// What every command needs: where it runs and the registry.
pub struct Ctx {
    pub cwd: PathBuf,
    pub reg: Registry,
}

impl Ctx {
    /// The repository the command runs in.
    pub fn repo(&self) -> Result<Repo> {
        Repo::discover(&self.cwd)
    }

    /// The repository and its config.
    pub fn repo_config(&self) -> Result<(Repo, Config)> {
        let repo = self.repo()?;
        let cfg = Config::load(&repo.root)?;
        Ok((repo, cfg))
    }

    /// The sandbox a NAME (or the current directory) means, refusing local-prod, which has its
    /// own commands.
    pub fn sandbox(&self, repo: &Repo, data: &Data, name: Option<&str>) -> Result<Instance> {
        let inst = target::resolve(repo, data, name, &self.cwd)?;
        if inst.kind == Kind::LocalProd {
            return Err(crate::error::UserError::new(format!(
                "{} is this repo's local-prod, not a sandbox",
                inst.path.display()
            ))
            .hint("use `git sandbox local-prod …` for it (e.g. `git sandbox local-prod rm`)")
            .into());
        }
        Ok(inst)
    }
}
