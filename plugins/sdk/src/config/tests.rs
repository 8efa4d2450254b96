use super::*;
use serde::Deserialize;
use serde_json::{json, Value};

/// Connection settings for the test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Sample {
    /// Where to connect.
    address: NonEmpty,
    token: Option<Secret>,
    #[serde(default)]
    retries: Bounded<0, 10, 3>,
    #[serde(default)]
    verbose: bool,
    approle: Option<AppRole>,
    mode: Option<Mode>,
    #[serde(default)]
    hosts: Vec<NonEmpty>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AppRole {
    role_id: NonEmpty,
    secret_id: Secret,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Safe,
}

fn err(config: Value) -> String {
    match parse::<Sample>(&config.to_string()) {
        Ok(s) => panic!("accepted {config}: {s:?}"),
        Err(Error::InvalidConfig(m)) => m,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_valid_configuration_is_read_with_defaults_and_nulls_as_absent() {
    let s: Sample = parse(
        &json!({"address": "http://vault:8200", "token": null, "approle": {"role_id": "r", "secret_id": "s"}, "mode": "safe", "hosts": ["a"]})
            .to_string(),
    )
    .unwrap();
    assert_eq!(s.address.as_str(), "http://vault:8200");
    assert!(s.token.is_none());
    assert_eq!(s.retries.get(), 3);
    assert!(!s.verbose);
    let approle = s.approle.unwrap();
    assert_eq!(
        (approle.role_id.as_str(), approle.secret_id.expose()),
        ("r", "s")
    );
    assert_eq!(s.mode, Some(Mode::Safe));
    assert_eq!(s.hosts.len(), 1);
}

#[test]
fn errors_name_the_key_path_and_never_the_value() {
    assert_eq!(err(json!({})), "address: is required");
    assert_eq!(err(json!({"address": ""})), "address: must not be empty");
    assert_eq!(
        err(json!({"address": "a", "retries": 11})),
        "retries: must be an integer from 0 to 10"
    );
    assert_eq!(
        err(json!({"address": "a", "retries": -1})),
        "retries: must be an integer from 0 to 10"
    );
    assert_eq!(
        err(json!({"address": "a", "verbose": "hunter2"})),
        "verbose: must be a boolean, not a string"
    );
    assert_eq!(
        err(json!({"address": "a", "retries": "hunter2"})),
        "retries: must be an integer from 0 to 10, not a string"
    );
    assert_eq!(
        err(json!({"address": "a", "approle": {"role_id": "r"}})),
        "approle.secret_id: is required"
    );
    assert_eq!(
        err(json!({"address": "a", "approle": {"role_id": 5, "secret_id": "s"}})),
        "approle.role_id: must be a string, not an integer"
    );
    assert_eq!(
        err(json!({"address": "a", "mode": "hunter2"})),
        "mode: must be one of fast, safe"
    );
    assert_eq!(
        err(json!({"address": "a", "hosts": ["x", ""]})),
        "hosts.1: must not be empty"
    );
    // A misspelt key is refused even when its value is null.
    assert!(err(json!({"address": "a", "tokn": null})).starts_with("unknown key 'tokn'"));
    let unknown = err(json!({"address": "a", "hunter2": 1}));
    assert!(
        unknown.starts_with("unknown key 'hunter2' (known: address, token"),
        "{unknown}"
    );
    let nested =
        err(json!({"address": "a", "approle": {"role_id": "r", "secret_id": "s", "x": 1}}));
    assert_eq!(
        nested,
        "approle: unknown key 'x' (known: role_id, secret_id)"
    );
    for config in [
        json!({"address": "a", "token": 12345}),
        json!({"address": ["hunter2"]}),
        json!({"address": "a", "approle": "hunter2"}),
    ] {
        assert!(!err(config.clone()).contains("hunter2") && !err(config).contains("12345"));
    }
    assert!(matches!(
        parse::<Sample>("{not json"),
        Err(Error::InvalidConfig(m)) if m.starts_with("configuration is not JSON")
    ));
    assert_eq!(
        parse::<Sample>("[1]").unwrap_err(),
        Error::InvalidConfig("configuration must be a JSON object".into())
    );
}

#[test]
fn null_map_values_are_refused_not_dropped() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Headers {
        #[serde(default)]
        headers: std::collections::BTreeMap<String, Secret>,
    }
    let e = parse::<Headers>(r#"{"headers": {"Authorization": null}}"#).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidConfig("headers.Authorization: must be a string, not null".into())
    );
}

#[test]
fn secrets_are_never_shown() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
    let parsed: Sample = parse(r#"{"address":"a","token":"hunter2"}"#).unwrap();
    assert!(!format!("{parsed:?}").contains("hunter2"));
    assert_eq!(parsed.token.unwrap().expose(), "hunter2");
}

#[test]
fn the_schema_is_derived_from_the_struct() {
    let schema: Value = serde_json::from_str(&schema::<Sample>()).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["address"]));
    let p = &schema["properties"];
    assert_eq!(p["address"]["description"], "Where to connect.");
    assert_eq!(p["address"]["minLength"], 1);
    assert_eq!(p["token"]["writeOnly"], true);
    assert_eq!(p["token"]["type"], json!(["string", "null"]));
    assert_eq!(p["retries"]["minimum"], 0);
    assert_eq!(p["retries"]["maximum"], 10);
    assert_eq!(p["retries"]["default"], 3);
    assert_eq!(p["verbose"]["default"], false);
    // Nested objects are inline, so a reader needs no `$ref` resolution.
    assert_eq!(p["approle"]["type"], json!(["object", "null"]));
    assert_eq!(p["approle"]["additionalProperties"], false);
    assert_eq!(p["approle"]["properties"]["secret_id"]["writeOnly"], true);
    assert_eq!(p["mode"]["enum"], json!(["fast", "safe", null]));
    assert!(schema.get("$defs").is_none(), "{schema}");
}
