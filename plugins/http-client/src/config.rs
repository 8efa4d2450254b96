//! Reading a plugin's JSON configuration key by key. Every error is
//! `invalid-config` and names the key (with its parent, `approle.role_id`);
//! none ever repeats a value, since values may be secrets.

use crate::Error;
use serde_json::{Map, Value};

/// Parse `text` as a JSON object whose keys are all in `known`.
pub fn parse_object(text: &str, known: &[&str]) -> Result<Map<String, Value>, Error> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::InvalidConfig(format!("configuration is not JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(Error::InvalidConfig(
            "configuration must be a JSON object".into(),
        ));
    };
    check_known(&obj, known, "")?;
    Ok(obj)
}

/// `parent` names a nested object (`"approle"`), `""` the top level.
fn check_known(obj: &Map<String, Value>, known: &[&str], parent: &str) -> Result<(), Error> {
    let at = if parent.is_empty() {
        String::new()
    } else {
        format!("{parent}: ")
    };
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(Error::InvalidConfig(format!(
            "{at}unknown key '{unknown}' (known: {})",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// One configuration object (the top level, or a nested one).
pub struct Keys<'a> {
    obj: &'a Map<String, Value>,
    /// `""`, or `"parent."` for a nested object.
    prefix: String,
}

impl<'a> Keys<'a> {
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Keys {
            obj,
            prefix: String::new(),
        }
    }

    /// An `invalid-config` error about `key`.
    pub fn bad(&self, key: &str, why: impl std::fmt::Display) -> Error {
        Error::InvalidConfig(format!("{}{key}: {why}", self.prefix))
    }

    fn present(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// An optional non-empty string.
    pub fn string(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Err(self.bad(key, "must not be empty")),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.bad(key, "must be a string")),
        }
    }

    /// A required non-empty string.
    pub fn required(&self, key: &str) -> Result<&'a str, Error> {
        self.string(key)?
            .ok_or_else(|| self.bad(key, "is required"))
    }

    /// An integer in `min..=max`, `default` when absent.
    pub fn number(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, Error> {
        match self.present(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| self.bad(key, format!("must be an integer from {min} to {max}"))),
        }
    }

    /// `true` or `false`, `default` when absent.
    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, Error> {
        match self.present(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.bad(key, "must be true or false")),
        }
    }

    /// An optional nested object whose keys are all in `known`.
    pub fn object(&self, key: &str, known: &[&str]) -> Result<Option<Keys<'a>>, Error> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Object(o)) => {
                let parent = format!("{}{key}", self.prefix);
                check_known(o, known, &parent)?;
                Ok(Some(Keys {
                    obj: o,
                    prefix: format!("{parent}."),
                }))
            }
            Some(_) => Err(self.bad(key, "must be an object")),
        }
    }

    /// An optional value of any type, for keys with their own rules.
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.present(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_named_without_values() {
        let obj = parse_object(
            r#"{"a":"x","n":5,"b":true,"o":{"k":"v"},"e":"","z":null}"#,
            &["a", "n", "b", "o", "e", "z", "s"],
        )
        .unwrap();
        let k = Keys::new(&obj);
        assert_eq!(k.string("a").unwrap(), Some("x"));
        assert_eq!(k.string("z").unwrap(), None);
        assert_eq!(k.required("a").unwrap(), "x");
        assert_eq!(k.number("n", 1, 0, 9).unwrap(), 5);
        assert_eq!(k.number("missing", 7, 0, 9).unwrap(), 7);
        assert!(k.boolean("b", false).unwrap());
        let nested = k.object("o", &["k"]).unwrap().unwrap();
        assert_eq!(nested.required("k").unwrap(), "v");
        let msg = |e: Error| e.message().to_string();
        assert_eq!(msg(k.required("s").unwrap_err()), "s: is required");
        assert_eq!(msg(k.string("e").unwrap_err()), "e: must not be empty");
        assert_eq!(msg(k.string("n").unwrap_err()), "n: must be a string");
        assert_eq!(
            msg(k.number("n", 0, 0, 3).unwrap_err()),
            "n: must be an integer from 0 to 3"
        );
        assert_eq!(
            msg(k.boolean("a", false).unwrap_err()),
            "a: must be true or false"
        );
        assert_eq!(msg(nested.required("x").unwrap_err()), "o.x: is required");
        assert!(msg(k.object("o", &["j"]).err().unwrap()).starts_with("o: unknown key 'k'"));
        assert!(msg(parse_object(r#"{"q":1}"#, &["a"]).unwrap_err()).contains("unknown key 'q'"));
        assert!(parse_object("[1]", &[]).is_err());
        assert!(!msg(k.number("a", 0, 0, 3).unwrap_err()).contains('x'));
    }
}
