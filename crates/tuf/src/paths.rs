//! Artifact path rules, and which custom delegated role an artifact belongs
//! to (python-tuf `DelegatedRole.is_delegated_path`: `fnmatch` per
//! `/`-separated segment, same number of segments; or a SHA-256 hex prefix
//! from `path_hash_prefixes`). The first matching role in list order wins.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub const MAX_PATH_LEN: usize = 4096;

/// Why an artifact path is refused, or `None` if it is acceptable.
pub fn invalid_path_reason(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("path is empty");
    }
    if path.len() > MAX_PATH_LEN {
        return Some("path is longer than 4096 bytes");
    }
    if path.starts_with('/') {
        return Some("path is absolute");
    }
    if path.contains('\\') {
        return Some("path contains a backslash");
    }
    if path.chars().any(char::is_control) {
        return Some("path contains control characters");
    }
    for segment in path.split('/') {
        match segment {
            "" => return Some("path has an empty segment"),
            "." | ".." => return Some("path has a '.' or '..' segment"),
            _ => {}
        }
    }
    None
}

/// Shell-style match of one segment (`*`, `?`, `[…]`, `[!…]`), as Python's
/// `fnmatch.fnmatch` on POSIX.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&p[pi..], n[ni]) {
                        if matched {
                            pi += next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Match a `[…]` class at the start of `p`; returns (matched, length).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = p.get(i).is_some_and(|x| *x == '!');
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// Does a delegated role (`paths` or `path_hash_prefixes`) cover `path`?
pub fn role_covers(role: &Value, path: &str) -> bool {
    let strings = |name: &str| {
        role.get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
    };
    if let Some(patterns) = strings("paths") {
        return covered_by_patterns(patterns, path);
    }
    if let Some(prefixes) = strings("path_hash_prefixes") {
        return covered_by_hash_prefixes(prefixes, path);
    }
    false
}

/// A `paths` list covers `path` when one pattern matches it segment by
/// segment (python-tuf's `_is_target_in_pathpattern`).
pub fn covered_by_patterns<'a>(patterns: impl IntoIterator<Item = &'a str>, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    patterns.into_iter().any(|pattern| {
        let parts: Vec<&str> = pattern.split('/').collect();
        parts.len() == segments.len() && parts.iter().zip(&segments).all(|(p, s)| fnmatch(p, s))
    })
}

/// A `path_hash_prefixes` list covers `path` when the hex SHA-256 of the
/// path starts with one of them.
pub fn covered_by_hash_prefixes<'a>(
    prefixes: impl IntoIterator<Item = &'a str>,
    path: &str,
) -> bool {
    let digest = hex::encode(Sha256::digest(path.as_bytes()));
    prefixes.into_iter().any(|p| digest.starts_with(p))
}

/// The first role in `roles` (a delegations `roles` list) covering `path`.
pub fn find_role<'a>(roles: &'a [Value], path: &str) -> Option<&'a str> {
    roles
        .iter()
        .find(|r| role_covers(r, path))
        .and_then(|r| r.get("name").and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_hostile_paths() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "./a",
            "a//b",
            "a\\b",
            "a\nb",
            "..",
            "a/.",
        ] {
            assert!(invalid_path_reason(bad).is_some(), "{bad:?}");
        }
        for good in [
            "file1.tar.gz",
            "v1/a-b_c.whl",
            "tenant1/group1/policy/x.json",
            "日本/ファイル",
        ] {
            assert_eq!(invalid_path_reason(good), None, "{good:?}");
        }
    }

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("*", "anything.tgz"));
        assert!(fnmatch("*.tgz", "a.tgz"));
        assert!(!fnmatch("*.tgz", "a.zip"));
        assert!(fnmatch("file?.txt", "file1.txt"));
        assert!(fnmatch("[a-c]*", "beta"));
        assert!(!fnmatch("[!a-c]*", "beta"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "x"));
    }

    #[test]
    fn first_matching_role_wins_and_segments_must_line_up() {
        let roles = vec![
            json!({"name": "production", "paths": ["production/*"]}),
            json!({"name": "default", "paths": ["*", "*/*"]}),
        ];
        assert_eq!(find_role(&roles, "production/app.tgz"), Some("production"));
        assert_eq!(find_role(&roles, "app.tgz"), Some("default"));
        assert_eq!(find_role(&roles, "dev/app.tgz"), Some("default"));
        assert_eq!(find_role(&roles, "a/b/c.tgz"), None);
    }
}
