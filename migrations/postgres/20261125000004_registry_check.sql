-- What Enhetsregisteret said about both organisations when the order came in (JSON), for the
-- case handler: verified, not verified (register unavailable), name differs, flags.
ALTER TABLE orders ADD COLUMN registry_check TEXT;
