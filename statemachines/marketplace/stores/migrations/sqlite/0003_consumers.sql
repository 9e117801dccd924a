-- 0003: outbox consumers and their cursors (SQLite). One statement per ";" at the end of a line.

-- Each consumer of the outbox (another service, by name) and the seq it has handled
-- everything up to; it reads the events after it, at least once, in order.
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
