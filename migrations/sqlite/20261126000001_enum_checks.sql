-- The enumerated text columns accept only the values the app knows (see `domain::OrderStatus`,
-- `domain::Environment`, `i18n::Lang`, `auth::Role`, `domain::ContactRole` and the outbox
-- states), so a bad write fails where it happens instead of when the row is read back.
--
-- SQLite cannot add a CHECK to an existing table, so each column gets two triggers,
-- `<table>_<column>_valid_insert` and `<table>_<column>_valid_update`, that abort the statement
-- with '<table>.<column>: invalid value'. (PostgreSQL has the same rules as CHECK constraints
-- named `<table>_<column>_valid`.) NULL passes where the column is nullable; NOT NULL columns
-- refuse it on their own.
--
-- After each pair, existing rows with a value outside the list are "updated" to themselves:
-- that fires the update trigger, so this migration fails on bad stored data just as adding
-- the CHECK constraint does on PostgreSQL. On clean data it touches no row.
--

-- orders.status
CREATE TRIGGER orders_status_valid_insert BEFORE INSERT ON orders
WHEN NEW.status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'orders.status: invalid value');
END;
CREATE TRIGGER orders_status_valid_update BEFORE UPDATE OF status ON orders
WHEN NEW.status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'orders.status: invalid value');
END;
UPDATE orders SET status = status
WHERE status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn');

-- orders.environment
CREATE TRIGGER orders_environment_valid_insert BEFORE INSERT ON orders
WHEN NEW.environment NOT IN ('test', 'production')
BEGIN
    SELECT RAISE(ABORT, 'orders.environment: invalid value');
END;
CREATE TRIGGER orders_environment_valid_update BEFORE UPDATE OF environment ON orders
WHEN NEW.environment NOT IN ('test', 'production')
BEGIN
    SELECT RAISE(ABORT, 'orders.environment: invalid value');
END;
UPDATE orders SET environment = environment
WHERE environment NOT IN ('test', 'production');

-- orders.language
CREATE TRIGGER orders_language_valid_insert BEFORE INSERT ON orders
WHEN NEW.language NOT IN ('nb', 'en')
BEGIN
    SELECT RAISE(ABORT, 'orders.language: invalid value');
END;
CREATE TRIGGER orders_language_valid_update BEFORE UPDATE OF language ON orders
WHEN NEW.language NOT IN ('nb', 'en')
BEGIN
    SELECT RAISE(ABORT, 'orders.language: invalid value');
END;
UPDATE orders SET language = language
WHERE language NOT IN ('nb', 'en');

-- order_events.from_status (nullable)
CREATE TRIGGER order_events_from_status_valid_insert BEFORE INSERT ON order_events
WHEN NEW.from_status IS NOT NULL
    AND NEW.from_status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
        'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_events.from_status: invalid value');
END;
CREATE TRIGGER order_events_from_status_valid_update BEFORE UPDATE OF from_status ON order_events
WHEN NEW.from_status IS NOT NULL
    AND NEW.from_status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
        'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_events.from_status: invalid value');
END;
UPDATE order_events SET from_status = from_status
WHERE from_status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn');

-- order_events.to_status (nullable)
CREATE TRIGGER order_events_to_status_valid_insert BEFORE INSERT ON order_events
WHEN NEW.to_status IS NOT NULL
    AND NEW.to_status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
        'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_events.to_status: invalid value');
END;
CREATE TRIGGER order_events_to_status_valid_update BEFORE UPDATE OF to_status ON order_events
WHEN NEW.to_status IS NOT NULL
    AND NEW.to_status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
        'token_verified', 'completed', 'rejected', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'order_events.to_status: invalid value');
END;
UPDATE order_events SET to_status = to_status
WHERE to_status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn');

-- order_status_counts.status
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
UPDATE order_status_counts SET status = status
WHERE status NOT IN ('received', 'tt02_loading', 'tt02_loaded', 'delegated',
    'token_verified', 'completed', 'rejected', 'withdrawn');

-- mail_outbox.status
CREATE TRIGGER mail_outbox_status_valid_insert BEFORE INSERT ON mail_outbox
WHEN NEW.status NOT IN ('pending', 'sending', 'sent', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'mail_outbox.status: invalid value');
END;
CREATE TRIGGER mail_outbox_status_valid_update BEFORE UPDATE OF status ON mail_outbox
WHEN NEW.status NOT IN ('pending', 'sending', 'sent', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'mail_outbox.status: invalid value');
END;
UPDATE mail_outbox SET status = status
WHERE status NOT IN ('pending', 'sending', 'sent', 'failed');

-- users.role
CREATE TRIGGER users_role_valid_insert BEFORE INSERT ON users
WHEN NEW.role NOT IN ('case-handler', 'admin')
BEGIN
    SELECT RAISE(ABORT, 'users.role: invalid value');
END;
CREATE TRIGGER users_role_valid_update BEFORE UPDATE OF role ON users
WHEN NEW.role NOT IN ('case-handler', 'admin')
BEGIN
    SELECT RAISE(ABORT, 'users.role: invalid value');
END;
UPDATE users SET role = role
WHERE role NOT IN ('case-handler', 'admin');

-- contact_links.role
CREATE TRIGGER contact_links_role_valid_insert BEFORE INSERT ON contact_links
WHEN NEW.role NOT IN ('vendor', 'consumer')
BEGIN
    SELECT RAISE(ABORT, 'contact_links.role: invalid value');
END;
CREATE TRIGGER contact_links_role_valid_update BEFORE UPDATE OF role ON contact_links
WHEN NEW.role NOT IN ('vendor', 'consumer')
BEGIN
    SELECT RAISE(ABORT, 'contact_links.role: invalid value');
END;
UPDATE contact_links SET role = role
WHERE role NOT IN ('vendor', 'consumer');
