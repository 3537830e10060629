-- The dashboard's statements: `ccusage-import dashboard` runs one per panel, and `--html` runs
-- them all once. The page never sends SQL; it names a panel and a filter.
--
-- Each block is the comment lines saying what it answers, a "-- name:" line, then the SQL.
-- The filter is written as the markers {since}, {until} (days, YYYY-MM-DD, both included),
-- {machine} and {agent} (empty: every machine, every agent) and {tz} (the IANA name of the zone
-- days are counted in, UTC by default). src/dashboard/data.rs turns every marker into a "?"
-- bind mark and binds the filter's value there, escaped by the client: no value is ever
-- spliced into the text, and no other "?" may appear. The client sends the zone as a quoted
-- constant, which is what 18.16's toDate(t, zone) and toHour(t, zone) need.
--
-- The rules of sql/queries.sql hold here too (tests check them): one report kind per statement
-- (daily, sessions, blocks, projects_daily, the all-agent table, or the ledger), usage tables
-- read with FINAL or through a ccusage_v_* view, and SQL that runs unchanged on ClickHouse
-- 18.16 and current releases (at most one JOIN, no window functions, no query parameters).
-- "Today" is toDate(now(), 'UTC'), or toDate(now(), {tz}) in the zone variants.
--
-- The stored days are UTC days (ccusage runs with --timezone UTC). A statement NAME_zone
-- stands in for NAME when the zone is not UTC: it counts days in the zone from the stored
-- hours (ccusage_usage_hours, one row per machine and UTC hour) and, before a machine's first
-- stored hour, from its stored days, which stay UTC days since their hours are not known.
-- The two parts never overlap: days before the UTC day of the first stored hour, hours from
-- it on. Panels by model or project have no hours and keep UTC days.

-- The headline cards from the daily report: machines, active days, tokens by kind, the exact
-- cost (a Decimal, as text), cost per active day and the cache hit rate (cache reads over all
-- prompt tokens). The same sums as `ccusage-import query fleet_totals` and `ccusage daily`.
-- name: headline
SELECT
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS active_days,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    toString(sum(total_cost)) AS cost,
    round(toFloat64(sum(total_cost)) / greatest(uniqExact(date), 1), 6) AS cost_per_active_day,
    round(sum(cache_read_tokens)
        / greatest(sum(input_tokens) + sum(cache_creation_tokens) + sum(cache_read_tokens), 1), 6)
        AS cache_hit_rate,
    if(count() = 0, '', toString(min(date))) AS first_day,
    if(count() = 0, '', toString(max(date))) AS last_day
FROM ccusage_v_daily_summary
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})

-- The headline cards with days counted in the zone picked: from the stored hours (one row per
-- machine and UTC hour), and before a machine's first stored hour from its stored days, which
-- stay UTC days (no hour is known there). Used instead of headline for a zone other than UTC.
-- name: headline_zone
SELECT
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS active_days,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    toString(sum(total_cost)) AS cost,
    round(toFloat64(sum(total_cost)) / greatest(uniqExact(date), 1), 6) AS cost_per_active_day,
    round(sum(cache_read_tokens)
        / greatest(sum(input_tokens) + sum(cache_creation_tokens) + sum(cache_read_tokens), 1), 6)
        AS cache_hit_rate,
    if(count() = 0, '', toString(min(date))) AS first_day,
    if(count() = 0, '', toString(max(date))) AS last_day
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
        AND date >= toDate({since}) AND date <= toDate({until})
        AND ({machine} = '' OR machine_name = {machine})
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
    WHERE addDays(toDate(hour), 1) >= toDate({since})
        AND toDate(hour) <= addDays(toDate({until}), 1)
        AND ({machine} = '' OR machine_name = {machine})
)
WHERE date >= toDate({since}) AND date <= toDate({until})

-- The headline cards for one agent (Claude Code, Codex, OpenCode, …), from the all-agent
-- report: used instead of headline when the filter names an agent.
-- name: headline_agent
SELECT
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS active_days,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    toString(sum(total_cost)) AS cost,
    round(toFloat64(sum(total_cost)) / greatest(uniqExact(date), 1), 6) AS cost_per_active_day,
    round(sum(cache_read_tokens)
        / greatest(sum(input_tokens) + sum(cache_creation_tokens) + sum(cache_read_tokens), 1), 6)
        AS cache_hit_rate,
    if(count() = 0, '', toString(min(date))) AS first_day,
    if(count() = 0, '', toString(max(date))) AS last_day
FROM ccusage_v_agent_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
    AND ({agent} = '' OR agent = {agent})

-- The current UTC month so far, from the daily report, and where it ends at the same daily
-- rate: cost so far / days elapsed × days in the month. Ignores the date range (it is always
-- this month), follows the machine.
-- name: month_projection
SELECT
    substring(toString(toDate(now(), 'UTC')), 1, 7) AS current_month,
    toDayOfMonth(toDate(now(), 'UTC')) AS days_elapsed,
    toDayOfMonth(subtractDays(addMonths(toStartOfMonth(toDate(now(), 'UTC')), 1), 1))
        AS days_in_month,
    round(sum(cost_usd), 6) AS month_cost,
    round(sum(cost_usd) / days_elapsed * days_in_month, 6) AS projected_cost
FROM ccusage_v_machine_daily
WHERE month = substring(toString(toDate(now(), 'UTC')), 1, 7)
    AND ({machine} = '' OR machine_name = {machine})

-- The current month in the zone picked so far and its projection, as month_projection, with
-- days counted in that zone (as headline_zone).
-- name: month_projection_zone
SELECT
    substring(toString(toDate(now(), {tz})), 1, 7) AS current_month,
    toDayOfMonth(toDate(now(), {tz})) AS days_elapsed,
    toDayOfMonth(subtractDays(addMonths(toStartOfMonth(toDate(now(), {tz})), 1), 1))
        AS days_in_month,
    round(sum(toFloat64(total_cost)), 6) AS month_cost,
    round(sum(toFloat64(total_cost)) / days_elapsed * days_in_month, 6) AS projected_cost
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
        AND date >= subtractDays(toStartOfMonth(toDate(now(), {tz})), 1)
        AND ({machine} = '' OR machine_name = {machine})
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
    WHERE toDate(hour) >= subtractDays(toStartOfMonth(toDate(now(), {tz})), 1)
        AND ({machine} = '' OR machine_name = {machine})
)
WHERE substring(toString(date), 1, 7) = substring(toString(toDate(now(), {tz})), 1, 7)

-- What the cache saved over the range, from the daily report's model breakdowns: the cost of
-- the same tokens without caching minus their cost, under Anthropic's price ratios (cache read
-- 0.1x, cache write 1.25x, output 5x the input price; the estimate of query cache_savings).
-- name: cache_saving
SELECT
    round(sum(usd), 6) AS cost,
    round(sum(unit * (input + cache_write + cache_read + 5 * output)), 6) AS cost_without_cache,
    round(sum(unit * (0.9 * cache_read - 0.25 * cache_write)), 6) AS cache_saving
FROM
(
    SELECT
        model_name,
        sum(input_tokens) AS input,
        sum(output_tokens) AS output,
        sum(cache_creation_tokens) AS cache_write,
        sum(cache_read_tokens) AS cache_read,
        sum(cost_usd) AS usd,
        sum(cost_usd) / greatest(sum(input_tokens) + 1.25 * sum(cache_creation_tokens)
            + 0.1 * sum(cache_read_tokens) + 5 * sum(output_tokens), 1) AS unit
    FROM ccusage_v_model_daily
    WHERE date >= toDate({since}) AND date <= toDate({until})
        AND ({machine} = '' OR machine_name = {machine})
    GROUP BY model_name
)

-- Every day of the range with usage, from the daily report: machines active, tokens by kind
-- and cost. Draws tokens per day and the input/output ratio, and fills the table of days.
-- name: days
SELECT
    date,
    uniqExact(machine_name) AS machines,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    round(sum(cost_usd), 6) AS cost
FROM ccusage_v_machine_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
GROUP BY date
ORDER BY date

-- Every day of the range with usage, days counted in the zone picked (as headline_zone).
-- name: days_zone
SELECT
    date,
    uniqExact(machine_name) AS machines,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 6) AS cost
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
        AND date >= toDate({since}) AND date <= toDate({until})
        AND ({machine} = '' OR machine_name = {machine})
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
    WHERE addDays(toDate(hour), 1) >= toDate({since})
        AND toDate(hour) <= addDays(toDate({until}), 1)
        AND ({machine} = '' OR machine_name = {machine})
)
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY date
ORDER BY date

-- The same days for one agent, from the all-agent report (used when the filter names one).
-- name: days_agent
SELECT
    date,
    uniqExact(machine_name) AS machines,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 6) AS cost
FROM ccusage_v_agent_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
    AND ({agent} = '' OR agent = {agent})
GROUP BY date
ORDER BY date

-- Cost and tokens per day and machine, from the daily report: the eight most expensive
-- machines of the range by name, the rest summed as "(others)", so a fleet of a thousand still
-- draws as nine stacked series.
-- name: daily_by_machine
SELECT
    date,
    if(machine_name IN
        (
            SELECT machine_name
            FROM ccusage_v_machine_daily
            WHERE date >= toDate({since}) AND date <= toDate({until})
                AND ({machine} = '' OR machine_name = {machine})
            GROUP BY machine_name
            ORDER BY sum(cost_usd) DESC, machine_name
            LIMIT 8
        ), machine_name, '(others)') AS series,
    round(sum(cost_usd), 6) AS cost,
    sum(total_tokens) AS tokens
FROM ccusage_v_machine_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
GROUP BY date, series
ORDER BY date, series

-- Cost and tokens per day and machine, days counted in the zone picked (as headline_zone);
-- the eight most expensive machines by name, the rest as "(others)".
-- name: daily_by_machine_zone
SELECT
    date,
    if(machine_name IN
        (
            SELECT machine_name
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
                    AND date >= toDate({since}) AND date <= toDate({until})
                    AND ({machine} = '' OR machine_name = {machine})
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
                WHERE addDays(toDate(hour), 1) >= toDate({since})
                    AND toDate(hour) <= addDays(toDate({until}), 1)
                    AND ({machine} = '' OR machine_name = {machine})
            )
            WHERE date >= toDate({since}) AND date <= toDate({until})
            GROUP BY machine_name
            ORDER BY toFloat64(sum(total_cost)) DESC, machine_name
            LIMIT 8
        ), machine_name, '(others)') AS series,
    round(toFloat64(sum(total_cost)), 6) AS cost,
    sum(total_tokens) AS tokens
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
        AND date >= toDate({since}) AND date <= toDate({until})
        AND ({machine} = '' OR machine_name = {machine})
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
    WHERE addDays(toDate(hour), 1) >= toDate({since})
        AND toDate(hour) <= addDays(toDate({until}), 1)
        AND ({machine} = '' OR machine_name = {machine})
)
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY date, series
ORDER BY date, series

-- Cost and tokens per day and model, from the daily report's model breakdowns: the eight most
-- expensive models of the range, the rest as "(others)".
-- The view is read once: 18.16 would run a second subquery over it again (the top eight
-- models), so the model totals are ranked beside the cells they came from. Innermost first:
-- the cells (a day and a model); each model's total with its cells as an array; one row of
-- every model, its cells and the eight top names; the cells back as rows, named by series.
-- name: daily_by_model
SELECT
    tupleElement(cell, 1) AS date,
    if(has(top_models, model_name), model_name, '(others)') AS series,
    round(sum(tupleElement(cell, 2)), 6) AS cost,
    sum(tupleElement(cell, 3)) AS tokens
FROM
(
    SELECT
        model_name,
        cells,
        top_models
    FROM
    (
        SELECT
            groupArray(model_name) AS model_names,
            groupArray(cells) AS model_cells,
            arraySlice(arrayMap(ranked -> tupleElement(ranked, 2),
                arraySort(groupArray((-model_cost, model_name)))), 1, 8) AS top_models
        FROM
        (
            SELECT
                model_name,
                sum(cost) AS model_cost,
                groupArray((date, cost, tokens)) AS cells
            FROM
            (
                SELECT
                    date,
                    model_name,
                    sum(cost_usd) AS cost,
                    sum(total_tokens) AS tokens
                FROM ccusage_v_model_daily
                WHERE date >= toDate({since}) AND date <= toDate({until})
                    AND ({machine} = '' OR machine_name = {machine})
                GROUP BY date, model_name
            )
            GROUP BY model_name
        )
    )
    ARRAY JOIN
        model_names AS model_name,
        model_cells AS cells
)
ARRAY JOIN cells AS cell
GROUP BY date, series
ORDER BY date, series

-- Each week's share of tokens per model (the model mix over time), from the daily report's
-- model breakdowns; the eight models with the most tokens by name, the rest as "(others)".
-- Read once, as daily_by_model is; then each week's series are gathered again to divide by
-- the week's total.
-- name: model_mix
SELECT
    week,
    tupleElement(part, 1) AS series,
    tupleElement(part, 2) AS tokens,
    round(tokens / greatest(week_tokens, 1), 6) AS share
FROM
(
    SELECT
        week,
        groupArray((series, tokens)) AS parts,
        sum(tokens) AS week_tokens
    FROM
    (
        SELECT
            tupleElement(cell, 1) AS week,
            if(has(top_models, model_name), model_name, '(others)') AS series,
            sum(tupleElement(cell, 2)) AS tokens
        FROM
        (
            SELECT
                model_name,
                cells,
                top_models
            FROM
            (
                SELECT
                    groupArray(model_name) AS model_names,
                    groupArray(cells) AS model_cells,
                    arraySlice(arrayMap(ranked -> tupleElement(ranked, 2),
                        arraySort(groupArray((-model_tokens, model_name)))), 1, 8) AS top_models
                FROM
                (
                    SELECT
                        model_name,
                        sum(tokens) AS model_tokens,
                        groupArray((week, tokens)) AS cells
                    FROM
                    (
                        SELECT
                            week,
                            model_name,
                            sum(total_tokens) AS tokens
                        FROM ccusage_v_model_daily
                        WHERE date >= toDate({since}) AND date <= toDate({until})
                            AND ({machine} = '' OR machine_name = {machine})
                        GROUP BY week, model_name
                    )
                    GROUP BY model_name
                )
            )
            ARRAY JOIN
                model_names AS model_name,
                model_cells AS cells
        )
        ARRAY JOIN cells AS cell
        GROUP BY week, series
    )
    GROUP BY week
)
ARRAY JOIN parts AS part
ORDER BY week, series

-- Cost and tokens per model over the range, from the daily report's model breakdowns.
-- name: models
SELECT
    model_name AS model,
    round(sum(cost_usd), 6) AS cost,
    sum(total_tokens) AS tokens,
    sum(input_tokens) AS input,
    sum(output_tokens) AS output,
    sum(cache_creation_tokens) AS cache_write,
    sum(cache_read_tokens) AS cache_read,
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS days
FROM ccusage_v_model_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
GROUP BY model_name
ORDER BY cost DESC, model

-- The hundred most expensive projects of the range, from the per-project daily report: cost,
-- tokens, active days, machines and the last day used. By the name people read (relative to
-- the home, an alias, or hidden), so one project checked out on two machines is one row.
-- name: projects
SELECT
    project_name AS project,
    round(sum(cost_usd), 6) AS cost,
    sum(total_tokens) AS tokens,
    uniqExact(date) AS days,
    uniqExact(machine_name) AS machines,
    max(date) AS last_day
FROM ccusage_v_project_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
GROUP BY project_name
ORDER BY cost DESC, project
LIMIT 100

-- The 200 most expensive sessions whose last activity falls in the range (its day in the zone
-- picked), from the session
-- report (only each machine's current session scheme, through ccusage_v_session_summary).
-- Sorted by the cost as Float64: 18.16 sorts a Decimal beside other keys a hundred times
-- slower (8.5 s instead of 80 ms for 540,000 sessions, scripts/bench-dashboard.sh).
-- name: sessions
SELECT
    machine_name AS machine,
    project_name AS project,
    session_id,
    first_activity,
    last_activity,
    total_tokens AS tokens,
    round(toFloat64(total_cost), 6) AS cost,
    length(models_used) AS models
FROM ccusage_v_session_summary
WHERE toDate(last_activity, {tz}) >= toDate({since})
    AND toDate(last_activity, {tz}) <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
ORDER BY toFloat64(total_cost) DESC, machine, session_id
LIMIT 200

-- The 5-hour block each machine is in now, as of its last import: tokens and cost so far,
-- ccusage's burn rate and projection. Ignores the date range (it is always now).
-- name: active_blocks
SELECT
    machine_name AS machine,
    start_time,
    end_time,
    actual_end_time AS last_entry,
    total_tokens AS tokens,
    round(toFloat64(cost_usd), 6) AS cost,
    round(burn_rate_cost_per_hour, 4) AS usd_per_hour,
    round(burn_rate_tokens_per_minute) AS tokens_per_minute,
    projected_total_tokens AS projected_tokens,
    round(toFloat64(projected_total_cost), 6) AS projected_cost,
    projected_remaining_minutes AS remaining_minutes,
    imported_at
FROM ccusage_v_blocks
WHERE is_active = 1 AND end_time > now()
    AND ({machine} = '' OR machine_name = {machine})
ORDER BY cost DESC, machine
LIMIT 100

-- Usage by hour of day and weekday (1 = Monday) in the zone picked, from the stored hours in
-- the range: on how many days that hour had usage, its tokens and cost (exact to the hour,
-- where 5-hour block starts put a whole block on its first hour). In a zone whose offset is
-- not whole hours (Asia/Kolkata) a UTC hour counts on the local hour it starts in. The weekday
-- is the local day's: current releases read a second argument of toDayOfWeek as a week mode.
-- name: block_heatmap
SELECT
    toDayOfWeek(toDate(at, {tz})) AS weekday,
    toHour(at, {tz}) AS hour,
    count() AS hours,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 6) AS cost
FROM
(
    SELECT
        machine_name,
        hour AS at,
        total_tokens,
        total_cost
    FROM ccusage_usage_hours FINAL
    WHERE toDate(hour, {tz}) >= toDate({since}) AND toDate(hour, {tz}) <= toDate({until})
        AND ({machine} = '' OR machine_name = {machine})
)
GROUP BY weekday, hour
ORDER BY weekday, hour

-- Usage per agent over the range (Claude Code, Codex, OpenCode, …), from the all-agent report.
-- name: agents
SELECT
    agent,
    uniqExact(machine_name) AS machines,
    uniqExact(date) AS days,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 6) AS cost
FROM ccusage_v_agent_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
    AND ({agent} = '' OR agent = {agent})
GROUP BY agent
ORDER BY cost DESC, agent

-- Cost per day and agent over the range, from the all-agent report.
-- name: agents_daily
SELECT
    date,
    agent,
    sum(total_tokens) AS tokens,
    round(toFloat64(sum(total_cost)), 6) AS cost
FROM ccusage_v_agent_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
    AND ({agent} = '' OR agent = {agent})
GROUP BY date, agent
ORDER BY date, agent

-- Each machine's usage from the daily report: its first and last day of usage ever, days since
-- it was last used, and its active days, tokens and cost in the range.
-- name: machines_usage
SELECT
    machine_name AS machine,
    min(date) AS first_day,
    max(date) AS last_day,
    toInt32(toDate(now(), 'UTC') - max(date)) AS days_since_use,
    countIf(date >= toDate({since}) AND date <= toDate({until})) AS active_days,
    sumIf(total_tokens, date >= toDate({since}) AND date <= toDate({until})) AS tokens,
    round(sumIf(cost_usd, date >= toDate({since}) AND date <= toDate({until})), 6) AS cost
FROM ccusage_v_machine_daily
WHERE ({machine} = '' OR machine_name = {machine})
GROUP BY machine_name
ORDER BY cost DESC, machine

-- Each machine's usage as machines_usage, days counted in the zone picked (as
-- headline_zone): days since it was last used count from today in that zone.
-- name: machines_usage_zone
SELECT
    machine_name AS machine,
    min(date) AS first_day,
    max(date) AS last_day,
    toInt32(toDate(now(), {tz}) - max(date)) AS days_since_use,
    uniqExactIf(date, date >= toDate({since}) AND date <= toDate({until})) AS active_days,
    sumIf(total_tokens, date >= toDate({since}) AND date <= toDate({until})) AS tokens,
    round(sumIf(toFloat64(total_cost), date >= toDate({since})
        AND date <= toDate({until})), 6) AS cost
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
        AND ({machine} = '' OR machine_name = {machine})
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
    WHERE ({machine} = '' OR machine_name = {machine})
)
GROUP BY machine_name
ORDER BY cost DESC, machine

-- Each machine's imports, from the ledger: the last run and how it ended, the last successful
-- one and the whole hours since it (-1: none ever), failed runs and the last failure's error,
-- the ccusage version and the warnings of its last run, and a stale mark when no import
-- succeeded in the last 26 hours (hourly cron plus slack).
-- name: machines_imports
SELECT
    machine_name AS machine,
    max(started_at) AS last_import,
    argMax(exit_code, started_at) AS last_exit_code,
    maxIf(started_at, exit_code = 0) AS last_ok,
    if(countIf(exit_code = 0) = 0, toInt64(-1),
        toInt64(intDiv(toUInt32(now()) - toUInt32(maxIf(started_at, exit_code = 0)), 3600)))
        AS hours_since_ok,
    countIf(exit_code != 0) AS failed_runs,
    count() AS runs,
    argMax(ccusage_version, started_at) AS ccusage_version,
    argMaxIf(substring(error, 1, 200), started_at, exit_code != 0) AS last_error,
    argMax(substring(warnings, 1, 300), started_at) AS last_warnings,
    toUInt8(countIf(exit_code = 0) = 0
        OR toUInt32(now()) - toUInt32(maxIf(started_at, exit_code = 0)) > 26 * 3600) AS stale
FROM ccusage_import_runs
WHERE dry_run = 0 AND ({machine} = '' OR machine_name = {machine})
GROUP BY machine_name
ORDER BY machine

-- API-equivalent cost per month of the range, from the daily report, for the plan card.
-- name: plan
SELECT
    month,
    uniqExact(date) AS active_days,
    round(sum(cost_usd), 6) AS cost
FROM ccusage_v_machine_daily
WHERE date >= toDate({since}) AND date <= toDate({until})
    AND ({machine} = '' OR machine_name = {machine})
GROUP BY month
ORDER BY month

-- API-equivalent cost per month of the range, months and days counted in the zone picked
-- (as headline_zone), for the plan card.
-- name: plan_zone
SELECT
    substring(toString(date), 1, 7) AS month,
    uniqExact(date) AS active_days,
    round(sum(toFloat64(total_cost)), 6) AS cost
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
        AND date >= toDate({since}) AND date <= toDate({until})
        AND ({machine} = '' OR machine_name = {machine})
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
    WHERE addDays(toDate(hour), 1) >= toDate({since})
        AND toDate(hour) <= addDays(toDate({until}), 1)
        AND ({machine} = '' OR machine_name = {machine})
)
WHERE date >= toDate({since}) AND date <= toDate({until})
GROUP BY month
ORDER BY month

-- Every machine with usage, for the machine filter, from the daily report.
-- name: meta_machines
SELECT
    machine_name AS machine,
    max(date) AS last_day
FROM ccusage_v_machine_daily
GROUP BY machine_name
ORDER BY machine

-- Every agent with usage, for the agent filter, from the all-agent report.
-- name: meta_agents
SELECT
    agent,
    uniqExact(machine_name) AS machines
FROM ccusage_v_agent_daily
GROUP BY agent
ORDER BY agent

-- Sessions stored by more than one machine, from ccusage_session_owners (which machines
-- stored each session; the import's shared-logs check fills it): machines that import the
-- same Claude logs (a synced ~/.claude) make every fleet figure count those sessions twice.
-- How many sessions, what all their copies cost, what the fleet counts twice (every copy but
-- the largest) and the machines involved, for the page's banner. Follows the date range (the
-- sessions whose activity, first to last, touches it: otherwise a month's view would warn with
-- all-time figures), the machine (the sessions it shares with others) and the agent (these are
-- Claude Code's sessions: under another agent there is nothing to warn of). ccusage 15-18's
-- whole-project rows are never in that table.
-- name: shared_sessions
SELECT
    count() AS sessions,
    round(sum(cost), 6) AS cost,
    round(sum(counted_twice), 6) AS counted_twice,
    arraySort(groupUniqArrayArray(owners)) AS machines
FROM
(
    SELECT
        toFloat64(sum(total_cost)) AS cost,
        toFloat64(sum(total_cost)) - toFloat64(max(total_cost)) AS counted_twice,
        groupUniqArray(machine_name) AS owners
    FROM ccusage_session_owners FINAL
    WHERE superseded = 0
        AND ({agent} = '' OR {agent} = 'claude')
        AND (project_path, session_id) IN
        (
            SELECT project_path, session_id
            FROM ccusage_v_session_summary
            WHERE toDate(last_activity, {tz}) >= toDate({since})
                AND toDate(ifNull(first_activity, last_activity), {tz}) <= toDate({until})
        )
    GROUP BY project_path, session_id
    HAVING length(owners) > 1
        AND ({machine} = '' OR has(owners, {machine}))
)
