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
        let worker = tokio::spawn(self.worker.run(stopped));
        let result = self.server.await;
        let _ = stop.send(true);
        let _ = worker.await;
        self.db.close().await;
        result.context("HTTP server")
    }
}
