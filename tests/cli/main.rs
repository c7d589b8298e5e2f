//! Integration tests: the real `git-sandbox` binary, the real git CLI, real repositories and a
//! bare repository as the remote.

mod agent;
mod agents_new;
mod common;
mod copy;
mod crash;
mod crash_matrix;
mod hooks;
mod json;
mod kill;
mod lifecycle;
mod local_prod;
mod merged;
mod mv;
mod output;
mod ownership;
mod paths;
mod ports;
mod readme;
mod removal;
mod render;
mod restore;
mod rm;
mod rollback;
mod services;
mod setup;
mod shell;
mod snapshots_ui;
mod volumes;
mod zero_edit;
