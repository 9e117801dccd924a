-- 0007: nothing to do here. PostgreSQL's 0007 creates a sequence for each kind added since
-- 0005 (Connects wallets, mediation assistance); SQLite counts every kind in one table, a
-- row a kind, made when the first aggregate of the kind is added. The number is kept so
-- that both dialects are at the same schema version.
SELECT 1;
