-- When an ended order's personal data (contacts, IP addresses, TT02 identity, free text)
-- was removed; the rest of the order stays for statistics.
ALTER TABLE orders ADD COLUMN purged_at TEXT;
CREATE INDEX orders_closed ON orders (closed_at) WHERE purged_at IS NULL;
