-- The queue's free-text search through an index instead of a walk over every order: an FTS5
-- trigram index over orders.search_text answers a substring of three characters or more
-- (shorter ones still walk, see `store::queue`).
--
-- External content: the text stays only in orders.search_text; the index holds trigrams.
-- It is keyed by search_key, an integer of our own, because SQLite's implicit rowid may be
-- renumbered by VACUUM on a table without an INTEGER PRIMARY KEY, which would point the
-- index at other orders. New orders get the next key from the trigger below.
ALTER TABLE orders ADD COLUMN search_key INTEGER;
UPDATE orders SET search_key = rowid;
CREATE UNIQUE INDEX orders_search_key ON orders (search_key);

-- case_sensitive 1: the app lower-cases both search_text and the query (Unicode-aware,
-- unlike SQLite), so the index must not fold anything of its own.
CREATE VIRTUAL TABLE orders_fts USING fts5(
    search_text,
    content = 'orders',
    content_rowid = 'search_key',
    tokenize = 'trigram case_sensitive 1'
);
-- Deleting an order's entries removes its trigrams from the index's pages at once instead
-- of shadowing them until a merge: the purge must leave no trace of a person in the index.
INSERT INTO orders_fts (orders_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO orders_fts (orders_fts) VALUES ('rebuild');

-- The index follows search_text and search_key in the same statement that changes them.
-- An external-content index must be told the old text to take out, so every change goes
-- through these triggers.
CREATE TRIGGER orders_search_key_new AFTER INSERT ON orders
WHEN new.search_key IS NULL
BEGIN
    UPDATE orders SET search_key = (SELECT COALESCE(MAX(search_key), 0) + 1 FROM orders)
    WHERE rowid = new.rowid;
END;

CREATE TRIGGER orders_fts_insert AFTER INSERT ON orders
WHEN new.search_key IS NOT NULL
BEGIN
    INSERT INTO orders_fts (rowid, search_text) VALUES (new.search_key, new.search_text);
END;

CREATE TRIGGER orders_fts_update AFTER UPDATE OF search_text, search_key ON orders
BEGIN
    INSERT INTO orders_fts (orders_fts, rowid, search_text)
        SELECT 'delete', old.search_key, old.search_text WHERE old.search_key IS NOT NULL;
    INSERT INTO orders_fts (rowid, search_text)
        SELECT new.search_key, new.search_text WHERE new.search_key IS NOT NULL;
END;

CREATE TRIGGER orders_fts_delete AFTER DELETE ON orders
WHEN old.search_key IS NOT NULL
BEGIN
    INSERT INTO orders_fts (orders_fts, rowid, search_text)
        VALUES ('delete', old.search_key, old.search_text);
END;
