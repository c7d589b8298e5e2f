//! The man page, generated from the clap definition (clap_mangen) plus the sections clap does
//! not know: exit status, files and environment. `man/git-sandbox.1` is this output, checked
//! in; a test fails when it is stale (`git-sandbox __man > man/git-sandbox.1` refreshes it).

const EXTRA: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Done.
.TP
\fB1\fR
An error; the message names the problem and, where possible, the fix.
.TP
\fB2\fR
Usage: the command line was wrong (also: \fBrm\fR without a terminal and without \fB\-\-yes\fR).
.TP
\fB3\fR
Refused because work would be lost (uncommitted or untracked files, unpushed commits, a lock,
submodules). Nothing was changed.
.SH FILES
.TP
\fI$GIT_SANDBOX_HOME/registry.json\fR, else \fI~/.local/share/git\-sandbox/registry.json\fR
The per\-user registry of every sandbox and local\-prod, across all repos.
.TP
\fI.sandbox.toml\fR
Optional project configuration at the repo root: ports, env prefix, max slots, path template,
compose file and profile, files to copy, protected branches, local\-prod overrides.
.TP
\fI.env.sandbox\fR
Each sandbox's env file: SANDBOX_SLOT, SANDBOX_NAME, SANDBOX_ID, COMPOSE_PROJECT_NAME and one
<PREFIX><SERVICE>_PORT per port. Listed in \fI.git/info/exclude\fR.
.TP
\fI.sandbox/context.md\fR
Each sandbox's page for people and agents: its ports and URLs, env file and the commands to
run its services. Rewritten with the env file; listed in \fI.git/info/exclude\fR.
.TP
\fI.sandbox/compose.yml\fR
The compose file each sandbox runs: the project's compose model with this slot's ports, its
own container, volume and network names. Rendered on every \fBup\fR (\fBgit sandbox
compose\-file\fR prints it); listed in \fI.git/info/exclude\fR.
.TP
\fIrefs/sandbox/trash/<id>/<time>\fR
The work of every removed sandbox (each \fBrm\fR, forced or not, and \fBprune \-\-merged\fR saves
it here first); \fBgit sandbox restore\fR brings it back, \fBgit sandbox trash\fR lists it.
.SH ENVIRONMENT
.TP
\fBGIT_SANDBOX_HOME\fR
Where the registry lives.
.TP
\fBNO_COLOR\fR
Set and non\-empty: no colour (unless \fB\-\-color always\fR).
.TP
\fBGIT_SANDBOX_COMPOSE\fR
The compose command to use, e.g. \fBdocker\-compose\fR.
.TP
\fBGIT_SANDBOX_SWEEP\fR
\fBforeground\fR: \fBrm\fR deletes the moved directory before it returns; \fBprune\fR: leave it
for the next \fBprune\fR.
.SH "SEE ALSO"
\fBgit\-worktree\fR(1), \fBdocker\-compose\fR(1)
"#;

/// The whole page.
pub fn render() -> Vec<u8> {
    let cmd = crate::cli::full_command().name("git-sandbox");
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    out.extend_from_slice(synopsis(&cmd).as_bytes());
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    out.extend_from_slice(commands_section(&cmd).as_bytes());
    out.extend_from_slice(EXTRA.as_bytes());
    out
}

/// The SYNOPSIS: every visible option of the top level with its value (`-C <PATH>`,
/// `--color <WHEN>`), then the command. clap_mangen's drops the value names.
fn synopsis(root: &clap::Command) -> String {
    let mut line = String::from("\\fBgit sandbox\\fR");
    for arg in root.get_arguments().filter(|a| !a.is_hide_set()) {
        line.push_str(&format!(" [{}]", esc(&label(arg, "|"))));
    }
    line.push_str(" \\fI<COMMAND>\\fR [\\fI<ARGS>\\fR]");
    format!(".SH SYNOPSIS\n{line}\n")
}

/// `-s|--long <VALUE>` (with `sep` between the short and the long form), or `<NAME>` for a
/// positional.
fn label(arg: &clap::Arg, sep: &str) -> String {
    let mut label = String::new();
    if let Some(s) = arg.get_short() {
        label.push_str(&format!("-{s}"));
    }
    if let Some(l) = arg.get_long() {
        if !label.is_empty() {
            label.push_str(sep);
        }
        label.push_str(&format!("--{l}"));
    }
    if label.is_empty() {
        return format!("<{}>", arg.get_id().as_str().to_uppercase());
    }
    if arg.get_action().takes_values() {
        let v = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        label.push_str(&format!(" <{v}>"));
    }
    label
}

/// Escapes text for roff.
fn esc(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

/// A COMMANDS section: each subcommand's usage and options, nested ones included.
fn commands_section(root: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut String) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("{prefix} {}", sub.get_name());
            if sub.has_subcommands() {
                out.push_str(&format!(".SS \"{}\"\n{}\n", esc(&name), esc(&about(sub))));
                walk(sub, &name, out);
                continue;
            }
            let usage = sub
                .clone()
                .bin_name(&name)
                .render_usage()
                .to_string()
                .trim_start_matches("Usage: ")
                .to_string();
            out.push_str(&format!(
                ".SS \"{}\"\n{}\n.PP\n\\fB{}\\fR\n",
                esc(&name),
                esc(&about(sub)),
                esc(&usage)
            ));
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                let label = label(arg, ", ");
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", esc(&label), esc(&help)));
            }
        }
    }
    walk(root, "git sandbox", &mut out);
    out
}

fn about(cmd: &clap::Command) -> String {
    cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {

    /// Every visible option and argument of every visible command, with the command's path.
    fn undescribed(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg.get_help().is_none() {
                out.push(format!("{path} {}", super::label(arg, "|")));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            undescribed(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_option_has_a_description() {
        let mut missing = Vec::new();
        undescribed(&crate::cli::full_command(), "git sandbox", &mut missing);
        assert!(missing.is_empty(), "no description: {missing:#?}");
    }

    #[test]
    fn the_synopsis_shows_option_values() {
        let s = super::synopsis(&crate::cli::full_command());
        assert!(s.contains("[\\-C <PATH>]"), "{s}");
        assert!(s.contains("[\\-\\-color <WHEN>]"), "{s}");
    }
}
