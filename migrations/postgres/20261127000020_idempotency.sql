-- Submissions that may be retried: the API's Idempotency-Key header ("api:" scope) and the
-- order form's one-time submission id ("form:" scope). Only hashes are kept: the key is
-- whatever the client chose, and the request hash (SHA-256 of the canonical JSON) tells a
-- retry of the same order from another order under the same key. Written in the order's
-- own transaction, so there is never one without the other. Rows older than a day are
-- ignored, and deleted by the purge.
CREATE TABLE idempotency_keys (
    key_hash     TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    order_id     TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
