//! The configuration file (TOML, `--config` or `RSTUF_CONFIG`): unknown
//! keys are refused, so a typo is an error rather than a silent default.

use super::{file_keyvault_entry, local_storage_entry, Config, ConfigError, PluginsConfig};
use std::path::{Path, PathBuf};

impl Config {
    pub(super) fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // A file that sets data_dir but not the plugins gets plugin defaults
        // under that data_dir.
        let defaults = PluginsConfig::defaults_for(&PathBuf::from("var"));
        if config.plugins.storage == defaults.storage {
            config.plugins.storage = local_storage_entry(&config.data_dir.join("metadata"));
        }
        if config.plugins.keyvaults == defaults.keyvaults {
            config.plugins.keyvaults = vec![file_keyvault_entry(&config.data_dir.join("keys"))];
        }
        Ok(config)
    }
}
