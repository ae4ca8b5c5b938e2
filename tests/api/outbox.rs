//! The admins' outbox: pages, "send all failed again" and the oldest waiting message.

use chrono::{Duration, Utc};

use crate::helpers::*;
use crate::on_both_databases;

/// Stores a message in `status` as if it had been there `age` already, due again after `due_in`.
async fn insert_mail(
    app: &TestApp,
    kind: &str,
    status: &str,
    age: Duration,
    due_in: Duration,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let stamp = |at: chrono::DateTime<Utc>| at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    sqlx::query(
        "INSERT INTO mail_outbox (id, message_id, kind, recipients, subject, body_text, status,
            attempts, next_attempt_at, last_error, created_at)
         VALUES ($1, $2, $3, '[\"ola@leverandor.no\"]', $4, 'Hei,', $5, 3, $6, $7, $8)",
    )
    .bind(&id)
    .bind(format!("<{id}@rrh.test>"))
    .bind(kind)
    .bind(format!("Emne {id}"))
    .bind(status)
    .bind(stamp(Utc::now() + due_in))
    .bind((status == "failed").then_some("451 try again later"))
    .bind(stamp(Utc::now() - age))
    .execute(app.db.pool())
    .await
    .unwrap();
    id
}

fn row_ids(page: &scraper::Html) -> Vec<String> {
    select(page, "table.outbox tbody tr")
        .iter()
        .map(|tr| tr.value().attr("data-mail").unwrap().to_owned())
        .collect()
}

on_both_databases! {
    async fn failed_mail_is_paged_and_sent_again_all_at_once_or_by_kind(app) {
        let mut inserted = Vec::new();
        for i in 0..70 {
            inserted.push(insert_mail(&app, "vendor_confirmation", "failed", Duration::seconds(1000 - i), Duration::zero()).await);
        }
        for i in 0..5 {
            inserted.push(insert_mail(&app, "contact_links", "failed", Duration::seconds(500 - i), Duration::zero()).await);
        }
        let admin = app.logged_in("admin@brreg.no", "admin").await;
        let (status, first) = admin.get_html("/admin/outbox").await;
        assert_eq!(status, 200);
        let mut seen = row_ids(&first);
        assert_eq!(seen.len(), 50);
        assert!(select(&first, "a[rel=prev]").is_empty());
        let next = attr(&first, "a[rel=next]", "href");
        assert!(next.contains("status=failed"), "the tab is kept: {next}");
        let (_, second) = admin.get_html(&next).await;
        seen.extend(row_ids(&second));
        assert!(select(&second, "a[rel=next]").is_empty());
        assert_eq!(attr(&second, "a[rel=prev]", "href"), "/admin/outbox?status=failed&page=1");
        inserted.reverse();
        assert_eq!(seen, inserted, "every message once, newest first");
        assert_eq!(admin.get("/admin/outbox?page=0").await.status(), 400);

        // The button says how many; the kinds present can narrow it.
        let button = text(&first, "form.retry-all button");
        assert_eq!(button, "Prøv alle 75 feilede på nytt");
        let kinds: Vec<String> = select(&first, "form.retry-all option")
            .iter()
            .map(|o| o.value().attr("value").unwrap().to_owned())
            .collect();
        assert_eq!(kinds, ["", "contact_links", "vendor_confirmation"]);
        let token = attr(&first, "form.retry-all input[name=csrf_token]", "value");

        // Without the session's token, or by a case handler, nothing moves.
        let wrong = admin.post("/admin/outbox/retry", &[("csrf_token", "wrong"), ("kind", "")]).await;
        assert_eq!(wrong.status(), 403);
        let handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let own_token = handler.csrf().await;
        let refused = handler.post("/admin/outbox/retry", &[("csrf_token", own_token.as_str())]).await;
        assert_eq!(refused.status(), 403);
        let page = scraper::Html::parse_document(&refused.text().await.unwrap());
        assert!(text(&page, "main").contains("administratorer"), "{}", text(&page, "main"));
        assert_eq!(app.count("mail_outbox WHERE status = 'failed'").await, 75);

        // One kind: its five, with fresh attempts, due now.
        let response = admin
            .post("/admin/outbox/retry", &[("csrf_token", token.as_str()), ("kind", "contact_links")])
            .await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("n=5"), "{location}");
        assert_eq!(app.count("mail_outbox WHERE status = 'failed'").await, 70);
        assert_eq!(
            app.count("mail_outbox WHERE kind = 'contact_links' AND last_error IS NULL AND attempts <= 1").await,
            5
        );
        let (_, after) = admin.get_html(&location).await;
        assert_eq!(text(&after, "p.notice"), "5 meldinger står i kø for å sendes på nytt.");
        assert_eq!(text(&after, "form.retry-all button"), "Prøv alle 70 feilede på nytt");
        app.smtp.wait_for(5).await;

        // The rest, and a second click finds nothing left to send.
        let response = admin
            .post("/admin/outbox/retry", &[("csrf_token", token.as_str()), ("kind", "")])
            .await;
        assert!(response.headers()["location"].to_str().unwrap().contains("n=70"));
        let again = admin
            .post("/admin/outbox/retry", &[("csrf_token", token.as_str()), ("kind", "")])
            .await;
        let location = again.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("n=0"), "{location}");
        app.smtp.wait_for(75).await;
        let (_, done) = admin.get_html(&location).await;
        assert!(select(&done, "form.retry-all").is_empty(), "no button when nothing failed");
    }

    async fn the_outbox_shows_how_long_the_oldest_message_has_waited(app) {
        let admin = app.logged_in("admin@brreg.no", "admin").await;
        let (_, page) = admin.get_html("/admin/outbox").await;
        assert!(select(&page, ".oldest-pending").is_empty(), "nothing waits");
        // Waiting for its next attempt in an hour, queued three minutes ago.
        insert_mail(&app, "contact_links", "pending", Duration::seconds(190), Duration::hours(1)).await;
        insert_mail(&app, "contact_links", "pending", Duration::seconds(20), Duration::hours(1)).await;
        let (_, page) = admin.get_html("/admin/outbox?status=pending").await;
        assert_eq!(text(&page, ".oldest-pending"), "Eldste ventende: 3 min");
        assert_eq!(select(&page, "table.outbox tbody tr").len(), 2);
        let (_, page) = admin.get_html("/admin/outbox?status=pending&lang=nn").await;
        assert_eq!(text(&page, ".oldest-pending"), "Eldste ventande: 3 min");
    }
}
