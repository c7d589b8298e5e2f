//! `git sandbox mcp`: the Model Context Protocol over stdio, with the official Rust SDK
//! (`rmcp`) on a current-thread tokio runtime.
//!
//! Each tool call runs our own binary (`child`), with `--json` where the command has one, and
//! returns its JSON as the tool's structured result, validated by the same published schema
//! (`schema/*.json`) as the command's. Running the command rather than its functions in this
//! process keeps stdout, the protocol's stream, out of reach of anything a command (or git,
//! compose, a setup script) prints, and gives every tool the command's own gates and exit
//! codes: a removal is `rm --dry-run` or `rm --yes`, never `--force`; a refusal (exit 3) is a
//! tool error (`isError: true`) whose structured content is `rm --json`'s, reasons included.

mod child;
mod tools;

use std::path::PathBuf;

use anyhow::{Context, Result};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;

use child::Ran;

/// The server: the directory every tool runs in (the one `mcp` was started in, or `-C`).
#[derive(Clone)]
struct Server {
    dir: PathBuf,
}

/// Serves stdin/stdout until the client closes them.
pub fn serve(dir: PathBuf) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the MCP server's runtime")?;
    runtime.block_on(async {
        let running = Server { dir }
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("the MCP session did not start: {e}"))?;
        running
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("the MCP server stopped: {e}"))?;
        Ok(())
    })
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "git-sandbox",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "git-sandbox: one git worktree, slot, ports, env file and compose stack per \
                 branch. `create` makes one; `remove` is a dry run until dry_run is false, and \
                 refuses (a tool error with the reasons) when work would be lost.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let args = Value::Object(request.arguments.unwrap_or_default());
        let argv = match tools::argv(&name, args) {
            Ok(a) => a,
            Err(why) if why.starts_with("no tool") => {
                return Err(ErrorData::invalid_params(why, None));
            }
            Err(why) => return Ok(CallToolResult::error(vec![ContentBlock::text(why)]).into()),
        };
        let dir = self.dir.clone();
        let ran = tokio::task::spawn_blocking(move || child::run(&dir, &argv))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
            .map_err(|e| ErrorData::internal_error(format!("{e:#}"), None))?;
        Ok(answer(&name, &ran).into())
    }
}

/// The tool's result from what the command said.
fn answer(tool: &str, ran: &Ran) -> CallToolResult {
    let json = ran.json();
    if !ran.ok() {
        let why = match ran.code {
            Some(3) => "refused: removing it would lose work",
            _ => "failed",
        };
        let text = format!("{why}:\n{}", ran.messages(tools::MAX_TEXT));
        let mut result = match json {
            Some(v) => CallToolResult::structured_error(v),
            None => CallToolResult::error(vec![]),
        };
        result.content.insert(0, ContentBlock::text(text));
        return result;
    }
    match (tool, json) {
        ("urls", Some(v)) => match crate::json::urls::Urls::of_status(&v)
            .and_then(|u| serde_json::to_value(u).ok())
        {
            Some(u) => CallToolResult::structured(u),
            None => CallToolResult::error(vec![ContentBlock::text("status gave no ports")]),
        },
        (_, Some(v)) => CallToolResult::structured(v),
        (_, None) => {
            let mut text = child::tail(&ran.stdout, tools::MAX_TEXT).to_string();
            let messages = ran.messages(tools::MAX_TEXT);
            if !messages.is_empty() {
                text = format!("{text}\n{messages}").trim().to_string();
            }
            CallToolResult::success(vec![ContentBlock::text(text)])
        }
    }
}
