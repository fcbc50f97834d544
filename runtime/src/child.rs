//! The command started with `-c`: spawned paused before the program is compiled (so its
//! pid is known as `cpid`), released once every probe is attached, and watched so the
//! run ends when it exits. A child that is never released, or still runs when the run
//! ends, is killed and reaped.

use std::fs::File;
use std::io::Write;

use crate::error::{io_words, RuntimeError};
use crate::sys;

/// A spawned command waiting for [`PausedChild::release`].
pub struct PausedChild {
    pid: libc::pid_t,
    gate: Option<File>,
    /// The exit code, once the child is reaped.
    code: Option<i32>,
}

impl PausedChild {
    /// Spawns `command` (split into words as a shell splits them, quotes included;
    /// the program looked up in `PATH`), held before exec.
    pub fn spawn(command: &str) -> Result<Self, RuntimeError> {
        let fail = |reason: String| RuntimeError::Command {
            command: command.to_string(),
            reason,
        };
        let mut argv =
            shlex::split(command).ok_or_else(|| fail("its quotes are not balanced".to_string()))?;
        let Some(program) = argv.first() else {
            return Err(fail("the command is empty".to_string()));
        };
        argv[0] = resolve(program).ok_or_else(|| fail(format!("{program}: command not found")))?;
        let (pid, gate) = sys::spawn_paused(&argv).map_err(|e| fail(io_words(&e)))?;
        Ok(PausedChild {
            pid,
            gate: Some(gate),
            code: None,
        })
    }

    /// The child's pid (`cpid`).
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Lets the command exec and run.
    pub(crate) fn release(&mut self) {
        if let Some(mut gate) = self.gate.take() {
            let _ = gate.write_all(&1u64.to_ne_bytes());
        }
    }

    /// Whether the command has exited (it is reaped if so).
    pub(crate) fn exited(&mut self) -> bool {
        self.reap(false).is_some()
    }

    /// The exit code once the child has exited, waiting for it when `block`.
    fn reap(&mut self, block: bool) -> Option<i32> {
        if self.code.is_none() {
            self.code = sys::wait_child(self.pid, block).ok().flatten();
        }
        self.code
    }
}

impl Drop for PausedChild {
    fn drop(&mut self) {
        if !self.exited() {
            // SAFETY: kill(2) on the child's pid, which is not reaped yet.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            self.reap(true);
        }
    }
}

/// `program` itself if it names a path, else its first match in `PATH`.
fn resolve(program: &str) -> Option<String> {
    if program.contains('/') {
        return std::path::Path::new(program)
            .is_file()
            .then(|| program.to_string());
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_string());
    path.split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_resolve_through_path() {
        assert!(resolve("sh").is_some_and(|p| p.ends_with("/sh")));
        assert_eq!(resolve("/nonexistent/tool"), None);
        assert!(PausedChild::spawn("ebpfc-no-such-command").is_err());
    }

    #[test]
    fn a_released_child_runs_and_exits() {
        let mut child = PausedChild::spawn("true").unwrap();
        child.release();
        assert_eq!(child.reap(true), Some(0));
        assert!(child.exited());
    }

    #[test]
    fn a_child_never_released_does_not_run() {
        let mut child = PausedChild::spawn("true").unwrap();
        child.gate = None;
        assert_eq!(child.reap(true), Some(127));
    }

    #[test]
    fn quoted_words_stay_whole() {
        let mut child = PausedChild::spawn("sh -c 'exit 3'").unwrap();
        child.release();
        assert_eq!(child.reap(true), Some(3));
        assert!(PausedChild::spawn("sh -c 'exit 3").is_err());
    }
}
