-- 0004: each aggregate row says whether its snapshot passed every check when the store wrote
-- it. checked is the CRC-32 of data as written after its machine's registered invariants
-- held (a new or imported aggregate: checked when written; a changed one: it was loaded
-- checked and changed only by accepted transitions, which keep them, ADR 0028), or NULL.
-- A row whose data no longer has that CRC (edited outside the library) or has none is
-- loaded with every check, as before.
ALTER TABLE aggregates ADD COLUMN checked INTEGER;
