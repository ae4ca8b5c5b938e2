-- Files sent with an email (the TT02 loading list's CSV), in the order they are attached.
-- Like the body, the content is emptied once the email is sent; the rows go with their email
-- when it is purged (the cascade). The name and type stay, so the outbox can say what was sent.
CREATE TABLE mail_attachments (
    mail_id       TEXT NOT NULL REFERENCES mail_outbox (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    -- UTF-8 text; '' once the email is sent.
    content       TEXT NOT NULL,
    PRIMARY KEY (mail_id, position)
);
