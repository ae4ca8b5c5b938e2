-- Every email to a contact carries a fresh private link, and earlier ones keep working, so a
-- contact may hold several links to one order. A resend still replaces them all (the
-- application deletes the contact's links and serialises on the order's row).
DROP INDEX contact_links_order;
CREATE INDEX contact_links_order ON contact_links (order_id, role);
