//! The on-disk compile cache for plugin machine code.
//!
//! Loading cached code runs it unchecked: wasmtime's `deserialize` is
//! `unsafe` because it trusts the bytes to be what its own `serialize`
//! wrote. Whoever can write the cache can therefore run native code as the
//! host, outside every sandbox. So the cache is only used where nobody else
//! can write: a directory owned by this user and writable by nobody else
//! (created with mode 0700), and files owned by this user, writable by
//! nobody else, read through the same open file that was checked. Anything
//! else is ignored with a warning and the plugin is compiled from its
//! `.wasm` instead, which is slower but safe.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A cache directory that passed the ownership checks.
#[derive(Debug, Clone)]
pub(crate) struct CodeCache {
    dir: PathBuf,
}

impl CodeCache {
    /// Create `dir` (mode 0700) if needed and check it; `Err` says why the
    /// cache cannot be used.
    pub(crate) fn open(dir: &Path) -> Result<CodeCache, String> {
        create_private_dir(dir).map_err(|e| {
            format!(
                "cannot create plugin cache directory {}: {e}",
                dir.display()
            )
        })?;
        let meta = std::fs::metadata(dir)
            .map_err(|e| format!("cannot read plugin cache directory {}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("plugin cache {} is not a directory", dir.display()));
        }
        private(&meta).map_err(|why| format!("plugin cache directory {} {why}", dir.display()))?;
        Ok(CodeCache {
            dir: dir.to_path_buf(),
        })
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The bytes of a cached entry, if one exists and is ours alone.
    pub(crate) fn read(&self, name: &str) -> Option<Vec<u8>> {
        // The directory again (it may have been opened up since start).
        let dir_ok = std::fs::metadata(&self.dir)
            .map_err(|e| e.to_string())
            .and_then(|m| private(&m));
        if let Err(why) = dir_ok {
            tracing::warn!(cache = %self.dir.display(), "not using the plugin cache: the directory {why}");
            return None;
        }
        let path = self.path(name);
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            // Never through a symlink; never block on a FIFO planted there.
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let mut file = match options.open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(cache = %path.display(), "cannot open cached plugin code: {e}");
                return None;
            }
        };
        // Checked on the open file, so it cannot be swapped after the check.
        let checked = file.metadata().map_err(|e| e.to_string()).and_then(|m| {
            if m.is_file() {
                private(&m)
            } else {
                Err("is not a regular file".into())
            }
        });
        if let Err(why) = checked {
            tracing::warn!(cache = %path.display(), "ignoring cached plugin code that {why}; compiling instead");
            return None;
        }
        let mut bytes = Vec::new();
        match file.read_to_end(&mut bytes) {
            Ok(_) => Some(bytes),
            Err(e) => {
                tracing::warn!(cache = %path.display(), "cannot read cached plugin code: {e}");
                None
            }
        }
    }

    /// Store an entry: written to a fresh private file, then renamed.
    pub(crate) fn write(&self, name: &str, code: &[u8]) -> std::io::Result<()> {
        let target = self.path(name);
        let tmp = self.dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let result = options.open(&tmp).and_then(|mut f| {
            f.write_all(code)?;
            f.sync_all()
        });
        match result.and_then(|_| std::fs::rename(&tmp, &target)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Owned by this user and not writable by group or others.
#[cfg(unix)]
fn private(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "is owned by uid {}, not by this process (uid {me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "is writable by group or others (mode {:o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn private(_meta: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_entries_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = CodeCache::open(&tmp.path().join("a/b")).unwrap();
        let mode = std::fs::metadata(tmp.path().join("a/b"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(cache.read("x.cwasm"), None);
        cache.write("x.cwasm", b"code").unwrap();
        assert_eq!(cache.read("x.cwasm").as_deref(), Some(&b"code"[..]));
        let mode = std::fs::metadata(cache.path("x.cwasm"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn entries_others_can_write_are_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = CodeCache::open(tmp.path()).unwrap();
        cache.write("x.cwasm", b"code").unwrap();
        std::fs::set_permissions(
            cache.path("x.cwasm"),
            std::fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        assert_eq!(
            cache.read("x.cwasm"),
            None,
            "a world-writable entry is not trusted"
        );
        std::fs::create_dir(cache.path("d.cwasm")).unwrap();
        assert_eq!(cache.read("d.cwasm"), None, "a directory is not an entry");
        let target = tmp.path().join("elsewhere");
        std::fs::write(&target, b"code").unwrap();
        std::os::unix::fs::symlink(&target, cache.path("l.cwasm")).unwrap();
        assert_eq!(cache.read("l.cwasm"), None, "a symlink is not followed");
        let fifo = std::ffi::CString::new(cache.path("f.cwasm").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(
            cache.read("f.cwasm"),
            None,
            "a FIFO neither blocks nor counts"
        );
        // A directory opened up after start stops being trusted.
        cache.write("x.cwasm", b"code").unwrap();
        std::fs::set_permissions(
            cache.path("x.cwasm"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert!(cache.read("x.cwasm").is_some());
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(cache.read("x.cwasm"), None);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn directories_others_can_write_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = CodeCache::open(&shared).unwrap_err();
        assert!(err.contains("writable by group or others"), "{err}");
        let file = tmp.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(CodeCache::open(&file).is_err());
    }
}
