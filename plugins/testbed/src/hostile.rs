//! The misbehaviours, as plain functions so the harmless ones are tested
//! natively. Each one attacks a different sandbox property the host
//! promises: file-system confinement (`escape`), the memory cap (`alloc`)
//! and the per-call CPU budget (`spin`).

use rstuf_plugin_sdk::Error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::io::ErrorKind;

/// What `get` does, chosen by `configure({"mode": …})`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
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

/// The plugin's configuration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What get() does
    pub mode: Mode,
}

/// Parse `{"mode": "ok" | "escape" | "alloc" | "spin"}`.
pub fn parse_config(config: &str) -> Result<Mode, Error> {
    rstuf_plugin_sdk::config::parse::<Config>(config).map(|c| c.mode)
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
pub fn escape(name: &str) -> Result<Vec<u8>, Error> {
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
        Error::NotFound(msg)
    } else {
        Error::Denied(msg)
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
                matches!(parse_config(bad), Err(Error::InvalidConfig(_))),
                "{bad}"
            );
        }
        assert!(
            matches!(parse_config("{}"), Err(Error::InvalidConfig(m)) if m.starts_with("mode:"))
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
            Err(Error::NotFound(m)) => assert!(m.contains("No such file"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A directory is not readable as a file: not "not found".
        assert!(matches!(
            escape(dir.path().to_str().unwrap()),
            Err(Error::Denied(_))
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
