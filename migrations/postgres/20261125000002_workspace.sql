-- The case handlers' workspace: accounts, server-side sessions, login throttling, and what
-- the workflow records on an order.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    -- Lower-cased; the login name.
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    -- case-handler | admin
    role           TEXT NOT NULL,
    -- Argon2id in PHC string format.
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    disabled_at    TEXT
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a database leak gives no usable session.
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Attempts per key in the current window, for rate limits (logins per account and per
-- client address, link resends per address). Counted before the limited work is done, so
-- simultaneous attempts are all counted. Keyed by a hash, so the table holds neither login
-- names nor addresses.
CREATE TABLE rate_limits (
    key           TEXT PRIMARY KEY,
    attempts      BIGINT NOT NULL,
    window_start  TEXT NOT NULL
);

ALTER TABLE orders ADD COLUMN assigned_to TEXT REFERENCES users (id) ON DELETE SET NULL;
-- The consumer's synthetic national id for logging in to TT02; never mailed.
ALTER TABLE orders ADD COLUMN tt02_identity TEXT;

-- Lower-cased names and contact emails, so search finds "Ærlig AS" from "ærlig" on SQLite
-- too, whose LOWER() only knows ASCII. Filled by the app (Unicode-aware), also for orders
-- from before this migration (see `store::orders::fill_search_text`).
ALTER TABLE orders ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
-- Finds the orders still to fill at start-up without reading every order.
CREATE INDEX orders_search_unfilled ON orders (id) WHERE search_text = '';

-- The queue is read oldest-change first with keyset pagination on (updated_at, id); the open
-- orders (the default view) have an index of their own so closed ones are never walked.
DROP INDEX orders_updated;
DROP INDEX orders_status_updated;
CREATE INDEX orders_queue ON orders (updated_at, id);
CREATE INDEX orders_open_queue ON orders (updated_at, id) WHERE closed_at IS NULL;
CREATE INDEX orders_status_queue ON orders (status, updated_at, id);
CREATE INDEX orders_assigned_queue ON orders (assigned_to, updated_at, id);
CREATE INDEX orders_pair ON orders (vendor_org_number, consumer_org_number);
CREATE INDEX orders_consumer ON orders (consumer_org_number);

-- Orders per status, kept in the same transactions that create and move orders, so the
-- queue's counts cost one small read instead of a scan of every order.
CREATE TABLE order_status_counts (
    status  TEXT PRIMARY KEY,
    orders  BIGINT NOT NULL
);
INSERT INTO order_status_counts (status, orders)
    SELECT status, COUNT(*) FROM orders GROUP BY status;
