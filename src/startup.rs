//! Builds the application from settings: database, migrations, mail worker and HTTP server.
//! `main` and the integration tests both go through [`Application::build`].

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use anyhow::Context;
use tokio::sync::{Notify, watch};

use crate::config::Settings;
use crate::mail::worker::MailWorker;
use crate::store::Db;
use crate::web::{self, AppState};

pub struct Application {
    port: u16,
    purge_after_days: u32,
    server: Server,
    worker: MailWorker,
    db: Db,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database_url).await?;
        db.migrate().await?;

        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();

        let purge_after_days = settings.purge_after_days;
        let waker = Arc::new(Notify::new());
        let worker = MailWorker::new(db.clone(), settings.mail.clone(), waker.clone())?;
        let jwks = Arc::new(crate::maskinporten::jwks::JwksCache::new(
            settings.maskinporten.test_jwks_url.clone(),
            settings.maskinporten.production_jwks_url.clone(),
            settings.maskinporten.timeout,
        )?);
        let registry = Arc::new(crate::registry::RegistryClient::new(
            &settings.enhetsregisteret_url,
            settings.enhetsregisteret_timeout,
        )?);
        let state = AppState {
            registry,
            jwks,
            db: db.clone(),
            settings: Arc::new(settings),
            mail_waker: waker,
        };

        let server = HttpServer::new(move || {
            App::new()
                .app_data(actix_web::web::Data::new(state.clone()))
                .wrap(Compress::default())
                .wrap(from_fn(web::request_middleware))
                .configure(web::routes)
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();

        Ok(Self {
            purge_after_days,
            port,
            server,
            worker,
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until the server stops (Ctrl-C or SIGTERM), then lets the mail worker finish the
    /// message it is on.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(port = self.port, mail = %self.worker.describe(), "listening");
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(self.worker.run(stopped.clone()));
        let purger = tokio::spawn(purge_periodically(
            self.db.clone(),
            self.purge_after_days,
            stopped,
        ));
        let result = self.server.await;
        let _ = stop.send(true);
        let _ = worker.await;
        let _ = purger.await;
        self.db.close().await;
        result.context("HTTP server")
    }
}

/// Removes personal data from long-ended orders now and every six hours until stopped. Each
/// instance runs it; the update only touches orders not purged yet, so that is harmless.
async fn purge_periodically(db: Db, after_days: u32, mut stopped: watch::Receiver<bool>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 60 * 60);
    loop {
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(after_days));
        match crate::store::purge::personal_data(&db, cutoff).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "personal data purged from ended orders"),
            Err(err) => tracing::error!(error = %err, "purging personal data failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}
