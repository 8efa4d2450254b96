//! A serde `Deserializer` over a parsed JSON value whose errors name the
//! key path and never contain a value.
//!
//! Why not `serde_json::from_value`: its messages quote what was received
//! (`invalid type: string "hunter2", expected u64`), and a value in a
//! configuration may be a secret typed under the wrong key. Here serde's
//! `invalid_type`/`invalid_value`/`unknown_variant` hooks write only the
//! kind of value (`a string`), and each map level prefixes its key, so a
//! message reads `approle.role_id: must be a string, not an integer`.

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};
use std::fmt;

/// What went wrong, and where (`path` from the top level down).
#[derive(Debug)]
pub struct ConfigError {
    path: Vec<String>,
    message: String,
}

impl ConfigError {
    fn at(mut self, segment: String) -> Self {
        self.path.insert(0, segment);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path.join("."), self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The kind of an unexpected value, never the value itself.
fn kind(u: &Unexpected<'_>) -> &'static str {
    match u {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a number with a fraction",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit => "null",
        Unexpected::Seq => "an array",
        Unexpected::Map => "an object",
        _ => "another kind of value",
    }
}

impl de::Error for ConfigError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ConfigError {
            path: Vec::new(),
            message: msg.to_string(),
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::custom(format_args!("must be {exp}, not {}", kind(&unexp)))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::custom(format_args!("must be {exp} (got {})", kind(&unexp)))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(format_args!("must be one of {}", expected.join(", ")))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(format_args!(
            "unknown key '{field}' (known: {})",
            expected.join(", ")
        ))
    }

    fn missing_field(field: &'static str) -> Self {
        ConfigError {
            path: vec![field.to_string()],
            message: "is required".into(),
        }
    }

    fn duplicate_field(field: &'static str) -> Self {
        ConfigError {
            path: vec![field.to_string()],
            message: "is given twice".into(),
        }
    }
}

/// Deserializes from a borrowed JSON value.
pub struct ValueDe<'a>(&'a Value);

impl<'a> ValueDe<'a> {
    pub fn new(value: &'a Value) -> Self {
        ValueDe(value)
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = ConfigError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(i)) => visitor.visit_i64(i),
                _ => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
            }),
            Value::Object(map) => visitor.visit_map(MapDe::new(map, None)),
        }
    }

    /// A struct's known keys set to `null` are absent; an unknown key is
    /// passed on (and refused by name) whatever its value.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapDe::new(map, Some(fields))),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        visitor.visit_newtype_struct(self)
    }

    /// Unit variants only (`"mode": "spin"`): that is all a configuration needs.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::String(s) => {
                let variant: StrDeserializer<'_, ConfigError> = s.as_str().into_deserializer();
                visitor.visit_enum(variant)
            }
            _ => Err(de::Error::custom(format_args!(
                "must be one of {}",
                variants.join(", ")
            ))),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

struct SeqDe<I> {
    items: I,
}

impl<'de, I: Iterator<Item = (usize, &'de Value)>> de::SeqAccess<'de> for SeqDe<I> {
    type Error = ConfigError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ConfigError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, v)) => seed
                .deserialize(ValueDe(v))
                .map(Some)
                .map_err(|e| e.at(i.to_string())),
        }
    }
}

/// A struct's entries whose key it knows and whose value is `null` are
/// skipped (absent); in a map (`known` is `None`) a `null` is a value like
/// any other, refused by the map's value type.
struct MapDe<'de> {
    entries: serde_json::map::Iter<'de>,
    known: Option<&'static [&'static str]>,
    value: Option<(&'de str, &'de Value)>,
}

impl<'de> MapDe<'de> {
    fn new(map: &'de Map<String, Value>, known: Option<&'static [&'static str]>) -> Self {
        MapDe {
            entries: map.iter(),
            known,
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = ConfigError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConfigError> {
        for (key, value) in self.entries.by_ref() {
            if value.is_null() && self.known.is_some_and(|k| k.contains(&key.as_str())) {
                continue;
            }
            self.value = Some((key, value));
            let key: BorrowedStrDeserializer<'de, ConfigError> = BorrowedStrDeserializer::new(key);
            return seed.deserialize(key).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ConfigError> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| <ConfigError as de::Error>::custom("a value without its key"))?;
        seed.deserialize(ValueDe(value))
            .map_err(|e| e.at(key.to_string()))
    }
}
