-- Process statistics (`/admin/stats`) without reading every order's events per request.
--
-- How long each ended order spent in each status before it ended, in working time (see
-- `domain::calendar::working_time`), written in the transaction that ends the order (see
-- `app::stats::keep_status_times`). The statistics read only the rows of orders that ended in
-- the chosen period, through the index on (closed_at, status, working_seconds).
CREATE TABLE order_status_times (
    order_id         TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status           TEXT NOT NULL,
    -- The order's closed_at, copied so the period is read from this table's own index.
    closed_at        TEXT NOT NULL,
    -- Seconds of the time in the status that fell on Norwegian working days.
    working_seconds  INTEGER NOT NULL,
    PRIMARY KEY (order_id, status)
);
CREATE INDEX order_status_times_period
    ON order_status_times (closed_at, status, working_seconds);

-- Orders that ended before this migration, whose times are still to be worked out from their
-- events: a SQL migration cannot count Norwegian working days, so the application does it at
-- start-up (`store::stats::fill_status_times`) and empties this list as it goes.
CREATE TABLE order_status_times_pending (
    order_id  TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE
);
INSERT INTO order_status_times_pending (order_id)
    SELECT id FROM orders WHERE closed_at IS NOT NULL;

-- Ended orders by month, outcome and environment: a range of this index, never the table.
CREATE INDEX orders_ended ON orders (closed_at, status, environment)
    WHERE closed_at IS NOT NULL;
-- Open orders by status and age.
CREATE INDEX orders_open_age ON orders (status, created_at) WHERE closed_at IS NULL;
-- The checks vendors ran in a period, by the kind of event that records them.
CREATE INDEX order_events_kind ON order_events (kind, occurred_at);

-- The status column takes only the statuses the app knows, as everywhere (see the migration
-- `enum_checks`).
CREATE TRIGGER order_status_times_status_valid_insert BEFORE INSERT ON order_status_times
WHEN NEW.status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_status_times.status: invalid value');
END;
CREATE TRIGGER order_status_times_status_valid_update BEFORE UPDATE OF status ON order_status_times
WHEN NEW.status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_status_times.status: invalid value');
END;
