-- The queue's free-text search through an index instead of a walk over every order:
-- pg_trgm's GIN index answers `search_text LIKE '%…%'` when the pattern holds a trigram
-- (three characters or more; the planner walks the queue index for shorter ones). The
-- index follows every insert and update by itself. pg_trgm ships with PostgreSQL
-- (postgresql-contrib) and is a trusted extension since PostgreSQL 13: the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX orders_search_trgm ON orders USING gin (search_text gin_trgm_ops);
