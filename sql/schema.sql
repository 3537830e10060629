-- ccusage-import schema. Applied at the start of every run; every statement is harmless to
-- apply again. Runs unchanged on ClickHouse 18.16 and on current releases.
--
-- The importer runs the first statement without a database and the rest with the database
-- named by CH_DATABASE selected, so no table name below is qualified. Statements are
-- separated by a line holding only ";".
--
-- How rows stay correct when the same usage is imported again and again:
--   * every usage table is a ReplacingMergeTree keyed by machine_name plus the report's
--     natural key, so a re-import replaces a row instead of adding to it (sessions are keyed
--     by project and session id: ccusage 15-18 reuse the id "subagents" across projects);
--   * row_version = (token total << 24) | the import's tick (minutes since 2025-01-01, raised
--     past the machine's last stored tick, so imports order strictly). More usage always wins
--     and equal usage takes the newest import, so a day that shrinks because Claude Code
--     deleted old logs never lowers what is stored;
--   * ccusage_usage_monthly is not ccusage's monthly report: the importer sums each month
--     from the stored days, so a month never holds less than its days (a month can shrink
--     and grow in one snapshot, which no version rule on one row can undo);
--   * readers use FINAL (the views below do) so duplicates not yet merged are never counted;
--   * child rows (model breakdowns, models used) carry their parent's row_version, and only
--     the children of the winning parent import are read (ccusage_v_model_breakdowns);
--   * nothing is ever deleted, and each machine only writes rows with its own machine_name;
--   * --rekey-projects never rewrites a row in place: it stores the machine's sessions and
--     project days again under their new keys, and stores the old rows once more with
--     superseded = 1 and a newer version, so FINAL returns the marked copy and every reader
--     (the views, sql/import.sql) skips it;
--   * ccusage_usage_agents_daily holds every agent's usage (Claude's too): never add it to the
--     Claude tables, and filter model breakdowns by parent_kind.

CREATE DATABASE IF NOT EXISTS `{database}`
;
CREATE TABLE IF NOT EXISTS ccusage_usage_daily
(
    machine_name String COMMENT 'machine that ran ccusage (MACHINE_NAME, default: hostname)',
    date Date COMMENT 'UTC day',
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9) COMMENT 'USD, ccusage estimate',
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64 COMMENT 'token total << 24 | import minute: more usage wins',
    content_hash UInt64 COMMENT 'hash of the row content, lets re-runs skip unchanged rows',
    breakdown_models Array(String) COMMENT 'the model breakdown: element i of each breakdown_ column is model i; empty in rows from importers that kept it only in ccusage_model_breakdowns',
    breakdown_input_tokens Array(UInt64),
    breakdown_output_tokens Array(UInt64),
    breakdown_cache_creation_tokens Array(UInt64),
    breakdown_cache_read_tokens Array(UInt64),
    breakdown_total_tokens Array(UInt64),
    breakdown_cost Array(Decimal(18, 9))
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, date)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_monthly
(
    machine_name String,
    month String COMMENT 'YYYY-MM (UTC)',
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64,
    content_hash UInt64
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, month)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_sessions
(
    machine_name String,
    session_id String,
    project_path String COMMENT 'as ccusage prints it (an encoded directory, or Unknown Project), or its hash (--projects)',
    project_name String COMMENT 'the project as people read it: relative to the home, project-<hash>, an alias or hidden',
    first_activity Nullable(DateTime('UTC')) COMMENT 'NULL where ccusage does not report it (before 20.0.8)',
    last_activity DateTime('UTC') COMMENT 'midnight UTC where ccusage only reports a date',
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64,
    content_hash UInt64,
    superseded UInt8 COMMENT '1: re-keyed into another project mode by --rekey-projects; every reader skips it'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, project_path, session_id)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_session_days
(
    machine_name String,
    session_id String,
    project_path String COMMENT 'as in ccusage_usage_sessions',
    project_name String,
    date Date COMMENT 'UTC day: ccusage claude session --since D --until D (19+)',
    first_activity Nullable(DateTime('UTC')) COMMENT 'the session''s first entry that day (NULL before 20.0.8)',
    last_activity DateTime('UTC') COMMENT 'the session''s last entry that day',
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64 COMMENT 'token total << 24 | import minute: more usage wins',
    content_hash UInt64,
    superseded UInt8 COMMENT '1: stored under another project mode before --rekey-projects; every reader skips it'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, project_path, session_id, date)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_blocks
(
    machine_name String,
    block_id String COMMENT 'ccusage block id: the block start time',
    start_time DateTime('UTC'),
    end_time DateTime('UTC'),
    actual_end_time Nullable(DateTime('UTC')),
    is_active UInt8,
    entries UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    cost_usd Decimal(18, 9),
    models Array(String),
    burn_rate_cost_per_hour Float64 COMMENT '0 unless the block was active at import',
    burn_rate_tokens_per_minute Float64,
    projected_total_tokens UInt64,
    projected_total_cost Decimal(18, 9),
    projected_remaining_minutes UInt64,
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64,
    content_hash UInt64,
    has_burn_rate UInt8 COMMENT '1 where ccusage printed a burn rate (none for a block with one entry, nor in rows of older importers)',
    has_projection UInt8 COMMENT '1 where ccusage printed a projection'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, block_id)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_hours
(
    machine_name String,
    hour DateTime('UTC') COMMENT 'the UTC hour: ccusage blocks --session-length 1',
    last_entry DateTime('UTC') COMMENT 'the last entry in the hour',
    entries UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64 COMMENT 'token total << 24 | import minute: more usage wins',
    content_hash UInt64
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, hour)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_derived_blocks
(
    machine_name String,
    start_time DateTime('UTC') COMMENT 'the first hour with usage 5 h or more after the start of the block before',
    end_time DateTime('UTC'),
    last_entry DateTime('UTC'),
    hours UInt64 COMMENT 'hours with usage in the block',
    entries UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    cost_usd Decimal(18, 9),
    models Array(String),
    superseded UInt8 COMMENT '1: no block starts here any more (an earlier hour moved the chain); every reader skips it',
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64,
    content_hash UInt64
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, start_time)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_projects_daily
(
    machine_name String,
    project String COMMENT 'encoded project directory, as in ccusage daily --instances, or its hash (--projects)',
    project_name String COMMENT 'the project as people read it: relative to the home, project-<hash>, an alias or hidden',
    date Date,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64,
    content_hash UInt64,
    superseded UInt8 COMMENT '1: re-keyed into another project mode by --rekey-projects; every reader skips it'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, project, date)
;
CREATE TABLE IF NOT EXISTS ccusage_usage_agents_daily
(
    machine_name String,
    agent String COMMENT 'claude, codex, opencode, amp, … (all where ccusage did not split the day)',
    date Date,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    models_used Array(String),
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64,
    content_hash UInt64
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (machine_name, agent, date)
;
CREATE TABLE IF NOT EXISTS ccusage_machines
(
    machine_name String,
    session_scheme String COMMENT 'project (ccusage 15-18: a session per project directory) or session (19+: per session file)',
    project_mode String COMMENT 'plain, hash or hidden (--projects) of the rows stored; empty: plain, before modes existed',
    key_fingerprint String COMMENT 'hash and hidden: an HMAC of a constant under the project key (never the key); a run with another key is refused. Empty: plain, or stored before fingerprints',
    ccusage_version String,
    imported_at DateTime('UTC'),
    row_version UInt64 COMMENT 'tick of the import that wrote it: the newest wins'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY machine_name
;
CREATE TABLE IF NOT EXISTS ccusage_model_breakdowns
(
    machine_name String,
    parent_kind String COMMENT 'daily, monthly, session, session_day, project_daily or agent_daily',
    parent_key String COMMENT 'date, month, "project_path/session_id", "date project" or "date agent"',
    model_name String,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_read_tokens UInt64,
    total_tokens UInt64,
    cost Decimal(18, 9),
    parent_version UInt64 COMMENT 'row_version of the parent row imported with it',
    ccusage_version String,
    imported_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(parent_version)
ORDER BY (machine_name, parent_kind, parent_key, model_name)
;
CREATE TABLE IF NOT EXISTS ccusage_models_used
(
    machine_name String,
    parent_kind String COMMENT 'daily, monthly, session, session_day, block, project_daily or agent_daily',
    parent_key String,
    model_name String,
    parent_version UInt64,
    ccusage_version String,
    imported_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(parent_version)
ORDER BY (machine_name, parent_kind, parent_key, model_name)
;
CREATE TABLE IF NOT EXISTS ccusage_import_runs
(
    run_id String,
    machine_name String,
    hostname String,
    importer_version String,
    ccusage_version String,
    server_version String,
    started_at DateTime('UTC'),
    duration_ms UInt64,
    dry_run UInt8,
    exit_code UInt8,
    daily_status String COMMENT 'ok, failed or skipped',
    daily_rows UInt64 COMMENT 'rows in ccusage output',
    monthly_status String,
    monthly_rows UInt64,
    session_status String,
    session_rows UInt64,
    blocks_status String,
    blocks_rows UInt64,
    projects_daily_status String,
    projects_daily_rows UInt64,
    agents_daily_status String COMMENT 'skipped before ccusage 19',
    agents_daily_rows UInt64,
    hours_status String,
    hours_rows UInt64,
    rows_written UInt64 COMMENT 'usage rows inserted by this run',
    rows_unchanged UInt64 COMMENT 'rows skipped because the database already held them',
    error String,
    warnings String COMMENT 'what the run warned about (stale logs, no usage, shared logs), one line each'
)
ENGINE = MergeTree
ORDER BY (machine_name, started_at)
;
-- One row per machine: its totals as of its last import, for the summary's fleet line, so an
-- import reads one row per machine instead of every machine's days (issue 29). Each import
-- writes its own row (sql/import.sql: machine_totals), from its own days only.
CREATE TABLE IF NOT EXISTS ccusage_machine_totals
(
    machine_name String,
    dates Array(Date) COMMENT 'the days this machine has usage on: the fleet line counts distinct days',
    total_tokens UInt64,
    total_cost Decimal(18, 9),
    row_version UInt64 COMMENT 'the newest row_version of the machine''s days: the newest wins',
    month String COMMENT 'the UTC month of the import that wrote this row: month_cost is of it',
    month_cost Decimal(18, 9) COMMENT 'the machine''s cost in that month, for the fleet''s budget'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY machine_name
;
-- One row per machine: the tick of its newest import (the low 24 bits of row_version), so the
-- next import's versions are raised past it by reading one row instead of every table's rows of
-- the machine (issue 29). Written before that import's first row (sql/import.sql: write_tick):
-- a run that fails after it leaves the tick ahead of the rows, never behind, and the next run
-- still versions above everything stored. A machine without a row here (stored by an older
-- release) reads its tick from its rows once (last_tick).
CREATE TABLE IF NOT EXISTS ccusage_machine_ticks
(
    machine_name String,
    tick UInt64 COMMENT 'the newest import tick of this machine: the largest wins'
)
ENGINE = ReplacingMergeTree(tick)
ORDER BY machine_name
SETTINGS index_granularity = 128
;
-- Which machines stored each session, keyed by the session first, so the shared-logs check
-- looks up this machine's sessions by key instead of reading every machine's sessions (issue
-- 29). Each import copies its own changed sessions here (sql/import.sql: session_owners).
-- Small granules: a lookup of a machine's few hundred sessions reads a few hundred granules
-- whatever the fleet's size.
CREATE TABLE IF NOT EXISTS ccusage_session_owners
(
    session_id String,
    project_path String,
    machine_name String,
    total_cost Decimal(18, 9),
    superseded UInt8,
    row_version UInt64 COMMENT 'the session row''s: the newest wins'
)
ENGINE = ReplacingMergeTree(row_version)
ORDER BY (session_id, project_path, machine_name)
SETTINGS index_granularity = 128
;
CREATE VIEW IF NOT EXISTS ccusage_v_daily_summary AS
SELECT
    machine_name,
    date,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    total_cost,
    models_used,
    ccusage_version,
    imported_at
FROM ccusage_usage_daily FINAL
;
CREATE VIEW IF NOT EXISTS ccusage_v_session_summary AS
SELECT
    machine_name,
    session_id,
    project_path,
    project_name,
    first_activity,
    last_activity,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    total_cost,
    models_used,
    ccusage_version,
    imported_at
FROM ccusage_usage_sessions FINAL
-- Only the sessions of the scheme the machine's ccusage uses now (ccusage 15-18 key a session
-- by project directory, 19+ by session file): after an upgrade or a downgrade the other
-- scheme's rows would count the same usage twice. They stay stored, as history. A machine
-- that has not recorded its scheme yet (its importer is older) shows all its sessions. Rows
-- that --rekey-projects superseded (stored again under the machine's new keys) are skipped.
-- Written with the parentheses the server prints, so the stored view compares equal.
WHERE (superseded = 0) AND (((machine_name, if(toUInt32OrZero(splitByChar('.', ccusage_version)[1]) >= 19, 'session', 'project')) IN
(
    SELECT machine_name, session_scheme FROM ccusage_machines FINAL
))
OR (machine_name NOT IN (SELECT machine_name FROM ccusage_machines)))
;
-- The 5-hour blocks, one row per machine and block, as ccusage would print them had no log
-- been deleted: the blocks derived from the stored hours (ccusage_usage_derived_blocks), and
-- before a machine's first stored hour the blocks older importers stored as ccusage printed
-- them. is_active, the burn rate and the projection come from ccusage's own blocks report at
-- the machine's last import (NULL where ccusage printed none: a block with one entry); the
-- minutes left count from now to the block's end. Every block query and panel reads this.
-- Which stored blocks lie before the first hour is asked in an IN subquery: in a cluster it
-- reads the shard's local tables, which hold all of a machine's rows.
CREATE VIEW IF NOT EXISTS ccusage_v_blocks AS
SELECT
    machine_name,
    start_time,
    end_time,
    actual_end_time,
    toUInt8(live = 1) AS is_active,
    entries,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    cost_usd,
    models,
    if(live_burn_rate = 1, live_cost_per_hour, NULL) AS burn_rate_cost_per_hour,
    if(live_burn_rate = 1, live_tokens_per_minute, NULL) AS burn_rate_tokens_per_minute,
    if(live_projection = 1, live_projected_tokens, NULL) AS projected_total_tokens,
    if(live_projection = 1, live_projected_cost, NULL) AS projected_total_cost,
    if(live_projection = 1, toUInt64(intDiv(greatest(toInt64(toUInt32(end_time)) - toInt64(toUInt32(now())), 0) + 30, 60)), NULL) AS projected_remaining_minutes,
    source,
    imported_at
FROM
(
    SELECT
        machine_name,
        start_time,
        end_time,
        last_entry AS actual_end_time,
        entries,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        cost_usd,
        models,
        'hours' AS source,
        imported_at
    FROM ccusage_usage_derived_blocks FINAL
    WHERE superseded = 0
    UNION ALL
    SELECT
        machine_name,
        start_time,
        end_time,
        ifNull(actual_end_time, start_time) AS actual_end_time,
        entries,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        cost_usd,
        models,
        'ccusage' AS source,
        imported_at
    FROM ccusage_usage_blocks FINAL
    WHERE (machine_name, start_time) IN
    (
        SELECT
            machine_name,
            start_time
        FROM ccusage_usage_blocks
        ANY LEFT JOIN
        (
            SELECT
                machine_name,
                min(hour) AS first_hour
            FROM ccusage_usage_hours
            GROUP BY machine_name
        ) AS hours USING (machine_name)
        WHERE (toUInt32(first_hour) = 0) OR (start_time < first_hour)
    )
) AS blocks
ANY LEFT JOIN
(
    SELECT
        machine_name,
        start_time,
        1 AS live,
        has_burn_rate AS live_burn_rate,
        has_projection AS live_projection,
        burn_rate_cost_per_hour AS live_cost_per_hour,
        burn_rate_tokens_per_minute AS live_tokens_per_minute,
        projected_total_tokens AS live_projected_tokens,
        projected_total_cost AS live_projected_cost
    FROM ccusage_usage_blocks FINAL
    WHERE is_active = 1
) AS live USING (machine_name, start_time)
;
CREATE VIEW IF NOT EXISTS ccusage_v_model_breakdowns AS
SELECT
    machine_name,
    parent_kind,
    parent_key,
    model_name,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    cost,
    ccusage_version,
    imported_at
FROM ccusage_model_breakdowns FINAL
WHERE (machine_name, parent_kind, parent_key, parent_version) IN
(
    SELECT machine_name, parent_kind, parent_key, max(parent_version)
    FROM ccusage_model_breakdowns
    GROUP BY machine_name, parent_kind, parent_key
)
;
CREATE VIEW IF NOT EXISTS ccusage_v_models_used AS
SELECT
    machine_name,
    parent_kind,
    parent_key,
    model_name,
    ccusage_version,
    imported_at
FROM ccusage_models_used FINAL
WHERE (machine_name, parent_kind, parent_key, parent_version) IN
(
    SELECT machine_name, parent_kind, parent_key, max(parent_version)
    FROM ccusage_models_used
    GROUP BY machine_name, parent_kind, parent_key
)
;
-- The views below answer the common questions (sql/queries.sql reads them). Each reads one
-- report kind through FINAL, with the cost as Float64 USD (cost_usd) for arithmetic, and the
-- week (Monday) and month ("YYYY-MM") of each day for grouping.
CREATE VIEW IF NOT EXISTS ccusage_v_machine_daily AS
SELECT
    machine_name,
    date,
    week,
    month,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    cost_usd,
    model_count
FROM
(
    SELECT
        machine_name,
        date,
        toMonday(date) AS week,
        substring(toString(date), 1, 7) AS month,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        toFloat64(total_cost) AS cost_usd,
        length(models_used) AS model_count
    FROM ccusage_usage_daily FINAL
)
;
CREATE VIEW IF NOT EXISTS ccusage_v_machine_monthly AS
SELECT
    machine_name,
    month,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    cost_usd,
    model_count
FROM
(
    SELECT
        machine_name,
        month,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        toFloat64(total_cost) AS cost_usd,
        length(models_used) AS model_count
    FROM ccusage_usage_monthly FINAL
)
;
-- One row per machine, day and model: the daily report's model breakdowns, the children of
-- each day's winning import only (the rows ccusage_v_model_breakdowns gives for parent_kind
-- 'daily'). The importer keeps each day's breakdown as arrays in the day's own row, so FINAL
-- on ccusage_usage_daily picks the winning import and its models together, in one pass over
-- one row per day instead of resolving the newest children of every day (0.3 s per read at
-- 1,000 machines × 90 days on 18.16, scripts/bench-dashboard.sh). A day an older importer
-- stored without the arrays (a fleet machine not yet upgraded; sql/import.sql
-- fill_day_breakdowns gives a machine's own days theirs on its next import) is read from the
-- child rows of its winning version; DISTINCT counts an import sent twice once.
CREATE VIEW IF NOT EXISTS ccusage_v_model_daily AS
SELECT
    machine_name,
    date,
    toMonday(date) AS week,
    substring(toString(date), 1, 7) AS month,
    model_name,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    cost_usd
FROM
(
    SELECT
        machine_name,
        day AS date,
        m_name AS model_name,
        m_input AS input_tokens,
        m_output AS output_tokens,
        m_cache_creation AS cache_creation_tokens,
        m_cache_read AS cache_read_tokens,
        m_total AS total_tokens,
        toFloat64(m_cost) AS cost_usd
    FROM
    (
        SELECT
            machine_name,
            date AS day,
            m_name,
            m_input,
            m_output,
            m_cache_creation,
            m_cache_read,
            m_total,
            m_cost
        FROM ccusage_usage_daily FINAL
        ARRAY JOIN
            breakdown_models AS m_name,
            breakdown_input_tokens AS m_input,
            breakdown_output_tokens AS m_output,
            breakdown_cache_creation_tokens AS m_cache_creation,
            breakdown_cache_read_tokens AS m_cache_read,
            breakdown_total_tokens AS m_total,
            breakdown_cost AS m_cost
    )
    UNION ALL
    SELECT
        machine_name,
        toDate(parent_key) AS date,
        model_name,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        toFloat64(cost) AS cost_usd
    FROM
    (
        SELECT DISTINCT
            machine_name,
            parent_key,
            model_name,
            parent_version,
            input_tokens,
            output_tokens,
            cache_creation_tokens,
            cache_read_tokens,
            total_tokens,
            cost
        FROM ccusage_model_breakdowns
        WHERE (parent_kind = 'daily') AND ((machine_name, parent_key, parent_version) IN
        (
            SELECT machine_name, toString(date), row_version
            FROM ccusage_usage_daily FINAL
            WHERE empty(breakdown_models)
        ))
    )
)
;
-- One row per machine, day and agent, from the all-agent report. Each agent's row keeps its
-- largest figure like any other row. Where ccusage once reported a day unsplit (agent "all")
-- and another time split by agent, the day shows whichever side holds more usage (the split
-- on a tie), so it is never counted twice and never loses what one side saw.
CREATE VIEW IF NOT EXISTS ccusage_v_agent_daily AS
SELECT
    machine_name,
    agent,
    date,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    total_cost,
    models_used,
    ccusage_version,
    imported_at
FROM ccusage_usage_agents_daily FINAL
WHERE (machine_name, date, agent = 'all') IN
(
    SELECT machine_name, date, sumIf(total_tokens, agent = 'all') > sumIf(total_tokens, agent != 'all')
    FROM ccusage_usage_agents_daily FINAL
    GROUP BY machine_name, date
)
;
CREATE VIEW IF NOT EXISTS ccusage_v_project_daily AS
SELECT
    machine_name,
    project,
    project_name,
    date,
    week,
    month,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    cost_usd,
    model_count
FROM
(
    SELECT
        machine_name,
        project,
        project_name,
        date,
        toMonday(date) AS week,
        substring(toString(date), 1, 7) AS month,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        toFloat64(total_cost) AS cost_usd,
        length(models_used) AS model_count
    FROM ccusage_usage_projects_daily FINAL
    WHERE superseded = 0
)
