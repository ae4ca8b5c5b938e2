-- A TT02 loading batch, by the id its confirmation page was given. The request claims the id
-- in the transaction that moves the orders, so the same confirmation posted twice (a double
-- click, a reload) moves them once; the result page is shown again from this row, whatever
-- happened to the email. The moved orders' events carry the same id in their details.
CREATE TABLE loading_batches (
    id          TEXT PRIMARY KEY,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- JSON array of the references moved to tt02_loading, in the order picked.
    moved       TEXT NOT NULL,
    -- JSON array of {reference, reason, status} for the orders left out.
    left_out    TEXT NOT NULL,
    -- The list's email in mail_outbox, when a loading mailbox was configured. Not a foreign
    -- key: the email is purged before the batch is.
    mail_id     TEXT
);
