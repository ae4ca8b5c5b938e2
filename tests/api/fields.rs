//! The field table against the storage: every field of an order is written, mailed to the
//! registry (where its section is), read back into the export, and purged when it is
//! personal data. A field added to the table but not wired
//! through the SQL, the read model or the export fails here, naming the field.

use rrh_tt02::domain::{ORDER_FIELDS, Section};

use crate::helpers::*;
use crate::on_both_databases;

/// The export's header and one order's row, as (column, cell) pairs.
fn csv_row(csv: &str, reference: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    let header = lines[0].trim_start_matches('\u{feff}').split(';');
    let row = lines
        .iter()
        .find(|l| l.starts_with(reference))
        .expect("the order is in the export");
    // The test's values hold no `;` or quotes, so the cells split plainly.
    header
        .map(str::to_owned)
        .zip(row.split(';').map(str::to_owned))
        .collect()
}

on_both_databases! {
    async fn every_field_of_the_table_is_written_exported_and_purged_when_personal(app) {
        let mut body = valid_json();
        body["vendor_contact_name"] = "Ola Nordmann".into();
        body["consumer_contact_name"] = "Kari Nordmann".into();
        body["maskinporten_client_id"] = "0f9a1c7e-4b8e".into();
        body["message"] = "Vi tester mot TT02.".into();
        let reference = app.order(&body).await;

        let mut stored = Vec::new();
        for field in ORDER_FIELDS {
            let value = app.order_column(&reference, field.column()).await;
            assert!(value.as_deref().is_some_and(|v| !v.is_empty() && v != "[]"), "{} not written: {value:?}", field.name);
            stored.push(value);
        }

        // Mailed: each party's fields and the closing free texts are in the registry's email.
        let mails = app.smtp.wait_for(3).await;
        let registry = mails.iter().find(|m| m.rcpt_to == ["opendata.rrh@brreg.no"]).unwrap();
        let body = registry.parsed().body_text(0).unwrap().to_string();
        let mailed = [Section::Vendor, Section::Consumer, Section::Other];
        for (field, value) in ORDER_FIELDS.iter().zip(&stored) {
            if mailed.contains(&field.section) {
                let value = value.as_deref().unwrap();
                assert!(body.contains(value), "{} ({value}) not in the registry's email:\n{body}", field.name);
            }
        }

        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let csv = browser.get("/admin/orders.csv?status=all").await.text().await.unwrap();
        let row = csv_row(&csv, &reference);
        for field in ORDER_FIELDS.iter().filter(|f| f.csv) {
            let cell = row.iter().find(|(column, _)| column == field.name).map(|(_, cell)| cell.as_str());
            assert!(cell.is_some_and(|c| !c.is_empty()), "{} not exported: {cell:?}", field.name);
        }
        let cell = |name: &str| row.iter().find(|(c, _)| c == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(cell("ip_addresses"), "8.8.8.8 1.1.1.0/24");
        assert_eq!(cell("message"), "Vi tester mot TT02.");

        browser.act(&reference, "reject", &[("reason", "Ukjent kunde.")]).await;
        let cutoff = chrono::Utc::now() + chrono::Duration::days(1);
        assert_eq!(rrh_tt02::app::purge::personal_data(&app.context, cutoff).await.unwrap(), 1);
        for (field, before) in ORDER_FIELDS.iter().zip(stored) {
            let after = app.order_column(&reference, field.column()).await;
            if field.personal {
                let emptied = matches!(after.as_deref(), None | Some("") | Some("[]"));
                assert!(emptied, "{} kept after the purge: {after:?}", field.name);
            } else {
                assert_eq!(after, before, "{} changed by the purge", field.name);
            }
        }
    }
}
