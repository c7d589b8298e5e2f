//! `mcp`: serve the Model Context Protocol over stdio (`crate::mcp`). Nothing but the
//! protocol is ever written to stdout.

use anyhow::Result;

use crate::commands::Ctx;

pub fn run(ctx: &Ctx) -> Result<i32> {
    crate::mcp::serve(ctx.cwd.clone())?;
    Ok(0)
}
