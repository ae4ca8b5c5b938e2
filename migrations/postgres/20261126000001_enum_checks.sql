-- The enumerated text columns accept only the values the app knows (see `domain::OrderStatus`,
-- `domain::Environment`, `i18n::Lang`, `auth::Role`, `domain::ContactRole` and the outbox
-- states), so a bad write fails where it happens instead of when the row is read back.
--
-- Each rule is a CHECK constraint named `<table>_<column>_valid`. (SQLite has the same rules
-- as triggers `<table>_<column>_valid_insert` / `_update`.) Adding a constraint checks the
-- rows already stored: the migration fails on bad stored data rather than hiding it. A CHECK
-- lets NULL through, which is what the nullable columns want; NOT NULL columns refuse it on
-- their own.
--

ALTER TABLE orders ADD CONSTRAINT orders_status_valid
    CHECK (status IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
        'token_verified', 'completed', 'rejected', 'withdrawn'));
ALTER TABLE orders ADD CONSTRAINT orders_environment_valid
    CHECK (environment IN ('test', 'production'));
ALTER TABLE orders ADD CONSTRAINT orders_language_valid
    CHECK (language IN ('nb', 'en'));

ALTER TABLE order_events ADD CONSTRAINT order_events_from_status_valid
    CHECK (from_status IS NULL OR from_status IN ('received', 'tt02_loading', 'tt02_loaded',
        'delegated', 'token_verified', 'completed', 'rejected', 'withdrawn'));
ALTER TABLE order_events ADD CONSTRAINT order_events_to_status_valid
    CHECK (to_status IS NULL OR to_status IN ('received', 'tt02_loading', 'tt02_loaded',
        'delegated', 'token_verified', 'completed', 'rejected', 'withdrawn'));

ALTER TABLE order_status_counts ADD CONSTRAINT order_status_counts_status_valid
    CHECK (status IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
        'token_verified', 'completed', 'rejected', 'withdrawn'));

ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_status_valid
    CHECK (status IN ('pending', 'sending', 'sent', 'failed'));

ALTER TABLE users ADD CONSTRAINT users_role_valid
    CHECK (role IN ('case-handler', 'admin'));

ALTER TABLE contact_links ADD CONSTRAINT contact_links_role_valid
    CHECK (role IN ('vendor', 'consumer'));
