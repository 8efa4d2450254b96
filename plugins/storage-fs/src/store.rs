//! The storage logic, kept free of WebAssembly bindings so the same code is
//! unit-tested natively (`cargo test`) and shipped in the component.
//!
//! Why it looks the way it does:
//! - The namespace is flat (`1.root.json`, `42.bins-0a.json`, …), so names
//!   are single file names and anything that could address another path is
//!   refused before touching the file system.
//! - TUF clients must never see a half-written file, so `put` writes a
//!   dot-prefixed temporary file next to the target, fsyncs it, renames it
//!   over the target and fsyncs the directory. Dot-files are never valid
//!   object names, so temporary files can neither be read nor listed.
//!   `put_many` does the same for a group of objects with one fsync per file
//!   and one for the directory, all files written before the first fsync.
//! - Several plugin instances may share the directory, so temporary names
//!   carry 64 random bits and are created with `create_new`.

use rstuf_plugin_sdk::config::NonEmpty;
use schemars::JsonSchema;
use serde::Deserialize;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

/// The guest path used when the configuration does not name one.
pub const DEFAULT_PATH: &str = "/data";

/// Objects of one `put_many` staged (and so open) at a time.
const PUT_GROUP: usize = 128;

/// Longest accepted object name, in bytes (the usual file-name limit).
pub const MAX_NAME_LEN: usize = 255;

/// Bytes of the object name kept in a temporary file's name, so that the
/// temporary name stays under the file-name limit for the longest names.
const TMP_NAME_PREFIX_LEN: usize = 200;

pub use rstuf_plugin_sdk::{Error, ObjectInfo};

/// Map an I/O error: NotFound → not-found, PermissionDenied → denied,
/// anything else → internal, always with the OS message.
pub fn io_error(what: &str, e: &std::io::Error) -> Error {
    let msg = format!("{what}: {e}");
    match e.kind() {
        ErrorKind::NotFound => Error::NotFound(msg),
        ErrorKind::PermissionDenied => Error::Denied(msg),
        _ => Error::Internal(msg),
    }
}

/// Why `name` is not an acceptable object name, if it is not.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is a directory reference")
    } else if name.starts_with('.') {
        Some("starts with '.' (reserved for temporary files)")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator")
    } else if name.contains('\0') {
        Some("contains NUL")
    } else if name.contains("..") {
        Some("contains '..'")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.len() > MAX_NAME_LEN {
        Some("is longer than 255 bytes")
    } else {
        None
    }
}

/// Object names are flat file names: not empty, no `/`, `\`, NUL, control
/// characters or `..`, no leading `.`, at most 255 bytes. The error names the
/// offending name (escaped, so control characters stay readable).
pub fn check_name(name: &str) -> Result<(), Error> {
    match name_problem(name) {
        Some(why) => Err(Error::InvalidInput(format!(
            "invalid object name {name:?}: {why}"
        ))),
        None => Ok(()),
    }
}

/// The plugin's configuration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"path": DEFAULT_PATH}))]
pub struct Config {
    /// Guest path of the directory the host grants to the plugin
    #[serde(default = "default_path")]
    pub path: NonEmpty,
}

fn default_path() -> NonEmpty {
    NonEmpty::literal(DEFAULT_PATH)
}

/// A flat directory of metadata files.
pub struct FsStore {
    root: PathBuf,
    /// Whether fsyncing the directory failed, so the component can warn once
    /// (see [`FsStore::take_dir_sync_failure`]).
    dir_sync: Mutex<DirSync>,
}

enum DirSync {
    Fine,
    Failed(String),
    Reported,
}

impl FsStore {
    /// Open the store at `path`, which must be an existing directory
    /// (inside the sandbox: the guest path of a directory grant).
    pub fn open(path: &str) -> Result<FsStore, Error> {
        let root = PathBuf::from(path);
        match fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(FsStore {
                root,
                dir_sync: Mutex::new(DirSync::Fine),
            }),
            Ok(_) => Err(Error::InvalidConfig(format!(
                "path: {path} is not a directory"
            ))),
            Err(e) => Err(Error::InvalidConfig(format!(
                "path: cannot open {path}: {e} (is the directory granted to the plugin?)"
            ))),
        }
    }

    /// The directory this store writes to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> Result<PathBuf, Error> {
        check_name(name)?;
        Ok(self.root.join(name))
    }

    /// Write `name` atomically and durably: temporary file in the same
    /// directory, fsync, rename over the target, fsync the directory.
    pub fn put(&self, name: &str, data: &[u8]) -> Result<(), Error> {
        let target = self.path(name)?;
        let tmp = self.root.join(temp_name(name)?);
        let result = write_synced(&tmp, data).and_then(|()| fs::rename(&tmp, &target));
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(&format!("writing {name}"), &e));
        }
        self.sync_root();
        Ok(())
    }

    /// Write each object atomically, in order; stop at the first failure
    /// and report it (earlier objects stay written). Durable like `put`,
    /// but with far fewer waits: a group's files are all written before
    /// any is fsynced (the first fsync commits what the file system has
    /// pending, so the others find little left to flush), then renamed
    /// into place in order, and the directory is fsynced once at the end,
    /// where `put` would wait twice per object.
    pub fn put_many(&self, objects: &[(String, Vec<u8>)]) -> Result<(), Error> {
        let mut renamed_any = false;
        let mut result = Ok(());
        for group in objects.chunks(PUT_GROUP) {
            let (renamed, failure) = self.put_group(group);
            renamed_any |= renamed > 0;
            if let Some(e) = failure {
                result = Err(e);
                break;
            }
        }
        if renamed_any {
            self.sync_root();
        }
        result
    }

    /// Stage, fsync and rename `group` in order; how many objects are in
    /// place, and the first failure.
    fn put_group(&self, group: &[(String, Vec<u8>)]) -> (usize, Option<Error>) {
        let mut staged: Vec<(PathBuf, PathBuf, fs::File)> = Vec::with_capacity(group.len());
        let mut failure = None;
        for (name, data) in group {
            match self.stage(name, data) {
                Ok(file) => staged.push(file),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Data durable before any rename; an object that cannot be made
        // durable is the first failure, and nothing after it is renamed.
        let mut ready = staged.len();
        for (i, ((_, _, file), (name, _))) in staged.iter().zip(group).enumerate() {
            if let Err(e) = file.sync_all() {
                failure = Some(io_error(&format!("writing {name}"), &e));
                ready = i;
                break;
            }
        }
        let mut renamed = 0;
        for ((tmp, target, _), (name, _)) in staged[..ready].iter().zip(group) {
            if let Err(e) = fs::rename(tmp, target) {
                failure = Some(io_error(&format!("writing {name}"), &e));
                break;
            }
            renamed += 1;
        }
        for (tmp, _, _) in &staged[renamed..] {
            let _ = fs::remove_file(tmp);
        }
        (renamed, failure)
    }

    /// Write `data` to a new temporary file next to `name`'s target, not
    /// yet synced: (temporary path, target path, open file).
    fn stage(&self, name: &str, data: &[u8]) -> Result<(PathBuf, PathBuf, fs::File), Error> {
        let target = self.path(name)?;
        let tmp = self.root.join(temp_name(name)?);
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| f.write_all(data).map(|()| f));
        match written {
            Ok(file) => Ok((tmp, target, file)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(io_error(&format!("writing {name}"), &e))
            }
        }
    }

    /// Read `name`; `None` when it does not exist.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path(name)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&format!("reading {name}"), &e)),
        }
    }

    /// Regular files whose names start with `prefix`, sorted by name.
    /// Temporary files and anything else that is not a valid object name
    /// are skipped, as are entries that vanish while listing.
    pub fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, Error> {
        // WASI's directory stream reads each entry's type as it goes: an
        // object deleted meanwhile (retention, another process's clean-up)
        // ends the stream with NotFound. That is not an error of the
        // listing, but the stream cannot go on past it: list again.
        const ATTEMPTS: u32 = 8;
        for attempt in 1..ATTEMPTS {
            if let Some(listed) = self.list_once(prefix)? {
                return Ok(listed);
            }
            // A sweep deleting in bulk is usually done within a moment.
            std::thread::sleep(std::time::Duration::from_millis(5 << attempt));
        }
        self.list_once(prefix)?.ok_or_else(|| {
            Error::Unavailable(format!(
                "listing the storage directory: objects kept disappearing during {ATTEMPTS} attempts"
            ))
        })
    }

    /// One pass over the directory; `None` when an entry vanished under it.
    fn list_once(&self, prefix: &str) -> Result<Option<Vec<ObjectInfo>>, Error> {
        let entries =
            fs::read_dir(&self.root).map_err(|e| io_error("listing the storage directory", &e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error("listing the storage directory", &e)),
            };
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !name.starts_with(prefix) || name_problem(&name).is_some() {
                continue;
            }
            // Follows symlinks, like `get` does.
            let Ok(meta) = fs::metadata(entry.path()) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            out.push(ObjectInfo {
                name,
                size: meta.len(),
                modified,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(out))
    }

    /// Remove `name`; `false` when it did not exist.
    pub fn delete(&self, name: &str) -> Result<bool, Error> {
        let path = self.path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => {
                self.sync_root();
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(&format!("deleting {name}"), &e)),
        }
    }

    /// Make a rename or unlink durable by fsyncing the directory. A failure
    /// does not fail the write (the file's data is already synced); it is
    /// remembered once so the component can warn about it.
    fn sync_root(&self) {
        if let Err(e) = sync_dir(&self.root) {
            if let Ok(mut state) = self.dir_sync.lock() {
                if matches!(*state, DirSync::Fine) {
                    *state = DirSync::Failed(format!(
                        "cannot fsync directory {}: {e}; renames are durable only once the host file system commits them",
                        self.root.display()
                    ));
                }
            }
        }
    }

    /// The first directory-fsync failure not yet reported, if any; returns
    /// `Some` at most once per store.
    pub fn take_dir_sync_failure(&self) -> Option<String> {
        let mut state = self.dir_sync.lock().ok()?;
        match std::mem::replace(&mut *state, DirSync::Reported) {
            DirSync::Failed(msg) => Some(msg),
            DirSync::Fine => {
                *state = DirSync::Fine;
                None
            }
            DirSync::Reported => None,
        }
    }
}

/// `.<name>.tmp-<16 hex digits of randomness>`; long names are cut at a
/// character boundary so the temporary name stays a valid file name.
fn temp_name(name: &str) -> Result<String, Error> {
    let mut cut = name.len().min(TMP_NAME_PREFIX_LEN);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|e| Error::Internal(format!("no randomness for a temporary file name: {e}")))?;
    Ok(format!(
        ".{}.tmp-{:016x}",
        &name[..cut],
        u64::from_le_bytes(random)
    ))
}

fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// fsync a directory. Under WASI (wasmtime's wasi:filesystem) opening a
/// directory read-only and calling `sync` on it is supported; hosts that
/// refuse either step make this return the error.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStore::open(dir.path().to_str().unwrap()).unwrap();
        (dir, s)
    }

    fn files_on_disk(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn put_get_list_delete_round_trip() {
        let (dir, s) = store();
        s.put("1.root.json", b"one").unwrap();
        s.put("1.root.json", b"two").unwrap();
        s.put("timestamp.json", b"ts").unwrap();
        assert_eq!(s.get("1.root.json").unwrap().unwrap(), b"two");
        assert_eq!(s.get("nope.json").unwrap(), None);
        let names: Vec<_> = s.list("").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["1.root.json", "timestamp.json"]);
        assert_eq!(
            files_on_disk(dir.path()),
            ["1.root.json", "timestamp.json"],
            "no temp files left"
        );
        assert!(s.delete("timestamp.json").unwrap());
        assert!(!s.delete("timestamp.json").unwrap());
        assert_eq!(s.get("timestamp.json").unwrap(), None);
        assert_eq!(
            s.take_dir_sync_failure(),
            None,
            "directory fsync works natively"
        );
    }

    #[test]
    fn list_filters_by_prefix_sorts_and_reports_size_and_time() {
        let (dir, s) = store();
        for name in [
            "2.targets.json",
            "10.targets.json",
            "1.root.json",
            "1.targets.json",
            "timestamp.json",
        ] {
            s.put(name, name.as_bytes()).unwrap();
        }
        fs::create_dir(dir.path().join("1.subdir")).unwrap();
        fs::write(
            dir.path().join(".1.root.json.tmp-0123456789abcdef"),
            b"stale",
        )
        .unwrap();
        let listed = s.list("1").unwrap();
        let names: Vec<_> = listed.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["1.root.json", "1.targets.json", "10.targets.json"]);
        assert_eq!(listed[0].size, 11);
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let modified = listed[0].modified.unwrap();
        assert!(
            modified <= now && now - modified < 600,
            "{modified} vs {now}"
        );
        assert_eq!(s.list("nothing").unwrap(), []);
        assert_eq!(
            s.list("").unwrap().len(),
            5,
            "stale temp files and directories are not objects"
        );
    }

    #[test]
    fn put_many_writes_in_order_and_stops_at_the_first_failure() {
        let (dir, s) = store();
        let objects = vec![
            ("a.json".to_string(), b"a".to_vec()),
            ("../b.json".to_string(), b"b".to_vec()),
            ("c.json".to_string(), b"c".to_vec()),
        ];
        let err = s.put_many(&objects).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains("../b.json")),
            "{err}"
        );
        assert_eq!(files_on_disk(dir.path()), ["a.json"]);
        s.put_many(&[("c.json".into(), b"c".to_vec()), ("d.json".into(), vec![])])
            .unwrap();
        assert_eq!(s.get("d.json").unwrap().unwrap(), b"");
    }

    #[test]
    fn put_many_of_several_groups_writes_and_overwrites_everything() {
        let (dir, s) = store();
        s.put("k-7.json", b"old").unwrap();
        let objects: Vec<(String, Vec<u8>)> = (0..(2 * PUT_GROUP + 3))
            .map(|i| (format!("k-{i}.json"), format!("v{i}").into_bytes()))
            .collect();
        s.put_many(&objects).unwrap();
        for (name, data) in &objects {
            assert_eq!(s.get(name).unwrap().as_deref(), Some(&data[..]), "{name}");
        }
        // No temporary file is left behind.
        assert_eq!(files_on_disk(dir.path()).len(), objects.len());
        // The same name twice in one call: the later object wins, as with
        // one `put` after another.
        s.put_many(&[
            ("d.json".into(), b"1".to_vec()),
            ("d.json".into(), b"2".to_vec()),
        ])
        .unwrap();
        assert_eq!(s.get("d.json").unwrap().unwrap(), b"2");
    }

    #[test]
    fn rejects_names_outside_the_namespace_and_names_them() {
        let (dir, s) = store();
        let long = "x".repeat(256);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "/etc/passwd",
            "a/b",
            "a\\b",
            ".hidden",
            "a\0b",
            "a..b",
            "a\nb",
            &long,
        ] {
            for err in [
                s.put(bad, b"x").unwrap_err(),
                s.get(bad).unwrap_err(),
                s.delete(bad).unwrap_err(),
            ] {
                match err {
                    Error::InvalidInput(m) => assert!(m.contains(&format!("{bad:?}")), "{m}"),
                    other => panic!("{bad:?}: {other}"),
                }
            }
        }
        assert_eq!(files_on_disk(dir.path()), Vec::<String>::new());
        // Still usable after bad input.
        s.put("ok.json", b"1").unwrap();
    }

    #[test]
    fn the_longest_valid_name_still_gets_a_temporary_file() {
        let (dir, s) = store();
        let name = "é".repeat(127) + "x"; // 255 bytes, multi-byte characters at the cut
        assert_eq!(name.len(), MAX_NAME_LEN);
        s.put(&name, b"long").unwrap();
        assert_eq!(s.get(&name).unwrap().unwrap(), b"long");
        assert_eq!(files_on_disk(dir.path()), [name]);
    }

    #[test]
    fn concurrent_writers_leave_one_complete_version_and_no_temp_files() {
        let (dir, _) = store();
        let path = dir.path().to_str().unwrap().to_string();
        let writers: Vec<_> = (0..8u8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // Separate stores model separate plugin instances.
                    let s = FsStore::open(&path).unwrap();
                    for _ in 0..25 {
                        s.put("timestamp.json", &[i; 4096]).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let s = FsStore::open(&path).unwrap();
        let data = s.get("timestamp.json").unwrap().unwrap();
        assert_eq!(data.len(), 4096);
        assert!(
            data.iter().all(|b| *b == data[0]),
            "never a mix of two writes"
        );
        assert_eq!(files_on_disk(dir.path()), ["timestamp.json"]);
    }

    #[test]
    fn io_errors_map_to_plugin_errors_with_the_os_message() {
        let (dir, s) = store();
        fs::remove_dir(dir.path()).unwrap();
        match s.put("a.json", b"x") {
            Err(Error::NotFound(m)) => {
                assert!(m.contains("a.json") && m.contains("No such file"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(s.list(""), Err(Error::NotFound(_))));
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        assert!(matches!(io_error("x", &denied), Error::Denied(_)));
        let other = std::io::Error::other("disk on fire");
        assert_eq!(
            io_error("writing a", &other),
            Error::Internal("writing a: disk on fire".into())
        );
    }

    #[test]
    fn a_directory_in_the_way_is_an_error_not_a_panic() {
        let (dir, s) = store();
        fs::create_dir(dir.path().join("1.root.json")).unwrap();
        assert!(matches!(
            s.put("1.root.json", b"x"),
            Err(Error::Internal(_))
        ));
        assert!(s.get("1.root.json").is_err());
        assert_eq!(
            files_on_disk(dir.path()),
            ["1.root.json"],
            "temp file removed after a failed rename"
        );
    }

    #[test]
    fn configuration_is_validated_and_errors_name_the_key() {
        let parse = rstuf_plugin_sdk::config::parse::<Config>;
        assert_eq!(parse("{}").unwrap().path.as_str(), DEFAULT_PATH);
        assert_eq!(parse(r#"{"path": "/srv"}"#).unwrap().path.as_str(), "/srv");
        for bad in [
            r#"{"path": 42}"#,
            r#"{"path": ""}"#,
            r#"{"pth": "/x"}"#,
            "[]",
            "not json",
        ] {
            assert!(matches!(parse(bad), Err(Error::InvalidConfig(_))), "{bad}");
        }
        assert!(
            matches!(parse(r#"{"path": 42}"#), Err(Error::InvalidConfig(m)) if m.starts_with("path:"))
        );
        assert!(
            matches!(parse(r#"{"pth": "/x"}"#), Err(Error::InvalidConfig(m)) if m.contains("'pth'"))
        );
        let schema: serde_json::Value =
            serde_json::from_str(&rstuf_plugin_sdk::config::schema::<Config>()).unwrap();
        assert_eq!(schema["properties"]["path"]["default"], DEFAULT_PATH);
        assert_eq!(schema["examples"][0]["path"], DEFAULT_PATH);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        for bad in [file.to_str().unwrap(), "/definitely/not/here"] {
            match FsStore::open(bad) {
                Err(Error::InvalidConfig(m)) => {
                    assert!(m.starts_with("path:") && m.contains(bad), "{m}")
                }
                other => panic!("{bad}: {:?}", other.err()),
            }
        }
    }
}
