-- 0004: each aggregate row may say whether its snapshot passed every check when written
-- (see sqlite/0004_checked.sql and ADR 0028). The PostgreSQL store does not set it yet:
-- every row is NULL, so every read runs every check, as before.
ALTER TABLE aggregates ADD COLUMN checked INTEGER;
