-- Orders may be made in nynorsk: `orders.language` also takes 'nn' (see `i18n::Lang`).
--
-- Replaces the CHECK constraint `orders_language_valid` of migration `enum_checks`, under the
-- same name, with the longer list. (SQLite replaces its triggers the same way.) The list only
-- grows, so every row already stored passes the new constraint.

ALTER TABLE orders DROP CONSTRAINT orders_language_valid;
ALTER TABLE orders ADD CONSTRAINT orders_language_valid
    CHECK (language IN ('nb', 'nn', 'en'));
