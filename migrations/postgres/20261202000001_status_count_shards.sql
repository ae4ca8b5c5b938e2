-- A new order adds one to the count of `received`, and on PostgreSQL the row it updates
-- stays locked until the order commits: with one row per status, every submission waited
-- for the one before it to commit (most of the time of concurrent submissions was spent
-- waiting on that lock). New orders now add to one of several rows of their status, picked
-- at random; moves keep to shard 0, so they lock their rows in one order as before. The
-- count of a status is the sum of its rows.
ALTER TABLE order_status_counts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_status_counts DROP CONSTRAINT order_status_counts_pkey;
ALTER TABLE order_status_counts ADD PRIMARY KEY (status, shard);
