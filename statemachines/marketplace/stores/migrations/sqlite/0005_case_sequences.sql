-- 0005: nothing to do here. PostgreSQL's 0005 creates a sequence for each case added since
-- 0001 (mid-contract feedback, relationship, standing); SQLite counts every kind in one
-- table, a row a kind, made when the first aggregate of the kind is added. The number is
-- kept so that both dialects are at the same schema version.
SELECT 1;
