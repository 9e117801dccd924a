-- 0007: two kinds added since 0005, Connects wallets (JOB-4, PROP-3; ADR 0077) and
-- mediation assistance (FPD-9; ADR 0078), number their new keys from a sequence each,
-- like every other kind. (0006 is reserved for another change; numbers may be skipped.)
CREATE SEQUENCE added_connects;
CREATE SEQUENCE added_assistance;
