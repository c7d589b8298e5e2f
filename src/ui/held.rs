//! Stderr held back while a hook works (`hold_stderr`): every message and every child
//! process's output (file descriptors 1 and 2, which `reserve_stdout` already pointed at
//! stderr) goes to a temporary file, so a failure can put its reason first, where the agent
//! quotes it, and a success can still pass on what was said.

/// The held output, until [`Held::release`].
#[cfg(target_os = "linux")]
pub struct Held(Option<(std::os::fd::OwnedFd, std::fs::File)>);

/// From here on, stderr (and fd 1) write to a temporary file; `None` inside: nothing is held.
#[cfg(target_os = "linux")]
pub fn hold_stderr() -> Held {
    use std::os::fd::AsFd;
    let saved = rustix::io::fcntl_dupfd_cloexec(std::io::stderr().as_fd(), 0).ok();
    match (saved, tempfile::tempfile()) {
        (Some(saved), Ok(file)) => {
            let _ = rustix::stdio::dup2_stderr(file.as_fd());
            let _ = rustix::stdio::dup2_stdout(file.as_fd());
            Held(Some((saved, file)))
        }
        _ => Held(None),
    }
}

#[cfg(target_os = "linux")]
impl Held {
    /// Stderr (and fd 1) back where they were; what was written meanwhile.
    pub fn release(mut self) -> String {
        self.restore().unwrap_or_default()
    }

    fn restore(&mut self) -> Option<String> {
        use std::io::{Read, Seek};
        let (saved, mut file) = self.0.take()?;
        let _ = rustix::stdio::dup2_stderr(&saved);
        let _ = rustix::stdio::dup2_stdout(&saved);
        let mut text = String::new();
        file.rewind().ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        text.push_str(&String::from_utf8_lossy(&bytes));
        Some(text)
    }
}

#[cfg(target_os = "linux")]
impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

#[cfg(not(target_os = "linux"))]
pub struct Held;

#[cfg(not(target_os = "linux"))]
pub fn hold_stderr() -> Held {
    Held
}

#[cfg(not(target_os = "linux"))]
impl Held {
    pub fn release(self) -> String {
        String::new()
    }
}
