//! The arguments of `seed` and `volumes` (seeded volumes).

use clap::{Args, ValueEnum};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedFrom {
    /// The main checkout's compose stack.
    Main,
    /// This repo's local-prod stack.
    LocalProd,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Whose volumes to copy.
    #[arg(long, value_enum, default_value_t = SeedFrom::Main)]
    pub from: SeedFrom,
    /// Replace volumes that exist with a fresh copy; the old data is kept in a saved volume
    /// (`git sandbox volumes` lists it; `--undo` puts it back).
    #[arg(long, conflicts_with = "undo")]
    pub reset: bool,
    /// Put back the data the last `--reset` saved (the current data is saved in turn).
    #[arg(long)]
    pub undo: bool,
    /// The result as JSON on stdout (schema/seed.json); progress events as JSON lines on stderr.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct VolumesArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Machine-readable output (schema/volumes.json).
    #[arg(long)]
    pub json: bool,
}
