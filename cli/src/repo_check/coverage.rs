//! Hash-bin coverage: the `path_hash_prefixes` of a classic hash-bin
//! delegation must cover the SHA-256 hash space exactly once, or some
//! artifact paths have no bin (a client never finds them) or two (which
//! one a client uses depends on delegation order).
//!
//! Each hex prefix of length `l` is the interval
//! `[p·16^(L−l), (p+1)·16^(L−l))` of the space of `L`-digit prefixes, `L`
//! the longest prefix; sorting the intervals finds every gap and overlap.

/// Longest prefix compared (16^31 fits in a u128).
const MAX_DIGITS: usize = 31;

#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// A prefix that is not lowercase hex: SHA-256 hex digests are
    /// lowercase, so it matches no path.
    NotHex {
        role: String,
        prefix: String,
    },
    TooLong {
        role: String,
        prefix: String,
    },
    /// Hashes starting with `from`…`to` (inclusive, `L` digits) have no bin.
    Gap {
        from: String,
        to: String,
    },
    /// Hashes starting with `from`…`to` are in both roles.
    Overlap {
        from: String,
        to: String,
        first: String,
        second: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotHex { role, prefix } => write!(
                f,
                "{role}: path_hash_prefix '{prefix}' is not lowercase hex, so it matches no path"
            ),
            Problem::TooLong { role, prefix } => write!(
                f,
                "{role}: path_hash_prefix '{prefix}' is longer than {MAX_DIGITS} digits; coverage not checked"
            ),
            Problem::Gap { from, to } => write!(
                f,
                "paths whose SHA-256 starts with {} have no bin: artifacts there cannot be found",
                range(from, to)
            ),
            Problem::Overlap {
                from,
                to,
                first,
                second,
            } => write!(
                f,
                "paths whose SHA-256 starts with {} are in both {first} and {second}",
                range(from, to)
            ),
        }
    }
}

fn range(from: &str, to: &str) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from}…{to}")
    }
}

/// Check `roles` (name, prefixes); at most `limit` gaps and overlaps.
pub fn check(roles: &[(String, Vec<String>)], limit: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut digits = 0;
    for (role, prefixes) in roles {
        for p in prefixes {
            if !p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                problems.push(Problem::NotHex {
                    role: role.clone(),
                    prefix: p.clone(),
                });
            } else if p.len() > MAX_DIGITS {
                problems.push(Problem::TooLong {
                    role: role.clone(),
                    prefix: p.clone(),
                });
            } else {
                digits = digits.max(p.len());
            }
        }
    }
    if problems
        .iter()
        .any(|p| matches!(p, Problem::TooLong { .. }))
    {
        return problems;
    }
    let shift = |len: usize| 4 * (digits - len) as u32;
    let mut intervals: Vec<(u128, u128, &str)> = Vec::new();
    for (role, prefixes) in roles {
        for p in prefixes.iter().filter(|p| p.len() <= MAX_DIGITS) {
            let Ok(value) = u128::from_str_radix(if p.is_empty() { "0" } else { p }, 16) else {
                continue;
            };
            if !p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                continue;
            }
            let start = value << shift(p.len());
            intervals.push((start, start + (1u128 << shift(p.len())), role));
        }
    }
    intervals.sort();
    let total = 1u128 << (4 * digits as u32);
    let hex = |v: u128| format!("{v:0digits$x}");
    let mut cursor = 0u128;
    let mut owner = "";
    let mut found = 0;
    for (start, end, role) in intervals {
        if found >= limit {
            break;
        }
        if start > cursor {
            problems.push(Problem::Gap {
                from: hex(cursor),
                to: hex(start - 1),
            });
            found += 1;
        } else if start < cursor {
            problems.push(Problem::Overlap {
                from: hex(start),
                to: hex(end.min(cursor) - 1),
                first: owner.to_string(),
                second: role.to_string(),
            });
            found += 1;
        }
        if end > cursor {
            cursor = end;
            owner = role;
        }
    }
    if cursor < total && found < limit {
        problems.push(Problem::Gap {
            from: hex(cursor),
            to: hex(total - 1),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(spec: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        spec.iter()
            .map(|(n, p)| (n.to_string(), p.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn exact_cover_with_mixed_lengths_is_clean() {
        let r = roles(&[
            ("a", &["0", "1", "2", "3", "4", "5", "6", "7"]),
            ("b", &["8", "9", "a", "b", "c", "d", "e"]),
            ("c", &["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"]),
            ("d", &["f8", "f9", "fa", "fb", "fc", "fd", "fe", "ff"]),
        ]);
        assert_eq!(check(&r, 10), vec![]);
        assert_eq!(check(&roles(&[("all", &[""])]), 10), vec![]);
    }

    #[test]
    fn gaps_overlaps_and_bad_prefixes_are_named() {
        let r = roles(&[("a", &["0", "1", "2"]), ("b", &["2", "3"]), ("c", &["5"])]);
        let p = check(&r, 10);
        assert_eq!(
            p,
            vec![
                Problem::Overlap {
                    from: "2".into(),
                    to: "2".into(),
                    first: "a".into(),
                    second: "b".into()
                },
                Problem::Gap {
                    from: "4".into(),
                    to: "4".into()
                },
                Problem::Gap {
                    from: "6".into(),
                    to: "f".into()
                },
            ]
        );
        assert!(p[2].to_string().contains("6…f"), "{}", p[2]);
        let bad = check(&roles(&[("a", &["0F"])]), 10);
        assert!(matches!(bad[0], Problem::NotHex { .. }));
    }
}
