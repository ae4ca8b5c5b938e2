//! The application layer: one function per use case. Each takes the [`Context`], owns its
//! transaction, and calls the domain, the store (SQL only), mail rendering, Enhetsregisteret
//! and Maskinporten as it needs. The web layer parses a request, calls one use case and maps
//! the result to a response; it never reaches the database itself.

pub mod accounts;
pub mod contacts;
pub mod metrics;
pub mod orders;
pub mod outbox;
pub mod preparation;
pub mod purge;
pub mod queue;
pub mod tt02_loading;
pub mod workflow;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Settings;
use crate::mail::worker::MailWorker;
use crate::maskinporten::jwks::JwksCache;
use crate::metrics::Metrics;
use crate::registry::RegistryClient;
use crate::store::Db;

// The read models the use cases hand out, named here so callers need not know the store.
pub use crate::mail::loading::{ListedOrganisation, LoadingList, NameSource};
pub use crate::store::events::{ACTOR_API, ACTOR_VENDOR_CONTACT, Event, TOKEN_CHECK_FAILED};
pub use crate::store::orders::{Order, normalise_reference};
pub use crate::store::outbox::MailSummary;
pub use crate::store::queue::{Assignment, Cursor, QueueFilter, QueueRow, Search, StatusFilter};
pub use crate::store::users::{Session, User};

/// What every use case may need; cheap to clone (actix clones it per worker thread).
#[derive(Clone)]
pub struct Context {
    pub settings: Arc<Settings>,
    db: Db,
    /// Wakes the mail worker as soon as a transaction has queued mail.
    mail_waker: Arc<Notify>,
    /// Maskinporten's signing keys, shared so one fetch serves every worker.
    jwks: Arc<JwksCache>,
    registry: Arc<RegistryClient>,
    /// What this process counts itself (mail deliveries, request durations).
    metrics: Arc<Metrics>,
}

impl Context {
    /// Connects to the database (applying migrations) and sets up the clients of
    /// Enhetsregisteret and Maskinporten's key sets; nothing is fetched yet.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::connect(settings.database_url.expose()).await?;
        db.migrate().await?;
        let jwks = Arc::new(JwksCache::new(
            settings.maskinporten.test_jwks_url.clone(),
            settings.maskinporten.production_jwks_url.clone(),
            settings.maskinporten.timeout,
        )?);
        let registry = Arc::new(RegistryClient::new(
            &settings.enhetsregisteret_url,
            settings.enhetsregisteret_timeout,
        )?);
        Ok(Self {
            settings: Arc::new(settings),
            db,
            mail_waker: Arc::new(Notify::new()),
            jwks,
            registry,
            metrics: Arc::default(),
        })
    }

    /// The worker that delivers what the use cases queue; woken by them.
    pub fn mail_worker(&self) -> anyhow::Result<MailWorker> {
        MailWorker::new(
            self.db.clone(),
            self.settings.mail.clone(),
            self.mail_waker.clone(),
            self.metrics.clone(),
        )
    }

    /// This process's own counters, for the request middleware to record into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The database itself, for start-up, shutdown and tests; requests go through use cases.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Readiness: a round trip to the database.
    pub async fn database_reachable(&self) -> Result<(), Failure> {
        Ok(self.db.ping().await?)
    }

    /// Domain used in Message-IDs: the public host name, so IDs are unique to this service.
    fn message_id_domain(&self) -> &str {
        &self.settings.mail.message_id_domain
    }

    /// Called after a transaction that queued mail has committed.
    fn mail_queued(&self) {
        self.mail_waker.notify_one();
    }
}

/// Something went wrong that the person could not have caused: the database, a template.
/// It becomes a 500 with a request id; the detail goes to the log only.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<askama::Error> for Failure {
    fn from(err: askama::Error) -> Self {
        Failure::Internal(anyhow::Error::new(err).context("rendering an email"))
    }
}

/// Lets `?` turn a database or rendering error into a use case's own error type, through
/// its `Failed(Failure)` variant.
macro_rules! failure_converts_into {
    ($error:ty) => {
        impl From<sqlx::Error> for $error {
            fn from(err: sqlx::Error) -> Self {
                Self::Failed(err.into())
            }
        }
        impl From<askama::Error> for $error {
            fn from(err: askama::Error) -> Self {
                Self::Failed(err.into())
            }
        }
    };
}
pub(crate) use failure_converts_into;
