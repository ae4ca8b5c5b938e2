//! Maskinporten's signing keys per environment: fetched from the configured JWKS address,
//! kept for a day, fetched again when a token names a key we do not have (Maskinporten
//! rotates keys), with a timeout so a slow JWKS never hangs a page.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

use crate::domain::Environment;

/// How long fetched keys are used before they are fetched again.
const KEEP: Duration = Duration::from_secs(24 * 60 * 60);
/// An unknown `kid` makes us fetch again, but not more often than this: a stream of made-up
/// key ids must not turn into a stream of requests to Maskinporten.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching the JWKS: {0}")]
    Fetch(String),
}

#[derive(Default)]
struct Cached {
    /// The last key set fetched, and when.
    keys: Option<(JwkSet, Instant)>,
    /// The last fetch attempt, failed or not: fetches are spaced out even while the JWKS is
    /// down, so a page of checks does not queue up behind timeouts.
    attempted: Option<Instant>,
}

pub struct JwksCache {
    client: reqwest::Client,
    refetch_at_most_every: Duration,
    urls: HashMap<Environment, String>,
    cache: Mutex<HashMap<Environment, Cached>>,
}

impl JwksCache {
    pub fn new(
        test_url: String,
        production_url: String,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .build()?,
            urls: HashMap::from([
                (Environment::Test, test_url),
                (Environment::Production, production_url),
            ]),
            cache: Mutex::new(HashMap::new()),
            refetch_at_most_every: REFETCH_AT_MOST_EVERY,
        })
    }

    /// Changes how soon an unknown `kid` may cause another fetch (tests of key rotation).
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_at_most_every = interval;
        self
    }

    /// The key with `kid` for `environment`, or `None` if Maskinporten does not have it.
    /// When the JWKS cannot be fetched, keys fetched earlier are still used; without any, the
    /// error is returned.
    pub async fn key(&self, environment: Environment, kid: &str) -> Result<Option<Jwk>, JwksError> {
        let mut cache = self.cache.lock().await;
        let entry = cache.entry(environment).or_default();
        let known = entry
            .keys
            .as_ref()
            .and_then(|(keys, _)| keys.find(kid).cloned());
        let fresh = entry
            .keys
            .as_ref()
            .is_some_and(|(_, fetched)| fetched.elapsed() < KEEP);
        if known.is_some() && fresh {
            return Ok(known);
        }
        let may_fetch = entry
            .attempted
            .is_none_or(|at| at.elapsed() >= self.refetch_at_most_every);
        if !may_fetch {
            return if entry.keys.is_some() {
                Ok(known)
            } else {
                Err(JwksError::Fetch("fetched too recently, and failed".into()))
            };
        }
        entry.attempted = Some(Instant::now());
        match self.fetch(environment).await {
            Ok(keys) => {
                let found = keys.find(kid).cloned();
                entry.keys = Some((keys, Instant::now()));
                Ok(found)
            }
            Err(err) if entry.keys.is_some() => {
                tracing::warn!(error = %err, "JWKS fetch failed; using the keys fetched before");
                Ok(known)
            }
            Err(err) => Err(err),
        }
    }

    async fn fetch(&self, environment: Environment) -> Result<JwkSet, JwksError> {
        let url = self
            .urls
            .get(&environment)
            .ok_or_else(|| JwksError::Fetch("no JWKS address".into()))?;
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| JwksError::Fetch(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(JwksError::Fetch(format!("status {}", response.status())));
        }
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| JwksError::Fetch(e.without_url().to_string()))
    }
}
