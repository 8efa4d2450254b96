//! The storage logic, independent of WebAssembly so it is unit-tested
//! natively: a flat directory of metadata files written atomically.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    InvalidConfig(String),
    InvalidInput(String),
    NotFound(String),
    Denied(String),
    Internal(String),
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::NotFound => Error::NotFound(format!("{what}: {e}")),
        ErrorKind::PermissionDenied => Error::Denied(format!("{what}: {e}")),
        _ => Error::Internal(format!("{what}: {e}")),
    }
}

/// Object names are flat file names: no separators, no dot-files (temp
/// files are dot-files), no NUL, bounded length.
pub fn check_name(name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control);
    if bad {
        Err(Error::InvalidInput(format!("invalid object name {name:?}")))
    } else {
        Ok(())
    }
}

pub struct FsStore {
    root: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl FsStore {
    pub fn open(path: &str) -> Result<FsStore, Error> {
        let root = PathBuf::from(path);
        match fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(FsStore { root }),
            Ok(_) => Err(Error::InvalidConfig(format!("path: {path} is not a directory"))),
            Err(e) => Err(Error::InvalidConfig(format!(
                "path: cannot open {path}: {e} (is the directory granted to the plugin?)"
            ))),
        }
    }

    fn path(&self, name: &str) -> Result<PathBuf, Error> {
        check_name(name)?;
        Ok(self.root.join(name))
    }

    /// Write to a temporary file in the same directory, fsync it, rename it
    /// over the target, then fsync the directory (best effort) so the rename
    /// is durable.
    pub fn put(&self, name: &str, data: &[u8]) -> Result<(), Error> {
        let target = self.path(name)?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = self.root.join(format!(".{name}.tmp-{nanos}-{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
        let result = write_synced(&tmp, data).and_then(|()| fs::rename(&tmp, &target));
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(&format!("writing {name}"), e));
        }
        sync_dir(&self.root);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path(name)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&format!("reading {name}"), e)),
        }
    }

    /// (name, size, modified seconds) of regular files starting with
    /// `prefix`, sorted by name; temporary files are skipped.
    pub fn list(&self, prefix: &str) -> Result<Vec<(String, u64, Option<u64>)>, Error> {
        let entries = fs::read_dir(&self.root).map_err(|e| io_error("listing the storage directory", e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing the storage directory", e))?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with('.') || !name.starts_with(prefix) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            out.push((name, meta.len(), modified));
        }
        out.sort();
        Ok(out)
    }

    pub fn delete(&self, name: &str) -> Result<bool, Error> {
        let path = self.path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.root);
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(&format!("deleting {name}"), e)),
        }
    }
}

fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Make a rename durable. WASI may not allow opening a directory as a file;
/// then the file data is still synced and only the rename's durability
/// depends on the host file system's journal.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStore::open(dir.path().to_str().unwrap()).unwrap();
        s.put("1.root.json", b"one").unwrap();
        s.put("1.root.json", b"two").unwrap();
        s.put("timestamp.json", b"ts").unwrap();
        assert_eq!(s.get("1.root.json").unwrap().unwrap(), b"two");
        assert_eq!(s.get("nope").unwrap(), None);
        let names: Vec<_> = s.list("").unwrap().into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names, ["1.root.json", "timestamp.json"]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temp files left");
        assert!(s.delete("timestamp.json").unwrap());
        assert!(!s.delete("timestamp.json").unwrap());
    }

    #[test]
    fn rejects_names_outside_the_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStore::open(dir.path().to_str().unwrap()).unwrap();
        for bad in ["", "..", "../x", "a/b", ".hidden", "a\0b", "a\\b"] {
            assert!(matches!(s.put(bad, b"x"), Err(Error::InvalidInput(_))), "{bad:?}");
        }
        assert!(matches!(FsStore::open("/definitely/not/here"), Err(Error::InvalidConfig(_))));
    }
}
