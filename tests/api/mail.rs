use crate::helpers::*;
use crate::on_both_databases;

/// Positions of `needles` in `haystack`, failing the test for any that is missing.
fn positions(haystack: &str, needles: &[&str]) -> Vec<usize> {
    needles
        .iter()
        .map(|n| {
            haystack
                .find(n)
                .unwrap_or_else(|| panic!("{n:?} missing in:\n{haystack}"))
        })
        .collect()
}

on_both_databases! {
    async fn the_registry_gets_one_structured_email_with_every_field_in_the_guides_order(app) {
        let response = app.submit_form(&valid_form()).await;
        let reference = response.headers()["location"].to_str().unwrap().split('/').nth(2).unwrap().to_owned();
        let received = app.smtp.wait_for(3).await;
        let to_registry: Vec<_> = received.iter().filter(|m| m.rcpt_to == ["opendata.rrh@brreg.no"]).collect();
        assert_eq!(to_registry.len(), 1);
        let message = to_registry[0].parsed();
        assert!(message.subject().unwrap().contains(&reference));
        assert_eq!(message.reply_to().unwrap().first().unwrap().address().unwrap(), "ola@leverandor.no");
        assert_eq!(message.from().unwrap().first().unwrap().address().unwrap(), "no-reply@rrh.test");
        assert!(message.header_raw("MIME-Version").is_some_and(|v| v.trim() == "1.0"), "no MIME-Version");
        let message_id = message.message_id().unwrap().to_owned();
        assert!(message_id.ends_with("@rrh.test"), "{message_id}");

        let body = message.body_text(0).unwrap().to_string();
        // The guide's order: vendor number, name, email, mobile; consumer the same; then IPs.
        let order = positions(&body, &[
            "974760673", "Leverandør Systemer AS", "ola@leverandor.no", "+4791234567",
            "313876144", "Kunde Bank ASA", "kari@kunde.no", "+4741234567",
            "8.8.8.8", "2a00:1450:4001::/48",
        ]);
        assert!(order.windows(2).all(|w| w[0] < w[1]), "fields out of order: {order:?}\n{body}");
        for extra in ["Ola Nordmann", "Kari Nordmann", "brreg:reelle/offentlig",
            "Register over reelle rettighetshavere - Offentlig myndighet - På vegne av",
            "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b", "Vi tester mot TT02 i desember.",
            "Test (TT02)", &format!("http://rrh.test/admin/orders/{reference}")] {
            assert!(body.contains(extra), "{extra:?} missing in:\n{body}");
        }

        // The outbox shows every message as sent, with the Message-ID the server received.
        for _ in 0..100 {
            if app.count("mail_outbox WHERE status = 'sent'").await == 3 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count("mail_outbox WHERE status = 'sent'").await, 3);
        let stored = app.count(&format!("mail_outbox WHERE message_id = '<{message_id}>'")).await;
        assert_eq!(stored, 1);
    }

    async fn both_contacts_get_a_confirmation_in_plain_text_and_html(app) {
        let response = app.submit_form(&valid_form()).await;
        let reference = response.headers()["location"].to_str().unwrap().split('/').nth(2).unwrap().to_owned();
        let received = app.smtp.wait_for(3).await;
        for (address, intro) in [("ola@leverandor.no", "har mottatt bestillingen din"), ("kari@kunde.no", "Leverandør Systemer AS har bestilt")] {
            let mail = received.iter().find(|m| m.rcpt_to == [address]).unwrap_or_else(|| panic!("no mail to {address}"));
            let message = mail.parsed();
            assert!(message.subject().unwrap().contains(&reference));
            let text = message.body_text(0).unwrap().to_string();
            let html = message.body_html(0).unwrap().to_string();
            assert!(text.contains(intro), "{text}");
            assert!(text.contains(&reference));
            let page = scraper::Html::parse_document(&html);
            assert_eq!(attr(&page, "html", "lang"), "nb");
            assert!(text_of(&page).contains(&reference));
        }
    }

    async fn an_english_order_gets_english_confirmations(app) {
        let response = app.submit_form(&with(valid_form(), "language", "en")).await;
        assert_eq!(response.status(), 303);
        let received = app.smtp.wait_for(3).await;
        let vendor = received.iter().find(|m| m.rcpt_to == ["ola@leverandor.no"]).unwrap().parsed();
        assert!(vendor.subject().unwrap().starts_with("We have received"));
        assert!(vendor.body_text(0).unwrap().contains("What happens next"));
        // The registry's own email stays in Norwegian.
        let registry = received.iter().find(|m| m.rcpt_to == ["opendata.rrh@brreg.no"]).unwrap().parsed();
        assert!(registry.subject().unwrap().starts_with("Bestilling RRH-"));
    }

    async fn a_production_order_is_not_called_a_tt02_order(app) {
        let body = production_json();
        assert_eq!(app.post_json(&body).await.status(), 201);
        for mail in app.smtp.wait_for(3).await {
            let subject = mail.parsed().subject().unwrap().to_owned();
            assert!(!subject.contains("TT02"), "{subject}");
        }
        let (_, form) = app.get_html("/orders/new").await;
        assert!(!text(&form, "h1").contains("TT02"));
        assert!(!text(&form, "header .brand").contains("TT02"));
    }

    async fn a_temporary_smtp_failure_is_retried_until_the_mail_is_delivered(app) {
        app.smtp.fail_next.store(2, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(app.post_json(&valid_json()).await.status(), 201);
        let received = app.smtp.wait_for(3).await;
        assert_eq!(received.len(), 3);
        for _ in 0..100 {
            if app.count("mail_outbox WHERE status = 'sent'").await == 3 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count("mail_outbox WHERE status = 'sent'").await, 3);
        assert!(app.count("mail_outbox WHERE attempts > 1").await >= 1);
    }
}

fn text_of(page: &scraper::Html) -> String {
    page.root_element().text().collect()
}

#[tokio::test]
async fn mail_is_marked_failed_after_the_configured_number_of_attempts() {
    let app = spawn_app_with(Backend::Sqlite, &[("RRH_MAIL_MAX_ATTEMPTS", "2")]).await;
    // The SMTP server answers every message with a temporary failure.
    app.smtp
        .fail_next
        .store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(app.post_json(&valid_json()).await.status(), 201);
    for _ in 0..200 {
        if app.count("mail_outbox WHERE status = 'failed'").await == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("mail_outbox WHERE status = 'failed' AND attempts = 2")
            .await,
        3
    );
    assert_eq!(
        app.count("mail_outbox WHERE last_error IS NOT NULL").await,
        3
    );
}

/// Waits up to `seconds` for `count` outbox rows matching `condition`.
async fn wait_for_rows(app: &TestApp, condition: &str, count: i64, seconds: u64) -> i64 {
    let table = format!("mail_outbox WHERE {condition}");
    for _ in 0..seconds * 20 {
        if app.count(&table).await == count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.count(&table).await
}

#[tokio::test]
async fn a_server_that_turns_connections_away_for_a_while_gets_every_message_later() {
    let app = spawn_app(Backend::Sqlite).await;
    app.smtp
        .busy_next
        .store(4, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(app.post_json(&valid_json()).await.status(), 201);
    assert_eq!(wait_for_rows(&app, "status = 'sent'", 3, 10).await, 3);
    assert!(
        app.count("mail_outbox WHERE attempts > 1").await >= 1,
        "421 is retried, not failed"
    );
    assert_eq!(app.smtp.received().len(), 3, "each once");
}

#[tokio::test]
async fn a_silent_smtp_server_is_given_up_on_and_the_mail_retried_later() {
    let silent = SmtpSink::silent().await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("RRH_SMTP_URL", &format!("smtp://{silent}")),
            ("RRH_SMTP_TIMEOUT_MS", "300"),
            ("RRH_MAIL_RETRY_MS", "60000"),
        ],
    )
    .await;
    assert_eq!(app.post_json(&valid_json()).await.status(), 201);
    // Each attempt ends after the limit as a temporary failure: back to pending, to be
    // retried, instead of `sending` for ever.
    let condition =
        "status = 'pending' AND attempts = 1 AND last_error = 'SMTP: no answer within 300 ms'";
    assert_eq!(wait_for_rows(&app, condition, 3, 10).await, 3);
}

#[tokio::test]
async fn a_permanent_refusal_fails_the_message_at_once_and_keeps_no_address() {
    let app = spawn_app_with(Backend::Sqlite, &[("RRH_MAIL_MAX_ATTEMPTS", "5")]).await;
    app.smtp
        .reject
        .lock()
        .unwrap()
        .push("kari@kunde.no".to_owned());
    assert_eq!(app.post_json(&valid_json()).await.status(), 201);
    assert_eq!(wait_for_rows(&app, "status = 'sent'", 2, 10).await, 2);
    let failed = "status = 'failed' AND attempts = 1 AND kind = 'consumer_confirmation'";
    assert_eq!(wait_for_rows(&app, failed, 1, 10).await, 1);
    assert_eq!(
        app.count("mail_outbox WHERE last_error LIKE '%550%'").await,
        1,
        "the reply code is kept"
    );
    assert_eq!(
        app.count("mail_outbox WHERE last_error LIKE '%kari@%' OR last_error LIKE '%kunde.no%'")
            .await,
        0
    );
}

#[tokio::test]
async fn without_smtp_every_mail_is_written_as_an_eml_file() {
    let app = spawn_app_with(Backend::Sqlite, &[("RRH_SMTP_URL", "")]).await;
    assert_eq!(app.post_json(&valid_json()).await.status(), 201);
    let mut files = Vec::new();
    for _ in 0..100 {
        files = std::fs::read_dir(&app.mail_dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        if files.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(files.len(), 3);
    let recipients: Vec<String> = files
        .iter()
        .map(|f| {
            let data = std::fs::read(f).unwrap();
            let message = mail_parser::MessageParser::default().parse(&data).unwrap();
            message
                .to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_owned()
        })
        .collect();
    for address in [
        "opendata.rrh@brreg.no",
        "ola@leverandor.no",
        "kari@kunde.no",
    ] {
        assert!(
            recipients.iter().any(|r| r == address),
            "{address} not in {recipients:?}"
        );
    }
    assert!(app.smtp.received().is_empty());
}

/// Posts `orders` distinct orders at once while the mail server holds the first message for
/// a second, so every order's mail is in the outbox before the first is confirmed and the
/// worker never finds the outbox empty in between; then lets the server answer at once.
async fn post_a_backlog(app: &TestApp, orders: u32, seed: u32) {
    use std::sync::atomic::Ordering::SeqCst;
    app.smtp.delay_ms.store(1000, SeqCst);
    let posts = (0..orders).map(|i| {
        let mut body = valid_json();
        body["consumer_org_number"] = org_number(seed + i).into();
        async move { app.post_json(&body).await.status() }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    app.smtp.wait_for(1).await;
    app.smtp.delay_ms.store(0, SeqCst);
}

/// Messages that keep coming travel over one connection, batch after batch (the worker
/// claims 20 at a time), closed with QUIT once nothing is due: a mail server sees one
/// connection, one greeting and one login for a backlog, not one per batch.
#[tokio::test]
async fn a_backlog_goes_over_one_connection_batch_after_batch() {
    use std::sync::atomic::Ordering::SeqCst;
    let app = spawn_app(Backend::Sqlite).await;
    // 21 messages wait in the outbox while the first batch is sent (more than a batch).
    post_a_backlog(&app, 8, 2000).await;
    let received = app.smtp.wait_for(24).await;
    assert_eq!(received.len(), 24);
    for _ in 0..100 {
        if app.smtp.quits.load(SeqCst) >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        received.iter().all(|m| m.connection == 1),
        "connections used: {:?}",
        received.iter().map(|m| m.connection).collect::<Vec<_>>()
    );
    assert_eq!(app.smtp.connections.load(SeqCst), 1);
    assert_eq!(app.smtp.quits.load(SeqCst), 1, "closed with QUIT once done");
}

/// A server that ends a kept connection (421 after two messages here, as servers that limit
/// messages per connection do) costs no message an attempt: nothing was delivered before
/// DATA, so the worker says it again at once on a new connection.
#[tokio::test]
async fn a_kept_connection_the_server_ends_is_replaced_without_a_failed_attempt() {
    use std::sync::atomic::Ordering::SeqCst;
    let app = spawn_app(Backend::Sqlite).await;
    app.smtp.per_connection.store(2, SeqCst);
    post_a_backlog(&app, 2, 3000).await;
    let received = app.smtp.wait_for(6).await;
    assert_eq!(received.len(), 6);
    let per_connection = |c: usize| received.iter().filter(|m| m.connection == c).count();
    assert_eq!(
        (per_connection(1), per_connection(2), per_connection(3)),
        (2, 2, 2)
    );
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = sqlx::query_as::<_, (String, i64, Option<String>)>(
            "SELECT status, attempts, last_error FROM mail_outbox",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        if rows.iter().all(|(status, ..)| status == "sent") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rows.len(), 6);
    for (status, attempts, error) in rows {
        assert_eq!(
            (status.as_str(), attempts, error),
            ("sent", 1, None),
            "sent at the first attempt"
        );
    }
}

/// Messages due together travel over one connection, closed with QUIT once they are
/// sent. A connection that saw a failure is never used again: the messages after it go over
/// a new one (a reply read out of turn would confirm the wrong message).
#[tokio::test]
async fn a_batch_shares_one_connection_and_a_failure_ends_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let app = spawn_app(Backend::Sqlite).await;
    // The first message of the three is refused for now (451), then retried.
    app.smtp.fail_next.store(1, SeqCst);
    assert_eq!(app.post_json(&valid_json()).await.status(), 201);
    let received = app.smtp.wait_for(3).await;
    let on = |connection: usize| {
        received
            .iter()
            .filter(|m| m.connection == connection)
            .count()
    };
    assert_eq!(
        on(1),
        0,
        "the connection that saw the 451 carried nothing more"
    );
    assert!(
        on(2) >= 2,
        "the two messages after it shared one new connection"
    );
    // The retry (due 50 ms later in tests) comes on the second connection if it is still
    // open, or on a third.
    assert_eq!(on(2) + on(3), 3, "the retry came on a good connection");
    let connections = app.smtp.connections.load(SeqCst);
    assert!(connections == 2 || connections == 3, "{connections}");
    for _ in 0..100 {
        if app.smtp.quits.load(SeqCst) >= connections {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // QUIT on the failed one too; the others once nothing more was due.
    assert_eq!(
        app.smtp.quits.load(SeqCst),
        connections,
        "every connection was closed with QUIT"
    );
}
