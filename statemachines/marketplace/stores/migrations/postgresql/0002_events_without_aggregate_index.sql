-- 0002: the outbox loses its index by aggregate, as on SQLite (sqlite/0002): every command
-- inserted into it at a random place, for reads only audits make (which read the whole
-- outbox once anyway).
DROP INDEX events_aggregate;
