-- The counts of a status may be kept in several rows (see the PostgreSQL migration of the
-- same name: there it spreads the lock new orders take). SQLite has one writer at a time, so
-- the rows gain nothing here, but both databases keep the same table and the same code.
-- SQLite cannot change a primary key in place: the table is rebuilt, and its checks with it.
CREATE TABLE order_status_counts_sharded (
    status  TEXT NOT NULL,
    shard   INTEGER NOT NULL DEFAULT 0,
    orders  INTEGER NOT NULL,
    PRIMARY KEY (status, shard)
);
INSERT INTO order_status_counts_sharded (status, shard, orders)
    SELECT status, 0, orders FROM order_status_counts;
DROP TABLE order_status_counts;
ALTER TABLE order_status_counts_sharded RENAME TO order_status_counts;

CREATE TRIGGER order_status_counts_status_valid_insert BEFORE INSERT ON order_status_counts
WHEN NEW.status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_status_counts.status: invalid value');
END;
CREATE TRIGGER order_status_counts_status_valid_update BEFORE UPDATE OF status ON order_status_counts
WHEN NEW.status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_status_counts.status: invalid value');
END;
