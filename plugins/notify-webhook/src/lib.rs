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
//! The logic lives in [`webhook`], plain Rust tested natively; this file makes
//! it a plugin through the SDK, over `wasi:http` in the component.

pub mod webhook;

use rstuf_plugin_http::Transport;
use rstuf_plugin_sdk::{log, Error, Event, Notify, Plugin};
use webhook::{Config, Settings, Webhook};

impl<T: Transport + Default + Send + 'static> Plugin for Webhook<T> {
    const NAME: &'static str = "notify-webhook";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "POSTs a signed CloudEvents JSON event to a webhook on every publish";
    type Config = Settings;

    fn configure(settings: Settings) -> Result<Self, Error> {
        let config = Config::from_settings(settings)?;
        if !config.signs() {
            log::warn("notify-webhook: no secret configured; events are sent unsigned");
        }
        Ok(Webhook::new(config, T::default()))
    }
}

impl<T: Transport + Default + Send + 'static> Notify for Webhook<T> {
    fn deliver(&mut self, event: &Event) -> Result<(), Error> {
        let result = Webhook::deliver(self, &event.id, &event.kind, &event.time, &event.data);
        // The SDK logs `unavailable` results itself.
        match &result {
            Err(Error::Unavailable(_)) | Ok(()) => {}
            Err(e) => log::warn(&format!("notify-webhook: {}", e.message())),
        }
        result
    }
}

rstuf_plugin_sdk::export_notify!(Webhook<rstuf_plugin_http::WasiTransport>);
