-- 0002: the outbox loses its index by aggregate. Every command inserted a row into it at a
-- random place, which cost a page written per commit (about a fifth of the commit's time,
-- benchmarks/bench_service.py); an aggregate's history is already in its row, and reading
-- the events of one aggregate is for audits, which read every event once anyway.
DROP INDEX events_aggregate;
