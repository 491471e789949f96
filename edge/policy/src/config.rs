//! An edge's settings: one type with one set of defaults, and one parser of
//! the string variables that set them (`wrangler.toml` `[vars]` for the
//! Worker, component variables for Spin, the environment for the local
//! edge), so every runtime reads the same names the same way.

use serde::Deserialize;

use crate::origins::Origin;
use crate::zone_purge::{ZonePurge, CLOUDFLARE_API, INTERNAL_CACHE_ORIGIN};

/// What one edge deployment is configured with.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// The release; part of every cache key, so a deploy starts a clean cache.
    pub asset_version: String,
    /// Seconds the web app's plain (not content-hashed) files are fresh.
    pub static_seconds: u32,
    /// Origin regions in order of preference.
    pub origins: Vec<Origin>,
    /// The continent to prefer when the request does not say.
    pub default_continent: Option<String>,
    /// Failures in a row before a region is skipped.
    pub failure_threshold: u32,
    /// How long a failed region is skipped before it is probed again.
    pub cooldown_ms: u64,
    /// Spread requests over all origins (instances of one region) instead of
    /// preferring them in order.
    pub balance: bool,
    /// Let concurrent misses for one key share one origin fetch. Off where
    /// one request must not wait on another's (Cloudflare Workers: a promise
    /// settled from another request's context can leave the waiter hung).
    pub coalesce_misses: bool,
    /// The scheme and host a store that keeps whole responses by URL (the
    /// Worker's Cache API) names its entries under.
    pub cache_origin: String,
    /// Purges sent to every data centre of a Cloudflare zone after a
    /// write; `None` purges only the runtime's own store.
    pub zone_purge: Option<ZonePurge>,
}

impl Default for EdgeSettings {
    /// No origins yet; two failures in a row skip a region for 30 s.
    fn default() -> Self {
        Self {
            asset_version: "dev".into(),
            static_seconds: DEFAULT_STATIC_SECONDS,
            origins: Vec::new(),
            default_continent: None,
            failure_threshold: 2,
            cooldown_ms: 30_000,
            balance: false,
            coalesce_misses: true,
            cache_origin: INTERNAL_CACHE_ORIGIN.into(),
            zone_purge: None,
        }
    }
}

/// A variable is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("ORIGINS must be set: a JSON list of {{\"region\", \"url\", \"near\"}} objects")]
    MissingOrigins,
    #[error("ORIGINS is not valid: {0}")]
    BadOrigins(String),
    #[error("{name} must be a whole number, not `{value}`")]
    NotANumber { name: &'static str, value: String },
    #[error("ZONE_ID is set, so {0} must be set too: {1}")]
    IncompleteZonePurge(&'static str, &'static str),
}

pub use millions_web::DEFAULT_STATIC_SECONDS;

#[derive(Deserialize)]
struct OriginVar {
    region: String,
    url: String,
    #[serde(default)]
    near: Vec<String>,
}

/// Builds settings from variables, `var(name)` giving each one's value:
/// `ORIGINS` (required), `[{"region": "us-east-1", "url": "https://...",
/// "near": ["NA", "SA"]}, ...]` in order of preference, and the optional
/// variables of [`EdgeSettings::with_vars`].
pub fn settings_from_vars(
    var: impl Fn(&str) -> Option<String>,
) -> Result<EdgeSettings, ConfigError> {
    let origins_text = var("ORIGINS").ok_or(ConfigError::MissingOrigins)?;
    let origins: Vec<OriginVar> = serde_json::from_str(&origins_text)
        .map_err(|error| ConfigError::BadOrigins(error.to_string()))?;
    if origins.is_empty() {
        return Err(ConfigError::BadOrigins("the list is empty".into()));
    }
    EdgeSettings {
        origins: origins
            .into_iter()
            .map(|origin| Origin {
                region: origin.region,
                url: origin.url,
                near: origin.near,
            })
            .collect(),
        ..EdgeSettings::default()
    }
    .with_vars(var)
}

impl EdgeSettings {
    /// These settings with the optional variables that are set applied:
    ///
    /// - `ASSET_VERSION`: the release, part of every cache key;
    /// - `STATIC_MAX_AGE`: seconds the web app's plain (not content-hashed)
    ///   files are fresh; everything else lives as long as its origin says;
    /// - `FAILURE_THRESHOLD`, `COOLDOWN_MS`: when a region is skipped, and for how long;
    /// - `DEFAULT_CONTINENT`: the continent to prefer when the platform does not say;
    /// - `ZONE_ID`, with `PURGE_TOKEN` (a secret) and `CACHE_ORIGIN`: purge
    ///   a write's stale entries in every data centre of that Cloudflare
    ///   zone, through `PURGE_API` (Cloudflare's API unless set).
    pub fn with_vars(self, var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(value) => value
                    .trim()
                    .parse()
                    .map_err(|_| ConfigError::NotANumber { name, value }),
            }
        };
        let narrow = |name: &'static str, value: u64| {
            u32::try_from(value).map_err(|_| ConfigError::NotANumber {
                name,
                value: value.to_string(),
            })
        };
        Ok(Self {
            asset_version: var("ASSET_VERSION").unwrap_or(self.asset_version),
            static_seconds: narrow(
                "STATIC_MAX_AGE",
                number("STATIC_MAX_AGE", self.static_seconds.into())?,
            )?,
            default_continent: var("DEFAULT_CONTINENT")
                .filter(|c| !c.is_empty())
                .or(self.default_continent),
            failure_threshold: narrow(
                "FAILURE_THRESHOLD",
                number("FAILURE_THRESHOLD", self.failure_threshold.into())?,
            )?,
            cooldown_ms: number("COOLDOWN_MS", self.cooldown_ms)?,
            zone_purge: zone_purge(&var)?.or(self.zone_purge),
            cache_origin: var("CACHE_ORIGIN")
                .filter(|origin| !origin.is_empty())
                .unwrap_or(self.cache_origin),
            ..self
        })
    }
}

/// The zone-wide purge, when `ZONE_ID` is set. Its entries must be named
/// under a host of the zone (`CACHE_ORIGIN`), or the purges reach nothing.
fn zone_purge(var: &impl Fn(&str) -> Option<String>) -> Result<Option<ZonePurge>, ConfigError> {
    let set = |name| var(name).filter(|value| !value.trim().is_empty());
    let Some(zone_id) = set("ZONE_ID") else {
        return Ok(None);
    };
    let token = set("PURGE_TOKEN").ok_or(ConfigError::IncompleteZonePurge(
        "PURGE_TOKEN",
        "an API token with Cache Purge on the zone, as a secret",
    ))?;
    set("CACHE_ORIGIN").ok_or(ConfigError::IncompleteZonePurge(
        "CACHE_ORIGIN",
        "https:// and a host of the zone, which the stored entries are named under",
    ))?;
    Ok(Some(ZonePurge {
        api: set("PURGE_API").unwrap_or_else(|| CLOUDFLARE_API.into()),
        zone_id: zone_id.trim().to_owned(),
        token: token.trim().to_owned(),
    }))
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
    fn variables_change_only_what_they_set() {
        let local = EdgeSettings {
            failure_threshold: 1,
            cooldown_ms: 5_000,
            ..EdgeSettings::default()
        };
        let unset = local.clone().with_vars(vars(&[])).unwrap();
        assert_eq!((unset.failure_threshold, unset.cooldown_ms), (1, 5_000));
        let tuned = local.with_vars(vars(&[("COOLDOWN_MS", "250")])).unwrap();
        assert_eq!((tuned.failure_threshold, tuned.cooldown_ms), (1, 250));
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

    #[test]
    fn a_zone_purge_needs_its_token_and_the_zones_host() {
        let origins = r#"[{"region":"r","url":"http://o"}]"#;
        let unset = settings_from_vars(vars(&[("ORIGINS", origins)])).unwrap();
        assert_eq!(unset.zone_purge, None);
        assert_eq!(unset.cache_origin, INTERNAL_CACHE_ORIGIN);

        let zone = [
            ("ORIGINS", origins),
            ("ZONE_ID", "0123abcd"),
            ("PURGE_TOKEN", "t0ken"),
            ("CACHE_ORIGIN", "https://cdn.example.com"),
        ];
        let settings = settings_from_vars(vars(&zone)).unwrap();
        let purge = settings.zone_purge.expect("a zone purge");
        assert_eq!(
            (
                purge.api.as_str(),
                purge.zone_id.as_str(),
                purge.token.as_str()
            ),
            (CLOUDFLARE_API, "0123abcd", "t0ken")
        );
        assert_eq!(settings.cache_origin, "https://cdn.example.com");

        for missing in ["PURGE_TOKEN", "CACHE_ORIGIN"] {
            let partial: Vec<_> = zone.into_iter().filter(|(k, _)| *k != missing).collect();
            assert!(
                matches!(
                    settings_from_vars(vars(&partial)),
                    Err(ConfigError::IncompleteZonePurge(name, _)) if name == missing
                ),
                "{missing}"
            );
        }
    }
}
