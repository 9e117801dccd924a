-- 0005: the cases added since 0001 (mid-contract feedback, FB-5; the circumvention
-- relationship, CIRC-1..3; an account's standing, SUSP-3/5) number their new keys from a
-- sequence each, like every other kind (ADR 0076).
CREATE SEQUENCE added_mid_feedback;
CREATE SEQUENCE added_relationship;
CREATE SEQUENCE added_standing;
