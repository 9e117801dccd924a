-- 0003: outbox consumers and their cursors (PostgreSQL). See sqlite/0003_consumers.sql.

-- Each consumer of the outbox (another service, by name) and the seq it has handled
-- everything up to; it reads the events after it, at least once, in order.
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
