-- Orders may be made in nynorsk: `orders.language` also takes 'nn' (see `i18n::Lang`).
--
-- Replaces the triggers `orders_language_valid_insert` / `_update` of migration
-- `enum_checks`, under the same names and with the same message, with the longer list.
-- (PostgreSQL replaces its CHECK constraint the same way.) The list only grows, so every row
-- already stored passes the new triggers.

DROP TRIGGER orders_language_valid_insert;
DROP TRIGGER orders_language_valid_update;

CREATE TRIGGER orders_language_valid_insert BEFORE INSERT ON orders
WHEN NEW.language NOT IN ('nb', 'nn', 'en')
BEGIN
    SELECT RAISE(ABORT, 'orders.language: invalid value');
END;
CREATE TRIGGER orders_language_valid_update BEFORE UPDATE OF language ON orders
WHEN NEW.language NOT IN ('nb', 'nn', 'en')
BEGIN
    SELECT RAISE(ABORT, 'orders.language: invalid value');
END;
