-- The clean-up of rate-limit rows whose window ended a day ago runs whenever an attempt
-- starts a window (every new address, login name or link): an index keeps it from reading
-- the whole table each time, which a flood of new keys would otherwise make it do.
CREATE INDEX rate_limits_window ON rate_limits (window_start);
