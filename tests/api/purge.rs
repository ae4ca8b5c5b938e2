//! Personal data leaves ended orders; the skeleton stays.

use crate::helpers::*;
use crate::on_both_databases;

on_both_databases! {
    async fn ended_orders_lose_their_personal_data_and_keep_their_skeleton(app) {
        let ended = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &ended).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let token = browser.csrf().await;
        browser.post(&format!("/admin/orders/{ended}/notes"), &[("csrf_token", token.as_str()), ("note", "Ringte Ola Nordmann på 912 34 567.")]).await;
        assert_eq!(post_contact_step(&app, &vendor, "withdrawal", &[("withdraw_reason", "Ola slutter.")]).await.status(), 303);
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(40).into();
        let open = app.order(&other).await;
        app.mail_settled().await;

        let purged = rrh_tt02::app::purge::personal_data(&app.context, chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
        assert_eq!(purged, 1, "only the ended order");
        for column in ["vendor_contact_email", "vendor_contact_phone", "consumer_contact_email", "consumer_contact_phone"] {
            assert_eq!(app.order_column(&ended, column).await.as_deref(), Some(""), "{column}");
            assert_ne!(app.order_column(&open, column).await.as_deref(), Some(""), "{column} of the open order");
        }
        assert_eq!(app.order_column(&ended, "ip_addresses").await.as_deref(), Some("[]"));
        assert!(app.order_column(&ended, "purged_at").await.is_some());
        assert_eq!(app.order_column(&ended, "vendor_org_name").await.as_deref(), Some("Leverandør Systemer AS"));
        assert_eq!(app.order_column(&ended, "status").await.as_deref(), Some("withdrawn"));
        assert_eq!(app.count("order_events WHERE comment IS NOT NULL").await, 0, "notes and reasons are gone");
        assert_eq!(app.get(&consumer).await.status(), 404, "the links are gone");
        let (_, page) = browser.get_html(&format!("/admin/orders/{ended}")).await;
        assert!(!page.html().contains("ola@leverandor.no"));
        assert!(!page.html().contains("Ola slutter"));
        // Still found by organisation name, for statistics and questions.
        let (_, queue) = browser.get_html("/admin/orders?status=all&q=leverand%C3%B8r+systemer").await;
        assert_eq!(select(&queue, "table.queue a.reference").len(), 2);
        // Running it again changes nothing.
        assert_eq!(rrh_tt02::app::purge::personal_data(&app.context, chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap(), 0);
    }
}
