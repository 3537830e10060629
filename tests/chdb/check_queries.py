#!/usr/bin/env python3
"""Runs every named query of sql/queries.sql and sql/dashboard.sql on both ends of the
ClickHouse range.

    check_queries.py --url URL --database DB --machine NAME=CLAUDE_DIR [--machine ...]

The database DB on the server at URL (ClickHouse 18.16 in the tests) must hold what the real
importer wrote for each named machine, from the Claude Code logs in CLAUDE_DIR (run.sh does
that). This script

  1. creates the same schema (sql/schema.sql) in chdb, a current ClickHouse engine running in
     this process, and copies every table's rows from the server into it, unmerged;
  2. runs every named query on both engines (machine queries once per machine) and checks that
     both succeed and give the same answer (numbers within rounding, rows in the same order);
  3. checks that each view the current engine stored compares equal to the schema's query by
     the rule of src/schema.rs::same_view_query, so an up-to-date database on a current
     server is not re-created on every run (nor refused to a user without DDL rights);
  4. runs every statement of sql/dashboard.sql the same way, under the filters the page sends
     (none, each machine, the last 7 days, the agent claude);
  5. checks the key answers against ccusage's own totals (`ccusage claude daily --json`): each
     machine's `totals` and its `fleet_machine_totals` row equal that machine's ccusage totals,
     and `fleet_totals` equals their sum; so does the dashboard's headline, for the fleet and
     for each machine;
  6. copies one machine's days as an older importer stored them (no breakdown arrays) and
     checks that the model view reads them, and that fill_day_breakdowns fills them;
  7. runs the fleet-wide statements of sql/import.sql (issue 29) on both engines: each
     machine's machine_totals and session_owners, then fleet_totals (equal to the same totals
     read from ccusage_v_daily_summary) and each machine's shared_sessions;
  8. adds a machine with ten models and checks that daily_by_model and model_mix keep the
     top eight (by cost, by tokens) and sum the rest as "(others)".

Prints one line per check and `N passed, M failed` last; exits 1 when anything failed.
"""

import argparse
import datetime
import decimal
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COST_TOLERANCE = 1e-6


def parse_named(text):
    """The same rules as src/sqlfile.rs::parse_named: comments right above `-- name:` describe
    the block, a blank line ends a comment block, SQL runs to the next block."""
    blocks, comments = [], []
    for line in text.splitlines():
        trimmed = line.strip()
        if trimmed.startswith("-- name:"):
            blocks.append({"name": trimmed[len("-- name:"):].strip(),
                           "description": " ".join(comments), "sql": ""})
            comments = []
        elif not trimmed:
            comments = []
        elif trimmed.startswith("--"):
            comments.append(trimmed[2:].strip())
        elif blocks:
            comments = []
            blocks[-1]["sql"] += line + "\n"
    for block in blocks:
        block["sql"] = block["sql"].strip().rstrip(";")
    return blocks


def schema_statements(text):
    """The same rules as src/sqlfile.rs::schema_statements."""
    statements = []
    for chunk in text.split("\n;\n"):
        kept = [l for l in chunk.splitlines() if not l.lstrip().startswith("--")]
        statement = "\n".join(kept).strip()
        if statement:
            statements.append(statement)
    return statements


def quote(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def bind(sql, machine, zone="UTC"):
    """Binds every `?` to the machine's name, as the clickhouse crate does, and the markers of
    the queries that take a range and a zone as src/query.rs does without --since/--until."""
    sql = sql.replace("?", quote(machine)) if machine is not None else sql
    for marker, value in (("since", FIRST_DAY), ("until", LAST_DAY), ("tz", zone)):
        sql = sql.replace("{" + marker + "}", quote(value))
    return sql


# The bounds src/dashboard/filter.rs binds when the URL gives no date.
FIRST_DAY, LAST_DAY = "1970-01-01", "2105-12-31"


def bind_filter(sql, filter_):
    """Binds sql/dashboard.sql's markers as src/dashboard/data.rs does (each becomes a bound
    string): since, until, machine, agent, tz; an absent one is the widest value (UTC)."""
    values = {"since": filter_.get("since", FIRST_DAY), "until": filter_.get("until", LAST_DAY),
              "machine": filter_.get("machine", ""), "agent": filter_.get("agent", ""),
              "tz": filter_.get("tz", "UTC")}
    for marker, value in values.items():
        sql = sql.replace("{" + marker + "}", quote(value))
    return sql


class Server:
    """The ClickHouse server over HTTP."""

    def __init__(self, url, database):
        self.url = url.rstrip("/")
        self.database = database

    def query(self, sql, database=True):
        params = {"output_format_json_quote_64bit_integers": "0"}
        if database:
            params["database"] = self.database
        request = urllib.request.Request(
            f"{self.url}/?{urllib.parse.urlencode(params)}", data=sql.encode())
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.read().decode()
        except urllib.error.HTTPError as e:
            raise RuntimeError(e.read().decode().strip().splitlines()[0]) from None


class Chdb:
    """chdb: the current ClickHouse engine in this process."""

    def __init__(self):
        from chdb import session
        self.session = session.Session()

    def query(self, sql, fmt="JSONEachRow"):
        result = self.session.query(sql, fmt)
        return result.bytes().decode()

    def version(self):
        return self.query("SELECT version()", "TSV").strip()

    def close(self):
        self.session.close()


def rows(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def decimals(value):
    text = repr(float(value))
    if "e" in text or "." not in text:
        return 0
    return len(text.split(".")[1].rstrip("0"))


DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


def same_value(a, b):
    """Numbers equal within float noise, or one unit of the rounding both were rounded to
    (a sum of floats added in another order can round the other way); the rest exactly."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)):
            return True
        places = max(decimals(a), decimals(b))
        return 0 < places <= 6 and abs(a - b) <= 1.0001 * 10 ** -places
    if isinstance(a, str) and isinstance(b, str) and DECIMAL.fullmatch(a) and DECIMAL.fullmatch(b):
        # toString of a Decimal: 18.16 writes every place of the scale, current engines drop
        # trailing zeros ('49.962350650' and '49.96235065'); the value must be the same.
        return decimal.Decimal(a) == decimal.Decimal(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def same_rows(old, new):
    if len(old) != len(new):
        return False
    for x, y in zip(old, new):
        if list(x.keys()) != list(y.keys()):
            return False
        if not all(same_value(x[k], y[k]) for k in x):
            return False
    return True


def describe_difference(old, new):
    if len(old) != len(new):
        return f"{len(old)} rows on the server, {len(new)} in chdb"
    for i, (x, y) in enumerate(zip(old, new)):
        if list(x.keys()) != list(y.keys()):
            return f"columns differ: {list(x.keys())} vs {list(y.keys())}"
        for k in x:
            if not same_value(x[k], y[k]):
                return f"row {i + 1}, {k}: {x[k]!r} on the server, {y[k]!r} in chdb"
    return "no difference"


def ccusage_totals(claude_dir):
    """ccusage's own totals for the logs in claude_dir, as the integration tests read them."""
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(claude_dir), TZ="UTC")
    out = subprocess.run(
        ["ccusage", "claude", "daily", "--json", "--offline", "--mode", "auto",
         "--order", "asc", "--timezone", "UTC"],
        env=env, capture_output=True, text=True, check=True).stdout
    totals = json.loads(out)["totals"]
    return {
        "input": totals["inputTokens"],
        "output": totals["outputTokens"],
        "cache_write": totals["cacheCreationTokens"],
        "cache_read": totals["cacheReadTokens"],
        "cost": totals["totalCost"],
    }


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok    {what}")

    def fail(self, what, why):
        self.failed += 1
        print(f"FAIL  {what}: {why}")

    def check(self, condition, what, why):
        if condition:
            self.ok(what)
        else:
            self.fail(what, why)


def load_chdb(chdb, server, database):
    """The schema of this tree in chdb, and every table's rows copied from the server as they
    are stored there, merged or not. Rows of ReplacingMergeTree tables are inserted twice, in
    two parts, so a query that forgot FINAL counts them twice and no longer matches the
    server. Returns table -> (rows copied, rows in chdb, rows there through FINAL or None)."""
    statements = schema_statements((ROOT / "sql/schema.sql").read_text())
    # Keep every copied row as it is: by default the engine would already apply
    # ReplacingMergeTree's rule to each inserted block, hiding what FINAL has to do.
    chdb.query("SET optimize_on_insert = 0", "TSV")
    chdb.query(statements[0].replace("`{database}`", f"`{database}`"), "TSV")
    chdb.query(f"USE `{database}`", "TSV")
    for statement in statements[1:]:
        chdb.query(statement, "TSV")
    tables = [line.split("\t") for line in chdb.query(
        f"SELECT name, engine FROM system.tables WHERE database = {quote(database)} "
        "AND engine NOT LIKE '%View' ORDER BY name", "TSV").splitlines()]
    copied = {}
    for table, engine in tables:
        columns = chdb.query(
            f"SELECT name FROM system.columns WHERE database = {quote(database)} "
            f"AND table = {quote(table)} ORDER BY position", "TSV").split()
        column_list = ", ".join(f"`{c}`" for c in columns)
        data = server.query(f"SELECT {column_list} FROM {table} FORMAT TabSeparated")
        replacing = engine.startswith("Replacing")
        for _ in range(2 if replacing and data else 1 if data else 0):
            chdb.query(f"INSERT INTO {table} ({column_list}) FORMAT TabSeparated\n{data}", "TSV")
        stored = int(chdb.query(f"SELECT count() FROM {table}", "TSV"))
        final = (int(chdb.query(f"SELECT count() FROM {table} FINAL", "TSV"))
                 if replacing else None)
        copied[table] = (data.count("\n"), stored, final)
    return copied


def same_view_query(stored, expected, database):
    """src/schema.rs::same_view_query: the query after " AS SELECT", without backquotes, the
    database qualifier and whitespace, equals the schema's."""
    at = stored.find(" AS SELECT")
    if at < 0:
        return False

    def canonical(sql):
        return re.sub(r"\s", "", sql.replace("`", "").replace(f"{database}.", ""))
    return canonical(stored[at + len(" AS "):]) == canonical(expected)


def check_views(chdb, database, report):
    for statement in schema_statements((ROOT / "sql/schema.sql").read_text()):
        head = statement.splitlines()[0]
        if not head.startswith("CREATE VIEW IF NOT EXISTS "):
            continue
        name = head.split()[5]
        expected = statement.split(" AS\n", 1)[1].strip()
        stored = chdb.query(
            f"SELECT create_table_query FROM system.tables WHERE database = {quote(database)} "
            f"AND name = {quote(name)}", "TSVRaw").strip()
        report.check(same_view_query(stored, expected, database),
                     f"view {name} as chdb stores it is the schema's query",
                     f"stored as {stored[:200]!r}")


def check_dashboard(server, chdb, machines, report):
    """Every statement of sql/dashboard.sql under the filters a page sends (none, one machine,
    the last 7 days, one agent), on both engines, with the same answers. Returns the answers
    of the unfiltered and one-machine runs: (name, machine) -> (server rows, chdb rows)."""
    statements = parse_named((ROOT / "sql/dashboard.sql").read_text())
    report.check(len(statements) >= 20, f"{len(statements)} dashboard statements",
                 "fewer than 20")
    week = server.query("SELECT toString(today() - 6)", database=False).strip()
    filters = [("fleet", {})] + [(m, {"machine": m}) for m in machines] + [
        ("7 days", {"since": week}), ("agent claude", {"agent": "claude"}),
        ("Los Angeles", {"tz": "America/Los_Angeles"}),
        ("Kolkata, 7 days", {"tz": "Asia/Kolkata", "since": week})]
    answers = {}
    for statement in statements:
        for label, filter_ in filters:
            what = f"dashboard {statement['name']} [{label}]"
            sql = bind_filter(statement["sql"], filter_)
            try:
                on_server = rows(server.query(sql + "\nFORMAT JSONEachRow"))
                in_chdb = rows(chdb.query(sql, "JSONEachRow"))
            except Exception as e:  # the server's RuntimeError or chdb's own error type
                report.fail(what, str(e).splitlines()[0])
                continue
            if set(filter_) <= {"machine"}:
                answers[(statement["name"], filter_.get("machine"))] = (on_server, in_chdb)
            if same_rows(on_server, in_chdb):
                report.ok(f"{what}: {len(on_server)} rows, the same on both")
            else:
                report.fail(what, describe_difference(on_server, in_chdb))
    return answers


def both_engines(server, chdb):
    """(name, execute a statement, run a query for its JSONEachRow text) for each engine."""
    return (("server", server.query, lambda sql: server.query(sql + "\nFORMAT JSONEachRow")),
            ("chdb", lambda sql: chdb.query(sql, "TSV"),
             lambda sql: chdb.query(sql, "JSONEachRow")))


DAY_COLUMNS = ("date, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, "
               "total_tokens, total_cost, models_used, ccusage_version, imported_at, "
               "row_version, content_hash")
CHILD_COLUMNS = ("parent_kind, parent_key, model_name, input_tokens, output_tokens, "
                 "cache_creation_tokens, cache_read_tokens, total_tokens, cost, parent_version, "
                 "ccusage_version, imported_at")


def check_older_days(server, chdb, machine, report):
    """Days as an older importer stored them (no breakdown arrays in the day row, the models
    only as child rows), copied from `machine` under the name "older": ccusage_v_model_daily
    reads them from the children the same on both engines, and sql/import.sql's
    fill_day_breakdowns gives them their arrays without changing what the view shows."""
    fill = next(s for s in parse_named((ROOT / "sql/import.sql").read_text())
                if s["name"] == "fill_day_breakdowns")["sql"]
    per_model = ("SELECT toString(date) AS day, model_name, total_tokens, cost_usd "
                 "FROM ccusage_v_model_daily WHERE machine_name = {} ORDER BY day, model_name")
    for engine, execute, run in both_engines(server, chdb):
        execute(f"INSERT INTO ccusage_usage_daily (machine_name, {DAY_COLUMNS}) SELECT 'older', "
            f"{DAY_COLUMNS} FROM ccusage_usage_daily WHERE machine_name = {quote(machine)}")
        execute(f"INSERT INTO ccusage_model_breakdowns (machine_name, {CHILD_COLUMNS}) SELECT "
            f"'older', {CHILD_COLUMNS} FROM ccusage_model_breakdowns "
            f"WHERE machine_name = {quote(machine)}")
        want = rows(run(per_model.format(quote(machine))))
        older = rows(run(per_model.format(quote("older"))))
        report.check(len(want) > 3 and same_rows(want, older),
                     f"older days [{engine}]: ccusage_v_model_daily reads them from their "
                     f"children, {len(older)} rows as {machine}'s",
                     describe_difference(want, older))
        execute(bind(fill, "older"))
        left = rows(run("SELECT count() AS n FROM ccusage_usage_daily FINAL "
                        "WHERE machine_name = 'older' AND empty(breakdown_models)"))
        filled = rows(run(per_model.format(quote("older"))))
        report.check(int(left[0]["n"]) == 0 and same_rows(want, filled),
                     f"older days [{engine}]: fill_day_breakdowns gives every one its arrays, "
                     "the view unchanged",
                     f"{left[0]['n']} left without; " + describe_difference(want, filled))


def check_doctor(server, chdb, machines, report):
    """`doctor`'s statements of sql/import.sql run on both engines and answer the same (the
    clock within a minute: the two are asked a moment apart)."""
    named = [s for s in parse_named((ROOT / "sql/import.sql").read_text())
             if s["name"].startswith("doctor_")]
    report.check(len(named) == 3, "doctor's three statements", f"found {len(named)}")
    for statement in named:
        name, sql = statement["name"], statement["sql"]
        for machine in (list(machines) if "?" in sql else [None]):
            what = name if machine is None else f"{name} [{machine}]"
            try:
                on_server = rows(server.query(bind(sql, machine) + "\nFORMAT JSONEachRow"))
                in_chdb = rows(chdb.query(bind(sql, machine), "JSONEachRow"))
            except Exception as e:  # the server's RuntimeError or chdb's own type
                report.fail(what, f"fails: {str(e).splitlines()[0]}")
                continue
            if name == "doctor_server_clock":
                skew = abs(int(on_server[0]["now"]) - int(in_chdb[0]["now"]))
                report.check(skew < 60, f"{what}: the same clock on both", f"{skew} s apart")
            else:
                report.check(len(on_server) > 0 and same_rows(on_server, in_chdb),
                             f"{what}: {len(on_server)} rows, the same on both",
                             describe_difference(on_server, in_chdb))


def check_project_names(server, chdb, machines, report):
    """sql/import.sql's stored_project_names (each run's read of the names a machine's
    project rows are stored under, three tables through FINAL in one UNION ALL) runs on both
    engines and answers the same."""
    sql = next(s["sql"] for s in parse_named((ROOT / "sql/import.sql").read_text())
               if s["name"] == "stored_project_names")
    for machine in machines:
        what = f"stored_project_names [{machine}]"
        ordered = f"SELECT * FROM ({bind(sql, machine)}) ORDER BY project, project_name"
        try:
            on_server = rows(server.query(ordered + "\nFORMAT JSONEachRow"))
            in_chdb = rows(chdb.query(ordered, "JSONEachRow"))
        except Exception as e:  # the server's RuntimeError or chdb's own type
            report.fail(what, f"fails: {str(e).splitlines()[0]}")
            continue
        report.check(len(on_server) > 0 and same_rows(on_server, in_chdb),
                     f"{what}: {len(on_server)} rows, the same on both",
                     describe_difference(on_server, in_chdb))


def check_fleet_statements(server, chdb, machines, report):
    """sql/import.sql's bounded fleet reads: the totals table and the session-owners table each
    import writes for its own machine give the same fleet line as the daily view, and the
    shared-sessions check the same answer, on both engines."""
    named = {s["name"]: s["sql"] for s in parse_named((ROOT / "sql/import.sql").read_text())}
    from_view = ("SELECT uniqExact(machine_name) AS machines, uniqExact(date) AS days, "
                 "toFloat64(sum(total_cost)) AS cost_usd, sum(total_tokens) AS total_tokens "
                 "FROM ccusage_v_daily_summary")
    answers = {}
    for engine, execute, run in both_engines(server, chdb):
        for machine in machines:
            execute(bind(named["machine_totals"], machine))
            execute(bind(named["session_owners"], machine))
        execute(named["fill_missing_totals"])
        want = rows(run(from_view))
        got = rows(run(named["fleet_totals"]))
        report.check(same_rows(want, got),
                     f"fleet_totals [{engine}]: from ccusage_machine_totals, as the daily view",
                     describe_difference(want, got))
        answers[engine] = [rows(run(bind(named["shared_sessions"], m))) for m in machines]
        # The budget check's month: the fleet's equals the month of the daily view.
        month = ("SELECT toFloat64(sum(cost_usd)) AS cost FROM ccusage_v_machine_daily "
                 "WHERE month = substring(toString(toDate(now(), 'UTC')), 1, 7)")
        want = round(float(rows(run(month))[0]["cost"] or 0), 6)
        budget = [rows(run(bind(named["budget_month"], m)))[0] for m in machines]
        got = round(float(budget[0]["fleet_cost"]), 6)
        report.check(want == got,
                     f"budget_month [{engine}]: the fleet's month from ccusage_machine_totals, as the daily view",
                     f"{got} vs {want}")
        answers[engine].append(budget)
    report.check(answers["server"] == answers["chdb"],
                 "shared_sessions, budget_month: the same on both engines",
                 f"{answers['server']} vs {answers['chdb']}")


def monday(day):
    """The Monday of day's week, as toMonday gives it."""
    date = datetime.date.fromisoformat(day)
    return str(date - datetime.timedelta(days=date.weekday()))


def ranked_series(cells, by, date_of):
    """What daily_by_model and model_mix must answer for cells (day, model, cost, tokens):
    the eight models with the largest `by` over the range by name (ties by name), the rest
    summed as "(others)", per period date_of(day)."""
    totals = {}
    for _, model, cost, tokens in cells:
        totals[model] = totals.get(model, 0) + (cost if by == "cost" else tokens)
    top = sorted(totals, key=lambda m: (-totals[m], m))[:8]
    out = {}
    for day, model, cost, tokens in cells:
        key = (date_of(day), model if model in top else "(others)")
        had = out.get(key, (0, 0))
        out[key] = (had[0] + cost, had[1] + tokens)
    return dict(sorted(out.items()))


def check_model_ranking(server, chdb, report):
    """Ten models on one machine "ranked", cost and tokens ranking them in opposite orders:
    daily_by_model names the eight most expensive and sums the other two as "(others)",
    model_mix the eight with the most tokens, each week's shares summing to one; the same on
    both engines."""
    days = {"2026-01-15": [(f"m{i:02}", 1.5 * (i + 1), 1000 * (10 - i)) for i in range(10)],
            "2026-01-22": [("m09", 2.0, 500)]}
    cells = [(day, m, cost, tokens) for day, models in days.items() for m, cost, tokens in models]
    statements = {s["name"]: s["sql"] for s in parse_named(
        (ROOT / "sql/dashboard.sql").read_text())}
    filter_ = {"machine": "ranked", "since": "2026-01-01", "until": "2026-01-31"}
    by_cost = ranked_series(cells, "cost", lambda day: day)
    by_tokens = ranked_series(cells, "tokens", monday)
    for engine, execute, run in both_engines(server, chdb):
        for day, models in days.items():
            names = "[" + ", ".join(quote(m) for m, _, _ in models) + "]"
            costs = ", ".join(f"toDecimal64({c}, 9)" for _, c, _ in models)
            tokens = ", ".join(str(t) for _, _, t in models)
            zeros = "[" + ", ".join("0" for _ in models) + "]"
            execute(
                "INSERT INTO ccusage_usage_daily (machine_name, date, input_tokens, "
                "output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, "
                "total_cost, models_used, ccusage_version, imported_at, row_version, "
                "content_hash, breakdown_models, breakdown_input_tokens, "
                "breakdown_output_tokens, breakdown_cache_creation_tokens, "
                "breakdown_cache_read_tokens, breakdown_total_tokens, breakdown_cost) "
                f"SELECT 'ranked', toDate({quote(day)}), 0, 0, 0, 0, "
                f"{sum(t for _, _, t in models)}, toDecimal64({sum(c for _, c, _ in models)}, 9), "
                f"{names}, '20.0.24', now(), 1, 0, {names}, {zeros}, {zeros}, {zeros}, "
                f"{zeros}, [{tokens}], [{costs}]")
        got = rows(run(bind_filter(statements["daily_by_model"], filter_)))
        got = {(r["date"], r["series"]): (float(r["cost"]), int(r["tokens"])) for r in got}
        report.check(len(got) == 10 and list(got) == list(by_cost)
                     and all(same_value(list(got[k]), list(v)) for k, v in by_cost.items()),
                     f"daily_by_model [{engine}]: the eight most expensive of ten models, "
                     "the other two as (others)", f"{got} != {by_cost}")
        got = rows(run(bind_filter(statements["model_mix"], filter_)))
        shares = {}
        for r in got:
            shares[r["week"]] = shares.get(r["week"], 0) + float(r["share"])
        got = {(r["week"], r["series"]): int(r["tokens"]) for r in got}
        want = {k: v[1] for k, v in by_tokens.items()}
        report.check(got == want and all(abs(s - 1) < 1e-5 for s in shares.values()),
                     f"model_mix [{engine}]: the eight of ten models with the most tokens, "
                     "the other two as (others), each week's shares summing to one",
                     f"{got} != {want}; shares per week {shares}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--machine", action="append", required=True, metavar="NAME=CLAUDE_DIR")
    args = parser.parse_args()
    machines = dict(m.split("=", 1) for m in args.machine)

    report = Report()
    server = Server(args.url, args.database)
    chdb = Chdb()
    # today() and now() must mean the same on both engines.
    timezone = server.query("SELECT timezone()", database=False).strip()
    chdb.query(f"SET session_timezone = {quote(timezone)}", "TSV")
    print(f"server: ClickHouse {server.query('SELECT version()', database=False).strip()} "
          f"at {args.url}, database {args.database}, time zone {timezone}")
    print(f"chdb:   ClickHouse {chdb.version()} in process")
    copied = load_chdb(chdb, server, args.database)
    for table, (rows_copied, stored, final) in copied.items():
        if final is None:
            report.check(stored == rows_copied, f"{table}: {rows_copied} rows copied into chdb",
                         f"chdb holds {stored}")
        else:
            report.check(rows_copied > 0 and stored == 2 * rows_copied and final < stored,
                         f"{table}: {rows_copied} rows copied into chdb twice, "
                         f"{final} rows through FINAL",
                         f"{stored} stored, {final} through FINAL")

    check_views(chdb, args.database, report)
    check_doctor(server, chdb, machines, report)
    check_project_names(server, chdb, machines, report)

    queries = parse_named((ROOT / "sql/queries.sql").read_text())
    fleet = [q for q in queries if q["name"].startswith("fleet_")]
    print(f"{len(queries)} named queries, {len(fleet)} across machines")
    report.check(len(queries) >= 40, "at least 40 named queries", f"only {len(queries)}")
    report.check(len(fleet) >= 13, "at least 13 fleet queries", f"only {len(fleet)}")

    answers = {}  # (name, machine) -> rows on the server, rows in chdb
    for query in queries:
        name = query["name"]
        scopes = [None] if name.startswith("fleet_") else list(machines)
        zones = ["UTC", "America/Los_Angeles"] if "{tz}" in query["sql"] else ["UTC"]
        for machine, zone in [(m, z) for m in scopes for z in zones]:
            what = name if machine is None else f"{name} [{machine}]"
            what += "" if zone == "UTC" else f" [{zone}]"
            sql = bind(query["sql"], machine, zone)
            try:
                on_server = rows(server.query(sql + "\nFORMAT JSONEachRow"))
            except RuntimeError as e:
                report.fail(what, f"fails on the server: {e}")
                continue
            try:
                in_chdb = rows(chdb.query(sql, "JSONEachRow"))
            except Exception as e:  # chdb raises its own error type
                report.fail(what, f"fails in chdb: {str(e).splitlines()[0]}")
                continue
            if zone == "UTC":
                answers[(name, machine)] = (on_server, in_chdb)
            if same_rows(on_server, in_chdb):
                report.ok(f"{what}: {len(on_server)} rows, the same on both")
            else:
                report.fail(what, describe_difference(on_server, in_chdb))

    dashboard_answers = check_dashboard(server, chdb, machines, report)

    # Key answers against ccusage's own totals.
    expected = {machine: ccusage_totals(Path(d)) for machine, d in machines.items()}
    keys = ["input", "output", "cache_write", "cache_read"]

    def matches(row, want):
        return (row is not None and all(row[k] == want[k] for k in keys)
                and abs(float(row["cost"]) - want["cost"]) < COST_TOLERANCE)

    for engine, index in (("server", 0), ("chdb", 1)):
        for machine, want in expected.items():
            got = answers.get(("totals", machine))
            row = got[index][0] if got and got[index] else None
            report.check(matches(row, want), f"totals [{machine}] on {engine} = ccusage's",
                         f"{row} != {want}")
            got = answers.get(("fleet_machine_totals", None))
            row = next((r for r in got[index] if r["machine"] == machine), None) if got else None
            report.check(matches(row, want),
                         f"fleet_machine_totals row {machine} on {engine} = ccusage's",
                         f"{row} != {want}")
        fleet_want = {k: sum(w[k] for w in expected.values()) for k in keys + ["cost"]}
        got = answers.get(("fleet_totals", None))
        row = got[index][0] if got and got[index] else None
        report.check(matches(row, fleet_want) and row["machines"] == len(expected),
                     f"fleet_totals on {engine} = the sum of every machine's ccusage totals",
                     f"{row} != {fleet_want}")

        # The dashboard's headline cards, for the fleet and for each machine.
        scopes = [(None, fleet_want)] + list(expected.items())
        for machine, want in scopes:
            got = dashboard_answers.get(("headline", machine))
            row = got[index][0] if got and got[index] else None
            report.check(matches(row, want),
                         f"dashboard headline [{machine or 'fleet'}] on {engine} = ccusage's",
                         f"{row} != {want}")

    check_fleet_statements(server, chdb, list(machines), report)
    check_older_days(server, chdb, next(iter(machines)), report)
    check_model_ranking(server, chdb, report)

    chdb.close()
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
