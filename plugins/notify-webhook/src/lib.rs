//! `notify-webhook`: tells an HTTP endpoint about every publish, as a
//! WebAssembly component (world `rstuf:plugin/notify-backend@0.1.0`).
//!
//! Each event is POSTed as a CloudEvents 1.0 structured JSON document and
//! signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`), so receivers can use
//! existing libraries to verify it. The host calls `deliver` from its
//! bounded outbox, off the publish path; the host lets the plugin reach
//! only the hosts in its `http_hosts` grant.
//!
//! The logic lives in [`webhook`], plain Rust tested natively; this file
//! adapts it to the generated bindings and `wasi:http`, which exist only
//! when compiling for `wasm32`.

pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::webhook::{Config, Error, Webhook, CONFIG_SCHEMA};
    use rstuf_plugin_http::WasiTransport;
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "notify-backend", path: "../../wit" });

    use exports::rstuf::plugin::notify::{Event, Guest as NotifyGuest};
    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    /// The configured client; instances are single-threaded, the mutex
    /// only satisfies `static`.
    static HOOK: Mutex<Option<Webhook<WasiTransport>>> = Mutex::new(None);

    fn convert(e: Error) -> PluginError {
        rstuf_plugin_http::to_plugin_error!(e)
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "notify-webhook".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "POSTs a signed CloudEvents JSON event to a webhook on every publish"
                    .into(),
                config_schema: CONFIG_SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let config = Config::parse(&config).map_err(convert)?;
            if !config.signs() {
                log(
                    LogLevel::Warn,
                    "notify-webhook: no secret configured; events are sent unsigned",
                );
            }
            *HOOK
                .lock()
                .map_err(|_| PluginError::Internal("webhook state poisoned".into()))? =
                Some(Webhook::new(config, WasiTransport));
            Ok(())
        }
    }

    impl NotifyGuest for Component {
        fn deliver(event: Event) -> Result<(), PluginError> {
            let guard = HOOK
                .lock()
                .map_err(|_| PluginError::Internal("webhook state poisoned".into()))?;
            let hook = guard.as_ref().ok_or_else(|| {
                PluginError::InvalidConfig("notify-webhook used before configure".into())
            })?;
            let result = hook.deliver(&event.id, &event.kind, &event.time, &event.data);
            if let Err(e) = &result {
                log(LogLevel::Warn, &format!("notify-webhook: {}", e.message()));
            }
            result.map_err(convert)
        }
    }

    export!(Component);
}
