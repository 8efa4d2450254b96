//! Upstream's lax input conversions. Upstream's request models are
//! pydantic v2 models in its default (lax) mode, so its clients send
//! `"length": "630"`, `630.0` or `"publish_artifacts": "yes"` and expect
//! them to work. These serde helpers accept exactly what pydantic's lax
//! mode accepts from JSON for the fields upstream declares `int` or
//! `bool`, and refuse the rest with pydantic's error `type` and `msg`
//! (carried through serde's error text, see [`LaxError`]; the extractor
//! turns it into the 422 entry).
//!
//! Rules (pydantic-core `input_json.rs` / `shared.rs`, and pydantic's
//! conversion table):
//! - int: JSON integers; floats with no fractional part (`630.0`); strings
//!   that parse as an integer after trimming whitespace, optionally signed,
//!   with single underscores between digits and trailing `.0…0` decimals
//!   (`" 630 "`, `"+630"`, `"00630"`, `"1_000"`, `"630.00"`); `true`/`false`
//!   as 1/0. Refused: `1.5` (`int_from_float`), `"6.5"`, `"630."`, `"abc"`,
//!   `"0x10"`, `"1e3"`, `"1__000"`, `""` (`int_parsing`), arrays, objects
//!   and null (`int_type`).
//! - bool: `true`/`false`; the integers 0 and 1 and the floats 0.0 and 1.0;
//!   the strings `0 off f false n no 1 on t true y yes` in any case, not
//!   trimmed. Other strings, integers and integral floats: `bool_parsing`;
//!   fractional floats, integers beyond i64, null, arrays, objects:
//!   `bool_type`.
//!
//! Checked case by case against upstream's own models under pydantic
//! 2.13.4 (the version upstream pins).
//!
//! Integers outside `i64` are refused (`int_parsing_size`-like): every int
//! field here is a count, a number of days or a length, and canonical JSON
//! cannot sign what does not fit.

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;
use std::collections::BTreeMap;

/// Marks a lax-conversion error inside serde's error text:
/// `\u{1}<type>\u{1}<extra location, JSON>\u{1}<input, JSON>\u{1}<msg>`
/// (JSON text never holds a raw U+0001, so the parts split safely).
const MARK: char = '\u{1}';

/// A pydantic-shaped conversion error recovered from serde's error text.
#[derive(Debug, Clone, PartialEq)]
pub struct LaxError {
    pub kind: &'static str,
    /// Location below the field serde reports (a map key).
    pub loc: Vec<String>,
    pub input: Value,
    pub msg: &'static str,
}

impl LaxError {
    fn new(kind: &'static str, input: &Value, msg: &'static str) -> LaxError {
        LaxError {
            kind,
            loc: Vec::new(),
            input: input.clone(),
            msg,
        }
    }

    fn encode(&self) -> String {
        format!(
            "{MARK}{}{MARK}{}{MARK}{}{MARK}{}",
            self.kind,
            Value::from(self.loc.clone()),
            self.input,
            self.msg
        )
    }

    /// The error encoded in `text` (serde's message, possibly followed by
    /// serde_json's ` at line L column C`), if it is one of ours.
    pub fn decode(text: &str) -> Option<LaxError> {
        let mut parts = text.strip_prefix(MARK)?.splitn(4, MARK);
        let (kind, loc, input, msg) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let msg = msg.rsplit_once(" at line ").map_or(msg, |(m, _)| m);
        Some(LaxError {
            kind: KINDS.iter().find(|k| **k == kind)?,
            loc: serde_json::from_str(loc).ok()?,
            input: serde_json::from_str(input).ok()?,
            msg: MESSAGES.iter().find(|m| **m == msg)?,
        })
    }
}

const KINDS: [&str; 6] = [
    "int_type",
    "int_parsing",
    "int_from_float",
    "int_parsing_size",
    "bool_type",
    "bool_parsing",
];
const INT_TYPE: &str = "Input should be a valid integer";
const INT_PARSING: &str = "Input should be a valid integer, unable to parse string as an integer";
const INT_FROM_FLOAT: &str = "Input should be a valid integer, got a number with a fractional part";
const INT_SIZE: &str = "Unable to parse input string as an integer, exceeded maximum size";
const BOOL_TYPE: &str = "Input should be a valid boolean";
const BOOL_PARSING: &str = "Input should be a valid boolean, unable to interpret input";
const MESSAGES: [&str; 6] = [
    INT_TYPE,
    INT_PARSING,
    INT_FROM_FLOAT,
    INT_SIZE,
    BOOL_TYPE,
    BOOL_PARSING,
];

/// pydantic's lax `int` from a JSON value.
pub fn to_int(v: &Value) -> Result<i64, LaxError> {
    match v {
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if n.is_u64() {
                Err(LaxError::new("int_parsing_size", v, INT_SIZE))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() != 0.0 || !f.is_finite() {
                    Err(LaxError::new("int_from_float", v, INT_FROM_FLOAT))
                } else if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
                    Err(LaxError::new("int_parsing_size", v, INT_SIZE))
                } else {
                    Ok(f as i64)
                }
            }
        }
        Value::String(s) => str_to_int(s).map_err(|kind| {
            let msg = if kind == "int_parsing_size" {
                INT_SIZE
            } else {
                INT_PARSING
            };
            LaxError::new(kind, v, msg)
        }),
        _ => Err(LaxError::new("int_type", v, INT_TYPE)),
    }
}

/// pydantic-core's `str_as_int`: trim, an optional sign and ASCII digits,
/// optionally followed by `.` and only zeros.
fn str_to_int(s: &str) -> Result<i64, &'static str> {
    let s = s.trim();
    let s = match s.find('.') {
        Some(dot) if dot + 1 < s.len() && s[dot + 1..].bytes().all(|b| b == b'0') => &s[..dot],
        _ => s,
    };
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    // Digits with single underscores between them, as Python's int().
    let bytes = digits.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_digit)
        && bytes.last().is_some_and(u8::is_ascii_digit)
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && !digits.contains("__");
    if !well_formed {
        return Err("int_parsing");
    }
    let clean: String = std::iter::once(if negative { "-" } else { "" })
        .chain(digits.split('_'))
        .collect();
    clean.parse::<i64>().map_err(|_| "int_parsing_size")
}

/// pydantic's lax `bool` from a JSON value.
pub fn to_bool(v: &Value) -> Result<bool, LaxError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(_) => Err(LaxError::new("bool_parsing", v, BOOL_PARSING)),
            // An integer beyond i64 is no boolean.
            None if !n.is_f64() => Err(LaxError::new("bool_type", v, BOOL_TYPE)),
            None => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f == 0.0 {
                    Ok(false)
                } else if f == 1.0 {
                    Ok(true)
                } else if f.fract() == 0.0 {
                    // An integral float other than 0 and 1 cannot be
                    // interpreted; a fractional one is no boolean.
                    Err(LaxError::new("bool_parsing", v, BOOL_PARSING))
                } else {
                    Err(LaxError::new("bool_type", v, BOOL_TYPE))
                }
            }
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            _ => Err(LaxError::new("bool_parsing", v, BOOL_PARSING)),
        },
        _ => Err(LaxError::new("bool_type", v, BOOL_TYPE)),
    }
}

fn with<'de, D: Deserializer<'de>, T>(
    d: D,
    f: impl Fn(&Value) -> Result<T, LaxError>,
) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    f(&v).map_err(|e| D::Error::custom(e.encode()))
}

/// `#[serde(deserialize_with = "lax::int")]`
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    with(d, to_int)
}

/// An optional int: `null` (or absent, with `#[serde(default)]`) is `None`.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    with(d, |v| {
        if v.is_null() {
            Ok(None)
        } else {
            to_int(v).map(Some)
        }
    })
}

/// An int that may be left out (`#[serde(default)]`) but not sent as
/// `null` (upstream's `x-rstuf-expire-policy: int = None`).
pub fn some_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    with(d, |v| to_int(v).map(Some))
}

/// `#[serde(deserialize_with = "lax::boolean")]`
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    with(d, to_bool)
}

/// A `Dict[str, int]`.
pub fn int_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, i64>, D::Error> {
    let map = BTreeMap::<String, Value>::deserialize(d)?;
    map.into_iter()
        .map(|(k, v)| {
            to_int(&v).map(|i| (k.clone(), i)).map_err(|mut e| {
                e.loc.push(k.clone());
                D::Error::custom(e.encode())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ints_follow_pydantic_lax_mode() {
        for (input, want) in [
            (json!(630), 630),
            (json!("630"), 630),
            (json!(" 630 "), 630),
            (json!("+630"), 630),
            (json!("-5"), -5),
            (json!("630.0"), 630),
            (json!("630.000"), 630),
            (json!("00630"), 630),
            (json!("-0630"), -630),
            (json!("\t630\n"), 630),
            (json!("\u{a0}630"), 630),
            (json!("1_000"), 1000),
            (json!("1_000.0"), 1000),
            (json!(1e3), 1000),
            (json!(-0.0), 0),
            (json!(630.0), 630),
            (json!(true), 1),
            (json!(false), 0),
        ] {
            assert_eq!(to_int(&input), Ok(want), "{input}");
        }
        for (input, kind) in [
            (json!(1.5), "int_from_float"),
            (json!("6.5"), "int_parsing"),
            (json!("abc"), "int_parsing"),
            (json!(""), "int_parsing"),
            (json!("0x10"), "int_parsing"),
            (json!("1__000"), "int_parsing"),
            (json!("_1000"), "int_parsing"),
            (json!("1000_"), "int_parsing"),
            (json!("630."), "int_parsing"),
            (json!("1 000"), "int_parsing"),
            (json!("+ 1"), "int_parsing"),
            (json!("+-1"), "int_parsing"),
            (json!("--1"), "int_parsing"),
            (json!("true"), "int_parsing"),
            (json!("NaN"), "int_parsing"),
            (json!("\u{663}"), "int_parsing"),
            (json!(1e19), "int_parsing_size"),
            (json!("1e3"), "int_parsing"),
            (json!(null), "int_type"),
            (json!([1]), "int_type"),
            (json!({}), "int_type"),
            (json!(u64::MAX), "int_parsing_size"),
            (json!("99999999999999999999"), "int_parsing_size"),
        ] {
            assert_eq!(to_int(&input).unwrap_err().kind, kind, "{input}");
        }
    }

    #[test]
    fn bools_follow_pydantic_lax_mode() {
        for s in ["1", "on", "t", "true", "y", "yes", "YES", "True"] {
            assert_eq!(to_bool(&json!(s)), Ok(true), "{s}");
        }
        for s in ["0", "off", "f", "false", "n", "no", "OFF"] {
            assert_eq!(to_bool(&json!(s)), Ok(false), "{s}");
        }
        assert_eq!(to_bool(&json!(1)), Ok(true));
        assert_eq!(to_bool(&json!(0.0)), Ok(false));
        assert_eq!(to_bool(&json!(-0.0)), Ok(false));
        assert_eq!(to_bool(&json!(1e0)), Ok(true));
        for v in [
            json!(2),
            json!(-1),
            json!(2.0),
            json!(1e3),
            json!("maybe"),
            json!(""),
            json!(" yes"),
            json!("true "),
            json!("1.0"),
            json!("2"),
        ] {
            assert_eq!(to_bool(&v).unwrap_err().kind, "bool_parsing", "{v}");
        }
        for v in [json!(1.5), json!(0.5), json!(u64::MAX)] {
            assert_eq!(to_bool(&v).unwrap_err().kind, "bool_type", "{v}");
        }
        assert_eq!(to_bool(&json!(null)).unwrap_err().kind, "bool_type");
        assert_eq!(to_bool(&json!([])).unwrap_err().kind, "bool_type");
    }

    #[test]
    fn errors_survive_serde_json_text() {
        let mut e = LaxError::new("int_parsing", &json!("a\u{1} at line 3"), INT_PARSING);
        e.loc.push("ro\u{1}le".into());
        let text = format!("{} at line 1 column 9", e.encode());
        assert_eq!(LaxError::decode(&text), Some(e));
        assert_eq!(LaxError::decode("invalid type: string"), None);
    }
}
