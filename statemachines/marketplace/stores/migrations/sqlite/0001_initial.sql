-- 0001: the marketplace's tables (SQLite). One statement per ";" at the end of a line.

-- Every aggregate: its snapshot (statemachines.core.snapshots.to_dict, as JSON) and the
-- columns that index it. id is the order aggregates were added in; revision counts the
-- commits that changed it; due_us is when its next deadline falls due (microseconds
-- since 1970, NULL when it has none or its deadline failed and is parked); rank orders
-- the kinds when two deadlines fall due at the same moment.
CREATE TABLE aggregates (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    state TEXT NOT NULL,
    due_us INTEGER,
    rank INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (kind, key)
);
CREATE INDEX aggregates_due ON aggregates (due_us, rank, key) WHERE due_us IS NOT NULL;
CREATE INDEX aggregates_state ON aggregates (kind, state);

-- The party index: which aggregates name an account, company, agency or person.
CREATE TABLE parties (
    party TEXT NOT NULL,
    kind TEXT NOT NULL,
    aggregate INTEGER NOT NULL,
    PRIMARY KEY (party, kind, aggregate)
) WITHOUT ROWID;

-- Records written once: an offer's terms, a contract's contact person, a past-due amount.
CREATE TABLE records (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    party TEXT,
    data TEXT NOT NULL,
    UNIQUE (kind, key)
);
CREATE INDEX records_party ON records (kind, party) WHERE party IS NOT NULL;

-- How many aggregates or records of each kind were ever added (new keys count from it).
CREATE TABLE counts (
    kind TEXT PRIMARY KEY,
    added INTEGER NOT NULL
);

-- The outbox: one row per accepted decision and per aggregate created, in commit order.
-- An aggregate's history is its rows in position order; its "created" row holds its
-- first snapshot.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    at TEXT NOT NULL,
    command_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX events_aggregate ON events (kind, key, position);

-- Commands that carried an id: the events they recorded (JSON list of seq) or the
-- error that refused them (JSON).
CREATE TABLE commands (
    command_id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    events TEXT,
    error TEXT
);

-- Deadlines whose firing failed, with the error (the aggregate's due_us is parked).
CREATE TABLE stuck (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    due_us INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    error TEXT NOT NULL,
    at TEXT NOT NULL
);
