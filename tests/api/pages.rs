use crate::helpers::*;
use crate::on_both_databases;

on_both_databases! {
    async fn the_landing_page_explains_the_service_and_links_to_the_form(app) {
        let (status, page) = app.get_html("/").await;
        assert_eq!(status, 200);
        assert_eq!(attr(&page, "html", "lang"), "nb");
        assert_eq!(text(&page, "h1"), "Bestill tilgang for systemleverandør");
        assert_eq!(select(&page, "main ol.steps li").len(), 4);
        assert!(!select(&page, "main a[href='/orders/new']").is_empty());
        assert!(!select(&page, "a.skip-link[href='#main']").is_empty());
        assert_eq!(select(&page, "header nav, main, footer").len(), 3);
    }

    async fn the_privacy_notice_and_accessibility_statement_are_linked_from_every_page(app) {
        for path in ["/", "/orders/new", "/help", "/track", "/admin/login", "/no/such/page"] {
            let (_, page) = app.get_html(path).await;
            for link in ["/privacy", "/accessibility"] {
                assert!(!select(&page, &format!("footer a[href='{link}']")).is_empty(), "{path} {link}");
            }
        }
        let (_, form) = app.get_html("/orders/new").await;
        assert!(!select(&form, "main a[href='/privacy']").is_empty(), "the form links the notice");
        assert_eq!(text(&form, "header .brand-owner"), "Brønnøysundregistrene", "who runs it");

        let (status, privacy) = app.get_html("/privacy").await;
        assert_eq!(status, 200);
        assert_eq!(text(&privacy, "h1"), "Personvernerklæring");
        // The retention it states is the configured one.
        assert!(text(&privacy, "#retention").contains("365 dager"), "{}", text(&privacy, "#retention"));
        let (status, statement) = app.get_html("/accessibility?lang=en").await;
        assert_eq!(status, 200);
        assert_eq!(text(&statement, "h1"), "Accessibility statement");
        assert!(text(&statement, "main").contains("WCAG 2.1"));
        assert!(!select(&statement, "#known-gaps li").is_empty());
    }

    async fn every_page_describes_itself_and_the_icon_answers(app) {
        for path in ["/", "/orders/new", "/help", "/track", "/admin/login", "/no/such/page"] {
            let (_, page) = app.get_html(path).await;
            let description = attr(&page, "meta[name=description]", "content");
            assert!(description.contains("Maskinporten"), "{path}: {description}");
            assert_eq!(attr(&page, "link[rel=icon]", "href"), "/favicon.ico", "{path}");
        }
        let icon = app.get("/favicon.ico").await;
        assert_eq!(icon.status(), 200);
        assert_eq!(icon.headers()["content-type"], "image/svg+xml");
        assert!(icon.text().await.unwrap().starts_with("<svg"));
    }

    async fn english_chosen_with_lang_is_remembered_on_the_next_page(app) {
        let (_, page) = app.get_html("/?lang=en").await;
        assert_eq!(attr(&page, "html", "lang"), "en");
        assert_eq!(text(&page, "h1"), "Order access for a system vendor");
        let (_, form) = app.get_html("/orders/new").await;
        assert_eq!(attr(&form, "html", "lang"), "en");
        assert_eq!(text(&form, "h1"), "Order access");
    }

    async fn the_browser_language_is_used_when_nothing_was_chosen(app) {
        let response = app
            .client
            .get(app.url("/"))
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap();
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&page, "html", "lang"), "en");
    }

    async fn an_unknown_page_gets_a_404_page_with_a_request_id(app) {
        let response = app.get("/no/such/page").await;
        assert_eq!(response.status(), 404);
        let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(text(&page, "main code"), request_id);
        assert!(text(&page, "main").contains("Vi finner ikke siden"));
        assert_eq!(text(&page, "h1"), "Vi finner ikke siden", "the heading says what happened");
    }

    async fn the_health_endpoints_report_the_process_and_the_database(app) {
        let live = app.get("/health/live").await;
        assert_eq!(live.status(), 200);
        let ready: serde_json::Value = app.get("/health/ready").await.json().await.unwrap();
        assert_eq!(ready["database"], "ok");
    }

    async fn a_receipt_for_an_unknown_reference_is_not_found(app) {
        assert_eq!(app.get("/orders/RRH-AAAA-BBBB/receipt").await.status(), 404);
        assert_eq!(app.get("/orders/not-a-reference/receipt").await.status(), 404);
    }

    async fn every_page_sends_security_headers(app) {
        for path in ["/", "/orders/new", "/nope", "/health/live"] {
            let response = app.get(path).await;
            let headers = response.headers();
            assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'self'"), "{path}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
            assert!(!headers.contains_key("strict-transport-security"), "not over plain http: {path}");
        }
    }

    async fn the_order_form_and_its_stylesheet_weigh_at_most_30_kb_in_every_language(app) {
        // The page-weight budget: a first visit (no cookies) to the order form downloads its
        // HTML and the stylesheet it links, uncompressed, in at most 30 KB. A size, not a time:
        // a template or a stylesheet rule that pushes it over fails here, not in production.
        const BUDGET: usize = 30_000;
        let first_visit = reqwest::Client::new();
        let body = |path: String| {
            let request = first_visit.get(app.url(&path));
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200, "{path}");
                assert!(!response.headers().contains_key("content-encoding"), "{path} is measured as served, uncompressed");
                response.bytes().await.unwrap()
            }
        };
        for query in ["", "?lang=nn", "?lang=en"] {
            let html = body(format!("/orders/new{query}")).await;
            let page = scraper::Html::parse_document(std::str::from_utf8(&html).unwrap());
            assert!(!select(&page, "form input[name=csrf_token]").is_empty(), "the page is the whole form");
            let css = body(attr(&page, "link[rel=stylesheet]", "href")).await;
            let total = html.len() + css.len();
            assert!(
                total <= BUDGET,
                "/orders/new{query}: {} bytes of HTML + {} bytes of CSS = {total}, over the budget of {BUDGET}",
                html.len(),
                css.len()
            );
        }
    }

    async fn the_stylesheet_is_built_in_and_cached_under_its_content_hash(app) {
        let (_, page) = app.get_html("/help").await;
        let href = attr(&page, "link[rel=stylesheet]", "href");
        assert!(href.starts_with("/static/app.") && href.ends_with(".css") && href.len() == "/static/app..css".len() + 12, "{href}");
        let response = app.get(&href).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let served = response.text().await.unwrap();
        assert_eq!(served, rrh_tt02::web::assets::stylesheet());
        assert!(served.len() < include_str!("../../static/app.css").len(), "served minified");
        let again = app.client.get(app.url(&href)).header("if-none-match", etag).send().await.unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(app.get("/static/app.css").await.headers()["cache-control"], "no-cache");
        assert_eq!(app.get("/static/app.0000.css").await.status(), 404);
        assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
        assert_eq!(app.get("/favicon.ico").await.headers()["content-type"], "image/svg+xml");
    }

    async fn the_workspace_has_a_stylesheet_of_its_own_that_public_pages_do_not_load(app) {
        let hrefs = |page: &scraper::Html| -> Vec<String> {
            select(page, "link[rel=stylesheet]").iter().map(|l| l.value().attr("href").unwrap().to_owned()).collect()
        };
        for path in ["/", "/orders/new", "/help", "/admin/login"] {
            let (_, page) = app.get_html(path).await;
            assert_eq!(hrefs(&page).len(), 1, "{path} loads only the site's stylesheet");
        }
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, page) = kari.get_html("/admin/orders").await;
        let links = hrefs(&page);
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(links[0].starts_with("/static/app."), "the site's rules first: {links:?}");
        assert!(links[1].starts_with("/static/admin.") && links[1].len() == "/static/admin..css".len() + 12, "{links:?}");
        let response = app.get(&links[1]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
        let css = response.text().await.unwrap();
        assert!(css.contains(".status-counts") && !css.contains("/*"), "the workspace's rules, minified");
        assert_eq!(app.get("/static/admin.css").await.headers()["cache-control"], "no-cache");
    }
}
