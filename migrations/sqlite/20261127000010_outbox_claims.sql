-- Who holds a message's claim: a token per claimed batch. Every update after the claim names
-- it, so a worker whose lease ran out (and whose message another worker took) changes nothing.
ALTER TABLE mail_outbox ADD COLUMN claimed_by TEXT;
