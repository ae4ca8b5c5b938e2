//! Every catalog key the code can ask for, in every language.
//!
//! Most keys are literals, and [`every_literal_key_is_in_every_catalog`] finds them in the
//! sources and templates. The rest are built at run time from a value (`status.{status}`,
//! `track.check.{name}.label`, ...); [`families`] walks every value of the enum or list each
//! one is built from, and says where. A key missing here would render as "??" in production
//! (and panic in a debug build, see [`super::Tr::t`]); these tests list every one at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::Lang;
use crate::auth::Role;
use crate::domain::{
    ALL_CODES, Action, ContactRole, Environment, FIELD_ORDER, ORDER_FIELDS, OrderStatus,
};
use crate::mail::MailState;
use crate::mail::loading::NameSource;
use crate::maskinporten::CHECKS;

use crate::web::public::HELP_CODES;

/// Fields whose errors go through `web::view::field_message`, which names the field with
/// `fieldref.{field}`; the order's own fields ([`FIELD_ORDER`], from web/public.rs and
/// web/api.rs) come on top of these.
const FIELDS_WITH_MESSAGES_OUTSIDE_THE_ORDER: [&str; 10] = [
    // web/api.rs `read_fields`: an unknown `language` is `invalid_choice` on that field.
    "language",
    // app/workflow.rs `change_status`: the reason for a rejection or the message to the
    // contacts (also `national_id_in_text`), and the TT02 login identity; `add_note`: the
    // internal note.
    "reason",
    "comment",
    "tt02_identity",
    "note",
    // app/contacts.rs: the vendor's reason for withdrawing and the pasted access token;
    // web/track/resend.rs: the address links are sent to again.
    "withdraw_reason",
    "access_token",
    "contact_email",
    // app/preparation.rs: the vendor's pasted certificate and JWT grant.
    "certificate",
    "grant",
];

/// Keys built the same way, from every value they can be built from.
struct Family {
    /// How the code builds the key.
    pattern: &'static str,
    keys: Vec<String>,
}

fn family(pattern: &'static str, keys: impl IntoIterator<Item = String>) -> Family {
    Family {
        pattern,
        keys: keys.into_iter().collect(),
    }
}

/// Every status some action leads to: the statuses a status-change email is about.
fn statuses_an_action_leads_to() -> BTreeSet<&'static str> {
    let mut targets = BTreeSet::new();
    for environment in Environment::ALL {
        for from in OrderStatus::ALL {
            for action in from.allowed_actions(environment) {
                if let Ok(to) = from.transition(environment, action) {
                    targets.insert(to.as_str());
                }
            }
        }
    }
    targets
}

/// The accounts' roles; the match fails to compile when a role is added, as a reminder to
/// add it to the list as well.
fn account_roles() -> [Role; 2] {
    let all = [Role::CaseHandler, Role::Admin];
    for role in all {
        match role {
            Role::CaseHandler | Role::Admin => {}
        }
    }
    all
}

/// Every family of keys built at run time, with where each is built. Long because it is a
/// table: one entry per family, each with its comment, reads better than a split.
fn families() -> Vec<Family> {
    let form = form_fields_in_templates();
    vec![
        // web/view.rs `status_label` (order page, queue, track page, refusals), web/admin/
        // queue.rs (filter and rows), web/public.rs (receipt), mail/render.rs (`{status}` in
        // the status-change subject), templates/admin/order.html (orders for the same pair).
        family(
            "status.{status}",
            OrderStatus::ALL.map(|s| format!("status.{}", s.as_str())),
        ),
        // web/view.rs `environment_label`, web/public.rs (order form, receipt), web/admin/
        // queue.rs, web/track (page, token check), mail/render.rs (every email that names it),
        // templates/admin/order.html.
        family(
            "environment.{env}",
            Environment::ALL.map(|e| format!("environment.{}", e.as_str())),
        ),
        // web/public.rs `form_page`: the hint under each environment's radio button.
        family(
            "environment.{env}_hint",
            Environment::ALL.map(|e| format!("environment.{}_hint", e.as_str())),
        ),
        // web/admin/order.rs: a button for each of `app::workflow::case_handler_actions`, and
        // the refusal of an illegal step names the posted action, which `change_status` has
        // already limited to case-handler actions. Withdrawing is the vendor's step on the
        // track page, whose texts are literals, so `admin.action.withdraw` is not needed.
        family(
            "admin.action.{action}",
            Action::ALL
                .into_iter()
                .filter(|a| a.is_case_handler_action())
                .map(|a| format!("admin.action.{}", a.as_str())),
        ),
        // web/admin/order.rs timeline: the state of each email (behind `has`, with the raw
        // state otherwise, which is no text for people); web/admin/outbox.rs: the tabs.
        family(
            "admin.mail_status.{state}",
            MailState::ALL.map(|s| format!("admin.mail_status.{s}")),
        ),
        // web/admin/loading.rs `organisation_lines`: why a name on the TT02 loading list is
        // the order's and not the register's.
        family(
            "admin.loading.name_{source}",
            NameSource::ALL
                .into_iter()
                .filter(|s| *s != NameSource::Register)
                .map(|s| format!("admin.loading.name_{}", s.as_str())),
        ),
        // web/track/token.rs: a token check's report lists every check with its label...
        family(
            "track.check.{name}.label",
            CHECKS.map(|name| format!("track.check.{name}.label")),
        ),
        // ...and the fix for each failed one; every check can fail.
        family(
            "track.check.{name}.fix",
            CHECKS.map(|name| format!("track.check.{name}.fix")),
        ),
        // web/track/preparation.rs: the certificate and grant checks' lines, each with its
        // label, and the text of each detail it can be recorded with (the fix of a failed
        // line, a remark on another); web/admin/order.rs names failed checks by their labels.
        family(
            "track.cert.{name}.label / .{detail}",
            check_texts("track.cert", &crate::maskinporten::certificate::CHECKS),
        ),
        family(
            "track.grant.{name}.label / .{detail}",
            check_texts("track.grant", &crate::maskinporten::grant::CHECKS),
        ),
        // mail/render.rs `status_change_mails`: what happened, for the status an action moved
        // the order to (`app::workflow::move_order`). Nothing moves an order to `received`.
        family(
            "mail.status.happened.{status}",
            statuses_an_action_leads_to()
                .into_iter()
                .map(|s| format!("mail.status.happened.{s}")),
        ),
        // mail/render.rs `OrderFacts::next_step` (`domain::progress::next_step_key`): what
        // each contact does now, on its page (any status) and in its emails.
        family(
            "next.{role}.{status}[_production]",
            ContactRole::ALL.into_iter().flat_map(|role| {
                Environment::ALL.into_iter().flat_map(move |env| {
                    OrderStatus::ALL
                        .map(|status| crate::domain::progress::next_step_key(role, env, status))
                })
            }),
        ),
        // web/progress.rs: each step's state, and how a stopped order ended and why.
        family(
            "progress.state.{state}",
            ["done", "current", "to_come", "skipped"].map(|s| format!("progress.state.{s}")),
        ),
        family(
            "progress.ended.{status} / progress.reason.{status}",
            ["rejected", "withdrawn"].into_iter().flat_map(|s| {
                [
                    format!("progress.ended.{s}"),
                    format!("progress.reason.{s}"),
                ]
            }),
        ),
        // web/public.rs `help`: what every status means.
        family(
            "status.meaning.{status}",
            OrderStatus::ALL.map(|s| format!("status.meaning.{}", s.as_str())),
        ),
        // i18n `Tr::maskinporten`: Maskinporten's environments by name.
        family(
            "maskinporten.{env}",
            Environment::ALL.map(|e| format!("maskinporten.{}", e.as_str())),
        ),
        // web/view.rs `field_message`: the general text, used when there is no
        // `error.{field}.{code}` (looked up behind `has`, so that one is never required).
        family(
            "error.{code}",
            ALL_CODES.iter().map(|code| format!("error.{code}")),
        ),
        // web/view.rs `field_message` names the field in the message.
        family(
            "fieldref.{field}",
            fields_with_messages().map(|field| format!("fieldref.{field}")),
        ),
        // templates/_macros.html: the label (`tr.label`) of each field a template puts on a
        // form with the macros, and of every field of the order (public/order_form.html).
        family(
            "field.{name}",
            form.keys()
                .copied()
                .chain(FIELD_ORDER.iter().copied())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|name| format!("field.{name}")),
        ),
        // templates/_macros.html: the hint (`tr.hint`) of a field given `hint = true`, and of
        // every field the table marks as hinted (public/order_form.html).
        family(
            "hint.{name}",
            form.iter()
                .filter(|(_, hint)| **hint)
                .map(|(name, _)| *name)
                .chain(ORDER_FIELDS.iter().filter(|f| f.hint).map(|f| f.name))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|name| format!("hint.{name}")),
        ),
        // mail/render.rs `field_lines`: a party's fields in the registry's email are labelled
        // by the part of the name after the party's (`vendor_org_number` → `org_number`).
        family(
            "mail.registry.{part}",
            ORDER_FIELDS
                .iter()
                .filter_map(|f| {
                    ["vendor_", "consumer_"]
                        .into_iter()
                        .find_map(|prefix| f.name.strip_prefix(prefix))
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|part| format!("mail.registry.{part}")),
        ),
        // mail/render.rs `links_mail`: which contact each link sent again is for.
        family(
            "mail.links.role_{role}",
            ContactRole::ALL.map(|r| format!("mail.links.role_{}", r.as_str())),
        ),
        // web/admin/order.rs `actor_name`: who did something, on the timeline. Behind `has`
        // (the raw actor otherwise), but every actor an event is stored with has a name: the
        // contacts (web/public.rs, app/contacts.rs) and the API (web/api.rs). Case handlers
        // (`user:<id>`) are shown by name; `system` and `unknown_user` are literals.
        family(
            "admin.actor.{actor}",
            ContactRole::ALL
                .map(ContactRole::actor)
                .into_iter()
                .chain([crate::app::ACTOR_API])
                .map(|actor| format!("admin.actor.{actor}")),
        ),
        // templates/admin/users.html: each account's role.
        family(
            "admin.role.{role}",
            account_roles().map(|r| format!("admin.role.{}", r.as_str())),
        ),
        // templates/public/help.html: each Maskinporten error the help page explains.
        family(
            "help.error.{code}.code",
            HELP_CODES.map(|code| format!("help.error.{code}.code")),
        ),
        family(
            "help.error.{code}.meaning",
            HELP_CODES.map(|code| format!("help.error.{code}.meaning")),
        ),
        // web/api_docs.rs: the summary of every operation in the API's document, and what
        // each of its response statuses means; an operation added to the document needs them.
        family(
            "api_docs.op.{operationId} / api_docs.status.{status}",
            crate::web::api_docs::catalog_keys(&crate::web::openapi::document(
                &crate::domain::ScopeCatalog::default(),
            )),
        ),
    ]
}

/// A check list's label and detail keys: `{prefix}.{name}.label`, `{prefix}.{name}.{detail}`.
fn check_texts(prefix: &str, checks: &[(&str, &[&str])]) -> Vec<String> {
    checks
        .iter()
        .flat_map(|(name, details)| {
            std::iter::once(format!("{prefix}.{name}.label"))
                .chain(details.iter().map(move |d| format!("{prefix}.{name}.{d}")))
        })
        .collect()
}

fn fields_with_messages() -> impl Iterator<Item = &'static str> {
    FIELD_ORDER
        .iter()
        .copied()
        .chain(FIELDS_WITH_MESSAGES_OUTSIDE_THE_ORDER)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, recursively, in a stable order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The arguments of the call whose `(` ends just before `text`, split at top-level commas,
/// or `None` when the call does not close.
fn call_arguments(text: &str) -> Option<Vec<&str>> {
    let (mut depth, mut in_string, mut start) = (0usize, false, 0);
    let mut arguments = Vec::new();
    for (at, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '(' | '[' => depth += 1,
            ')' | ']' if depth > 0 => depth -= 1,
            ')' => {
                arguments.push(text[start..at].trim());
                return Some(arguments);
            }
            ',' if depth == 0 => {
                arguments.push(text[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    None
}

/// The form fields the templates render with the macros of templates/_macros.html, each with
/// whether it is called with `hint = true`. Every one of those macros shows `tr.label(name)`,
/// and `tr.hint(name)` when `hint` is true (it is false unless given).
fn form_fields_in_templates() -> BTreeMap<&'static str, bool> {
    const MACROS: [&str; 5] = ["input", "textarea", "checkbox", "radios", "select"];
    let mut fields: BTreeMap<&'static str, bool> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for path in files_under(&root().join("templates")) {
        let source: &'static str = read(&path).leak();
        for name in MACROS {
            let call = format!("::{name}(");
            for (at, _) in source.match_indices(&call) {
                let rest = &source[at + call.len()..];
                let arguments = call_arguments(rest);
                // public/order_form.html renders the order's fields from the field table
                // (`f.name`); their keys come from ORDER_FIELDS in `families`.
                if arguments.as_ref().and_then(|a| a.get(2)).copied() == Some("f.name") {
                    continue;
                }
                // (form, tr, "name", named = value, ...)
                let field = arguments
                    .as_ref()
                    .and_then(|a| a.get(2))
                    .and_then(|a| a.strip_prefix('"')?.strip_suffix('"'));
                let (Some(arguments), Some(field)) = (arguments.as_ref(), field) else {
                    unreadable.push(format!(
                        "{}: {name}({}",
                        relative(&path),
                        &rest[..40.min(rest.len())]
                    ));
                    continue;
                };
                let hint = arguments
                    .iter()
                    .filter_map(|a| a.split_once('='))
                    .any(|(k, v)| k.trim() == "hint" && v.trim() == "true");
                *fields.entry(field).or_default() |= hint;
            }
        }
    }
    assert!(
        unreadable.is_empty(),
        "form macro calls whose field name is not a literal; list their keys in `families`:\n{}",
        unreadable.join("\n")
    );
    assert!(
        !fields.is_empty(),
        "no form macro calls found under templates/"
    );
    fields
}

/// What is missing, one line per key and language.
fn missing_in_catalogs<'a>(keys: impl IntoIterator<Item = (&'a str, String)>) -> Vec<String> {
    let mut missing = Vec::new();
    for (origin, key) in keys {
        for lang in Lang::ALL {
            if !lang.catalog().contains_key(key.as_str()) {
                missing.push(format!("{}.txt: {key}  ({origin})", lang.code()));
            }
        }
    }
    missing
}

#[test]
fn every_key_built_at_run_time_is_in_every_catalog() {
    let families = families();
    let mut counts = Vec::new();
    for family in &families {
        assert!(!family.keys.is_empty(), "{}: no values", family.pattern);
        counts.push(format!("{} {}", family.keys.len(), family.pattern));
    }
    println!("{}", counts.join("\n"));
    let missing = missing_in_catalogs(
        families
            .iter()
            .flat_map(|f| f.keys.iter().map(|key| (f.pattern, key.clone()))),
    );
    assert!(
        missing.is_empty(),
        "{} keys the code builds are missing:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The quoted strings in `source` that look like a key: one or more dots, only the
/// characters keys use, and a first part that some catalog key starts with. Every text
/// between two quotes is looked at, not every other one, so an escaped quote or a quote in
/// a raw string cannot hide the keys after it; code between two strings is never all key
/// characters.
fn literal_keys<'s>(source: &'s str, prefixes: &BTreeSet<&str>) -> Vec<&'s str> {
    let is_key_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
    let mut pieces: Vec<&str> = source.split('"').collect();
    // The text before the first quote and after the last one is not between quotes.
    pieces.pop();
    pieces
        .into_iter()
        .skip(1)
        .filter(|text| text.contains('.') && text.chars().all(is_key_char))
        .filter(|text| !text.ends_with(".html") && !text.ends_with(".txt"))
        .filter(|text| text.split('.').next().is_some_and(|p| prefixes.contains(p)))
        .collect()
}

/// Keys written out in full: `tr.t("...")` and `tr.fill("...", ...)`, keys handed on to be
/// looked up later (notices, error pages, error summaries), in the Rust sources and in the
/// templates. The catalog module itself is left out: its tests use made-up keys.
#[test]
fn every_literal_key_is_in_every_catalog() {
    let prefixes: BTreeSet<&str> = Lang::ALL
        .iter()
        .flat_map(|lang| lang.catalog().keys())
        .filter_map(|key| key.split_once('.').map(|(prefix, _)| prefix))
        .collect();
    let catalog_module = root().join("src").join("i18n");
    let mut keys = Vec::new();
    for dir in ["src", "templates"] {
        let before = keys.len();
        for path in files_under(&root().join(dir)) {
            if path.starts_with(&catalog_module) {
                continue;
            }
            let source = read(&path);
            let origin = relative(&path);
            for key in literal_keys(&source, &prefixes) {
                // A plural's base (`Tr::plural("wait.minutes", n)`) stands for its forms.
                if Lang::Nb
                    .catalog()
                    .contains_key(format!("{key}_one").as_str())
                {
                    for form in ["one", "other"] {
                        keys.push((origin.clone(), format!("{key}_{form}")));
                    }
                } else {
                    keys.push((origin.clone(), key.to_owned()));
                }
            }
        }
        assert!(keys.len() > before, "no literal keys found under {dir}/");
    }
    let missing = missing_in_catalogs(
        keys.iter()
            .map(|(origin, key)| (origin.as_str(), key.clone())),
    );
    assert!(
        missing.is_empty(),
        "{} literal keys are missing:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// `error.{field}.{code}` is looked up behind `has`, so one that names no field with
/// messages or no code would silently never show.
#[test]
fn every_field_specific_error_names_a_field_and_a_code() {
    let fields: BTreeSet<&str> = fields_with_messages().collect();
    let mut stray = Vec::new();
    for lang in Lang::ALL {
        for key in lang.catalog().keys() {
            let Some(rest) = key.strip_prefix("error.") else {
                continue;
            };
            if let Some((field, code)) = rest.split_once('.')
                && !(fields.contains(field) && ALL_CODES.contains(&code))
            {
                stray.push(format!("{}.txt: {key}", lang.code()));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "field-specific errors no message uses:\n{}",
        stray.join("\n")
    );
}

/// The help page shows the errors in [`HELP_CODES`]; an entry for any other never shows.
#[test]
fn every_help_error_in_the_catalogs_is_on_the_help_page() {
    let mut stray = Vec::new();
    for lang in Lang::ALL {
        for key in lang.catalog().keys() {
            if let Some(rest) = key.strip_prefix("help.error.") {
                let code = rest.split('.').next().unwrap_or_default();
                if !HELP_CODES.contains(&code) {
                    stray.push(format!("{}.txt: {key}", lang.code()));
                }
            }
        }
    }
    assert!(
        stray.is_empty(),
        "not on the help page:\n{}",
        stray.join("\n")
    );
}

/// The `{name}` placeholders in `text`, or what is wrong with its braces.
fn placeholders(text: &str) -> Result<BTreeSet<&str>, String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("a `}}` that closes nothing in {text:?}"));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("a `{{` that is never closed in {text:?}"))?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!("`{{{name}}}` is not a placeholder in {text:?}"));
        }
        names.insert(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// `fill` replaces placeholders by name, so a translation that names one differently, or
/// leaves one out, shows `{name}` or loses a value.
#[test]
fn every_key_has_the_same_placeholders_in_every_language() {
    let keys: BTreeSet<&str> = Lang::ALL
        .iter()
        .flat_map(|lang| lang.catalog().keys().copied())
        .collect();
    let mut problems = Vec::new();
    for key in keys {
        let mut seen: Vec<(Lang, BTreeSet<&str>)> = Vec::new();
        for lang in Lang::ALL {
            let Some(text) = lang.catalog().get(key) else {
                continue; // `both_catalogs_have_the_same_keys` reports it
            };
            match placeholders(text) {
                Ok(names) => seen.push((lang, names)),
                Err(problem) => problems.push(format!("{}.txt: {key}: {problem}", lang.code())),
            }
        }
        if seen.windows(2).any(|pair| pair[0].1 != pair[1].1) {
            let sets: Vec<String> = seen
                .iter()
                .map(|(lang, names)| format!("{} {names:?}", lang.code()))
                .collect();
            problems.push(format!("{key}: {}", sets.join(" / ")));
        }
    }
    assert!(
        problems.is_empty(),
        "placeholders that differ between languages:\n{}",
        problems.join("\n")
    );
}

/// `\n` in a catalog is a line break the layout of an email relies on (the signature's two
/// lines), so every language breaks a text the same number of times.
#[test]
fn every_key_has_the_same_line_breaks_in_every_language() {
    let mut problems = Vec::new();
    for (key, text) in Lang::Nb.catalog() {
        let expected = text.matches('\n').count();
        for lang in Lang::ALL {
            if let Some(other) = lang.catalog().get(key)
                && other.matches('\n').count() != expected
            {
                problems.push(format!("{}.txt: {key}", lang.code()));
            }
        }
    }
    problems.sort();
    assert!(
        problems.is_empty(),
        "line breaks that differ from nb.txt:\n{}",
        problems.join("\n")
    );
}

#[test]
fn placeholders_are_read_and_stray_braces_found() {
    assert_eq!(
        placeholders("{vendor} for {consumer} ({environment})"),
        Ok(BTreeSet::from(["vendor", "consumer", "environment"]))
    );
    assert_eq!(placeholders("no placeholders"), Ok(BTreeSet::new()));
    assert!(placeholders("{vendor").is_err());
    assert!(placeholders("vendor}").is_err());
    assert!(placeholders("{Vendor name}").is_err());
}

#[test]
fn the_form_scan_reads_names_and_hints() {
    assert_eq!(
        call_arguments(r#"form, page.tr, "q", kind = "search", hint = true) }}"#),
        Some(vec![
            "form",
            "page.tr",
            "\"q\"",
            "kind = \"search\"",
            "hint = true"
        ])
    );
    assert_eq!(
        call_arguments(r#"form, tr, "x, y", options(a, b)) tail"#),
        Some(vec!["form", "tr", "\"x, y\"", "options(a, b)"])
    );
    assert_eq!(call_arguments("form, tr"), None);
}

#[test]
fn literal_keys_are_found_past_escaped_and_raw_quotes() {
    let prefixes = BTreeSet::from(["status", "error"]);
    let source = r##"t("status.received"); '"'; f("a \" b", "error.required"); r#"x"y"#;
        path = "error.html"; "other.key"; "status.{}"; "status.withdrawn""##;
    assert_eq!(
        literal_keys(source, &prefixes),
        ["status.received", "error.required", "status.withdrawn"]
    );
}
