//! The PostgreSQL schema's migrations, applied in order; `depwatch_schema.version` holds how
//! many have run. Never edit a released migration: append a new one. Version 1 is the SQLite
//! store's schema as of its migration 4 (without its unused `http_cache`); the two version
//! counters are independent.

/// `pg_advisory_xact_lock` key that serialises migrations (an arbitrary constant: "depw").
pub(super) const MIGRATION_LOCK: i64 = 0x6465_7077;

/// The migrations, oldest first.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: advisories, their indexes, per-source state, and the monitor's tables. Keys and sorted
    // text are COLLATE "C" (byte order, as SQLite sorts).
    r#"
    CREATE TABLE sources (
        source        text COLLATE "C" PRIMARY KEY,
        records       bigint NOT NULL DEFAULT 0,
        cursor        text,
        etag          text,
        last_modified text,                 -- the feed's HTTP Last-Modified, as sent
        last_attempt  timestamptz,
        last_success  timestamptz,
        last_error    text,
        resync        boolean NOT NULL DEFAULT false
    );
    CREATE TABLE advisories (
        source    text COLLATE "C" NOT NULL,
        id        text COLLATE "C" NOT NULL,
        modified  text COLLATE "C" NOT NULL,
        withdrawn boolean NOT NULL,
        record    text NOT NULL,            -- the OSV record as JSON, byte for byte
        PRIMARY KEY (source, id)
    );
    CREATE TABLE affected (
        ecosystem text COLLATE "C" NOT NULL,
        name      text COLLATE "C" NOT NULL,
        source    text COLLATE "C" NOT NULL,
        id        text COLLATE "C" NOT NULL,
        PRIMARY KEY (ecosystem, name, source, id),
        FOREIGN KEY (source, id) REFERENCES advisories (source, id) ON DELETE CASCADE
    );
    CREATE INDEX affected_by_record ON affected (source, id);
    CREATE TABLE aliases (
        alias  text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        id     text COLLATE "C" NOT NULL,
        PRIMARY KEY (alias, source, id),
        FOREIGN KEY (source, id) REFERENCES advisories (source, id) ON DELETE CASCADE
    );
    CREATE INDEX aliases_by_record ON aliases (source, id);
    CREATE TABLE load_errors (
        seq     bigserial PRIMARY KEY,      -- insertion order, SQLite's rowid
        source  text COLLATE "C" NOT NULL,
        file    text COLLATE "C" NOT NULL,
        id      text,
        message text NOT NULL
    );
    CREATE INDEX load_errors_by_source ON load_errors (source);
    CREATE TABLE crate_index (
        name       text COLLATE "C" PRIMARY KEY,  -- lowercased
        etag       text,
        fetched_at timestamptz NOT NULL,
        yanked     text NOT NULL                  -- JSON array of yanked versions
    );
    CREATE TABLE findings_seen (
        project     text COLLATE "C" NOT NULL,
        fingerprint text COLLATE "C" NOT NULL,
        first_seen  timestamptz NOT NULL,
        last_seen   timestamptz NOT NULL,
        resolved_at timestamptz,
        state       text NOT NULL,
        PRIMARY KEY (project, fingerprint)
    );
    CREATE TABLE outbox (
        id           bigserial PRIMARY KEY,
        project      text NOT NULL,
        channel      text NOT NULL,
        event        text NOT NULL,
        payload      text NOT NULL,
        created_at   timestamptz NOT NULL,
        attempts     bigint NOT NULL DEFAULT 0,
        next_attempt timestamptz,
        sent_at      timestamptz,
        last_error   text,
        gave_up_at   timestamptz
    );
    CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL AND gave_up_at IS NULL;
    CREATE TABLE runs (
        id          bigserial PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        finished_at timestamptz,
        outcome     text,
        summary     text
    );
    CREATE TABLE health (
        component       text COLLATE "C" PRIMARY KEY,
        failures        bigint NOT NULL DEFAULT 0,
        first_failed_at timestamptz,
        last_error      text,
        alerted_at      timestamptz
    );
    CREATE TABLE secrets (
        name  text PRIMARY KEY,
        value bytea NOT NULL
    );
    "#,
    // 2: outbox claims. A sender claims the due rows it will deliver for a lease; another
    // process skips them until they are marked or the lease runs out (its holder died).
    r#"
    ALTER TABLE outbox ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz;
    "#,
    // 3: the SQLite store's migrations 5 and 6. Exploit data (CISA KEV, FIRST EPSS): one set
    // of each kind, replaced whole by a sync; the source that wrote it keeps its `sources` row.
    // Events held for a project's digest, and when its last digest was queued.
    r#"
    CREATE TABLE signal_sets (
        kind    text COLLATE "C" PRIMARY KEY,   -- kev | epss
        source  text COLLATE "C" NOT NULL,      -- the source that wrote the set
        version text,                           -- KEV catalogVersion, EPSS model_version
        dated   text,                           -- KEV dateReleased, EPSS score date, as read
        rows    bigint NOT NULL
    );
    CREATE TABLE kev (
        cve            text COLLATE "C" PRIMARY KEY,
        date_added     date NOT NULL,
        due_date       date NOT NULL,
        ransomware     text NOT NULL,           -- knownRansomwareCampaignUse
        vendor_project text NOT NULL,
        product        text NOT NULL
    );
    CREATE TABLE epss (
        cve        text COLLATE "C" PRIMARY KEY,
        score      double precision NOT NULL,
        percentile double precision NOT NULL
    );
    CREATE TABLE digest_held (
        id      bigserial PRIMARY KEY,
        project text COLLATE "C" NOT NULL,
        event   text NOT NULL,
        item    text NOT NULL,                  -- JSON: the event, why it was held, the run time
        held_at timestamptz NOT NULL
    );
    CREATE INDEX digest_held_by_project ON digest_held (project, id);
    CREATE TABLE digest_sent (
        project   text COLLATE "C" PRIMARY KEY,
        queued_at timestamptz NOT NULL
    );
    "#,
    // 4: the SQLite store's migration 7: change generations and each project's inputs (work
    // that scales with change).
    r#"
    CREATE TABLE change_generation (
        kind       text COLLATE "C" PRIMARY KEY,   -- current | everything
        generation bigint NOT NULL
    );
    CREATE TABLE package_changes (
        ecosystem  text COLLATE "C" NOT NULL,
        name       text COLLATE "C" NOT NULL,      -- normalised
        generation bigint NOT NULL,
        PRIMARY KEY (ecosystem, name)
    );
    CREATE TABLE project_inputs (
        project    text COLLATE "C" PRIMARY KEY,
        hash       text NOT NULL,
        generation bigint NOT NULL,
        packages   text NOT NULL                   -- JSON [[ecosystem, normalised name], ...]
    );
    "#,
    // 5: the SQLite store's migration 8: API tokens of `depwatch serve`, kept as SHA-256 only.
    r#"
    CREATE TABLE api_tokens (
        id         bigserial PRIMARY KEY,
        project    text COLLATE "C" NOT NULL,      -- '*' for read tokens
        scope      text NOT NULL,                  -- 'submit' or 'read'
        hash       bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
    );
    "#,
    // 6: the SQLite store's migration 9: the dashboard's history, each project's open findings
    // per day by severity, and its current summary, written in the transaction of the run's
    // memory.
    r#"
    CREATE TABLE daily_open (
        project  text COLLATE "C" NOT NULL,
        day      date NOT NULL,                  -- UTC
        severity text COLLATE "C" NOT NULL,      -- critical, high, medium, low, unknown
        open     integer NOT NULL CHECK (open >= 0),
        PRIMARY KEY (project, day, severity)
    );
    CREATE INDEX daily_open_by_day ON daily_open (day);
    -- Each project's open findings as the overview shows them, written with its memory.
    CREATE TABLE project_summary (
        project text COLLATE "C" PRIMARY KEY,
        summary text NOT NULL                    -- JSON: monitor::OpenSummary
    );
    "#,
];
