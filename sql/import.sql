-- Statements the importer itself runs. Each starts with a "-- name:" line; "?" marks a bound
-- value (the clickhouse crate sends it escaped, never spliced from user text).

-- name: server_version
SELECT version()

-- The replicas of the cluster's smallest shard: with two or more, every insert waits until two
-- of them hold it (insert_quorum).
-- name: cluster_min_replicas
SELECT toUInt64(min(replicas)) FROM (SELECT shard_num, count() AS replicas FROM system.clusters WHERE cluster = ? GROUP BY shard_num)

-- name: database_exists
SELECT count() FROM system.databases WHERE name = ?

-- name: schema_objects
SELECT name, engine, create_table_query FROM system.tables WHERE database = ?

-- name: schema_columns
SELECT table, name, type FROM system.columns WHERE database = ?

-- Adds a column that sql/schema.sql gained after the table was created by an older release.
-- {type} is the column's type as sql/schema.sql declares it.
-- name: add_column
ALTER TABLE ? ADD COLUMN ? {type}

-- Drops a view whose query differs from sql/schema.sql, to create it again (views hold no
-- data; 18.16 has neither DROP VIEW nor CREATE OR REPLACE VIEW), or a cluster's Distributed
-- table that lacks a column (it holds no rows). Only ever sent for an object whose engine
-- system.tables shows as View or Distributed: never for a table that stores rows.
-- name: drop_view
DROP TABLE IF EXISTS ?

-- Proves the user may insert without inserting anything: the SELECT yields no row, but the
-- server checks the INSERT right first.
-- name: can_insert
INSERT INTO ccusage_import_runs (run_id) SELECT 'verify' FROM system.one WHERE 0

-- What this machine already stored, so unchanged rows are not written again. The key text
-- must equal what rows.rs builds for the same row.
-- name: existing_daily
SELECT toString(date) AS key, content_hash, total_tokens
FROM ccusage_usage_daily FINAL WHERE machine_name = ?

-- name: existing_monthly
SELECT month AS key, content_hash, total_tokens
FROM ccusage_usage_monthly FINAL WHERE machine_name = ?

-- name: existing_sessions
SELECT concat(project_path, '/', session_id) AS key, content_hash, total_tokens
FROM ccusage_usage_sessions FINAL WHERE machine_name = ? AND superseded = 0

-- name: existing_session_days
SELECT concat(toString(date), ' ', project_path, '/', session_id) AS key, content_hash, total_tokens
FROM ccusage_usage_session_days FINAL WHERE machine_name = ? AND superseded = 0

-- name: existing_blocks
SELECT block_id AS key, content_hash, total_tokens
FROM ccusage_usage_blocks FINAL WHERE machine_name = ?

-- name: existing_hours
SELECT toString(hour) AS key, content_hash, total_tokens
FROM ccusage_usage_hours FINAL WHERE machine_name = ?

-- name: existing_derived_blocks
SELECT toString(start_time) AS key, content_hash, total_tokens
FROM ccusage_usage_derived_blocks FINAL WHERE machine_name = ? AND superseded = 0

-- name: existing_projects_daily
SELECT concat(toString(date), ' ', project) AS key, content_hash, total_tokens
FROM ccusage_usage_projects_daily FINAL WHERE machine_name = ? AND superseded = 0

-- name: existing_agents_daily
SELECT concat(toString(date), ' ', agent) AS key, content_hash, total_tokens
FROM ccusage_usage_agents_daily FINAL WHERE machine_name = ?

-- The newest tick (the low 24 bits of row_version) this machine stored, so the next import's
-- versions are strictly larger even when two imports fall in the same minute.
-- name: last_tick
SELECT max(tick) AS tick FROM
(
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_daily WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_monthly WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_sessions WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_blocks WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_projects_daily WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_agents_daily WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_hours WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_derived_blocks WHERE machine_name = ?
    UNION ALL
    SELECT max(bitAnd(row_version, 16777215)) AS tick FROM ccusage_usage_session_days WHERE machine_name = ?
)

-- The newest tick this machine's imports wrote into ccusage_machine_ticks (none: stored by an
-- older release, or never; then last_tick reads its rows). Not FINAL: the largest of its rows
-- is the one a merge keeps, and max() reads it without merging.
-- name: stored_tick
SELECT count() AS stored, max(tick) AS tick FROM ccusage_machine_ticks WHERE machine_name = ?

-- Stored rows that coarse rows are summed from (see src/transform/derive.rs): each with its key
-- as the model breakdowns name it, the name it is grouped by, and its day.
-- The days this machine stored (each day's winning figure), to sum the monthly table from.
-- name: stored_days
SELECT
    toString(date) AS key,
    '' AS name,
    date,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_cost,
    models_used
FROM ccusage_usage_daily FINAL
WHERE machine_name = ?

-- The project days this machine stored, to sum ccusage 15-18's whole-project sessions from.
-- name: stored_project_days
SELECT
    concat(toString(date), ' ', project) AS key,
    project AS name,
    date,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_cost,
    models_used
FROM ccusage_usage_projects_daily FINAL
WHERE machine_name = ? AND superseded = 0

-- The ccusage 15-18 sessions this machine stored that are not whole projects (sub-agent rows).
-- name: stored_sub_sessions
SELECT
    concat(project_path, '/', session_id) AS key,
    project_path AS name,
    toDate(last_activity) AS date,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_cost,
    models_used
FROM ccusage_usage_sessions FINAL
WHERE machine_name = ? AND superseded = 0 AND project_path != 'Unknown Project'
    AND toUInt32OrZero(splitByChar('.', ccusage_version)[1]) < 19

-- The session days this machine stored (each one's winning figure), to sum the sessions of
-- ccusage 19+ from.
-- name: stored_session_days
SELECT
    concat(toString(date), ' ', project_path, '/', session_id) AS key,
    session_id,
    project_path,
    project_name,
    date,
    first_activity,
    last_activity,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_cost,
    models_used
FROM ccusage_usage_session_days FINAL
WHERE machine_name = ? AND superseded = 0

-- The days whose sessions this machine stored: a past day is not asked again (a day's
-- sessions only shrink once it is over, and a resumed session must not take replayed lines).
-- name: session_day_dates
SELECT DISTINCT date
FROM ccusage_usage_session_days FINAL
WHERE machine_name = ? AND superseded = 0

-- The hours this machine stored (each hour's winning figure), to derive the 5-hour blocks from.
-- name: stored_hours
SELECT
    hour,
    last_entry,
    entries,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_cost,
    models_used
FROM ccusage_usage_hours FINAL
WHERE machine_name = ?

-- The derived blocks this machine stored as current: a start that is no block start any more
-- is stored again, superseded.
-- name: stored_derived_blocks
SELECT start_time, total_tokens
FROM ccusage_usage_derived_blocks FINAL
WHERE machine_name = ? AND superseded = 0

-- Where this machine's blocks stored before its first stored hour end (0: none reach past
-- it): importers before the hours stored ccusage's blocks only, and those stay the record of
-- the time before; hours inside such a block start no derived block. ccusage_v_blocks reads
-- the stored blocks that start before the first hour, the derived blocks after.
-- name: blocks_history_until
SELECT toUInt32(max(end_time)) AS until
FROM ccusage_usage_blocks FINAL
WHERE machine_name = ? AND start_time <
(
    SELECT min(hour) FROM ccusage_usage_hours WHERE machine_name = ?
)

-- The names this machine's project rows are stored under, each with its newest import: a
-- key stored under two names (ccusage's text before anything could name it, the readable name
-- later) has its rows stored again under one (see src/pipeline/names.rs). A ccusage 15-18
-- session's project is its id for a whole project, else the text before the `/`.
-- name: stored_project_names
SELECT project, project_name, toUInt32(max(imported_at)) AS imported_at
FROM
(
    SELECT project, project_name, imported_at
    FROM ccusage_usage_projects_daily FINAL
    WHERE machine_name = ? AND superseded = 0
    UNION ALL
    SELECT project_path AS project, project_name, imported_at
    FROM ccusage_usage_session_days FINAL
    WHERE machine_name = ? AND superseded = 0
    UNION ALL
    SELECT
        if(project_path = 'Unknown Project'
                AND toUInt32OrZero(splitByChar('.', ccusage_version)[1]) < 19,
            session_id, splitByChar('/', project_path)[1]) AS project,
        project_name,
        imported_at
    FROM ccusage_usage_sessions FINAL
    WHERE machine_name = ? AND superseded = 0
)
GROUP BY project, project_name

-- This machine's sessions, session days and project days as stored, whole, for
-- --rekey-projects to store again under new keys (columns in the order of SessionRow,
-- SessionDayRow and ProjectDailyRow).
-- Not hourly: --rekey-projects only.
-- name: rekey_sessions
SELECT
    machine_name, session_id, project_path, project_name, first_activity, last_activity,
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens,
    total_cost, models_used, ccusage_version, imported_at, row_version, content_hash, superseded
FROM ccusage_usage_sessions FINAL
WHERE machine_name = ? AND superseded = 0

-- Not hourly: --rekey-projects only.
-- name: rekey_session_days
SELECT
    machine_name, session_id, project_path, project_name, date, first_activity, last_activity,
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens,
    total_cost, models_used, ccusage_version, imported_at, row_version, content_hash, superseded
FROM ccusage_usage_session_days FINAL
WHERE machine_name = ? AND superseded = 0

-- Not hourly: --rekey-projects only.
-- name: rekey_projects_daily
SELECT
    machine_name, project, project_name, date,
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens,
    total_cost, models_used, ccusage_version, imported_at, row_version, content_hash, superseded
FROM ccusage_usage_projects_daily FINAL
WHERE machine_name = ? AND superseded = 0

-- The model breakdowns of one kind of stored row (only the winning parent's children). Not
-- read through ccusage_v_model_breakdowns: 18.16 does not push the machine filter into the
-- view's subquery, which then groups every machine's breakdowns, so each import's cost grew
-- with the fleet (87-93 % of the server's work at 1,000 machines). Binds: machine, kind, twice.
-- name: stored_models
SELECT
    parent_key,
    model_name,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    cost
FROM ccusage_model_breakdowns FINAL
WHERE machine_name = ? AND parent_kind = ?
    AND (parent_key, parent_version) IN
    (
        SELECT parent_key, max(parent_version)
        FROM ccusage_model_breakdowns
        WHERE machine_name = ? AND parent_kind = ?
        GROUP BY parent_key
    )

-- Gives this machine's stored days that an older importer wrote without their breakdown
-- arrays (ccusage_v_model_daily reads those the slow way) the arrays, from the child rows of
-- exactly the day's winning version (not FINAL: the children of a newer version whose day
-- row a failed run never stored must not stand in; an import sent twice is one set, as
-- groupUniqArray keeps it). The row is stored again with the same version: of equal
-- versions ReplacingMergeTree keeps the last inserted (18.16 and current releases alike), and
-- everything else in it is copied, so only the arrays change. Days without children (or
-- without models) match nothing, so a database that needs nothing gets no insert.
-- name: fill_day_breakdowns
INSERT INTO ccusage_usage_daily (machine_name, date, input_tokens, output_tokens,
    cache_creation_tokens, cache_read_tokens, total_tokens, total_cost, models_used,
    ccusage_version, imported_at, row_version, content_hash, breakdown_models,
    breakdown_input_tokens, breakdown_output_tokens, breakdown_cache_creation_tokens,
    breakdown_cache_read_tokens, breakdown_total_tokens, breakdown_cost)
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
    imported_at,
    row_version,
    content_hash,
    arrayMap(m -> tupleElement(m, 1), models),
    arrayMap(m -> tupleElement(m, 2), models),
    arrayMap(m -> tupleElement(m, 3), models),
    arrayMap(m -> tupleElement(m, 4), models),
    arrayMap(m -> tupleElement(m, 5), models),
    arrayMap(m -> tupleElement(m, 6), models),
    arrayMap(m -> tupleElement(m, 7), models)
FROM
(
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
        imported_at,
        row_version,
        content_hash
    FROM ccusage_usage_daily FINAL
    WHERE machine_name = ? AND empty(breakdown_models)
) AS day
ANY INNER JOIN
(
    SELECT
        machine_name,
        toDate(parent_key) AS date,
        parent_version AS row_version,
        arraySort(groupUniqArray((model_name, input_tokens, output_tokens,
            cache_creation_tokens, cache_read_tokens, total_tokens, cost))) AS models
    FROM ccusage_model_breakdowns
    WHERE machine_name = ? AND parent_kind = 'daily'
    GROUP BY machine_name, parent_key, parent_version
) AS children
USING (machine_name, date, row_version)

-- The session scheme this machine's sums read now and the project mode its rows are stored
-- in (no row before its first import; an empty mode was written before modes existed: plain).
-- name: stored_machine
SELECT session_scheme, project_mode, key_fingerprint FROM ccusage_machines FINAL WHERE machine_name = ?

-- Whether this machine has its totals row yet: if not, this is its first import with this
-- release, which also writes the rows of the machines that have none (fill_missing_totals).
-- name: has_totals
SELECT count() FROM ccusage_machine_totals WHERE machine_name = ?

-- This machine's totals for the fleet line, written after its rows: one row, even for a
-- machine without usage (no dates), and only when they changed (newest day version or
-- tokens) or the UTC month turned, so an import that changed nothing writes nothing. With it,
-- the machine's cost in the current UTC month, for the fleet's budget (budget_month).
-- Binds: machine, machine, machine.
-- name: machine_totals
INSERT INTO ccusage_machine_totals (machine_name, dates, total_tokens, total_cost, row_version,
    month, month_cost)
SELECT machine, dates, tokens, cost, version, this_month, this_month_cost
FROM
(
    -- Not named machine_name: the alias would stand for the column in the WHERE below; nor
    -- total_cost, which the month's sumIf reads.
    SELECT
        ? AS machine,
        arraySort(groupArray(date)) AS dates,
        sum(total_tokens) AS tokens,
        sum(total_cost) AS cost,
        max(row_version) AS version,
        substring(toString(toDate(now(), 'UTC')), 1, 7) AS this_month,
        sumIf(total_cost, date >= toStartOfMonth(toDate(now(), 'UTC'))) AS this_month_cost
    FROM ccusage_usage_daily FINAL
    WHERE machine_name = ?
)
WHERE (version, tokens, length(dates), this_month) NOT IN
(
    SELECT row_version, total_tokens, length(dates), month
    FROM ccusage_machine_totals FINAL
    WHERE machine_name = ?
)

-- Fleet-wide: the machines missing from ccusage_machine_totals (one row per machine in both
-- tables), and their days looked up by key. Run only by a machine's first import with this
-- release (has_totals), so not hourly once the fleet has upgraded.
-- The totals of machines that have no totals row yet (their last import was by an older
-- release), so the fleet line counts them before they import again.
-- name: fill_missing_totals
INSERT INTO ccusage_machine_totals (machine_name, dates, total_tokens, total_cost, row_version,
    month, month_cost)
SELECT
    machine_name,
    arraySort(groupArray(date)),
    sum(total_tokens),
    sum(total_cost),
    max(row_version),
    substring(toString(toDate(now(), 'UTC')), 1, 7),
    sumIf(total_cost, date >= toStartOfMonth(toDate(now(), 'UTC')))
FROM ccusage_usage_daily FINAL
WHERE machine_name IN
    (
        SELECT machine_name
        FROM ccusage_machines FINAL
        WHERE machine_name NOT IN (SELECT machine_name FROM ccusage_machine_totals)
    )
GROUP BY machine_name

-- Fleet-wide: one row per machine. Totals for the closing line of the summary, each machine's
-- usage counted once.
-- name: fleet_totals
SELECT
    countIf(notEmpty(dates)) AS machines,
    length(groupUniqArrayArray(dates)) AS days,
    toFloat64(sum(total_cost)) AS cost_usd,
    sum(total_tokens) AS total_tokens
FROM ccusage_machine_totals FINAL

-- Fleet-wide: one row per machine. The current UTC month's cost of the fleet and of this
-- machine (each machine's as of its last import that changed it), with the days elapsed and
-- the days in the month: the budget check of the summary, run only when a budget is set.
-- Binds: machine.
-- name: budget_month
SELECT
    toFloat64(sumIf(month_cost, month = substring(toString(toDate(now(), 'UTC')), 1, 7)))
        AS fleet_cost,
    toFloat64(sumIf(month_cost, month = substring(toString(toDate(now(), 'UTC')), 1, 7)
        AND machine_name = ?)) AS machine_cost,
    toUInt32(toDayOfMonth(toDate(now(), 'UTC'))) AS days_elapsed,
    toUInt32(toDayOfMonth(subtractDays(addMonths(toStartOfMonth(toDate(now(), 'UTC')), 1), 1)))
        AS days_in_month
FROM ccusage_machine_totals FINAL

-- This machine's stored days over the run's date range (first and last day of its daily
-- report), to say in the summary when the database keeps more than this run's ccusage printed.
-- name: stored_range
SELECT
    toFloat64(sum(total_cost)) AS cost_usd,
    sum(total_tokens) AS total_tokens
FROM ccusage_usage_daily FINAL
WHERE machine_name = ? AND date >= toDate(?) AND date <= toDate(?)

-- Fleet-wide: other machines' rows of ccusage_session_owners looked up by key (this
-- machine's session ids) only.
-- This machine's sessions copied into ccusage_session_owners where that table lacks them or
-- holds an older version (each session's own row_version): bounded by this machine's
-- sessions, looked up there by key. Binds: machine, machine.
-- name: session_owners
INSERT INTO ccusage_session_owners (session_id, project_path, machine_name, total_cost,
    superseded, row_version)
SELECT session_id, project_path, machine_name, total_cost, superseded, row_version
FROM ccusage_usage_sessions FINAL
WHERE machine_name = ? AND project_path != 'Unknown Project'
    AND (session_id, project_path, machine_name, row_version) NOT IN
    (
        SELECT session_id, project_path, machine_name, row_version
        FROM ccusage_session_owners FINAL
        WHERE session_id IN
        (
            SELECT session_id FROM ccusage_usage_sessions WHERE machine_name = ?
        )
    )

-- Fleet-wide: other machines' sessions looked up by key (this machine's session ids), a
-- bounded read whatever the fleet's size.
-- Other machines that stored sessions this machine stored too (the same session file: synced
-- logs), each with how many and what they cost there. ccusage 15-18's whole-project rows
-- (named after a directory, which two machines may share without sharing logs) and the
-- shared id "subagents" alone are not compared: a sub-agent row is keyed by its parent
-- session's path. Binds: machine, machine, machine.
-- name: shared_sessions
SELECT
    machine_name AS other,
    count() AS sessions,
    toFloat64(sum(total_cost)) AS cost_usd
FROM ccusage_session_owners FINAL
WHERE session_id IN
    (
        SELECT session_id FROM ccusage_usage_sessions WHERE machine_name = ?
    )
    AND machine_name != ? AND superseded = 0
    AND (project_path, session_id) IN
    (
        SELECT project_path, session_id
        FROM ccusage_usage_sessions FINAL
        WHERE machine_name = ? AND superseded = 0 AND project_path != 'Unknown Project'
    )
GROUP BY machine_name
ORDER BY machine_name

-- Whether the ledger already holds a run: asked before its insert is sent again, since an
-- insert whose answer was lost may have been stored. By machine first: the ledger's key.
-- name: ledger_has_run
SELECT count() FROM ccusage_import_runs WHERE machine_name = ? AND run_id = ?

-- The start of this machine's last import before this run, for the summary's "new since the
-- previous import" (the run's own ledger row is written after this is read).
-- name: previous_import
SELECT started_at
FROM ccusage_import_runs
WHERE machine_name = ? AND run_id != ? AND dry_run = 0
ORDER BY started_at DESC
LIMIT 1

-- `doctor`: the server's clock, to compare with this machine's.
-- name: doctor_server_clock
SELECT toUInt64(toUnixTimestamp(now())) AS now

-- `doctor`: the hosts that ran imports under this machine's name, and when each last did;
-- more than one host means two machines share a name and overwrite each other's rows.
-- name: doctor_hosts_of_machine
SELECT hostname, toUInt64(toUnixTimestamp(max(started_at))) AS last
FROM ccusage_import_runs
WHERE machine_name = ? AND dry_run = 0 AND hostname != ''
GROUP BY hostname
ORDER BY last DESC
LIMIT 10

-- `doctor`: when this machine's last import that was not a dry run started (0: never).
-- name: doctor_last_run
SELECT toUInt64(toUnixTimestamp(max(started_at))) AS last
FROM ccusage_import_runs
WHERE machine_name = ? AND dry_run = 0
