-- Orders, their event log and the mail outbox. Timestamps are fixed-width UTC text.
CREATE TABLE orders (
    id                      TEXT PRIMARY KEY,
    reference               TEXT NOT NULL UNIQUE,
    status                  TEXT NOT NULL,
    version                 INTEGER NOT NULL DEFAULT 1,
    environment             TEXT NOT NULL,
    scope                   TEXT NOT NULL,
    vendor_org_number       TEXT NOT NULL,
    vendor_org_name         TEXT NOT NULL,
    vendor_contact_name     TEXT,
    vendor_contact_email    TEXT NOT NULL,
    vendor_contact_phone    TEXT NOT NULL,
    consumer_org_number     TEXT NOT NULL,
    consumer_org_name       TEXT NOT NULL,
    consumer_contact_name   TEXT,
    consumer_contact_email  TEXT NOT NULL,
    consumer_contact_phone  TEXT NOT NULL,
    -- JSON array of canonical addresses and CIDR ranges; empty for production orders.
    ip_addresses            TEXT NOT NULL DEFAULT '[]',
    maskinporten_client_id  TEXT,
    message                 TEXT,
    -- When the vendor confirmed that production data is loaded into TT02 (test orders only).
    test_data_acknowledged_at TEXT,
    language                TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    closed_at               TEXT
);

-- At most one open order per vendor, consumer, environment and scope: the rule is enforced by
-- the database too, so two simultaneous submissions cannot both get through.
CREATE UNIQUE INDEX orders_one_open_per_pair
    ON orders (vendor_org_number, consumer_org_number, environment, scope)
    WHERE closed_at IS NULL;
CREATE INDEX orders_status_updated ON orders (status, updated_at);
CREATE INDEX orders_updated ON orders (updated_at);

CREATE TABLE order_events (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    occurred_at  TEXT NOT NULL,
    -- Who acted: `vendor_contact`, `consumer_contact`, `system` or `user:<id>`.
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    comment      TEXT,
    -- JSON with kind-specific details; never secrets or tokens.
    details      TEXT
);
CREATE INDEX order_events_order ON order_events (order_id, occurred_at);

CREATE TABLE mail_outbox (
    id               TEXT PRIMARY KEY,
    order_id         TEXT REFERENCES orders (id) ON DELETE SET NULL,
    -- Stable across retries, so a receiver can drop a duplicate after a crash mid-send.
    message_id       TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    -- JSON array of addresses.
    recipients       TEXT NOT NULL,
    reply_to         TEXT,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT,
    -- pending -> sending -> sent | pending (retry) | failed
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    locked_until     TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_order ON mail_outbox (order_id);
