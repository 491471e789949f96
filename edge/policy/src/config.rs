//! Reading an edge's settings from string variables: `wrangler.toml` `[vars]`
//! for the Worker, component variables or the environment for Spin, flags
//! for the local edge. One parser, so every runtime reads them the same way.

use serde::Deserialize;

use crate::engine::EdgeSettings;
use crate::origins::Origin;

/// A variable is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("ORIGINS must be set: a JSON list of {{\"region\", \"url\", \"near\"}} objects")]
    MissingOrigins,
    #[error("ORIGINS is not valid: {0}")]
    BadOrigins(String),
    #[error("{name} must be a whole number, not `{value}`")]
    NotANumber { name: &'static str, value: String },
}

pub use millions_web::DEFAULT_STATIC_SECONDS;

#[derive(Deserialize)]
struct OriginVar {
    region: String,
    url: String,
    #[serde(default)]
    near: Vec<String>,
}

/// Builds settings from variables, `var(name)` giving each one's value.
///
/// - `ORIGINS` (required): `[{"region": "us-east-1", "url": "https://...", "near": ["NA", "SA"]}, ...]`,
///   in order of preference;
/// - `ASSET_VERSION`: the release, part of every cache key (default `dev`);
/// - `STATIC_MAX_AGE`: seconds the web app's plain (not content-hashed)
///   files are fresh; everything else lives as long as its origin says;
/// - `FAILURE_THRESHOLD`, `COOLDOWN_MS`: when a region is skipped, and for how long;
/// - `DEFAULT_CONTINENT`: the continent to prefer when the platform does not say.
pub fn settings_from_vars(
    var: impl Fn(&str) -> Option<String>,
) -> Result<EdgeSettings, ConfigError> {
    let origins_text = var("ORIGINS").ok_or(ConfigError::MissingOrigins)?;
    let origins: Vec<OriginVar> = serde_json::from_str(&origins_text)
        .map_err(|error| ConfigError::BadOrigins(error.to_string()))?;
    if origins.is_empty() {
        return Err(ConfigError::BadOrigins("the list is empty".into()));
    }
    let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
        match var(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| ConfigError::NotANumber { name, value }),
        }
    };
    let seconds = |name, default: u32| -> Result<u32, ConfigError> {
        let value = number(name, default.into())?;
        u32::try_from(value).map_err(|_| ConfigError::NotANumber {
            name,
            value: value.to_string(),
        })
    };
    Ok(EdgeSettings {
        asset_version: var("ASSET_VERSION").unwrap_or_else(|| "dev".into()),
        static_seconds: seconds("STATIC_MAX_AGE", DEFAULT_STATIC_SECONDS)?,
        origins: origins
            .into_iter()
            .map(|origin| Origin {
                region: origin.region,
                url: origin.url,
                near: origin.near,
            })
            .collect(),
        default_continent: var("DEFAULT_CONTINENT").filter(|c| !c.is_empty()),
        failure_threshold: u32::try_from(number("FAILURE_THRESHOLD", 2)?).unwrap_or(u32::MAX),
        cooldown_ms: number("COOLDOWN_MS", 30_000)?,
        balance: false,
        coalesce_misses: true,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_origins_in_order_with_defaults_for_the_rest() {
        let settings = settings_from_vars(vars(&[(
            "ORIGINS",
            r#"[{"region":"us-east-1","url":"https://us.example","near":["NA"]},{"region":"eu-west-1","url":"https://eu.example"}]"#,
        )]))
        .unwrap();
        assert_eq!(settings.origins[0].region, "us-east-1");
        assert_eq!(settings.origins[0].near, ["NA"]);
        assert!(settings.origins[1].near.is_empty());
        assert_eq!(settings.asset_version, "dev");
        assert_eq!(settings.static_seconds, DEFAULT_STATIC_SECONDS);
        assert_eq!(
            (settings.failure_threshold, settings.cooldown_ms),
            (2, 30_000)
        );
    }

    #[test]
    fn overrides_and_errors_are_explicit() {
        let origins = r#"[{"region":"r","url":"http://o"}]"#;
        let settings = settings_from_vars(vars(&[
            ("ORIGINS", origins),
            ("ASSET_VERSION", "2026-11-27"),
            ("STATIC_MAX_AGE", "5"),
            ("COOLDOWN_MS", "300"),
        ]))
        .unwrap();
        assert_eq!(settings.asset_version, "2026-11-27");
        assert_eq!(settings.static_seconds, 5);
        assert_eq!(settings.cooldown_ms, 300);

        assert_eq!(
            settings_from_vars(vars(&[])).unwrap_err(),
            ConfigError::MissingOrigins
        );
        assert!(matches!(
            settings_from_vars(vars(&[("ORIGINS", "[]")])),
            Err(ConfigError::BadOrigins(_))
        ));
        assert!(matches!(
            settings_from_vars(vars(&[("ORIGINS", origins), ("COOLDOWN_MS", "soon")])),
            Err(ConfigError::NotANumber {
                name: "COOLDOWN_MS",
                ..
            })
        ));
    }
}
