-- Named queries: `ccusage-import query --list` lists them, `ccusage-import query NAME` runs one.
--
-- Each block is the comment lines saying what it answers, a "-- name:" line, then the SQL.
-- Names starting with fleet_ answer across every machine. All others answer for one machine:
-- each "?" is bound to this machine's name (MACHINE_NAME, or --machine-name NAME before
-- `query`), escaped by the client, so no other "?" may appear in the SQL.
--
-- A query that takes a range writes the markers {since} and {until} (days, both included;
-- the widest days when `query` is given no --since/--until), and {tz} for the zone days and
-- hours are counted in (--timezone, UTC by default). src/query.rs binds each marker as a
-- value, as it binds "?". A query NAME_zone stands in for NAME under a zone other than UTC:
-- days in the zone from the stored hours, and before a machine's first stored hour its stored
-- days, which stay UTC days (see sql/dashboard.sql). It is not listed and not run by name.
--
-- Rules every query keeps (tests check them):
--   * it reads exactly one report kind (daily, monthly, sessions, blocks, projects_daily), or
--     the ledger, or the all-agent table: every kind, the all-agent one too, is a view of
--     the same usage, so adding two of them counts it twice;
--   * usage tables are read with FINAL, or through a ccusage_v_* view that uses FINAL;
--   * it runs unchanged on ClickHouse 18.16 and on current releases (no window functions, no
--     WITH subqueries, no query parameters; arrays and joins on USING instead);
--   * the ledger counts runs by run_id: an insert that outlived --ch-timeout on the server
--     and was sent again may leave a run's row twice, and it still counts once;
--   * costs are USD: exact Decimal sums for the totals, Float64 rounded to cents elsewhere;
--   * days are UTC days (or days in {tz}), weeks start on Monday, months are "YYYY-MM";
--     "today" is toDate(now(), 'UTC'), never today(), which is the server's local day.

-- This machine's totals over all time (or --since/--until), from the daily report: the figures
-- `ccusage daily` prints as its totals, plus the first and last day.
-- name: totals
SELECT
    machine_name AS machine,
    count() AS days,
    min(date) AS first_day,
    max(date) AS last_day,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    sum(total_cost) AS cost
FROM ccusage_usage_daily FINAL
WHERE machine_name = ? AND date >= toDate({since}) AND date <= toDate({until})
GROUP BY machine_name

-- Cost and tokens per day on this machine.
-- name: daily
SELECT
    date,
    input_tokens AS input,
    output_tokens AS output,
    cache_creation_tokens AS cache_write,
    cache_read_tokens AS cache_read,
    total_tokens AS tokens,
    round(cost_usd, 2) AS cost,
    model_count AS models
FROM ccusage_v_machine_daily
WHERE machine_name = ? AND date >= toDate({since}) AND date <= toDate({until})
ORDER BY date

-- Cost and tokens per day on this machine, days counted in --timezone: from the stored hours,
-- and before the machine's first stored hour from its stored (UTC) days.
-- name: daily_zone
SELECT
    date,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 2) AS cost,
    uniqExactArray(models_used) AS models
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
        models_used
    FROM ccusage_v_daily_summary
    ANY LEFT JOIN
    (
        SELECT
            machine_name,
            min(hour) AS first_hour
        FROM ccusage_usage_hours FINAL
        WHERE machine_name = ?
        GROUP BY machine_name
    ) AS hours USING (machine_name)
    WHERE machine_name = ? AND (toUInt32(first_hour) = 0 OR date < toDate(first_hour))
    UNION ALL
    SELECT
        machine_name,
        toDate(hour, {tz}) AS date,
        input_tokens,
        output_tokens,
        cache_creation_tokens,
        cache_read_tokens,
        total_tokens,
        total_cost,
        models_used
    FROM ccusage_usage_hours FINAL
    WHERE machine_name = ?
)
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY date
ORDER BY date

-- Cost and tokens per week (Monday to Sunday) on this machine, with the cost per active day.
-- name: weekly
SELECT
    week,
    count() AS active_days,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    round(sum(cost_usd) / count(), 2) AS cost_per_active_day
FROM ccusage_v_machine_daily
WHERE machine_name = ?
GROUP BY week
ORDER BY week

-- Cost and tokens per month on this machine, from the monthly table (summed from the stored days).
-- name: monthly
SELECT
    month,
    input_tokens AS input,
    output_tokens AS output,
    cache_creation_tokens AS cache_write,
    cache_read_tokens AS cache_read,
    total_tokens AS tokens,
    round(cost_usd, 2) AS cost,
    model_count AS models
FROM ccusage_v_machine_monthly
WHERE machine_name = ?
ORDER BY month

-- The last seven UTC days on this machine, today included; a day without usage shows 0.
-- name: last_7_days
SELECT
    day AS date,
    tokens,
    round(usd, 2) AS cost
FROM
(
    SELECT arrayJoin(arrayMap(i -> toDate(now(), 'UTC') - i, range(7))) AS day
) AS days
ANY LEFT JOIN
(
    SELECT
        date AS day,
        total_tokens AS tokens,
        cost_usd AS usd
    FROM ccusage_v_machine_daily
    WHERE machine_name = ?
) AS usage USING day
ORDER BY date

-- The ten most expensive days on this machine.
-- name: top_days
SELECT
    date,
    total_tokens AS tokens,
    round(cost_usd, 2) AS cost,
    model_count AS models
FROM ccusage_v_machine_daily
WHERE machine_name = ? AND date >= toDate({since}) AND date <= toDate({until})
ORDER BY cost_usd DESC, date
LIMIT 10

-- Daily cost on this machine with its 7-day and 28-day moving averages. Every calendar day
-- from the first to the last is listed (days without usage count as 0); near the first day
-- the average is over the days so far.
-- name: daily_moving_average
SELECT
    day AS date,
    round(arraySum(arrayFilter((c, d) -> d = day, costs, dates)), 2) AS cost,
    round(arraySum(arrayFilter((c, d) -> d > day - 7 AND d <= day, costs, dates))
        / least(7, toUInt32(day - first_day) + 1), 2) AS avg_7d,
    round(arraySum(arrayFilter((c, d) -> d > day - 28 AND d <= day, costs, dates))
        / least(28, toUInt32(day - first_day) + 1), 2) AS avg_28d
FROM
(
    SELECT
        groupArray(date) AS dates,
        groupArray(cost_usd) AS costs,
        min(date) AS first_day,
        max(date) AS last_day
    FROM ccusage_v_machine_daily
    WHERE machine_name = ?
    HAVING count() > 0
)
ARRAY JOIN arrayMap(i -> first_day + i, range(toUInt32(last_day - first_day) + 1)) AS day
ORDER BY date

-- Week-over-week trend on this machine: each week's cost, the week before, and the change.
-- name: weekly_trend
SELECT
    week,
    round(usd, 2) AS cost,
    round(prev_usd, 2) AS previous_week,
    if(prev_usd = 0, NULL, round(100 * (usd - prev_usd) / prev_usd, 1)) AS change_pct
FROM
(
    SELECT
        week,
        sum(cost_usd) AS usd
    FROM ccusage_v_machine_daily
    WHERE machine_name = ?
    GROUP BY week
) AS current
ANY LEFT JOIN
(
    SELECT
        w + 7 AS week,
        usd_w AS prev_usd
    FROM
    (
        SELECT
            week AS w,
            sum(cost_usd) AS usd_w
        FROM ccusage_v_machine_daily
        WHERE machine_name = ?
        GROUP BY week
    )
) AS previous USING week
ORDER BY week

-- Month-over-month trend on this machine, from the monthly report: each month's cost, the
-- month before, and the change.
-- name: monthly_trend
SELECT
    month,
    tokens,
    round(usd, 2) AS cost,
    round(prev_usd, 2) AS previous_month,
    if(prev_usd = 0, NULL, round(100 * (usd - prev_usd) / prev_usd, 1)) AS change_pct
FROM
(
    SELECT
        month,
        total_tokens AS tokens,
        cost_usd AS usd
    FROM ccusage_v_machine_monthly
    WHERE machine_name = ?
) AS current
ANY LEFT JOIN
(
    SELECT
        substring(toString(addMonths(toDate(concat(m, '-01')), 1)), 1, 7) AS month,
        usd_m AS prev_usd
    FROM
    (
        SELECT
            month AS m,
            cost_usd AS usd_m
        FROM ccusage_v_machine_monthly
        WHERE machine_name = ?
    )
) AS previous USING month
ORDER BY month

-- Running totals on this machine: cost and tokens from the first day up to each day.
-- name: cumulative_cost
SELECT
    day AS date,
    round(arraySum(arrayFilter((c, d) -> d = day, costs, dates)), 2) AS cost,
    round(arraySum(arrayFilter((c, d) -> d <= day, costs, dates)), 2) AS cumulative_cost,
    arraySum(arrayFilter((t, d) -> d <= day, tokens, dates)) AS cumulative_tokens
FROM
(
    SELECT
        groupArray(date) AS dates,
        groupArray(cost_usd) AS costs,
        groupArray(total_tokens) AS tokens
    FROM ccusage_v_machine_daily
    WHERE machine_name = ?
    HAVING count() > 0
)
ARRAY JOIN dates AS day
ORDER BY date

-- This month so far on this machine, and the month's cost if the rest of it goes at the same
-- daily rate.
-- name: month_projection
SELECT
    toStartOfMonth(toDate(now(), 'UTC')) AS month_start,
    count() AS active_days,
    toDayOfMonth(toDate(now(), 'UTC')) AS days_elapsed,
    toDayOfMonth(addDays(addMonths(toStartOfMonth(toDate(now(), 'UTC')), 1), -1)) AS days_in_month,
    round(sum(cost_usd), 2) AS cost_so_far,
    round(sum(cost_usd) / days_elapsed * days_in_month, 2) AS projected_cost
FROM ccusage_v_machine_daily
WHERE machine_name = ? AND date >= toStartOfMonth(toDate(now(), 'UTC'))

-- Cost and tokens per model on this machine, with each model's share of the cost.
-- name: cost_by_model
SELECT
    model_name AS model,
    count() AS days,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    round(100 * sum(cost_usd) / all_usd, 1) AS share_pct
FROM ccusage_v_model_daily
ANY LEFT JOIN
(
    SELECT
        machine_name,
        sum(cost_usd) AS all_usd
    FROM ccusage_v_model_daily
    WHERE date >= toDate({since}) AND date <= toDate({until})
    GROUP BY machine_name
) AS total USING machine_name
WHERE machine_name = ? AND date >= toDate({since}) AND date <= toDate({until})
GROUP BY model_name, all_usd
ORDER BY cost DESC, model

-- Model mix over time on this machine: each week's cost per model and its share of the week.
-- name: model_mix_by_week
SELECT
    week,
    model,
    tokens,
    round(usd, 2) AS cost,
    round(100 * usd / week_usd, 1) AS share_pct
FROM
(
    SELECT
        week,
        model_name AS model,
        sum(total_tokens) AS tokens,
        sum(cost_usd) AS usd
    FROM ccusage_v_model_daily
    WHERE machine_name = ?
    GROUP BY week, model_name
) AS current
ANY LEFT JOIN
(
    SELECT
        week,
        sum(cost_usd) AS week_usd
    FROM ccusage_v_model_daily
    WHERE machine_name = ?
    GROUP BY week
) AS total USING week
ORDER BY week, usd DESC, model

-- Model mix per month on this machine, from the monthly report's model breakdowns: each
-- model's cost and share of the month.
-- name: model_mix_by_month
SELECT
    month,
    model,
    tokens,
    round(usd, 2) AS cost,
    round(100 * usd / month_usd, 1) AS share_pct
FROM
(
    SELECT
        parent_key AS month,
        model_name AS model,
        sum(total_tokens) AS tokens,
        toFloat64(sum(cost)) AS usd
    FROM ccusage_v_model_breakdowns
    WHERE machine_name = ? AND parent_kind = 'monthly'
    GROUP BY parent_key, model_name
) AS current
ANY LEFT JOIN
(
    SELECT
        parent_key AS month,
        toFloat64(sum(cost)) AS month_usd
    FROM ccusage_v_model_breakdowns
    WHERE machine_name = ? AND parent_kind = 'monthly'
    GROUP BY parent_key
) AS total USING month
ORDER BY month, usd DESC, model

-- When this machine first and last used each model, and on how many days.
-- name: model_first_last_seen
SELECT
    model_name AS model,
    min(date) AS first_day,
    max(date) AS last_day,
    count() AS days,
    round(sum(cost_usd), 2) AS cost
FROM ccusage_v_model_daily
WHERE machine_name = ?
GROUP BY model_name
ORDER BY first_day, model

-- What a million tokens cost per model on this machine, counting all tokens, and counting
-- only tokens not read from the cache.
-- name: model_cost_per_million
SELECT
    model_name AS model,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    round(1000000 * sum(cost_usd) / greatest(sum(total_tokens), 1), 2) AS usd_per_million,
    round(1000000 * sum(cost_usd)
        / greatest(sum(input_tokens) + sum(output_tokens) + sum(cache_creation_tokens), 1), 2)
        AS usd_per_million_uncached
FROM ccusage_v_model_daily
WHERE machine_name = ?
GROUP BY model_name
ORDER BY cost DESC, model

-- Cache efficiency per day on this machine: the share of prompt tokens read from the cache
-- (cache reads / (input + cache writes + cache reads)) and cache reads per token written.
-- name: cache_daily
SELECT
    date,
    input_tokens AS input,
    cache_creation_tokens AS cache_write,
    cache_read_tokens AS cache_read,
    round(100 * cache_read_tokens
        / greatest(input_tokens + cache_creation_tokens + cache_read_tokens, 1), 1)
        AS cache_read_pct,
    round(cache_read_tokens / greatest(cache_creation_tokens, 1), 1) AS reads_per_write
FROM ccusage_v_machine_daily
WHERE machine_name = ?
ORDER BY date

-- Cache efficiency per month on this machine, from the monthly report.
-- name: cache_monthly
SELECT
    month,
    input_tokens AS input,
    cache_creation_tokens AS cache_write,
    cache_read_tokens AS cache_read,
    round(100 * cache_read_tokens
        / greatest(input_tokens + cache_creation_tokens + cache_read_tokens, 1), 1)
        AS cache_read_pct,
    round(cache_read_tokens / greatest(cache_creation_tokens, 1), 1) AS reads_per_write
FROM ccusage_v_machine_monthly
WHERE machine_name = ?
ORDER BY month

-- Cost saved by the cache on this machine, per model: what the same tokens would have cost
-- without caching, minus what they cost. An estimate under Anthropic's price ratios (cache
-- read 0.1x, cache write 1.25x and output 5x the input price), which gives each model's input
-- price from its tokens and cost.
-- name: cache_savings
SELECT
    model,
    cache_read,
    round(usd, 2) AS cost,
    round(unit * (input + cache_write + cache_read + 5 * output), 2) AS cost_without_cache,
    round(unit * (0.9 * cache_read - 0.25 * cache_write), 2) AS saved,
    round(100 * (0.9 * cache_read - 0.25 * cache_write)
        / greatest(input + cache_write + cache_read + 5 * output, 1), 1) AS saved_pct
FROM
(
    SELECT
        model_name AS model,
        sum(input_tokens) AS input,
        sum(output_tokens) AS output,
        sum(cache_creation_tokens) AS cache_write,
        sum(cache_read_tokens) AS cache_read,
        sum(cost_usd) AS usd,
        sum(cost_usd) / greatest(sum(input_tokens) + 1.25 * sum(cache_creation_tokens)
            + 0.1 * sum(cache_read_tokens) + 5 * sum(output_tokens), 1) AS unit
    FROM ccusage_v_model_daily
    WHERE machine_name = ?
    GROUP BY model_name
)
ORDER BY saved DESC, model

-- The ten longest sessions on this machine, from first to last activity (sessions imported
-- from ccusage before 20.0.8 have no first activity and are left out).
-- name: longest_sessions
SELECT
    session_id,
    project_name AS project,
    first_activity,
    last_activity,
    intDiv(toUInt32(last_activity) - toUInt32(assumeNotNull(first_activity)), 60) AS minutes,
    total_tokens AS tokens,
    round(toFloat64(total_cost), 2) AS cost
FROM ccusage_v_session_summary
WHERE machine_name = ? AND first_activity IS NOT NULL
ORDER BY minutes DESC, session_id
LIMIT 10

-- The ten most expensive sessions on this machine.
-- name: expensive_sessions
SELECT
    session_id,
    project_name AS project,
    last_activity,
    total_tokens AS tokens,
    round(toFloat64(total_cost), 2) AS cost,
    length(models_used) AS models
FROM ccusage_v_session_summary
WHERE machine_name = ?
ORDER BY toFloat64(total_cost) DESC, session_id
LIMIT 10

-- Sessions per project on this machine: how many, their cost, cost per session and the last.
-- name: sessions_by_project
SELECT
    project_name AS project,
    count() AS sessions,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 2) AS cost,
    round(toFloat64(sum(total_cost)) / count(), 2) AS cost_per_session,
    max(last_activity) AS last_session
FROM ccusage_v_session_summary
WHERE machine_name = ?
GROUP BY project_name
ORDER BY cost DESC, project

-- How this machine's sessions are distributed: count, mean, median, 90th percentile and
-- largest cost, and median length in minutes.
-- name: session_stats
SELECT
    count() AS sessions,
    round(toFloat64(sum(total_cost)), 2) AS cost,
    round(avg(toFloat64(total_cost)), 2) AS mean_cost,
    round(quantileExact(0.5)(toFloat64(total_cost)), 2) AS median_cost,
    round(quantileExact(0.9)(toFloat64(total_cost)), 2) AS p90_cost,
    round(max(toFloat64(total_cost)), 2) AS max_cost,
    quantileExact(0.5)(intDiv(toUInt32(last_activity) - toUInt32(first_activity), 60))
        AS median_minutes
FROM ccusage_v_session_summary
WHERE machine_name = ?

-- Projects per day on this machine: each day's cost per project and its share of the day.
-- name: projects_by_day
SELECT
    date,
    project_name AS project,
    total_tokens AS tokens,
    round(cost_usd, 2) AS cost,
    round(100 * cost_usd / day_usd, 1) AS share_pct
FROM ccusage_v_project_daily
ANY LEFT JOIN
(
    SELECT
        machine_name,
        date,
        sum(cost_usd) AS day_usd
    FROM ccusage_v_project_daily
    GROUP BY machine_name, date
) AS total USING machine_name, date
WHERE machine_name = ?
ORDER BY date, cost_usd DESC, project

-- Projects per month on this machine: active days, tokens, cost and share of the month.
-- name: projects_by_month
SELECT
    month,
    project,
    active_days,
    tokens,
    round(usd, 2) AS cost,
    round(100 * usd / month_usd, 1) AS share_pct
FROM
(
    SELECT
        month,
        project_name AS project,
        count() AS active_days,
        sum(total_tokens) AS tokens,
        sum(cost_usd) AS usd
    FROM ccusage_v_project_daily
    WHERE machine_name = ?
    GROUP BY month, project_name
) AS current
ANY LEFT JOIN
(
    SELECT
        month,
        sum(cost_usd) AS month_usd
    FROM ccusage_v_project_daily
    WHERE machine_name = ?
    GROUP BY month
) AS total USING month
ORDER BY month, usd DESC, project

-- Every project on this machine over all time: first and last day, active days, cost and
-- share of the machine's cost.
-- name: top_projects
SELECT
    project_name AS project,
    min(date) AS first_day,
    max(date) AS last_day,
    count() AS active_days,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    round(100 * sum(cost_usd) / all_usd, 1) AS share_pct
FROM ccusage_v_project_daily
ANY LEFT JOIN
(
    SELECT
        machine_name,
        sum(cost_usd) AS all_usd
    FROM ccusage_v_project_daily
    GROUP BY machine_name
) AS total USING machine_name
WHERE machine_name = ?
GROUP BY project_name, all_usd
ORDER BY cost DESC, project

-- The ten busiest 5-hour blocks on this machine, by tokens.
-- name: busiest_blocks
SELECT
    start_time,
    actual_end_time AS last_entry,
    entries,
    total_tokens AS tokens,
    round(toFloat64(cost_usd), 2) AS cost,
    length(models) AS model_count
FROM ccusage_v_blocks
WHERE machine_name = ?
ORDER BY total_tokens DESC, start_time
LIMIT 10

-- Burn rates of this machine's last 20 blocks: cost per hour and tokens per minute over the
-- time between the block's first and last entry (at least one minute).
-- name: block_burn_rates
SELECT
    start_time,
    active_minutes,
    total_tokens AS tokens,
    round(toFloat64(cost_usd), 2) AS cost,
    round(60 * toFloat64(cost_usd) / greatest(active_minutes, 1), 2) AS usd_per_hour,
    intDiv(total_tokens, greatest(active_minutes, 1)) AS tokens_per_minute
FROM
(
    SELECT
        start_time,
        intDiv(toUInt32(ifNull(actual_end_time, start_time)) - toUInt32(start_time), 60)
            AS active_minutes,
        total_tokens,
        cost_usd
    FROM ccusage_v_blocks
    WHERE machine_name = ?
)
ORDER BY start_time DESC
LIMIT 20

-- The block this machine is in now, as of its last import: ccusage's burn rate and where the
-- block will end up at that rate. No row when no block is open.
-- name: current_block
SELECT
    start_time,
    end_time,
    actual_end_time AS last_entry,
    entries,
    total_tokens AS tokens,
    round(toFloat64(cost_usd), 2) AS cost,
    round(burn_rate_cost_per_hour, 2) AS usd_per_hour,
    round(burn_rate_tokens_per_minute) AS tokens_per_minute,
    projected_total_tokens AS projected_tokens,
    round(toFloat64(projected_total_cost), 2) AS projected_cost,
    projected_remaining_minutes AS remaining_minutes,
    imported_at
FROM ccusage_v_blocks
WHERE machine_name = ? AND is_active = 1 AND end_time > now()
ORDER BY start_time DESC
LIMIT 1

-- How close this machine's last ten blocks came to its limit, taking the limit as its
-- largest block so far (ccusage's "--token-limit max"); an open block also shows where its
-- projection lands.
-- name: block_limit_headroom
SELECT
    start_time,
    total_tokens AS tokens,
    max_tokens,
    round(100 * total_tokens / greatest(max_tokens, 1), 1) AS pct_of_max,
    projected_total_tokens AS projected_tokens,
    round(100 * projected_total_tokens / greatest(max_tokens, 1), 1) AS projected_pct_of_max,
    is_active
FROM ccusage_v_blocks
ANY LEFT JOIN
(
    SELECT
        machine_name,
        max(total_tokens) AS max_tokens
    FROM ccusage_v_blocks
    GROUP BY machine_name
) AS total USING machine_name
WHERE machine_name = ?
ORDER BY start_time DESC
LIMIT 10

-- At which UTC hours this machine's 5-hour blocks start: how many, their tokens and cost.
-- name: blocks_by_hour
SELECT
    toHour(start_time) AS hour_utc,
    count() AS blocks,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(cost_usd)), 2) AS cost,
    round(avg(entries), 1) AS mean_entries
FROM ccusage_v_blocks
WHERE machine_name = ?
GROUP BY hour_utc
ORDER BY hour_utc

-- Usage by hour of day in the zone (--timezone, UTC by default) on this machine, from the
-- stored hours (exact to the hour, where block starts put a whole block on its first hour):
-- on how many days that hour had usage, its entries, tokens and cost. In a zone whose offset
-- is not whole hours (Asia/Kolkata) a UTC hour counts on the local hour it starts in.
-- name: usage_by_hour
SELECT
    toHour(hour, {tz}) AS hour_of_day,
    count() AS active_days,
    sum(entries) AS entries,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 2) AS cost
FROM ccusage_usage_hours FINAL
WHERE machine_name = ?
    AND toDate(hour, {tz}) >= toDate({since}) AND toDate(hour, {tz}) <= toDate({until})
GROUP BY hour_of_day
ORDER BY hour_of_day

-- Days between this machine's first and last stored day that hold no usage: idle days, or
-- days whose logs were gone before the first import.
-- name: idle_days
SELECT
    day AS date,
    toDayOfWeek(day) AS weekday
FROM
(
    SELECT
        groupArray(date) AS dates,
        min(date) AS first_day,
        max(date) AS last_day
    FROM ccusage_v_machine_daily
    WHERE machine_name = ?
    HAVING count() > 0
)
ARRAY JOIN arrayMap(i -> first_day + i, range(toUInt32(last_day - first_day) + 1)) AS day
WHERE NOT has(dates, day)
ORDER BY date

-- This machine's last 20 import runs from the ledger: when, how each report went, what was
-- written and any error.
-- name: import_history
SELECT
    started_at,
    ccusage_version AS ccusage,
    exit_code,
    dry_run,
    duration_ms,
    rows_written,
    rows_unchanged,
    daily_status AS daily,
    monthly_status AS monthly,
    session_status AS sessions,
    blocks_status AS blocks,
    projects_daily_status AS projects,
    substring(error, 1, 100) AS error_start
FROM ccusage_import_runs
WHERE machine_name = ?
ORDER BY started_at DESC, run_id
LIMIT 1 BY run_id
LIMIT 20

-- Which ccusage version priced which of this machine's stored days.
-- name: days_by_ccusage_version
SELECT
    ccusage_version AS ccusage,
    count() AS days,
    min(date) AS first_day,
    max(date) AS last_day,
    max(imported_at) AS last_imported
FROM ccusage_v_daily_summary
WHERE machine_name = ?
GROUP BY ccusage_version
ORDER BY first_day, ccusage

-- The fleet's totals over all time (or --since/--until), from the daily report: the sum of
-- every machine's `ccusage daily` totals.
-- name: fleet_totals
SELECT
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS days,
    min(date) AS first_day,
    max(date) AS last_day,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    sum(total_cost) AS cost
FROM ccusage_usage_daily FINAL
WHERE date >= toDate({since}) AND date <= toDate({until})

-- Machines compared: each machine's totals over all time and its share of the fleet's cost.
-- name: fleet_machine_totals
SELECT
    machine_name AS machine,
    count() AS days,
    min(date) AS first_day,
    max(date) AS last_day,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    sum(total_cost) AS cost,
    round(100 * toFloat64(sum(total_cost))
        / (SELECT toFloat64(sum(total_cost)) FROM ccusage_usage_daily FINAL), 1) AS share_pct
FROM ccusage_usage_daily FINAL
GROUP BY machine_name
ORDER BY cost DESC, machine

-- The fleet per day: how many machines were used, tokens, cost, and the day's top machine.
-- name: fleet_daily
SELECT
    date,
    uniqExact(machine_name) AS machines,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    argMax(machine_name, cost_usd) AS top_machine
FROM ccusage_v_machine_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY date
ORDER BY date

-- The fleet per day, days counted in --timezone: from the stored hours, and before each
-- machine's first stored hour from its stored (UTC) days.
-- name: fleet_daily_zone
SELECT
    date,
    uniqExact(machine_name) AS machines,
    sum(machine_tokens) AS tokens,
    round(sum(machine_usd), 2) AS cost,
    argMax(machine_name, machine_usd) AS top_machine
FROM
(
    SELECT
        date,
        machine_name,
        sum(total_tokens) AS machine_tokens,
        toFloat64(sum(total_cost)) AS machine_usd
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
            total_cost
        FROM ccusage_v_daily_summary
        ANY LEFT JOIN
        (
            SELECT
                machine_name,
                min(hour) AS first_hour
            FROM ccusage_usage_hours FINAL
            GROUP BY machine_name
        ) AS hours USING (machine_name)
        WHERE (toUInt32(first_hour) = 0 OR date < toDate(first_hour))
        UNION ALL
        SELECT
            machine_name,
            toDate(hour, {tz}) AS date,
            input_tokens,
            output_tokens,
            cache_creation_tokens,
            cache_read_tokens,
            total_tokens,
            total_cost
        FROM ccusage_usage_hours FINAL
    )
    WHERE date >= toDate({since}) AND date <= toDate({until})
    GROUP BY date, machine_name
)
GROUP BY date
ORDER BY date

-- Each machine's cost per day and its share of the fleet's day.
-- name: fleet_daily_by_machine
SELECT
    date,
    machine_name AS machine,
    total_tokens AS tokens,
    round(cost_usd, 2) AS cost,
    round(100 * cost_usd / day_usd, 1) AS share_pct
FROM ccusage_v_machine_daily
ANY LEFT JOIN
(
    SELECT
        date,
        sum(cost_usd) AS day_usd
    FROM ccusage_v_machine_daily
    WHERE date >= toDate({since}) AND date <= toDate({until})
    GROUP BY date
) AS total USING date
WHERE date >= toDate({since}) AND date <= toDate({until})
ORDER BY date, machine

-- The fleet's week-over-week trend: each week's cost, machines used, the week before and the
-- change.
-- name: fleet_weekly_trend
SELECT
    week,
    machines,
    tokens,
    round(usd, 2) AS cost,
    round(prev_usd, 2) AS previous_week,
    if(prev_usd = 0, NULL, round(100 * (usd - prev_usd) / prev_usd, 1)) AS change_pct
FROM
(
    SELECT
        week,
        uniqExact(machine_name) AS machines,
        sum(total_tokens) AS tokens,
        sum(cost_usd) AS usd
    FROM ccusage_v_machine_daily
    GROUP BY week
) AS current
ANY LEFT JOIN
(
    SELECT
        w + 7 AS week,
        usd_w AS prev_usd
    FROM
    (
        SELECT
            week AS w,
            sum(cost_usd) AS usd_w
        FROM ccusage_v_machine_daily
        GROUP BY week
    )
) AS previous USING week
ORDER BY week

-- The fleet's month-over-month trend, from the monthly report: each month's cost, machines
-- used, the month before and the change.
-- name: fleet_monthly_trend
SELECT
    month,
    machines,
    tokens,
    round(usd, 2) AS cost,
    round(prev_usd, 2) AS previous_month,
    if(prev_usd = 0, NULL, round(100 * (usd - prev_usd) / prev_usd, 1)) AS change_pct
FROM
(
    SELECT
        month,
        uniqExact(machine_name) AS machines,
        sum(total_tokens) AS tokens,
        sum(cost_usd) AS usd
    FROM ccusage_v_machine_monthly
    GROUP BY month
) AS current
ANY LEFT JOIN
(
    SELECT
        substring(toString(addMonths(toDate(concat(m, '-01')), 1)), 1, 7) AS month,
        usd_m AS prev_usd
    FROM
    (
        SELECT
            month AS m,
            sum(cost_usd) AS usd_m
        FROM ccusage_v_machine_monthly
        GROUP BY month
    )
) AS previous USING month
ORDER BY month

-- Each machine's cost per month, from the monthly report, and its share of the fleet's month.
-- name: fleet_monthly_by_machine
SELECT
    month,
    machine_name AS machine,
    total_tokens AS tokens,
    round(cost_usd, 2) AS cost,
    round(100 * cost_usd / month_usd, 1) AS share_pct
FROM ccusage_v_machine_monthly
ANY LEFT JOIN
(
    SELECT
        month,
        sum(cost_usd) AS month_usd
    FROM ccusage_v_machine_monthly
    GROUP BY month
) AS total USING month
ORDER BY month, cost_usd DESC, machine

-- The fleet's daily cost with its 7-day and 28-day moving averages, every calendar day from
-- the first to the last (days without usage count as 0).
-- name: fleet_daily_moving_average
SELECT
    day AS date,
    round(arraySum(arrayFilter((c, d) -> d = day, costs, dates)), 2) AS cost,
    round(arraySum(arrayFilter((c, d) -> d > day - 7 AND d <= day, costs, dates))
        / least(7, toUInt32(day - first_day) + 1), 2) AS avg_7d,
    round(arraySum(arrayFilter((c, d) -> d > day - 28 AND d <= day, costs, dates))
        / least(28, toUInt32(day - first_day) + 1), 2) AS avg_28d
FROM
(
    SELECT
        groupArray(day_of) AS dates,
        groupArray(usd) AS costs,
        min(day_of) AS first_day,
        max(day_of) AS last_day
    FROM
    (
        SELECT
            date AS day_of,
            sum(cost_usd) AS usd
        FROM ccusage_v_machine_daily
        GROUP BY date
    )
    HAVING count() > 0
)
ARRAY JOIN arrayMap(i -> first_day + i, range(toUInt32(last_day - first_day) + 1)) AS day
ORDER BY date

-- Every machine with its first and last day of usage, active days, days since it was last
-- used and when its usage was last imported.
-- name: fleet_machines
SELECT
    machine_name AS machine,
    min(date) AS first_day,
    max(date) AS last_day,
    count() AS active_days,
    toDate(now(), 'UTC') - max(date) AS days_since_use,
    max(imported_at) AS last_imported
FROM ccusage_v_daily_summary
GROUP BY machine_name
ORDER BY last_day DESC, machine

-- Machines gone quiet: no usage stored for the last 7 days or more, most recently quiet last.
-- name: fleet_quiet_machines
SELECT
    machine_name AS machine,
    max(date) AS last_day,
    toDate(now(), 'UTC') - max(date) AS days_quiet,
    count() AS active_days,
    round(sum(cost_usd), 2) AS lifetime_cost
FROM ccusage_v_machine_daily
GROUP BY machine_name
HAVING days_quiet >= 7
ORDER BY days_quiet DESC, machine

-- Which machine uses which model: cost per machine and model, and the model's share of the
-- machine's cost.
-- name: fleet_models_by_machine
SELECT
    machine_name AS machine,
    model_name AS model,
    count() AS days,
    max(date) AS last_day,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    round(100 * sum(cost_usd) / machine_usd, 1) AS share_pct
FROM ccusage_v_model_daily
ANY LEFT JOIN
(
    SELECT
        machine_name,
        sum(cost_usd) AS machine_usd
    FROM ccusage_v_model_daily
    GROUP BY machine_name
) AS total USING machine_name
GROUP BY machine_name, model_name, machine_usd
ORDER BY machine, cost DESC, model

-- Cost per model across the fleet: machines using it, tokens, cost and share of the cost.
-- name: fleet_cost_by_model
SELECT
    model_name AS model,
    uniqExact(machine_name) AS machines,
    count() AS machine_days,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost,
    round(100 * sum(cost_usd) / (SELECT sum(cost_usd) FROM ccusage_v_model_daily
        WHERE date >= toDate({since}) AND date <= toDate({until})), 1) AS share_pct
FROM ccusage_v_model_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY model_name
ORDER BY cost DESC, model

-- The fleet's model mix per month, from the monthly report's model breakdowns.
-- name: fleet_model_mix_by_month
SELECT
    month,
    model,
    machines,
    tokens,
    round(usd, 2) AS cost,
    round(100 * usd / month_usd, 1) AS share_pct
FROM
(
    SELECT
        parent_key AS month,
        model_name AS model,
        uniqExact(machine_name) AS machines,
        sum(total_tokens) AS tokens,
        toFloat64(sum(cost)) AS usd
    FROM ccusage_v_model_breakdowns
    WHERE parent_kind = 'monthly'
    GROUP BY parent_key, model_name
) AS current
ANY LEFT JOIN
(
    SELECT
        parent_key AS month,
        toFloat64(sum(cost)) AS month_usd
    FROM ccusage_v_model_breakdowns
    WHERE parent_kind = 'monthly'
    GROUP BY parent_key
) AS total USING month
ORDER BY month, usd DESC, model

-- Projects across the fleet: on which machines each was worked on, active days and cost.
-- name: fleet_projects
SELECT
    project_name AS project,
    uniqExact(machine_name) AS machines,
    arraySort(groupUniqArray(machine_name)) AS machine_list,
    uniqExact(date) AS active_days,
    min(date) AS first_day,
    max(date) AS last_day,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost
FROM ccusage_v_project_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY project_name
ORDER BY cost DESC, project

-- Projects per month across the fleet: machines, active days, tokens and cost.
-- name: fleet_projects_by_month
SELECT
    month,
    project_name AS project,
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS active_days,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost
FROM ccusage_v_project_daily
GROUP BY month, project_name
ORDER BY month, cost DESC, project

-- Sessions per machine: how many, in how many projects, cost per session, the longest in
-- minutes and the latest.
-- name: fleet_sessions_by_machine
SELECT
    machine_name AS machine,
    count() AS sessions,
    uniqExact(project_name) AS projects,
    round(toFloat64(sum(total_cost)), 2) AS cost,
    round(toFloat64(sum(total_cost)) / count(), 2) AS cost_per_session,
    max(intDiv(toUInt32(last_activity) - toUInt32(first_activity), 60)) AS longest_minutes,
    max(last_activity) AS last_session
FROM ccusage_v_session_summary
GROUP BY machine_name
ORDER BY cost DESC, machine

-- The ten most expensive sessions across the fleet.
-- name: fleet_expensive_sessions
SELECT
    machine_name AS machine,
    session_id,
    project_name AS project,
    last_activity,
    total_tokens AS tokens,
    round(toFloat64(total_cost), 2) AS cost
FROM ccusage_v_session_summary
ORDER BY toFloat64(total_cost) DESC, machine, session_id
LIMIT 10

-- Sessions stored by more than one machine: the same session file imported twice, because
-- the machines share their Claude logs (a synced ~/.claude). Each one's machines, its cost
-- on each, and what the fleet totals count twice (all copies but the largest). ccusage
-- 15-18's whole-project rows are left out: they are named after a directory, which machines
-- may share without sharing logs. Under --projects hash, machines must share the key file to
-- be compared.
-- name: fleet_shared_sessions
SELECT
    session_id,
    any(project_name) AS project,
    uniqExact(machine_name) AS machines,
    arraySort(groupUniqArray(machine_name)) AS machine_list,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 2) AS cost,
    round(toFloat64(sum(total_cost)) - toFloat64(max(total_cost)), 2) AS counted_twice
FROM ccusage_v_session_summary
WHERE project_path != 'Unknown Project'
GROUP BY project_path, session_id
HAVING machines > 1
ORDER BY cost DESC, session_id

-- The ten busiest 5-hour blocks across the fleet, by tokens.
-- name: fleet_busiest_blocks
SELECT
    machine_name AS machine,
    start_time,
    entries,
    total_tokens AS tokens,
    round(toFloat64(cost_usd), 2) AS cost
FROM ccusage_v_blocks
ORDER BY total_tokens DESC, machine, start_time
LIMIT 10

-- Burn rates per machine over all its blocks: mean and highest cost per active hour, and the
-- mean and largest block in tokens.
-- name: fleet_block_burn_rates
SELECT
    machine,
    count() AS blocks,
    round(avg(usd_per_hour), 2) AS mean_usd_per_hour,
    round(max(usd_per_hour), 2) AS max_usd_per_hour,
    round(avg(tokens)) AS mean_block_tokens,
    max(tokens) AS max_block_tokens
FROM
(
    SELECT
        machine_name AS machine,
        total_tokens AS tokens,
        3600 * toFloat64(cost_usd)
            / greatest(toUInt32(ifNull(actual_end_time, start_time)) - toUInt32(start_time), 60)
            AS usd_per_hour
    FROM ccusage_v_blocks
)
GROUP BY machine
ORDER BY machine

-- Cache efficiency per machine: the share of prompt tokens read from the cache and cache
-- reads per token written.
-- name: fleet_cache_by_machine
SELECT
    machine_name AS machine,
    sum(input_tokens) AS input,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    round(100 * sum(cache_read_tokens)
        / greatest(sum(input_tokens) + sum(cache_creation_tokens) + sum(cache_read_tokens), 1), 1)
        AS cache_read_pct,
    round(sum(cache_read_tokens) / greatest(sum(cache_creation_tokens), 1), 1)
        AS reads_per_write
FROM ccusage_v_machine_daily
GROUP BY machine_name
ORDER BY machine

-- Cost saved by the cache on each machine (the estimate of cache_savings, per model, summed
-- per machine).
-- name: fleet_cache_savings
SELECT
    machine,
    round(sum(usd), 2) AS cost,
    round(sum(unit * (input + cache_write + cache_read + 5 * output)), 2) AS cost_without_cache,
    round(sum(unit * (0.9 * cache_read - 0.25 * cache_write)), 2) AS saved
FROM
(
    SELECT
        machine_name AS machine,
        sum(input_tokens) AS input,
        sum(output_tokens) AS output,
        sum(cache_creation_tokens) AS cache_write,
        sum(cache_read_tokens) AS cache_read,
        sum(cost_usd) AS usd,
        sum(cost_usd) / greatest(sum(input_tokens) + 1.25 * sum(cache_creation_tokens)
            + 0.1 * sum(cache_read_tokens) + 5 * sum(output_tokens), 1) AS unit
    FROM ccusage_v_model_daily
    GROUP BY machine_name, model_name
)
GROUP BY machine
ORDER BY saved DESC, machine

-- Days imported by each machine, per month: days stored, the first and last, and when the
-- month was last imported.
-- name: fleet_days_imported
SELECT
    machine_name AS machine,
    substring(toString(date), 1, 7) AS month,
    count() AS days_stored,
    min(date) AS first_day,
    max(date) AS last_day,
    max(imported_at) AS last_imported
FROM ccusage_v_daily_summary
GROUP BY machine_name, month
ORDER BY machine, month

-- The last import of each machine, from the ledger: when, how it ended, hours ago, the last
-- successful one, runs in the last 24 hours and failed runs.
-- name: fleet_last_import
SELECT
    machine_name AS machine,
    max(started_at) AS last_run,
    argMax(exit_code, started_at) AS last_exit_code,
    round((toUInt32(now()) - toUInt32(max(started_at))) / 3600, 1) AS hours_ago,
    maxIf(started_at, exit_code = 0) AS last_ok,
    uniqExactIf(run_id, started_at > now() - 86400) AS runs_24h,
    uniqExactIf(run_id, exit_code != 0) AS failed_runs,
    uniqExact(run_id) AS runs
FROM ccusage_import_runs
WHERE dry_run = 0
GROUP BY machine_name
ORDER BY last_run DESC, machine

-- The ccusage versions in use: for each version, the machines whose latest import ran it.
-- name: fleet_ccusage_versions
SELECT
    version AS ccusage,
    count() AS machines,
    arraySort(groupArray(machine)) AS machine_list,
    max(last_run) AS last_run
FROM
(
    SELECT
        machine_name AS machine,
        argMax(ccusage_version, started_at) AS version,
        max(started_at) AS last_run
    FROM ccusage_import_runs
    WHERE dry_run = 0
    GROUP BY machine_name
)
GROUP BY version
ORDER BY machines DESC, ccusage

-- Failed imports per machine, from the ledger: how many, the last one and its error.
-- name: fleet_import_failures
SELECT
    machine_name AS machine,
    uniqExact(run_id) AS failed_runs,
    max(started_at) AS last_failure,
    argMax(exit_code, started_at) AS last_exit_code,
    argMax(substring(error, 1, 120), started_at) AS last_error
FROM ccusage_import_runs
WHERE exit_code != 0
GROUP BY machine_name
ORDER BY last_failure DESC, machine

-- Usage per day and agent on this machine (Claude Code, Codex, OpenCode, …), from the
-- all-agent daily report (ccusage 19 and later).
-- name: agents_daily
SELECT
    date,
    agent,
    total_tokens AS tokens,
    round(toFloat64(total_cost), 2) AS cost
FROM ccusage_v_agent_daily
WHERE machine_name = ?
ORDER BY date, agent

-- Usage per agent across the fleet: machines, active days, tokens and cost.
-- name: fleet_agents
SELECT
    agent,
    uniqExact(machine_name) AS machines,
    count() AS machine_days,
    min(date) AS first_day,
    max(date) AS last_day,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 2) AS cost
FROM ccusage_v_agent_daily
GROUP BY agent
ORDER BY cost DESC, agent
