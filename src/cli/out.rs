//! Results directories: the only code that creates, replaces or removes a directory.
//!
//! Architecture invariant: deploysim never destroys what it did not write. Every
//! results directory carries the marker file `.deploysim`; an existing `--out` is
//! replaced only when it is empty or carries the marker, and the check runs before any
//! simulation (`Target::check`). Results are written into a fresh temporary directory
//! beside the target (`Staged`), which replaces the target in one rename at the end;
//! a failure, an error return or a SIGINT/SIGTERM removes the temporary directory and
//! any parent directories this run created, so nothing half-written is ever left.
//! Pinned by `tests/it/output_safety.rs`.

use super::Failure;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// The marker file every results directory holds.
pub const MARKER: &str = ".deploysim";

/// Directories to remove if the process is interrupted: the staged temporary
/// directories and the parents this process created for them. The signal thread
/// holds the lock while it cleans up and exits, so a commit (which holds it too) is
/// never cut in half.
static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

struct Pending {
    tmp: PathBuf,
    created: Vec<PathBuf>,
}

/// A checked output target: safe to replace, or absent.
#[derive(Clone, Debug)]
pub struct Target {
    path: PathBuf,
    /// The flag the user gave it with, for messages (`--out`).
    flag: &'static str,
}

impl Target {
    /// Checks that `path` may receive results, before any work starts: it is absent,
    /// or a directory that is empty or carries the marker, and it is neither `/`, the
    /// home directory nor the current directory or one above it.
    pub fn check(path: &Path, flag: &'static str) -> Result<Target, Failure> {
        let t = Target {
            path: path.to_path_buf(),
            flag,
        };
        if path.as_os_str().is_empty() {
            return Err(t.refuse("an empty path is not a directory"));
        }
        if matches!(path.components().next_back(), Some(Component::ParentDir)) {
            return Err(t.refuse("it is a parent of the current directory"));
        }
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(t.refuse(
                    "it is a symbolic link; give the directory it points to, or another path",
                ));
            }
            Ok(m) if !m.is_dir() => return Err(t.refuse("it is a file, not a directory")),
            Ok(_) => t.check_existing()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => t.check_parent()?,
            Err(e) => return Err(t.refuse(&format!("cannot inspect it: {e}"))),
        }
        Ok(t)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn refuse(&self, why: &str) -> Failure {
        Failure::input(format!(
            "error: {} {}: refusing to write results there: {why}",
            self.flag,
            self.path.display()
        ))
    }

    fn check_existing(&self) -> Result<(), Failure> {
        let canon = self
            .path
            .canonicalize()
            .map_err(|e| self.refuse(&format!("cannot resolve it: {e}")))?;
        if canon.parent().is_none() {
            return Err(self.refuse("it is the root directory"));
        }
        if std::env::var_os("HOME")
            .and_then(|h| Path::new(&h).canonicalize().ok())
            .is_some_and(|h| h == canon)
        {
            return Err(self.refuse("it is your home directory"));
        }
        if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
            && cwd.starts_with(&canon)
        {
            return Err(self.refuse(if cwd == canon {
                "it is the current directory"
            } else {
                "it contains the current directory"
            }));
        }
        self.owned()
    }

    /// The target directory is empty or was written by deploysim.
    fn owned(&self) -> Result<(), Failure> {
        let mut entries = std::fs::read_dir(&self.path)
            .map_err(|e| self.refuse(&format!("cannot list it: {e}")))?;
        if entries.next().is_none() {
            return Ok(());
        }
        if self.path.join(MARKER).is_file() {
            return Ok(());
        }
        Err(self.refuse(&format!(
            "it is not empty and has no {MARKER} marker, so deploysim did not write it \
             (choose another directory, or empty it yourself)"
        )))
    }

    /// A target that does not exist yet: its nearest existing ancestor must be a
    /// directory.
    fn check_parent(&self) -> Result<(), Failure> {
        let mut p = self.parent();
        loop {
            match std::fs::metadata(&p) {
                Ok(m) if m.is_dir() => return Ok(()),
                Ok(_) => {
                    return Err(self.refuse(&format!("{} is a file, not a directory", p.display())));
                }
                Err(_) => match p.parent() {
                    Some(up) if !up.as_os_str().is_empty() => p = up.to_path_buf(),
                    _ => return Ok(()),
                },
            }
        }
    }

    fn parent(&self) -> PathBuf {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    }

    /// Creates the temporary directory (and any missing parents) with its marker.
    pub fn stage(&self) -> Result<Staged, Failure> {
        let parent = self.parent();
        let mut created = Vec::new();
        let mut missing = Vec::new();
        let mut p = parent.clone();
        while !p.exists() {
            missing.push(p.clone());
            match p.parent() {
                Some(up) if !up.as_os_str().is_empty() => p = up.to_path_buf(),
                _ => break,
            }
        }
        for dir in missing.into_iter().rev() {
            if let Err(e) = std::fs::create_dir(&dir) {
                remove_created(&created);
                return Err(Failure::io(&dir, e));
            }
            created.push(dir);
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "results".into());
        let tmp = parent.join(format!(
            ".{name}.tmp-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        if let Err(e) = std::fs::create_dir(&tmp) {
            remove_created(&created);
            return Err(Failure::io(&tmp, e));
        }
        lock().push(Pending {
            tmp: tmp.clone(),
            created: created.clone(),
        });
        let staged = Staged {
            target: self.clone(),
            tmp,
            created,
            done: false,
        };
        let marker = staged.tmp.join(MARKER);
        std::fs::write(
            &marker,
            format!(
                "This directory was written by deploysim {}; deploysim may replace it.\n",
                env!("CARGO_PKG_VERSION")
            ),
        )
        .map_err(|e| Failure::io(&marker, e))?;
        Ok(staged)
    }
}

/// A temporary directory being filled; dropped without `commit`, it is removed.
pub struct Staged {
    target: Target,
    tmp: PathBuf,
    created: Vec<PathBuf>,
    done: bool,
}

impl Staged {
    /// Where to write the results.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished results into place. The target is checked once more (it
    /// may have changed during a long run); the old results are moved aside, the new
    /// ones renamed in, then the old ones removed.
    pub fn commit(mut self) -> Result<(), Failure> {
        let pending = lock();
        let t = &self.target;
        let exists = std::fs::symlink_metadata(&t.path).is_ok();
        if exists {
            Target::check(&t.path, t.flag)?;
            let old = self.tmp.with_file_name(
                self.tmp
                    .file_name()
                    .map(|n| n.to_string_lossy().replace(".tmp-", ".old-"))
                    .unwrap_or_default(),
            );
            std::fs::rename(&t.path, &old).map_err(|e| Failure::io(&t.path, e))?;
            if let Err(e) = std::fs::rename(&self.tmp, &t.path) {
                let _ = std::fs::rename(&old, &t.path);
                return Err(Failure::io(&t.path, e));
            }
            // `old` was checked to be empty or marked just above.
            std::fs::remove_dir_all(&old).map_err(|e| Failure::io(&old, e))?;
        } else {
            std::fs::rename(&self.tmp, &t.path).map_err(|e| Failure::io(&t.path, e))?;
        }
        self.done = true;
        forget(pending, &self.tmp);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let pending = lock();
        let _ = std::fs::remove_dir_all(&self.tmp);
        remove_created(&self.created);
        forget(pending, &self.tmp);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn forget(mut pending: std::sync::MutexGuard<'_, Vec<Pending>>, tmp: &Path) {
    pending.retain(|p| p.tmp != tmp);
}

/// Removes the parents a run created, innermost first, and only while empty.
fn remove_created(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// Starts the thread that turns SIGINT / SIGTERM into a clean exit: the staged
/// directories are removed, the progress line is cleared, `interrupted` is printed
/// and the process exits 130 / 143.
pub fn handle_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let pending = lock();
            for p in pending.iter() {
                let _ = std::fs::remove_dir_all(&p.tmp);
                remove_created(&p.created);
            }
            use std::io::{IsTerminal, Write};
            let mut err = std::io::stderr().lock();
            if err.is_terminal() {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = writeln!(err, "interrupted");
            std::process::exit(128 + sig);
        }
    });
}
