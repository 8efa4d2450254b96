//! A plugin's configuration: a `Deserialize + JsonSchema` struct, read by
//! [`parse`] and described by [`schema`], so the keys a plugin accepts and
//! the schema `rstuf plugin inspect` shows are one declaration.
//!
//! Structs put `#[serde(deny_unknown_fields)]` on themselves: an unknown key
//! is refused by name, with the known ones listed. Every error is
//! `invalid-config` and names the key with its parents (`approle.role_id`);
//! none ever repeats a value, since values may be secrets (see [`de`]). A
//! key whose value is `null` counts as absent, as in the TOML and
//! environment forms the host builds configurations from.

mod de;
mod types;

pub use types::{Bounded, NonEmpty, Secret};

use crate::Error;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// Read `text` (a JSON object) as `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::InvalidConfig(format!("configuration is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::InvalidConfig(
            "configuration must be a JSON object".into(),
        ));
    }
    T::deserialize(de::ValueDe::new(&value)).map_err(|e| Error::InvalidConfig(e.to_string()))
}

/// The JSON Schema (draft 2020-12) of `T`, as `plugin-info.config-schema`
/// carries it: nested objects inline, doc comments as descriptions, and
/// optional keys typed `[<type>, "null"]` (a `null` value means absent).
pub fn schema<T: JsonSchema>() -> String {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    serde_json::to_string(&schema).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests;
