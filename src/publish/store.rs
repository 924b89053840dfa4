//! Atomic replacement of a model directory.
//!
//! A publish writes every file of the new version into a fresh hidden
//! directory `models/.NAME.tmp-XXXXXX` (each file fsynced, then the directory),
//! then swaps it with `models/NAME` in one step (Linux `renameat2` with
//! `RENAME_EXCHANGE`), fsyncs `models/` and only then deletes the previous
//! version, which the swap left at the temporary path. A reader therefore sees
//! the old directory or the new one, never a mix and never neither, and the
//! old version stays on disk until the new one is complete. Where the kernel
//! or file system cannot exchange, two renames are used instead
//! (`NAME` → `.NAME.old-XXXXXX`, temporary → `NAME`); a crash between them is
//! repaired by [`recover`] at the next start.
//!
//! Hidden directories are never listed or served. Publishes of one name are
//! serialised by the caller (the server's per-name lock), so two never race
//! on a swap. `fairmark publish` to a local folder and the server's `PUT`
//! both write through [`replace_model_dir`].
use crate::registry::valid_model_name;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const TMP: &str = ".tmp-";
const OLD: &str = ".old-";

/// Deletes a directory tree when dropped, unless disarmed.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // Best effort: what is left is hidden and removed by `recover`.
            let _ = fs::remove_dir_all(&p);
        }
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    // Directories can be opened read-only and fsynced on Unix; elsewhere this
    // is best effort.
    match fs::File::open(dir) {
        Ok(d) => match d.sync_all() {
            Ok(()) => Ok(()),
            Err(e) if cfg!(unix) => Err(e),
            Err(_) => Ok(()),
        },
        Err(e) if cfg!(unix) => Err(e),
        Err(_) => Ok(()),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // World-readable like the files `fairmark publish` writes.
        options.mode(0o644);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings for the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange",
    ))
}

/// Writes `files` (name, bytes) as the new version of `models/<name>` and
/// swaps it into place. Returns true when the model did not exist before.
/// On any error the previous version is left as it was.
pub fn replace_model_dir(models: &Path, name: &str, files: &[(&str, &[u8])]) -> io::Result<bool> {
    if !valid_model_name(name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("model name {name:?}"),
        ));
    }
    fs::create_dir_all(models)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}{TMP}"))
        .tempdir_in(models)?
        .keep();
    let mut cleanup = Cleanup(Some(tmp.clone()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
    }
    for (file, bytes) in files {
        write_synced(&tmp.join(file), bytes)?;
    }
    fsync_dir(&tmp)?;

    let target = models.join(name);
    let created = match exchange(&tmp, &target) {
        // The previous version is now at `tmp`; `cleanup` deletes it below.
        Ok(()) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !target.exists() => {
            fs::rename(&tmp, &target)?;
            cleanup.0 = None;
            true
        }
        Err(_) => {
            // No atomic exchange here (kernel or file system): two renames.
            let suffix = tmp
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.rsplit_once(TMP))
                .map_or("x", |(_, s)| s)
                .to_string();
            let old = models.join(format!(".{name}{OLD}{suffix}"));
            let created = match fs::rename(&target, &old) {
                Ok(()) => false,
                Err(e) if e.kind() == io::ErrorKind::NotFound => true,
                Err(e) => return Err(e),
            };
            if let Err(e) = fs::rename(&tmp, &target) {
                if !created {
                    fs::rename(&old, &target)?;
                }
                return Err(e);
            }
            cleanup.0 = (!created).then_some(old);
            created
        }
    };
    fsync_dir(models)?;
    drop(cleanup);
    Ok(created)
}

/// Repairs what a crash in the middle of a publish can leave: deletes
/// temporary directories and puts back a previous version whose replacement
/// never arrived (deleting it otherwise). Returns what it did, one line each.
pub fn recover(models: &Path) -> Vec<String> {
    let mut done = Vec::new();
    let Ok(entries) = fs::read_dir(models) else {
        return done;
    };
    for entry in entries.flatten() {
        let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some(rest) = file_name.strip_prefix('.') else {
            continue;
        };
        let path = entry.path();
        if rest
            .rsplit_once(TMP)
            .is_some_and(|(n, _)| valid_model_name(n))
        {
            if fs::remove_dir_all(&path).is_ok() {
                done.push(format!("removed unfinished publish {}", path.display()));
            }
        } else if let Some((name, _)) = rest.rsplit_once(OLD).filter(|(n, _)| valid_model_name(n)) {
            let target = models.join(name);
            if target.exists() {
                if fs::remove_dir_all(&path).is_ok() {
                    done.push(format!("removed replaced version {}", path.display()));
                }
            } else if fs::rename(&path, &target).is_ok() {
                done.push(format!(
                    "restored {} (its replacement was never completed)",
                    target.display()
                ));
            }
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dir: &Path, f: &str) -> String {
        fs::read_to_string(dir.join(f)).unwrap()
    }

    #[test]
    fn create_replace_and_recover() {
        let root = tempfile::tempdir().unwrap();
        let models = root.path().join("models");
        assert!(replace_model_dir(&models, "m", &[("a", b"1"), ("b", b"1")]).unwrap());
        assert!(!replace_model_dir(&models, "m", &[("a", b"2")]).unwrap());
        let m = models.join("m");
        assert_eq!(read(&m, "a"), "2");
        assert!(!m.join("b").exists(), "files of the old version are gone");
        let names: Vec<_> = fs::read_dir(&models)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["m"], "no temporary or old directory is left");
        assert!(replace_model_dir(&models, "../x", &[]).is_err());

        // A crash between the two renames of the fallback, and one mid-write.
        fs::rename(&m, models.join(".m.old-abc")).unwrap();
        fs::create_dir(models.join(".m.tmp-def")).unwrap();
        fs::create_dir(models.join(".keep")).unwrap();
        let done = recover(&models);
        assert_eq!(done.len(), 2, "{done:?}");
        assert_eq!(read(&m, "a"), "2");
        assert!(!models.join(".m.tmp-def").exists());
        assert!(
            models.join(".keep").exists(),
            "other hidden entries are left alone"
        );
    }
}
