//! Hash-bin delegations. Succinct bins (TAP 15) are what upstream RSTUF
//! writes; classic bins (`path_hash_prefixes`) carry the same bins for
//! clients without TAP 15 (tough, older go-tuf). Both put a path in the bin
//! given by the first `bit_length` bits of SHA-256(path), and name bins the
//! same way (`bins-00` … `bins-ff` for 256 bins), so a repository could move
//! between the layouts without moving a single artifact.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BinsError {
    #[error("number of bins must be a power of two from 2 to 16384, got {0}")]
    Count(u64),
}

/// N = 2^bit_length bins named `<prefix>-<hex index>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bins {
    pub bit_length: u32,
    pub name_prefix: String,
}

impl Bins {
    pub fn from_number_of_bins(n: u64) -> Result<Bins, BinsError> {
        if !(2..=16384).contains(&n) || !n.is_power_of_two() {
            return Err(BinsError::Count(n));
        }
        Ok(Bins {
            bit_length: n.trailing_zeros(),
            name_prefix: "bins".into(),
        })
    }

    pub fn count(&self) -> u64 {
        1u64 << self.bit_length
    }

    /// Hex digits in a bin name: those of `count - 1`.
    fn width(&self) -> usize {
        format!("{:x}", self.count() - 1).len()
    }

    /// python-tuf `SuccinctRoles.get_role_for_target` arithmetic.
    pub fn index_for(&self, path: &str) -> u64 {
        let digest = Sha256::digest(path.as_bytes());
        let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        u64::from(first >> (32 - self.bit_length))
    }

    pub fn role_name(&self, index: u64) -> String {
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            index,
            width = self.width()
        )
    }

    pub fn role_for(&self, path: &str) -> String {
        self.role_name(self.index_for(path))
    }

    pub fn all_role_names(&self) -> Vec<String> {
        (0..self.count()).map(|i| self.role_name(i)).collect()
    }

    /// Is `name` one of these bins?
    pub fn contains(&self, name: &str) -> bool {
        name.strip_prefix(&format!("{}-", self.name_prefix))
            .filter(|hex| hex.len() == self.width())
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .is_some_and(|i| i < self.count())
    }

    /// The TAP 15 `succinct_roles` object.
    pub fn succinct_roles(&self, keyids: &[String], threshold: u64) -> Value {
        json!({
            "bit_length": self.bit_length,
            "name_prefix": self.name_prefix,
            "keyids": keyids,
            "threshold": threshold,
        })
    }

    /// Classic `roles` entries with `path_hash_prefixes`: prefixes of
    /// `ceil(bit_length / 4)` hex digits, `16^L / N` consecutive prefixes per
    /// bin, so bin i holds exactly the paths succinct bin i holds.
    pub fn classic_roles(&self, keyids: &[String], threshold: u64) -> Vec<Value> {
        let digits = self.bit_length.div_ceil(4) as usize;
        let prefixes_total = 1u64 << (4 * digits as u32);
        let per_bin = prefixes_total / self.count();
        (0..self.count())
            .map(|i| {
                let prefixes: Vec<String> = (i * per_bin..(i + 1) * per_bin)
                    .map(|p| format!("{p:0digits$x}"))
                    .collect();
                json!({
                    "name": self.role_name(i),
                    "keyids": keyids,
                    "threshold": threshold,
                    "terminating": true,
                    "path_hash_prefixes": prefixes,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_upstream() {
        let b = Bins::from_number_of_bins(256).unwrap();
        assert_eq!(b.role_name(0), "bins-00");
        assert_eq!(b.role_name(255), "bins-ff");
        let b = Bins::from_number_of_bins(16384).unwrap();
        assert_eq!(b.role_name(0x3fff), "bins-3fff");
        let b = Bins::from_number_of_bins(2).unwrap();
        assert_eq!(b.all_role_names(), ["bins-0", "bins-1"]);
        assert!(b.contains("bins-1") && !b.contains("bins-2") && !b.contains("bins-01"));
        for n in [0, 1, 3, 100, 32768] {
            assert!(Bins::from_number_of_bins(n).is_err(), "{n}");
        }
    }

    #[test]
    fn classic_and_succinct_agree_on_every_path() {
        for n in [2u64, 16, 32, 256, 2048] {
            let b = Bins::from_number_of_bins(n).unwrap();
            let roles = b.classic_roles(&["k".into()], 1);
            for i in 0..500 {
                let path = format!("pkg-{i}/file-{i}.tar.gz");
                let classic = crate::paths::find_role(&roles, &path).unwrap();
                assert_eq!(classic, b.role_for(&path), "n={n} path={path}");
            }
        }
    }

    /// Differential check against python-tuf's SuccinctRoles.
    #[test]
    fn matches_python_tuf() {
        let paths: Vec<String> = (0..200)
            .map(|i| format!("dir{}/artifact-{i}.whl", i % 7))
            .collect();
        let script = "import sys, json\nfrom tuf.api.metadata import SuccinctRoles\npaths = json.loads(sys.argv[1])\nout = {}\nfor bits in (1, 4, 8, 11, 14):\n    r = SuccinctRoles([], 1, bits, 'bins')\n    out[str(bits)] = [r.get_role_for_target(p) for p in paths]\nprint(json.dumps(out))\n";
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(serde_json::to_string(&paths).unwrap())
            .output()
            .expect("python3 is required (make setup installs python-tuf)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
        for (bits, names) in expected {
            let b = Bins::from_number_of_bins(1 << bits.parse::<u32>().unwrap()).unwrap();
            for (path, name) in paths.iter().zip(names.as_array().unwrap()) {
                assert_eq!(
                    b.role_for(path),
                    name.as_str().unwrap(),
                    "bits={bits} {path}"
                );
            }
        }
    }
}
