//! Integration tests: the real `git-sandbox` binary, the real git CLI, real repositories and a
//! bare repository as the remote.

mod agent;
mod agents_new;
mod common;
mod confine;
mod copy;
mod crash;
mod crash_matrix;
mod fidelity;
mod hooks;
mod hooks_path;
mod json;
mod kill;
mod lifecycle;
mod linked_files;
mod local_prod;
mod merged;
mod mv;
mod output;
mod ownership;
mod paths;
mod ports;
mod provenance;
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
mod trust;
mod volumes;
mod zero_edit;
