-- Statements the importer itself runs. Each starts with a "-- name:" line; "?" marks a bound
-- value (the clickhouse crate sends it escaped, never spliced from user text).

-- name: server_version
SELECT version()

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
-- data; 18.16 has neither DROP VIEW nor CREATE OR REPLACE VIEW). Only ever sent for an
-- object whose engine system.tables shows as View: never for a table.
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
FROM ccusage_usage_sessions FINAL WHERE machine_name = ?

-- name: existing_blocks
SELECT block_id AS key, content_hash, total_tokens
FROM ccusage_usage_blocks FINAL WHERE machine_name = ?

-- name: existing_projects_daily
SELECT concat(toString(date), ' ', project) AS key, content_hash, total_tokens
FROM ccusage_usage_projects_daily FINAL WHERE machine_name = ?

-- name: existing_agents_daily
SELECT concat(toString(date), ' ', agent) AS key, content_hash, total_tokens
FROM ccusage_usage_agents_daily FINAL WHERE machine_name = ?

-- Fleet-wide totals for the closing line of the summary: read from the daily view, so each
-- machine's usage counts once.
-- name: fleet_totals
SELECT
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS days,
    toFloat64(sum(total_cost)) AS cost_usd,
    sum(total_tokens) AS total_tokens
FROM ccusage_v_daily_summary

-- Whether the ledger already holds a run: asked before its insert is sent again, since an
-- insert whose answer was lost may have been stored.
-- name: ledger_has_run
SELECT count() FROM ccusage_import_runs WHERE run_id = ?

-- The start of this machine's last import before this run, for the summary's "new since the
-- previous import" (the run's own ledger row is written after this is read).
-- name: previous_import
SELECT started_at
FROM ccusage_import_runs
WHERE machine_name = ? AND run_id != ? AND dry_run = 0
ORDER BY started_at DESC
LIMIT 1
