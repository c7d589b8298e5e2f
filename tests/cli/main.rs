//! Integration tests: the real `git-sandbox` binary, the real git CLI, real repositories and a
//! bare repository as the remote.

mod common;
mod crash;
mod hooks;
mod lifecycle;
mod local_prod;
mod output;
mod ports;
mod restore;
mod rm;
mod services;
mod shell;
mod snapshots_ui;
mod volumes;
