//! The misbehaviours, as plain functions so the harmless ones are tested
//! natively. Each one attacks a different sandbox property the host
//! promises: file-system confinement (`escape`), the memory cap (`alloc`)
//! and the per-call CPU budget (`spin`).

use std::io::ErrorKind;

/// What `get` does, chosen by `configure({"mode": …})`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Behave: `get` returns `b"ok"` (used to show the host still serves).
    Ok,
    /// Read `name` as a path, absolute or relative, and return the bytes.
    Escape,
    /// Allocate and touch memory until the runtime stops the call.
    Alloc,
    /// Loop forever without yielding.
    Spin,
}

pub const MODES: &str = "ok, escape, alloc, spin";

/// JSON Schema of the configuration `configure` accepts.
pub const CONFIG_SCHEMA: &str = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,"required":["mode"],"properties":{"mode":{"enum":["ok","escape","alloc","spin"],"description":"What get() does"}}}"#;

/// Why a call failed, mirroring the WIT `plugin-error` cases used here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    InvalidConfig(String),
    NotFound(String),
    Denied(String),
}

/// Parse `{"mode": "<one of MODES>"}`.
pub fn parse_config(config: &str) -> Result<Mode, Failure> {
    let value: serde_json::Value = serde_json::from_str(config)
        .map_err(|e| Failure::InvalidConfig(format!("configuration is not JSON: {e}")))?;
    match value.get("mode").and_then(|m| m.as_str()) {
        Some("ok") => Ok(Mode::Ok),
        Some("escape") => Ok(Mode::Escape),
        Some("alloc") => Ok(Mode::Alloc),
        Some("spin") => Ok(Mode::Spin),
        _ => Err(Failure::InvalidConfig(format!(
            "mode: must be one of {MODES}"
        ))),
    }
}

/// The paths `escape` tries for `name`: the name itself (an absolute host
/// path such as `/etc/passwd`, or a relative one such as `../../x`), then,
/// for an absolute name, the same file reached by climbing out of the
/// current directory with `../`.
pub fn escape_candidates(name: &str) -> Vec<String> {
    let mut paths = vec![name.to_string()];
    if let Some(rest) = name.strip_prefix('/') {
        paths.push(format!("{}{rest}", "../".repeat(16)));
    }
    paths
}

/// Try every candidate path; the first readable one wins. When all fail,
/// the error carries every OS error text: `not-found` when each attempt
/// found nothing, `denied` otherwise (e.g. "Capabilities insufficient").
pub fn escape(name: &str) -> Result<Vec<u8>, Failure> {
    let mut errors = Vec::new();
    let mut all_not_found = true;
    for path in escape_candidates(name) {
        match std::fs::read(&path) {
            Ok(bytes) => return Ok(bytes),
            Err(e) => {
                all_not_found &= e.kind() == ErrorKind::NotFound;
                errors.push(format!("{path}: {e}"));
            }
        }
    }
    let msg = format!(
        "testbed could not read outside its grant: {}",
        errors.join("; ")
    );
    Err(if all_not_found {
        Failure::NotFound(msg)
    } else {
        Failure::Denied(msg)
    })
}

/// Allocate 1 MiB blocks and write to every 4 KiB page of each, forever:
/// the runtime's memory limit makes `memory.grow` fail, the allocator
/// aborts, and the call traps.
pub fn alloc_until_trap() -> ! {
    const BLOCK: usize = 1 << 20;
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; BLOCK];
        for i in (0..BLOCK).step_by(4096) {
            block[i] = 1;
        }
        hoard.push(std::hint::black_box(block));
    }
}

/// Burn CPU forever without calling the host, so only the runtime's
/// interruption (epochs or fuel) can stop it.
pub fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_bad_configuration_names_the_key() {
        assert_eq!(parse_config(r#"{"mode":"ok"}"#), Ok(Mode::Ok));
        assert_eq!(parse_config(r#"{"mode":"escape"}"#), Ok(Mode::Escape));
        assert_eq!(parse_config(r#"{"mode":"alloc"}"#), Ok(Mode::Alloc));
        assert_eq!(parse_config(r#"{"mode":"spin"}"#), Ok(Mode::Spin));
        for bad in [r#"{"mode":"fly"}"#, r#"{"mode":1}"#, "{}", "[]", "nope"] {
            assert!(
                matches!(parse_config(bad), Err(Failure::InvalidConfig(_))),
                "{bad}"
            );
        }
        assert!(
            matches!(parse_config("{}"), Err(Failure::InvalidConfig(m)) if m.starts_with("mode:"))
        );
    }

    #[test]
    fn escape_reads_whatever_it_can_reach_and_reports_os_errors() {
        // Natively there is no sandbox, so a readable file is returned:
        // exactly what the host's sandbox must prevent.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, b"host secret").unwrap();
        assert_eq!(escape(file.to_str().unwrap()).unwrap(), b"host secret");

        let missing = dir.path().join("missing");
        match escape(missing.to_str().unwrap()) {
            Err(Failure::NotFound(m)) => assert!(m.contains("No such file"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A directory is not readable as a file: not "not found".
        assert!(matches!(
            escape(dir.path().to_str().unwrap()),
            Err(Failure::Denied(_))
        ));
    }

    #[test]
    fn absolute_names_are_also_tried_by_climbing_out_with_dot_dot() {
        let c = escape_candidates("/etc/passwd");
        assert_eq!(c[0], "/etc/passwd");
        assert!(
            c[1].starts_with("../../") && c[1].ends_with("/etc/passwd"),
            "{c:?}"
        );
        assert_eq!(escape_candidates("../../x"), ["../../x"]);
    }
}
