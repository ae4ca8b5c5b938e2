//! TT02 loading in batches, through HTTP as a case handler's browser does it: tick orders on
//! the queue, open the confirmation, confirm; the list goes to Altinn's loading mailbox or is
//! offered to copy and download.

use std::collections::BTreeMap;

use mail_parser::MimeHeaders;

use crate::helpers::*;
use crate::on_both_databases;

const ALTINN: &str = "tt02-innlasting@altinn.test";
const VENDOR: &str = "974760673";
const LOADING: &str = "tt02_loading";

/// A valid organisation number in the synthetic range (starting with 3), which Tenor uses and
/// Enhetsregisteret does not have.
fn synthetic_org_number(seed: u32) -> String {
    let base = 31_000_000 + seed * 7;
    (base..)
        .flat_map(|b| (0..10).map(move |check| format!("{b}{check}")))
        .find(|n| rrh_tt02::domain::OrgNumber::parse(n).is_ok())
        .unwrap()
}

/// A test order for `consumer` (number, name as given on the order) in `scope`.
async fn test_order(app: &TestApp, consumer: (&str, &str), scope: &str) -> String {
    let mut body = valid_json();
    body["consumer_org_number"] = consumer.0.into();
    body["consumer_org_name"] = consumer.1.into();
    body["scope"] = scope.into();
    app.order(&body).await
}

const OFFENTLIG: &str = "brreg:reelle/offentlig";
const RAPPORTERINGSPLIKTIG: &str = "brreg:reelle/rapporteringspliktig";

/// The checkboxes ticked on a queue page, by value.
fn ticked(page: &scraper::Html) -> Vec<String> {
    select(
        page,
        "#batch-form input[type=checkbox][name=order][checked]",
    )
    .iter()
    .map(|input| input.value().attr("value").unwrap().to_owned())
    .collect()
}

/// Opens the confirmation page for `references`, as the queue's form (a GET) does.
async fn confirmation(
    browser: &Browser,
    references: &[String],
) -> (reqwest::StatusCode, scraper::Html) {
    let query: Vec<String> = references.iter().map(|r| format!("order={r}")).collect();
    browser
        .get_html(&format!("/admin/tt02-loading?{}", query.join("&")))
        .await
}

/// Posts the confirmation page's form, as its button does.
async fn confirm(browser: &Browser, page: &scraper::Html) -> reqwest::Response {
    let token = attr(page, "#confirm-form input[name=csrf_token]", "value");
    let batch = attr(page, "#confirm-form input[name=batch]", "value");
    let mut body = vec![
        ("csrf_token".to_owned(), token),
        ("batch".to_owned(), batch),
    ];
    for input in select(page, "#confirm-form input[name=order]") {
        body.push((
            "order".to_owned(),
            input.value().attr("value").unwrap().to_owned(),
        ));
    }
    let body: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post("/admin/tt02-loading", &body).await
}

/// Posts the confirmation page's form and follows the redirect to the batch's result page,
/// as the browser does: the result page's status, path and document.
async fn confirmed(browser: &Browser, page: &scraper::Html) -> (u16, String, scraper::Html) {
    let response = confirm(browser, page).await;
    followed(browser, response).await
}

/// A batch request's answer as the browser ends up showing it: a 303 is followed to the
/// batch's result page; anything else is shown as it is.
async fn followed(browser: &Browser, response: reqwest::Response) -> (u16, String, scraper::Html) {
    if response.status() != 303 {
        let status = response.status().as_u16();
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        return (status, String::new(), page);
    }
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/admin/tt02-loading/"), "{location}");
    let (status, page) = browser.get_html(&location).await;
    (status.as_u16(), location, page)
}

/// The organisations table of a batch page: number -> (name, where the name comes from, the
/// orders it is on).
fn organisations(page: &scraper::Html) -> BTreeMap<String, (String, String, Vec<String>)> {
    let css = |css: &str| scraper::Selector::parse(css).unwrap();
    select(page, "#organisations tbody tr")
        .iter()
        .map(|row| {
            let name = row
                .select(&css(".org-name"))
                .next()
                .unwrap()
                .text()
                .collect();
            let references = row
                .select(&css(".reference"))
                .map(|r| r.text().collect())
                .collect();
            let source = row.value().attr("data-name-source").unwrap().to_owned();
            (
                row.value().attr("data-org").unwrap().to_owned(),
                (name, source, references),
            )
        })
        .collect()
}

/// `subset` in the order of `picked`, as the list writes an organisation's orders.
fn in_order(picked: &[String], subset: &[&String]) -> Vec<String> {
    picked
        .iter()
        .filter(|r| subset.contains(r))
        .cloned()
        .collect()
}

/// The `data-reference` of each item of the list `css`.
fn listed(page: &scraper::Html, css: &str) -> Vec<String> {
    select(page, &format!("{css} li"))
        .iter()
        .map(|li| li.value().attr("data-reference").unwrap().to_owned())
        .collect()
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

/// The lines of a CSV or text list, without the BOM and the line ends.
fn lines(text: &str) -> Vec<String> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect()
}

/// Events, emails and received orders: a refused request changes none of them.
async fn footprint(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("order_events").await,
        app.count("mail_outbox").await,
        app.count("orders WHERE status = 'received'").await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_orders_load_in_one_batch_but_the_one_moved_meanwhile_and_altinn_gets_the_list() {
    on_both_with(&[("RRH_ALTINN_LOADING_MAILBOX", ALTINN)], |app| async move {
        let (aerlig, femte) = (org_number(61), org_number(62));
        app.register.set(&aerlig, 200, serde_json::json!({"organisasjonsnummer": aerlig, "navn": "ÆRLIG REGNSKAP AS"}));
        app.register.set(&femte, 200, serde_json::json!({"organisasjonsnummer": femte, "navn": "FEMTE VIRKSOMHET AS"}));
        let formula = synthetic_org_number(1);
        // The vendor is on all five; Ærlig on two (two scopes); two customers are synthetic,
        // one with a name a spreadsheet would run as a formula.
        let orders = vec![
            test_order(&app, ("313876144", "Kunde Bank ASA"), OFFENTLIG).await,
            test_order(&app, (&aerlig, "Ærlig regnskap"), OFFENTLIG).await,
            test_order(&app, (&aerlig, "Ærlig regnskap"), RAPPORTERINGSPLIKTIG).await,
            test_order(&app, (&formula, "=SUM(A1) Testbedrift"), OFFENTLIG).await,
            test_order(&app, (&femte, "Femte"), OFFENTLIG).await,
        ];
        let before = app.mail_settled().await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let ola = app.logged_in("ola@brreg.no", "case-handler").await;

        // The queue's link opens the received test orders, every one ticked and labelled by
        // its reference.
        let (_, queue) = kari.get_html("/admin/orders").await;
        assert!(ticked(&queue).is_empty(), "nothing is ticked until asked");
        let (status, queue) = kari.get_html(&attr(&queue, "#select-all", "href")).await;
        assert_eq!(status, 200);
        assert_eq!(sorted(ticked(&queue)), sorted(orders.clone()));
        for reference in &orders {
            let label = text(&queue, &format!("label[for=select-{reference}]"));
            assert!(label.contains(reference.as_str()), "{label}");
        }

        let picked = ticked(&queue);
        let (status, page) = confirmation(&kari, &picked).await;
        assert_eq!(status, 200);
        assert!(text(&page, ".lead").contains(ALTINN));
        let on = |subset: &[&String]| in_order(&picked, subset);
        let entry = |name: &str, source: &str, references: Vec<String>| (name.to_owned(), source.to_owned(), references);
        let o = &orders;
        assert_eq!(organisations(&page), BTreeMap::from([
            (VENDOR.to_owned(), entry("LEVERANDØR SYSTEMER AS", "register", picked.clone())),
            ("313876144".to_owned(), entry("Kunde Bank ASA", "synthetic", on(&[&o[0]]))),
            (aerlig.clone(), entry("ÆRLIG REGNSKAP AS", "register", on(&[&o[1], &o[2]]))),
            (formula.clone(), entry("=SUM(A1) Testbedrift", "synthetic", on(&[&o[3]]))),
            (femte.clone(), entry("FEMTE VIRKSOMHET AS", "register", on(&[&o[4]]))),
        ]));
        // A name the register did not give says so.
        assert!(text(&page, "tr[data-org='313876144']").contains("Navn fra bestillingen"));
        assert_eq!(select(&page, "#confirm-form input[name=order]").len(), 5);

        // Another case handler rejects the fifth while the confirmation page is open.
        assert_eq!(ola.act(&orders[4], "reject", &[("reason", "Feil scope.")]).await.status(), 303);

        let (status, batch_page, done) = confirmed(&kari, &page).await;
        assert_eq!(status, 200);
        assert_eq!(sorted(listed(&done, "#moved")), sorted(orders[..4].to_vec()));
        assert_eq!(listed(&done, "#left-out"), [orders[4].clone()]);
        let why = text(&done, "#left-out li");
        assert!(why.contains(&orders[4]) && why.contains("Avvist"), "{why}");
        assert!(text(&done, "#outcome").contains(ALTINN));
        assert!(!organisations(&done).contains_key(&femte), "the left-out order's customer is not on the list");

        for reference in &orders[..4] {
            assert_eq!(app.order_column(reference, "status").await.as_deref(), Some(LOADING));
            assert_eq!(app.events(reference, "status_changed").await, 1, "{reference}");
        }
        assert_eq!(app.order_column(&orders[4], "status").await.as_deref(), Some("rejected"));
        let (_, queue) = kari.get_html("/admin/orders?status=all").await;
        assert_eq!(text(&queue, "a[data-status=tt02_loading] .count"), "4");
        assert_eq!(text(&queue, "a[data-status=received] .count"), "0");

        // Both contacts of each moved order are told, as by the single-order form (the
        // rejection told the fifth's), and Altinn gets one email with the list.
        let received = app.smtp.wait_for(before + 2 + 8 + 1).await;
        let after: Vec<_> = received[before..].to_vec();
        assert_eq!(after.len(), 11);
        for reference in &orders[..4] {
            let mut to: Vec<String> = after.iter()
                .filter(|m| m.parsed().subject().unwrap_or("").contains(reference.as_str()))
                .map(|m| m.rcpt_to.join(","))
                .collect();
            to.sort();
            assert_eq!(to, ["kari@kunde.no", "ola@leverandor.no"], "{reference}");
        }
        let to_altinn: Vec<_> = after.iter().filter(|m| m.rcpt_to == [ALTINN]).collect();
        assert_eq!(to_altinn.len(), 1);
        let mail = to_altinn[0].parsed();
        assert_eq!(mail.content_type().unwrap().subtype(), Some("mixed"));
        assert_eq!(mail.reply_to().unwrap().first().unwrap().address(), Some("opendata.rrh@brreg.no"));
        let body = mail.body_text(0).unwrap().to_string();
        assert!(!body.contains(&orders[4]), "{body}");
        let loaded = on(&[&o[0], &o[1], &o[2], &o[3]]).join(", ");
        let aerlig_orders = on(&[&o[1], &o[2]]).join(", ");
        let expected = [
            format!("{VENDOR}; LEVERANDØR SYSTEMER AS; {loaded}"),
            format!("313876144; Kunde Bank ASA *; {}", o[0]),
            format!("{aerlig}; ÆRLIG REGNSKAP AS; {aerlig_orders}"),
            format!("{formula}; =SUM(A1) Testbedrift *; {}", o[3]),
        ];
        for line in &expected {
            assert_eq!(body.matches(line.as_str()).count(), 1, "{line} in\n{body}");
        }
        assert_eq!(mail.attachment_count(), 1);
        let csv = mail.attachment(0).unwrap();
        assert!(csv.attachment_name().unwrap().ends_with(".csv"));
        assert!(csv.is_content_type("text", "csv"));
        assert!(csv.contents().starts_with("\u{feff}".as_bytes()), "the BOM tells Excel it is UTF-8");
        assert_eq!(lines(csv.text_contents().unwrap()), [
            "Organisasjonsnummer;Navn;Bestillinger".to_owned(),
            format!("{VENDOR};LEVERANDØR SYSTEMER AS;{loaded}"),
            format!("313876144;Kunde Bank ASA;{}", o[0]),
            format!("{aerlig};ÆRLIG REGNSKAP AS;{aerlig_orders}"),
            // A name a spreadsheet would run is neutralised.
            format!("{formula};'=SUM(A1) Testbedrift;{}", o[3]),
        ]);

        // Once sent, the attachment keeps its name and loses its content, as the body does;
        // the outbox shows that a file went with the email.
        let sent = "mail_outbox m JOIN mail_attachments a ON a.mail_id = m.id WHERE m.status = 'sent' AND a.content = ''";
        for _ in 0..100 {
            if app.count(sent).await == 1 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count(sent).await, 1);
        let admin = app.logged_in("admin@brreg.no", "admin").await;
        let (_, outbox) = admin.get_html("/admin/outbox?status=sent").await;
        let tagged: Vec<_> = select(&outbox, "table.outbox tbody tr").into_iter()
            .filter(|row| row.text().collect::<String>().contains(ALTINN))
            .collect();
        assert_eq!(tagged.len(), 1);
        assert!(tagged[0].select(&scraper::Selector::parse("[data-attachments='1']").unwrap()).next().is_some());

        // The same confirmation sent again (a reload, a second click) does nothing again and
        // ends on the same result page, which now says the list was sent.
        let (status, location, again) = confirmed(&kari, &page).await;
        assert_eq!((status, location.as_str()), (200, batch_page.as_str()));
        assert_eq!(sorted(listed(&again, "#moved")), sorted(orders[..4].to_vec()));
        assert_eq!(listed(&again, "#left-out"), [orders[4].clone()]);
        assert_eq!(attr(&again, "#outcome", "data-mail"), "sent");
        assert_eq!(app.count("mail_outbox WHERE kind = 'tt02_loading_list'").await, 1);
        assert_eq!(app.count("loading_batches").await, 1);
        for reference in &orders[..4] {
            assert_eq!(app.events(reference, "status_changed").await, 1, "{reference}");
        }

        // The list is purged with the other mail that is about no single order.
        let cutoff = chrono::Utc::now() + chrono::Duration::days(1);
        rrh_tt02::app::purge::personal_data(&app.context, cutoff).await.unwrap();
        assert_eq!(app.count("mail_attachments").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_mailbox_the_list_is_offered_to_copy_and_as_the_same_csv_to_download() {
    on_both_with(&[("RRH_ALTINN_LOADING_MAILBOX", "")], |app| async move {
        let first = test_order(&app, ("313876144", "Kunde Bank ASA"), OFFENTLIG).await;
        // The register is down when the second comes in and when the batch is made: the
        // order is taken unverified, and the list keeps the name the order gave.
        app.register
            .down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let unverified = org_number(71);
        // Its name holds the lists' separator, which the lists quote.
        let second = test_order(
            &app,
            (&unverified, "Uverifisert Bedrift; avd. Oslo"),
            OFFENTLIG,
        )
        .await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let picked = vec![first.clone(), second.clone()];

        let (status, page) = confirmation(&kari, &picked).await;
        assert_eq!(status, 200);
        let lead = text(&page, ".lead");
        assert!(lead.contains("kopiere") && lead.contains("CSV"), "{lead}");
        let orgs = organisations(&page);
        assert_eq!(
            orgs[&unverified],
            (
                "Uverifisert Bedrift; avd. Oslo".to_owned(),
                "unavailable".to_owned(),
                vec![second.clone()]
            )
        );
        assert!(text(&page, &format!("tr[data-org='{unverified}']")).contains("svarte ikke"));

        let (status, _, done) = confirmed(&kari, &page).await;
        assert_eq!(status, 200);
        assert_eq!(listed(&done, "#moved"), picked);
        assert!(select(&done, "#left-out").is_empty());
        assert!(text(&done, "#outcome").contains("ikke sendt"));
        let copy = select(&done, "textarea#loading-list")[0]
            .text()
            .collect::<String>();
        assert_eq!(
            lines(&copy),
            [
                format!("{VENDOR}; LEVERANDØR SYSTEMER AS; {first}, {second}"),
                format!("313876144; Kunde Bank ASA *; {first}"),
                format!("{unverified}; \"Uverifisert Bedrift; avd. Oslo *\"; {second}"),
            ]
        );
        assert_eq!(
            attr(&done, "label[for=loading-list]", "for"),
            "loading-list"
        );

        let download = attr(&done, "a#download", "href");
        let response = kari.get(&download).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        let csv = response.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(
            lines(&csv),
            [
                "Organisasjonsnummer;Navn;Bestillinger".to_owned(),
                format!("{VENDOR};LEVERANDØR SYSTEMER AS;{first}, {second}"),
                format!("313876144;Kunde Bank ASA;{first}"),
                format!("{unverified};\"Uverifisert Bedrift; avd. Oslo\";{second}"),
            ]
        );

        // Nothing went to a loading mailbox; the contacts were told as always.
        assert_eq!(
            app.count("mail_outbox WHERE kind = 'tt02_loading_list'")
                .await,
            0
        );
        assert_eq!(
            app.count("mail_outbox WHERE kind LIKE 'status_change_%'")
                .await,
            4
        );
        // The list is for case handlers only.
        let response = app.browser().get(&download).await;
        assert_eq!(response.status(), 303);
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/admin/login")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_confirmation_posted_twice_at_once_moves_and_mails_once_and_both_end_on_its_page()
{
    on_both_with(
        &[("RRH_ALTINN_LOADING_MAILBOX", ALTINN)],
        |app| async move {
            let mut orders = Vec::new();
            for seed in 0..3 {
                orders.push(
                    test_order(
                        &app,
                        (&org_number(100 + seed), "Dobbeltklikk AS"),
                        OFFENTLIG,
                    )
                    .await,
                );
            }
            let kari = app.logged_in("kari@brreg.no", "case-handler").await;
            let (_, page) = confirmation(&kari, &orders).await;
            let (first, second) = tokio::join!(confirmed(&kari, &page), confirmed(&kari, &page));
            // And once more, after both: a reload of the request.
            let third = confirmed(&kari, &page).await;
            assert_eq!(first.1, second.1, "one batch, one page");
            assert_eq!(first.1, third.1);
            for (status, _, done) in [&first, &second, &third] {
                assert_eq!(*status, 200);
                assert_eq!(sorted(listed(done, "#moved")), sorted(orders.clone()));
                assert!(
                    select(done, "#left-out").is_empty(),
                    "nothing is said to be left out"
                );
                assert!(text(done, "#outcome").contains(ALTINN));
                assert_eq!(select(done, "textarea#loading-list").len(), 1);
            }
            for reference in &orders {
                assert_eq!(
                    app.events(reference, "status_changed").await,
                    1,
                    "{reference} moved once"
                );
            }
            assert_eq!(
                app.count("mail_outbox WHERE kind = 'tt02_loading_list'")
                    .await,
                1
            );
            assert_eq!(app.count("loading_batches").await, 1);
            // The moved orders' events name the batch the page is for.
            let batch = first.1.rsplit('/').next().unwrap().to_owned();
            let marked =
                format!("order_events WHERE kind = 'status_changed' AND details LIKE '%{batch}%'");
            assert_eq!(app.count(&marked).await, 3);
            // The page keeps itself in another language, and no other batch id has a page.
            assert_eq!(
                attr(&first.2, "a[hreflang=en]", "href"),
                format!("{}?lang=en", first.1)
            );
            let (status, english) = kari.get_html(&format!("{}?lang=en", first.1)).await;
            assert_eq!(status, 200);
            assert_eq!(sorted(listed(&english, "#moved")), sorted(orders.clone()));
            for other in [uuid::Uuid::now_v7().to_string(), "not-a-batch".to_owned()] {
                assert_eq!(
                    kari.get(&format!("/admin/tt02-loading/{other}"))
                        .await
                        .status(),
                    404
                );
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_mailbox_refuses_the_list_the_result_page_says_so_and_still_offers_it() {
    on_both_with(
        &[("RRH_ALTINN_LOADING_MAILBOX", ALTINN)],
        |app| async move {
            app.smtp.reject.lock().unwrap().push(ALTINN.to_owned());
            let reference = test_order(&app, ("313876144", "Kunde Bank ASA"), OFFENTLIG).await;
            let kari = app.logged_in("kari@brreg.no", "case-handler").await;
            let (_, page) = confirmation(&kari, std::slice::from_ref(&reference)).await;
            let (status, location, done) = confirmed(&kari, &page).await;
            assert_eq!(status, 200);
            assert!(["queued", "failed"].contains(&attr(&done, "#outcome", "data-mail").as_str()));
            // The 550 fails the email at once.
            let failed = "mail_outbox WHERE kind = 'tt02_loading_list' AND status = 'failed'";
            for _ in 0..100 {
                if app.count(failed).await == 1 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert_eq!(app.count(failed).await, 1);
            let (status, done) = kari.get_html(&location).await;
            assert_eq!(status, 200);
            assert_eq!(attr(&done, "#outcome", "data-mail"), "failed");
            let outcome = text(&done, "#outcome");
            assert!(
                outcome.contains(ALTINN) && outcome.contains("kunne ikke sendes"),
                "{outcome}"
            );
            let copy = select(&done, "textarea#loading-list")[0]
                .text()
                .collect::<String>();
            assert!(copy.contains(&reference), "{copy}");
            let response = kari.get(&attr(&done, "a#download", "href")).await;
            assert_eq!(response.status(), 200);
            let csv = response.text().await.unwrap();
            assert!(
                csv.contains("LEVERANDØR SYSTEMER AS") && csv.contains(&reference),
                "{csv}"
            );
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_all_ticks_as_many_received_test_orders_as_one_batch_takes_and_says_so() {
    on_both_with(&[("RRH_ORDERS_PER_HOUR", "1000")], |app| async move {
        let mut orders = Vec::new();
        for seed in 0..101 {
            orders.push(test_order(&app, (&org_number(200 + seed), "Mange AS"), OFFENTLIG).await);
        }
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, queue) = kari.get_html("/admin/orders").await;
        assert_eq!(
            text(&queue, "#select-all"),
            "Vis opptil 100 mottatte testbestillinger, avkrysset"
        );
        let (status, queue) = kari.get_html(&attr(&queue, "#select-all", "href")).await;
        assert_eq!(status, 200);
        // The 100 that have waited longest; the last one is on the next page, not ticked.
        assert_eq!(ticked(&queue), orders[..100].to_vec());
        let (_, next) = kari.get_html(&attr(&queue, "a[rel=next]", "href")).await;
        assert!(ticked(&next).is_empty());
        assert_eq!(select(&next, "#batch-form input[name=order]").len(), 1);
        // All 100 go to one confirmation.
        let (status, page) = confirmation(&kari, &ticked(&queue)).await;
        assert_eq!(status, 200);
        assert_eq!(select(&page, "#confirm-form input[name=order]").len(), 100);
    })
    .await;
}

/// References that are not in the database, in the reference alphabet.
fn unused_references(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let digits: String = (0..4)
                .map(|k| char::from(b'2' + (i >> (3 * k) & 7) as u8))
                .collect();
            format!("RRH-ZZZZ-{digits}")
        })
        .collect()
}

on_both_databases! {
    async fn what_cannot_be_loaded_is_named_and_a_bad_request_stores_nothing(app) {
        let received = test_order(&app, ("313876144", "Kunde Bank ASA"), OFFENTLIG).await;
        let production = app.order(&production_json()).await;
        let loading = test_order(&app, (&org_number(81), "Under Innlesing AS"), OFFENTLIG).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        assert_eq!(kari.act(&loading, "start_tt02_loading", &[]).await.status(), 303);
        app.mail_settled().await;

        // Only received test orders get a checkbox; an unknown selection value is refused.
        let (_, queue) = kari.get_html("/admin/orders?status=all").await;
        let boxes: Vec<String> = select(&queue, "#batch-form input[name=order]").iter()
            .map(|i| i.value().attr("value").unwrap().to_owned()).collect();
        assert_eq!(boxes, std::slice::from_ref(&received));
        assert_eq!(kari.get("/admin/orders?select=some").await.status(), 400);

        // Nothing ticked.
        let (status, page) = kari.get_html("/admin/tt02-loading").await;
        assert_eq!(status, 422);
        assert!(text(&page, "#error-summary").contains("Ingen bestillinger er valgt"));
        assert_eq!(attr(&page, "#error-summary-next", "href"), "/admin/orders?status=received&environment=test");
        assert!(select(&page, "#confirm-form").is_empty());

        // Each thing that cannot be loaded is named in a list of its own, and the error
        // summary links to each line of it.
        let unknown = unused_references(1).remove(0);
        let mut odd = vec!["<b>nei</b>".to_owned(), unknown.clone(), production.clone(), loading.clone()];
        let (status, page) = confirmation(&kari, &odd).await;
        assert_eq!(status, 422);
        let summary = text(&page, "#error-summary");
        for named in ["<b>nei</b>", &unknown, &production, &loading, "produksjon", "Leses inn i TT02"] {
            assert!(summary.contains(named), "{named} in {summary}");
        }
        assert!(select(&page, "#error-summary b").is_empty(), "what was typed is escaped");
        assert!(select(&page, "#confirm-form").is_empty());
        let links_to_lines = |page: &scraper::Html, summary: &str| {
            let targets: Vec<String> = select(page, &format!("{summary} li a")).iter()
                .map(|a| a.value().attr("href").unwrap().to_owned()).collect();
            let lines: Vec<String> = select(page, "#left-out li").iter()
                .map(|li| format!("#{}", li.value().attr("id").unwrap())).collect();
            assert_eq!(targets, lines);
            targets.len()
        };
        assert_eq!(links_to_lines(&page, "#error-summary"), 4);
        assert!(text(&page, "title").starts_with("Feil:"));
        // With an order that can still be loaded, what is left out is a notice, not an error.
        odd.push(received.clone());
        let (status, page) = confirmation(&kari, &odd).await;
        assert_eq!(status, 200);
        assert!(select(&page, "#error-summary").is_empty());
        assert_eq!(attr(&page, "#left-out-notice", "role"), "status");
        assert_eq!(links_to_lines(&page, "#left-out-notice"), 4);
        assert!(!text(&page, "title").starts_with("Feil:"), "{}", text(&page, "title"));
        let sent: Vec<String> = select(&page, "#confirm-form input[name=order]").iter()
            .map(|i| i.value().attr("value").unwrap().to_owned()).collect();
        assert_eq!(sent, [format!("{received}:1")]);
        // Thousands of bad values: ten named, the rest counted, and the page stays small.
        let mut flood: Vec<String> = (0..3000).map(|i| format!("x{i}")).collect();
        flood.push(received.clone());
        let (status, page) = confirmation(&kari, &flood).await;
        assert_eq!(status, 200);
        assert_eq!(links_to_lines(&page, "#left-out-notice"), 11);
        assert!(text(&page, "#left-out-more").contains("2990"), "{}", text(&page, "#left-out-more"));
        assert!(page.html().len() < 40_000, "{} bytes", page.html().len());
        let (status, page) = confirmation(&kari, &flood[..3000]).await;
        assert_eq!(status, 422);
        assert_eq!(links_to_lines(&page, "#error-summary"), 11);
        let (status, page) = confirmation(&kari, &unused_references(101)).await;
        assert_eq!(status, 422);
        assert!(text(&page, "#error-summary").contains("høyst 100"));

        // Requests the confirmation page would not send: 400, and nothing stored.
        let before = footprint(&app).await;
        let token = kari.csrf().await;
        let token = token.as_str();
        let unknown_pick = format!("{unknown}:1");
        let received_pick = format!("{received}:1");
        let many: Vec<String> = unused_references(101).iter().map(|r| format!("{r}:1")).collect();
        let mut too_many = vec![("csrf_token", token), ("batch", "0190f5a0-0000-7000-8000-000000000000")];
        too_many.extend(many.iter().map(|v| ("order", v.as_str())));
        let batch = uuid::Uuid::now_v7().to_string();
        let batch = batch.as_str();
        for body in [
            vec![("csrf_token", token)],
            vec![("csrf_token", token), ("order", received_pick.as_str())],
            vec![("csrf_token", token), ("batch", "not-an-id"), ("order", received_pick.as_str())],
            vec![("csrf_token", token), ("batch", batch), ("order", received.as_str())],
            vec![("csrf_token", token), ("batch", batch), ("order", "RRH-????-????:1")],
            vec![("csrf_token", token), ("batch", batch), ("order", &format!("{received}:zero"))],
            vec![("csrf_token", token), ("batch", batch), ("order", &received_pick), ("order", &unknown_pick)],
            too_many,
        ] {
            let response = kari.post("/admin/tt02-loading", &body).await;
            assert_eq!(response.status(), 400, "{body:?}");
            let page = scraper::Html::parse_document(&response.text().await.unwrap());
            assert!(!text(&page, ".lead").is_empty());
        }
        assert_eq!(footprint(&app).await, before);
        assert_eq!(app.order_column(&received, "status").await.as_deref(), Some("received"));

        // A production order named by hand is left out, with why; nothing moved, no mail.
        let batch = uuid::Uuid::now_v7().to_string();
        let by_hand = [("csrf_token", token), ("batch", batch.as_str()), ("order", &format!("{production}:1"))];
        let response = kari.post("/admin/tt02-loading", &by_hand).await;
        assert_eq!(response.status(), 409);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, "#left-out").contains("produksjon"));
        assert_eq!(footprint(&app).await, before);

        // The CSV takes test orders named as the result page names them.
        for query in ["", "?order=nei", &format!("?order={production}"), &format!("?order={unknown}")] {
            let response = kari.get(&format!("/admin/tt02-loading.csv{query}")).await;
            assert_eq!(response.status(), 400, "{query}");
        }
    }

    async fn what_the_register_warns_about_an_organisation_is_shown_and_written_in_the_list(app) {
        let (bankrupt, deleted) = (org_number(121), org_number(122));
        app.register.set(&bankrupt, 200, serde_json::json!({"organisasjonsnummer": bankrupt, "navn": "KONKURS; BO AS", "konkurs": true}));
        app.register.set(&deleted, 200, serde_json::json!({"organisasjonsnummer": deleted, "navn": "BORTE AS", "slettedato": "2026-01-01"}));
        let orders = vec![
            test_order(&app, (&bankrupt, "Konkurs; Bo AS"), OFFENTLIG).await,
            test_order(&app, (&deleted, "Borte AS"), OFFENTLIG).await,
        ];
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let (status, page) = confirmation(&kari, &orders).await;
        assert_eq!(status, 200);
        let warning = |page: &scraper::Html, number: &str| {
            let css = format!("tr[data-org='{number}'] [data-register-warning]");
            (attr(page, &css, "data-register-warning"), text(page, &css))
        };
        assert_eq!(warning(&page, &bankrupt), ("bankrupt".to_owned(), "Konkurs i Enhetsregisteret".to_owned()));
        assert_eq!(warning(&page, &deleted), ("deleted".to_owned(), "Slettet i Enhetsregisteret".to_owned()));
        assert!(select(&page, &format!("tr[data-org='{VENDOR}'] [data-register-warning]")).is_empty());

        let (status, _, done) = confirmed(&kari, &page).await;
        assert_eq!(status, 200);
        assert_eq!(warning(&done, &bankrupt).0, "bankrupt");
        let copy = select(&done, "textarea#loading-list")[0].text().collect::<String>();
        let copy = lines(&copy);
        assert!(copy.contains(&format!("{bankrupt}; \"KONKURS; BO AS (konkurs i Enhetsregisteret)\"; {}", orders[0])), "{copy:?}");
        assert!(copy.contains(&format!("{deleted}; BORTE AS (slettet i Enhetsregisteret); {}", orders[1])), "{copy:?}");
    }

    async fn a_batch_and_rejections_at_the_same_time_move_each_order_once(app) {
        let mut orders = Vec::new();
        for seed in 0..6 {
            orders.push(test_order(&app, (&org_number(90 + seed), "Samtidig AS"), OFFENTLIG).await);
        }
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let ola = app.logged_in("ola@brreg.no", "case-handler").await;
        let (_, page) = confirmation(&kari, &orders).await;
        let token = ola.csrf().await;
        // Ola rejects every other order, from pages opened before Kari confirms.
        let rejections = orders.iter().step_by(2).map(|reference| {
            let (ola, token) = (&ola, token.as_str());
            async move {
                let body = [("csrf_token", token), ("action", "reject"), ("version", "1"), ("reason", "Dobbel.")];
                ola.post(&format!("/admin/orders/{reference}/status"), &body).await.status().as_u16()
            }
        });
        let (batch, rejected) = tokio::join!(confirm(&kari, &page), futures_util::future::join_all(rejections));
        let (status, _, done) = followed(&kari, batch).await;
        assert!(status == 200 || status == 409, "{status}");
        assert!(rejected.iter().all(|s| *s == 303 || *s == 409), "{rejected:?}");
        let moved = listed(&done, "#moved");
        let left_out = listed(&done, "#left-out");
        assert_eq!(sorted([moved.clone(), left_out.clone()].concat()), sorted(orders.clone()));
        for reference in &orders {
            let now = app.order_column(reference, "status").await.unwrap();
            assert_eq!(now == LOADING, moved.contains(reference), "{reference}: {now}");
            assert!(now == LOADING || now == "rejected", "{reference}: {now}");
            assert_eq!(app.events(reference, "status_changed").await, 1, "{reference} moved once");
        }
        let (_, queue) = kari.get_html("/admin/orders?status=all").await;
        assert_eq!(text(&queue, "a[data-status=tt02_loading] .count"), moved.len().to_string());
        assert_eq!(text(&queue, "a[data-status=rejected] .count"), left_out.len().to_string());
        assert_eq!(text(&queue, "a[data-status=received] .count"), "0");
    }

    async fn the_batch_needs_a_case_handler_session_and_the_form_token(app) {
        let reference = test_order(&app, ("313876144", "Kunde Bank ASA"), OFFENTLIG).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let (status, page) = confirmation(&kari, std::slice::from_ref(&reference)).await;
        assert_eq!(status, 200);
        app.mail_settled().await;
        let before = footprint(&app).await;
        let pick = attr(&page, "#confirm-form input[name=order]", "value");

        for token in [None, Some("not-the-token")] {
            let mut body = vec![("order", pick.as_str())];
            body.extend(token.map(|t| ("csrf_token", t)));
            let response = kari.post("/admin/tt02-loading", &body).await;
            assert_eq!(response.status(), 403, "{token:?}");
        }

        // Without a session: the login, for the pages and the request alike.
        let stranger = app.browser();
        let token = attr(&page, "#confirm-form input[name=csrf_token]", "value");
        let batch = attr(&page, "#confirm-form input[name=batch]", "value");
        for path in [format!("/admin/tt02-loading?order={reference}"), format!("/admin/tt02-loading.csv?order={reference}"), format!("/admin/tt02-loading/{batch}")] {
            let response = stranger.get(&path).await;
            assert_eq!(response.status(), 303, "{path}");
            assert!(response.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
        }
        let response = stranger.post("/admin/tt02-loading", &[("csrf_token", token.as_str()), ("order", pick.as_str())]).await;
        assert_eq!(response.status(), 303);
        assert!(response.headers()["location"].to_str().unwrap().starts_with("/admin/login"));

        // A session that ended is no session.
        let logout = kari.post("/admin/logout", &[("csrf_token", token.as_str())]).await;
        assert_eq!(logout.status(), 303);
        let response = kari.post("/admin/tt02-loading", &[("csrf_token", token.as_str()), ("order", pick.as_str())]).await;
        assert_eq!(response.status(), 303);

        assert_eq!(footprint(&app).await, before, "nothing changed");
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));
    }
}
