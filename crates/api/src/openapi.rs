//! Schemas of the fields whose accepted forms serde's types do not say:
//! the integers and booleans upstream's pydantic takes leniently (see
//! [`crate::lax`]), day counts, hash digests, and the metadata documents
//! carried verbatim. The request types name these with
//! `#[schema(schema_with = …)]`, so the OpenAPI document describes every
//! form the API accepts and nothing it refuses (the schema-driven fuzz run,
//! `scripts/fuzz-api.sh`, checks both ways).

use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::RefOr;

/// Most days an expiry may be set to (100 years, as the API validates).
pub const MAX_DAYS: i64 = 100 * 366;

/// The hash-bin counts upstream offers: powers of two from 2 to 16384.
pub const BIN_COUNTS: [i64; 14] = [
    2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
];

fn integer() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Integer)
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object)
}

/// An integer field as upstream's pydantic (lax mode) takes it: the
/// integer, a decimal integer as text, and (where 1 and 0 are in range) a
/// boolean.
fn lax_int(int: ObjectBuilder, booleans: bool) -> AnyOfBuilder {
    let mut forms = AnyOfBuilder::new().item(int).item(
        string()
            .pattern(Some(r"^\s*[+-]?[0-9]+(_[0-9]+)*(\.0+)?\s*$"))
            .description(Some("a decimal integer as text")),
    );
    if booleans {
        forms = forms.item(
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("true is 1, false is 0")),
        );
    }
    forms
}

fn nullable(forms: AnyOfBuilder) -> AnyOfBuilder {
    forms.item(ObjectBuilder::new().schema_type(Type::Null))
}

/// A number of days, 1 to [`MAX_DAYS`].
pub fn days() -> RefOr<Schema> {
    lax_int(integer().minimum(Some(1)).maximum(Some(MAX_DAYS)), true).into()
}

/// `{role: days}` with at least one role.
pub fn days_by_role() -> RefOr<Schema> {
    object()
        .min_properties(Some(1))
        .additional_properties(Some(Schema::from(
            lax_int(integer().minimum(Some(1)).maximum(Some(MAX_DAYS)), true).build(),
        )))
        .into()
}

/// `number_of_delegated_bins`: one of [`BIN_COUNTS`] (never a boolean: 1
/// is not a count of bins).
pub fn bin_count() -> RefOr<Schema> {
    lax_int(integer().enum_values(Some(BIN_COUNTS)), false).into()
}

/// `x-rstuf-bins-layout`.
pub fn bins_layout() -> RefOr<Schema> {
    nullable(AnyOfBuilder::new().item(string().enum_values(Some(["succinct", "classic"]))))
        .description(Some(
            "Hash-bin layout: succinct (TAP 15, the default when null or absent) or classic (path_hash_prefixes, readable by tough).",
        ))
        .into()
}

/// The bootstrap task's `timeout` in seconds.
pub fn timeout() -> RefOr<Schema> {
    nullable(lax_int(integer().minimum(Some(1)), true)).into()
}

/// A delegated role's `threshold`.
pub fn threshold() -> RefOr<Schema> {
    lax_int(integer().minimum(Some(1)), true).into()
}

/// A delegated role's `paths`: at least one non-empty pattern.
pub fn path_patterns() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(string().min_length(Some(1)))
        .min_items(Some(1))
        .into()
}

/// An artifact's `length` in bytes.
pub fn length() -> RefOr<Schema> {
    lax_int(integer().minimum(Some(0)), true).into()
}

/// A boolean as upstream's pydantic (lax mode) takes it: also 0 and 1, and
/// the words pydantic knows, in any case.
pub fn lax_bool() -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(integer().enum_values(Some([0, 1])))
        .item(string().pattern(Some(
            "^([01]|[tT]|[fF]|[yY]|[nN]|[oO][nN]|[oO][fF][fF]|[nN][oO]|[yY][eE][sS]|[tT][rR][uU][eE]|[fF][aA][lL][sS][eE])$",
        )))
        .into()
}

/// An artifact's `hashes`: at least one, each a hex digest.
pub fn hashes() -> RefOr<Schema> {
    object()
        .min_properties(Some(1))
        .additional_properties(Some(string().pattern(Some("^[0-9a-fA-F]+$"))))
        .into()
}

/// TUF public keys by keyid. A plain object here (as upstream documents
/// it): each key's fields are checked by the task that uses them, and a
/// deeper schema only slows the schema-driven fuzzing down.
pub fn keys() -> RefOr<Schema> {
    object().into()
}

/// A signed metadata document, `{signatures, signed}`. As upstream, keyid
/// and sig are strings here; whether they are hex, name a key and verify
/// is checked by the task and reported in its result.
fn metadata_document() -> ObjectBuilder {
    let signature = object()
        .required("keyid")
        .required("sig")
        .property("keyid", string())
        .property("sig", string());
    object()
        .required("signatures")
        .required("signed")
        .property("signatures", ArrayBuilder::new().items(signature))
        .property("signed", object())
}

/// Bootstrap's `metadata`: the root document (other roles are ignored).
pub fn root_metadata() -> RefOr<Schema> {
    object()
        .required("root")
        .property("root", metadata_document())
        .into()
}

/// A metadata update's `metadata`: the root document and nothing else.
pub fn root_metadata_only() -> RefOr<Schema> {
    object()
        .required("root")
        .property("root", metadata_document())
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::<Schema>::FreeForm(false),
        ))
        .into()
}

/// An error body's `detail`: a message, upstream's `{message, error}`, or
/// the pydantic-style issues of a 422.
pub fn error_detail() -> RefOr<Schema> {
    let issue = object()
        .required("type")
        .required("loc")
        .required("msg")
        .property("type", string())
        .property(
            "loc",
            ArrayBuilder::new().items(AnyOfBuilder::new().item(string()).item(integer())),
        )
        .property("msg", string())
        .property(
            "input",
            ObjectBuilder::new().schema_type(SchemaType::AnyValue),
        );
    AnyOfBuilder::new()
        .item(string())
        .item(
            object()
                .property("message", string())
                .property("error", string()),
        )
        .item(ArrayBuilder::new().items(issue))
        .into()
}
