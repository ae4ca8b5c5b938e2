//! The queue page and its CSV export. Both read the same filters from the query string.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::session::CaseHandler;
use crate::app::{
    self, Assignment, Context, Cursor, Order, QueueFilter, QueueRow, Search, StatusFilter,
};
use crate::csv;
use crate::domain::calendar::{self, working_days_between};
use crate::domain::{Environment, ORDER_FIELDS, OrderStatus};
use crate::i18n::Tr;
use crate::web::error::{AppError, html};
use crate::web::extract::Visit;
use crate::web::view::{FormView, Page, RadioOption, status_label};

pub const PAGE_SIZE: i64 = 50;

/// The filter form's fields, as they appear in the query string.
const FILTER_FIELDS: [&str; 5] = ["status", "environment", "scope", "assigned", "q"];

/// Reads the filters; a value the form never offers is a 400 that names the field.
fn parse_filter(
    query: &HashMap<String, String>,
    user: &CaseHandler,
    ctx: &Context,
) -> Result<QueueFilter, AppError> {
    let get = |name: &str| query.get(name).map(|v| v.trim()).unwrap_or("");
    let status = match get("status") {
        "" | "open" => StatusFilter::Open,
        "all" => StatusFilter::All,
        other => StatusFilter::Only(
            OrderStatus::parse(other).ok_or(AppError::BadRequest("admin.queue.bad_status"))?,
        ),
    };
    let environment = match get("environment") {
        "" => None,
        other => Some(
            Environment::parse(other)
                .map_err(|_| AppError::BadRequest("admin.queue.bad_environment"))?,
        ),
    };
    let scope = match get("scope") {
        "" => None,
        other
            if ctx
                .settings
                .scopes
                .entries()
                .iter()
                .any(|s| s.name == other) =>
        {
            Some(other.to_owned())
        }
        _ => return Err(AppError::BadRequest("admin.queue.bad_scope")),
    };
    let assignment = match get("assigned") {
        "" => Assignment::Anyone,
        "me" => Assignment::To(user.user.id.clone()),
        "none" => Assignment::Nobody,
        _ => return Err(AppError::BadRequest("admin.queue.bad_assigned")),
    };
    Ok(QueueFilter {
        status,
        environment,
        scope,
        assignment,
        search: Search::parse(get("q")),
    })
}

/// The filter part of a query string, to carry into pagination and export links.
fn filter_query(query: &HashMap<String, String>) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for name in FILTER_FIELDS {
        if let Some(value) = query.get(name).filter(|v| !v.trim().is_empty()) {
            serializer.append_pair(name, value.trim());
        }
    }
    serializer.finish()
}

/// One queue line in display form.
pub struct Line {
    pub reference: String,
    pub status: &'static str,
    pub environment: &'static str,
    pub scope: String,
    pub vendor: String,
    pub consumer: String,
    pub assignee: Option<String>,
    pub waited: String,
    pub overdue: bool,
    /// A test order in `received`: it can be ticked for TT02 loading.
    pub selectable: bool,
    /// Ticked when the page opens (`?select=all`).
    pub selected: bool,
}

/// How long since the last change, in the largest sensible units.
pub fn waited(tr: Tr, since: chrono::Duration) -> String {
    let minutes = since.num_minutes().max(0);
    let (days, hours) = (minutes / (24 * 60), minutes / 60 % 24);
    if days > 0 {
        tr.fill(
            "admin.queue.waited_days",
            &[("days", &days.to_string()), ("hours", &hours.to_string())],
        )
    } else if hours > 0 {
        tr.fill("admin.queue.waited_hours", &[("hours", &hours.to_string())])
    } else {
        tr.fill(
            "admin.queue.waited_minutes",
            &[("minutes", &minutes.to_string())],
        )
    }
}

#[derive(Template)]
#[template(path = "admin/queue.html")]
struct QueuePage {
    page: Page,
    form: FormView,
    statuses: Vec<RadioOption>,
    environments: Vec<RadioOption>,
    scopes: Vec<RadioOption>,
    assignments: Vec<RadioOption>,
    counts: Vec<(String, String, i64)>,
    lines: Vec<Line>,
    next_link: Option<String>,
    first_link: Option<String>,
    export_link: String,
    stale_days: u32,
    /// Some line can be ticked for TT02 loading.
    any_selectable: bool,
    /// The queue of received test orders with every line ticked, and without.
    select_all_link: &'static str,
    /// The link's text, which says how many it ticks.
    select_all_text: String,
    selecting_all: bool,
}

/// The queue filtered to what TT02 loading takes, ticked: a link, so it works without
/// JavaScript.
const SELECT_ALL: &str = "/admin/orders?status=received&environment=test&select=all";

fn option(value: &str, label: impl Into<String>) -> RadioOption {
    RadioOption {
        value: value.to_owned(),
        label: label.into(),
        hint: String::new(),
    }
}

/// Queue lines in display form; with `select_all`, every line that can be loaded is ticked.
fn lines(
    tr: Tr,
    rows: &[QueueRow],
    names: &HashMap<String, String>,
    stale_days: u32,
    select_all: bool,
) -> Vec<Line> {
    let now = Utc::now();
    rows.iter()
        .map(|row| {
            let selectable =
                row.environment == Environment::Test && row.status == OrderStatus::Received;
            Line {
                reference: row.reference.clone(),
                status: tr.status(row.status),
                environment: tr.environment(row.environment),
                scope: row.scope.to_string(),
                vendor: row.vendor_org_name.clone(),
                consumer: row.consumer_org_name.clone(),
                assignee: row
                    .assigned_to
                    .as_ref()
                    .and_then(|id| names.get(id).cloned()),
                waited: waited(tr, now - row.updated_at),
                overdue: row.status.is_open()
                    && working_days_between(row.updated_at, now) >= i64::from(stale_days),
                selectable,
                selected: selectable && select_all,
            }
        })
        .collect()
}

/// The queue's links that keep the filters: the next page, back to the first, the export.
struct Links {
    next: Option<String>,
    first: Option<String>,
    export: String,
}

fn links(query: &HashMap<String, String>, next: Option<&QueueRow>, paged: bool) -> Links {
    let filters = filter_query(query);
    let with_filters = |extra: &str| {
        let joined = [filters.as_str(), extra]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("&");
        if joined.is_empty() {
            "/admin/orders".to_owned()
        } else {
            format!("/admin/orders?{joined}")
        }
    };
    Links {
        next: next.map(|last| {
            let cursor = Cursor::after(last.updated_at, &last.id).encode();
            with_filters(&format!("after={cursor}"))
        }),
        first: paged.then(|| with_filters("")),
        export: if filters.is_empty() {
            "/admin/orders.csv".to_owned()
        } else {
            format!("/admin/orders.csv?{filters}")
        },
    }
}

/// The filter form's choices, each list starting with "any".
struct Choices {
    statuses: Vec<RadioOption>,
    environments: Vec<RadioOption>,
    scopes: Vec<RadioOption>,
    assignments: Vec<RadioOption>,
}

fn choices(tr: Tr, ctx: &Context) -> Choices {
    let statuses = [
        option("open", tr.t("admin.queue.status_open")),
        option("all", tr.t("admin.queue.status_all")),
    ]
    .into_iter()
    .chain(
        OrderStatus::ALL
            .iter()
            .map(|s| option(s.as_str(), tr.status(*s))),
    )
    .collect();
    let any = || option("", tr.t("admin.queue.any"));
    let environments = std::iter::once(any())
        .chain(
            Environment::ALL
                .iter()
                .map(|e| option(e.as_str(), tr.environment(*e))),
        )
        .collect();
    let scopes = ctx.settings.scopes.entries().iter();
    let scopes = std::iter::once(any())
        .chain(scopes.map(|s| option(&s.name, s.name.clone())))
        .collect();
    let assignments = vec![
        option("", tr.t("admin.queue.assigned_anyone")),
        option("me", tr.t("admin.queue.assigned_me")),
        option("none", tr.t("admin.queue.assigned_none")),
    ];
    Choices {
        statuses,
        environments,
        scopes,
        assignments,
    }
}

/// Rows on a page: "select all" shows as many as one batch takes, so it ticks that many
/// and its link can say so; paging on from there goes back to the usual size.
fn page_size(select_all: bool) -> i64 {
    if select_all {
        crate::app::tt02_loading::MAX_ORDERS as i64
    } else {
        PAGE_SIZE
    }
}

pub async fn page(
    user: CaseHandler,
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let filter = parse_filter(&query, &user, ctx)?;
    let select_all = match query.get("select").map(|v| v.trim()) {
        None | Some("") => false,
        Some("all") => true,
        Some(_) => return Err(AppError::BadRequest("admin.queue.bad_select")),
    };
    let after = match query.get("after").map(String::as_str) {
        None | Some("") => None,
        Some(raw) => Some(Cursor::decode(raw).ok_or(AppError::BadRequest("admin.queue.bad_page"))?),
    };
    let app::queue::QueuePage {
        rows,
        more,
        counts,
        names,
    } = app::queue::page(ctx, &filter, after.as_ref(), page_size(select_all)).await?;
    let stale_days = ctx.settings.workspace.stale_working_days;
    let links = links(&query, rows.last().filter(|_| more), after.is_some());
    let lines = lines(tr, &rows, &names, stale_days, select_all);

    let mut form = FormView::default();
    for name in FILTER_FIELDS {
        form.set(name, query.get(name).map(|v| v.trim()).unwrap_or(""));
    }
    if form.value("status").is_empty() {
        form.set("status", "open");
    }
    let counts = counts
        .into_iter()
        .map(|(status, n)| {
            (
                status.as_str().to_owned(),
                status_label(tr, status).to_owned(),
                n,
            )
        })
        .collect();
    let choices = choices(tr, ctx);
    let page = QueuePage {
        page: Page::workspace(tr, tr.t("admin.queue.title"), "/admin/orders", user.nav()),
        form,
        statuses: choices.statuses,
        environments: choices.environments,
        scopes: choices.scopes,
        assignments: choices.assignments,
        counts,
        any_selectable: lines.iter().any(|l| l.selectable),
        lines,
        next_link: links.next,
        first_link: links.first,
        export_link: links.export,
        stale_days,
        select_all_link: SELECT_ALL,
        select_all_text: tr.fill(
            "admin.queue.select_all",
            &[("max", &crate::app::tt02_loading::MAX_ORDERS.to_string())],
        ),
        selecting_all: select_all,
    };
    html(StatusCode::OK, &page)
}

/// Orders read from the database for each chunk of the export's stream.
const EXPORT_BATCH: i64 = 500;

/// The export's columns: the reference and status, every exported field of the order in the
/// field table's order, then the service's own.
pub static CSV_COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let fields = ORDER_FIELDS.iter().filter(|f| f.csv).map(|f| f.name);
    ["reference", "status"]
        .into_iter()
        .chain(fields)
        .chain([
            "language",
            "assigned_to",
            "created_at",
            "updated_at",
            "version",
        ])
        .collect()
});

/// One order as a CSV line, in [`CSV_COLUMNS`]' order.
fn csv_row(o: &Order, names: &HashMap<String, String>) -> String {
    let assignee = o.assigned_to.as_ref().and_then(|id| names.get(id));
    let cells: Vec<String> = CSV_COLUMNS
        .iter()
        .map(|column| match *column {
            "reference" => o.reference.clone(),
            "status" => o.status.as_str().to_owned(),
            "language" => o.language.code().to_owned(),
            "assigned_to" => assignee.cloned().unwrap_or_default(),
            "created_at" => calendar::spreadsheet(o.created_at),
            "updated_at" => calendar::spreadsheet(o.updated_at),
            "version" => o.version.to_string(),
            field => o.export_text(field).unwrap_or_default(),
        })
        .collect();
    let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
    csv::line(&cells)
}

/// Where an export's stream stands: after which order, and whether the last batch was short.
struct Batch {
    after: Option<Cursor>,
    done: bool,
}

/// `start` followed by one CSV line per order.
fn rows_chunk(start: String, orders: &[Order], names: &HashMap<String, String>) -> web::Bytes {
    let mut chunk = start;
    for order in orders {
        chunk.push_str(&csv_row(order, names));
    }
    web::Bytes::from(chunk)
}

pub async fn export(
    user: CaseHandler,
    ctx: web::Data<Context>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    // Shared by every batch of the stream rather than copied into each.
    let filter = std::sync::Arc::new(parse_filter(&query, &user, &ctx)?);
    let names = std::sync::Arc::new(app::queue::user_names(&ctx).await?);
    // The first batch is read before anything is sent, so a database that fails at once is
    // an error page, not an empty 200. After that, a batch at a time is streamed, so a large
    // export never sits whole in memory; a batch that fails ends the stream with an error,
    // which cuts the connection (no clean end) so the client sees the download broke off.
    let first = app::queue::export_batch(&ctx, &filter, None, EXPORT_BATCH).await?;
    let header = format!("{}{}", csv::BOM, csv::line(&CSV_COLUMNS));
    let first_chunk = rows_chunk(header, &first, &names);
    let start = Batch {
        after: first.last().map(|o| Cursor::after(o.updated_at, &o.id)),
        done: (first.len() as i64) < EXPORT_BATCH,
    };
    let db = ctx.clone();
    let rest = futures_util::stream::unfold(start, move |state| {
        let db = db.clone();
        let filter = filter.clone();
        let names = names.clone();
        async move {
            if state.done {
                return None;
            }
            let batch = app::queue::export_batch(&db, &filter, state.after.as_ref(), EXPORT_BATCH);
            let orders = match batch.await {
                Ok(orders) => orders,
                Err(err) => {
                    tracing::error!(error = %err, "CSV export broken off");
                    let stop = Batch {
                        after: None,
                        done: true,
                    };
                    return Some((Err(AppError::from(err)), stop));
                }
            };
            let next = Batch {
                after: orders.last().map(|o| Cursor::after(o.updated_at, &o.id)),
                done: (orders.len() as i64) < EXPORT_BATCH,
            };
            if orders.is_empty() {
                return None;
            }
            Some((Ok(rows_chunk(String::new(), &orders, &names)), next))
        }
    });
    let first = futures_util::stream::iter([Ok::<_, AppError>(first_chunk)]);
    let batches = futures_util::StreamExt::chain(first, rest);
    let filename = format!("rrh-orders-{}.csv", Utc::now().format("%Y%m%d-%H%M"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("cache-control", "no-store"))
        .streaming(batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_has_the_columns_it_always_had_and_every_exported_field() {
        assert_eq!(
            CSV_COLUMNS.join(";"),
            "reference;status;environment;scope;vendor_org_number;vendor_org_name;\
             vendor_contact_name;vendor_contact_email;vendor_contact_phone;consumer_org_number;\
             consumer_org_name;consumer_contact_name;consumer_contact_email;\
             consumer_contact_phone;ip_addresses;maskinporten_client_id;message;language;\
             assigned_to;created_at;updated_at;version"
        );
    }

    #[test]
    fn waiting_time_is_shown_in_the_largest_unit() {
        let tr = Tr::new(crate::i18n::Lang::En);
        assert_eq!(waited(tr, chrono::Duration::minutes(5)), "5 min");
        assert_eq!(waited(tr, chrono::Duration::minutes(125)), "2 h");
        assert_eq!(waited(tr, chrono::Duration::hours(50)), "2 d 2 h");
    }
}
