-- Each contact's private link to its order. Only a hash of the token is stored: the link
-- itself exists only in the contact's email.
CREATE TABLE contact_links (
    token_hash  TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- vendor | consumer
    role        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
-- One link per contact and order: a resend replaces it, even two resends at once.
CREATE UNIQUE INDEX contact_links_order ON contact_links (order_id, role);
