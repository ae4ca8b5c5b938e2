//! Builds the application from settings: database, migrations, mail worker and HTTP server.
//! `main` and the integration tests both go through [`Application::build`].

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use anyhow::Context as _;
use tokio::sync::watch;

use crate::app::Context;
use crate::config::Settings;
use crate::mail::worker::MailWorker;
use crate::store::Db;
use crate::web;

pub struct Application {
    port: u16,
    server: Server,
    worker: MailWorker,
    context: Context,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let context = Context::connect(settings).await?;
        let worker = context.mail_worker()?;
        web::assets::prepare();

        let state = context.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(actix_web::web::Data::new(state.clone()))
                // Innermost first: whole bodies are gzipped in one piece; `Compress` then
                // only has streamed ones (see web::compress).
                .wrap(from_fn(web::compress::whole_bodies))
                .wrap(Compress::default())
                .wrap(from_fn(web::request_middleware))
                .configure(web::routes)
        })
        // Responses leave at once: with Nagle's algorithm on, a response's last small write
        // waited for the client's delayed ACK (about 40 ms) on kept-open connections.
        .tcp_nodelay(true)
        .listen(listener)?
        .shutdown_timeout(10)
        // Ours, so the mail worker hears of a stop at the same moment as the server.
        .disable_signals()
        .run();

        Ok(Self {
            port,
            server,
            worker,
            context,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        self.context.db()
    }

    /// The use cases, for tests that act as the command line does.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Serves until Ctrl-C or SIGTERM. Then, at once: the server stops taking connections and
    /// gives requests in flight up to 10 s, and the mail worker stops between messages (the
    /// one being sent gets a few seconds) and gives back its claims; the process ends within
    /// about 15 s, whatever the backlog.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(port = self.port, mail = %self.worker.describe(), "listening");
        let (stop, stopped) = watch::channel(false);
        let stop = std::sync::Arc::new(stop);
        let handle = self.server.handle();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stopping");
            let _ = on_signal.send(true);
            handle.stop(true).await;
        });
        let worker = tokio::spawn(self.worker.run(stopped.clone()));
        let purger = tokio::spawn(purge_periodically(self.context.clone(), stopped));
        let result = self.server.await;
        let _ = stop.send(true);
        let _ = worker.await;
        let _ = purger.await;
        self.context.db().close().await;
        result.context("HTTP server")
    }
}

/// Ctrl-C, or SIGTERM (what a service manager or container runtime sends).
async fn stop_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "SIGTERM cannot be watched");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// Removes personal data from long-ended orders now and every six hours until stopped. Each
/// instance runs it; the update only touches orders not purged yet, so that is harmless.
async fn purge_periodically(context: Context, mut stopped: watch::Receiver<bool>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 60 * 60);
    let after_days = i64::from(context.settings.purge_after_days);
    loop {
        let cutoff = chrono::Utc::now() - chrono::Duration::days(after_days);
        match crate::app::purge::personal_data(&context, cutoff).await {
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
