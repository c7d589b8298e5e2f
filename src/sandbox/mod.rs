//! Creating, removing and repairing instances: the steps, their order, and how a crash at any step is
//! finished or rolled back.
//!
//! Creation (`new`, `restore`, `local-prod new`, `adopt`):
//! 1. Check everything without changing anything: the path is a new directory where a
//!    sandbox may go (`place.rs`), git has no admin entry of that id, the branch can be used.
//! 2. Reserve: under the registry lock, take the lowest free slot whose ports are free and
//!    record the instance as `creating` (with our pid). Parallel `new`s never share a slot.
//! 3. Create the branch (libgit2: no config write, so parallel runs do not race on
//!    `config.lock`), then `git worktree add` (the CLI; see `git.rs`).
//! 4. Write the env file, copy the configured files, apply a saved snapshot (restore).
//! 5. Mark the instance `ready`.
//!
//! Any failure undoes what was done, newest first. A crash leaves a `creating` entry whose pid
//! is gone; `prune` rolls it back (or, if the tree already holds work, completes it).
//!
//! Renaming (`mv`) and its repair live in `moving.rs`; removal in `crate::removal`.

mod adopt;
mod checkout;
mod copy;
mod create;
mod moving;
mod no_slot;
mod place;
mod repair;
mod reserve;
mod restoring;
mod undo;

pub use adopt::adopt;
pub use copy::{Copied, bring_one, copy_files};
pub use create::{CreateSpec, Created, create, start_point};
pub use moving::{MoveRepair, execute as move_sandbox, free_id, plan as plan_move};
pub use place::confine;
pub use repair::{Repair, repair};
pub use reserve::exclude;
