#!/usr/bin/env python3
"""Synthetic Claude Code transcript generator for ccusage-import tests and benchmarks.

It builds a Claude config directory the way Claude Code lays one out:

    OUT/projects/<dir>/<session-id>.jsonl                          main transcript
    OUT/projects/<dir>/<session-id>/subagents/agent-<agent>.jsonl   Task sub-agent transcript

where <dir> is the session's working directory with every "/" and "." turned
into "-" (/home/alice/proj-a -> -home-alice-proj-a).  The `cwd` field inside the
lines keeps the raw path.

Assistant lines carry message.{id,model,usage}, requestId, sessionId, cwd,
version and a UTC timestamp such as 2025-01-31T23:59:59.123Z.  Every line is
compact JSON, so each assistant line contains the bytes `"usage":{` (the
pre-filter of ccusage 20).  User, tool-result and summary lines have no usage.

Cases the generated data always or usually contains:
  - one API response stored as 2-3 lines sharing message.id, requestId and usage;
  - streamed responses: an early copy with a tiny output_tokens, then the final
    copy with the real count (first-wins and max-wins dedup disagree on these);
  - resumed sessions whose file starts by replaying lines of an earlier session
    of the same project (same ids, original timestamps, new sessionId);
  - "<synthetic>" model lines with all-zero usage;
  - costUSD on the lines of exactly one session;
  - sub-agent transcripts in <session-id>/subagents/;
  - text with non-ASCII characters, quotes and backslashes.

All sessions end at least 8 hours before "now".  With --active one more session
starts 40 minutes before now, so `ccusage blocks` shows an active 5-hour block.

The ground truth (both dedup policies, per UTC day, per day and project, per
month) is written as JSON to --summary (default OUT/expected-summary.json).
Output depends only on the arguments: same --seed and --now, same bytes.

Examples:
    gen_claude_logs.py --out /tmp/ccu/claude --projects 2 --days 8 --lines 400 --seed 1 --active
    gen_claude_logs.py --out /tmp/ccu/big --projects 50 --days 90 --lines 200000 --seed 2 --active --pad 800
    gen_claude_logs.py --out /tmp/ccu/odd --project-cwd "/home/o'neil/café" --touch-old
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict

# Model name, relative weight, mean output tokens.  All four are in ccusage's price table.
MODEL_TABLE = (
    ("claude-sonnet-4-20250514", 40, 900),
    ("claude-opus-4-1-20250805", 25, 700),
    ("claude-sonnet-4-5-20250929", 20, 800),
    ("claude-haiku-4-5-20251001", 15, 300),
)
SYNTHETIC_MODEL = "<synthetic>"
CLIENT_VERSIONS = ("1.0.83", "1.0.98", "2.0.14", "2.0.37")
BRANCHES = ("main", "dev", "feature/x", "fix/usage")
HOME_USERS = ("alice", "bob", "carol", "dave")
TOOLS = ("Bash", "Read", "Edit", "Grep", "Write")
# Vocabulary for message text.  A few entries need JSON escaping or are non-ASCII.
VOCAB = (
    "the a of to in and for with build test deploy fix refactor parse token usage cache "
    "import table insert select merge query row column schema error retry timeout crate "
    "cargo clippy async await struct enum trait impl match vec string json daily monthly "
    "session block project model cost report naïve café → ✅ 日本語 \"quoted\" C:\\tmp\\x "
    "it's tab\there"
).split(" ")

MS_SECOND = 1000
MS_MINUTE = 60 * MS_SECOND
MS_HOUR = 60 * MS_MINUTE
MS_DAY = 24 * MS_HOUR
QUIET_BEFORE_NOW = 8 * MS_HOUR      # every non-active session ends before now - 8 h
ACTIVE_START_BEFORE_NOW = 40 * MS_MINUTE
AVG_TURN_MS = 145 * MS_SECOND       # rough duration of one user+assistant exchange
AVG_LINES_PER_TURN = 2.2
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
to_json = _encoder.encode


def ms_to_iso(ms: int) -> str:
    """Milliseconds since the epoch -> 2025-01-31T23:59:59.123Z."""
    d = EPOCH + dt.timedelta(milliseconds=ms)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_now(text: str | None) -> int:
    if not text:
        return time.time_ns() // 1_000_000
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(s)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def project_dir_name(cwd: str) -> str:
    return cwd.replace("/", "-").replace(".", "-")


class Rand:
    """Thin wrapper over random.Random with the id and text helpers we need."""

    def __init__(self, seed: int, pad: int):
        self.r = random.Random(seed)
        self.mean_text = max(1, pad)
        # One long stretch of words; message text is a random slice of it.
        target = max(1 << 16, self.mean_text * 32)
        parts, size = [], 0
        while size < target:
            chunk = self.r.choices(VOCAB, k=2048)
            parts.append(" ".join(chunk))
            size += len(parts[-1]) + 1
        self.pool = " ".join(parts)
        self.max_text = len(self.pool) // 2

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def token(self, prefix: str, n: int = 24, alphabet: str = ALNUM) -> str:
        return prefix + "".join(self.r.choices(alphabet, k=n))

    def text(self, n: int | None = None) -> str:
        if n is None:
            n = max(10, int(self.r.expovariate(1.0 / self.mean_text)))
        n = min(n, self.max_text)
        start = self.r.randrange(len(self.pool) - n)
        return self.pool[start:start + n]

    def ms_between(self, lo_s: float, hi_s: float) -> int:
        return int(self.r.uniform(lo_s, hi_s) * 1000)


class Ledger:
    """Ground truth for both dedup policies.

    first: the first copy of each (message.id, requestId) in file order wins (ccusage <= 18).
    best:  the copy with the largest token sum wins (ccusage 20).
    Each record is (day, project dir, model, (input, output, cacheCreate, cacheRead)).
    """

    def __init__(self):
        self.first: dict = {}
        self.best: dict = {}

    def add(self, key, record) -> None:
        if key not in self.first:
            self.first[key] = record
        held = self.best.get(key)
        if held is None or sum(record[3]) > sum(held[3]):
            self.best[key] = record

    @staticmethod
    def _bucket():
        return [0, 0, 0, 0]

    @staticmethod
    def _as_dict(counts, models=None):
        out = {"input": counts[0], "output": counts[1], "cacheCreate": counts[2], "cacheRead": counts[3]}
        if models is not None:
            out["models"] = sorted(models)
        return out

    def _report(self, records: dict) -> dict:
        total = [0, 0, 0, 0]
        day_sum = defaultdict(self._bucket)
        day_models = defaultdict(set)
        month_sum = defaultdict(self._bucket)
        month_models = defaultdict(set)
        day_project_sum = defaultdict(self._bucket)
        for day, project, model, tokens in records.values():
            month = day[:7]
            slots = (total, day_sum[day], month_sum[month], day_project_sum[f"{day}|{project}"])
            for slot in slots:
                for i in range(4):
                    slot[i] += tokens[i]
            day_models[day]  # make sure the day exists even with only synthetic lines
            month_models[month]
            if model != SYNTHETIC_MODEL:
                day_models[day].add(model)
                month_models[month].add(model)
        return {
            "entries": len(records),
            "totals": self._as_dict(total),
            "daily": {d: self._as_dict(day_sum[d], day_models[d]) for d in sorted(day_sum)},
            "dailyByProject": {k: self._as_dict(day_project_sum[k]) for k in sorted(day_project_sum)},
            "monthly": {m: self._as_dict(month_sum[m], month_models[m]) for m in sorted(month_sum)},
        }

    def report(self) -> dict:
        return {"firstWins": self._report(self.first), "maxWins": self._report(self.best)}


class Session:
    """One main transcript file plus its sub-agent transcripts."""

    def __init__(self, sid: str, cwd: str, start: int, end_cap: int):
        self.sid = sid
        self.cwd = cwd
        self.pdir = project_dir_name(cwd)
        self.start = start
        self.end_cap = end_cap
        self.lines: list[str] = []
        self.last_ms = 0
        self.agents: dict[str, list[str]] = {}
        self.agent_last_ms: dict[str, int] = {}
        # First lines kept for later resumed sessions: (object, ledger key, ledger record, ms)
        self.head: list[tuple] = []


class Generator:
    HEAD_KEEP = 12

    def __init__(self, args):
        self.args = args
        self.rnd = Rand(args.seed, args.pad)
        self.r = self.rnd.r
        self.ledger = Ledger()
        self.now = parse_now(args.now)
        self.projects_root = os.path.join(args.out, "projects")
        self.cwds = self._choose_cwds()
        self.files = 0
        self.lines = 0
        self.bytes = 0
        self.oldest = None
        self.newest = None
        self.history: dict[str, list[Session]] = defaultdict(list)
        self.resumed = 0
        self.streamed = 0
        self.synthetic = 0
        self.subagent_lines = 0

    # ---- planning -------------------------------------------------------------------------
    def _choose_cwds(self) -> list[str]:
        if self.args.project_cwd:
            return list(self.args.project_cwd)
        cwds = []
        for i in range(self.args.projects):
            if i == 0:
                cwds.append("/home/alice/proj-a")
            elif i == 1:
                cwds.append("/home/bob/work/service.api")
            else:
                cwds.append(f"/home/{self.r.choice(HOME_USERS)}/src/repo-{i:03d}")
        return cwds

    def plan(self):
        a = self.args
        n_proj = len(self.cwds)
        per_session = max(20, min(400, a.lines // max(1, n_proj * a.days)))
        n_quiet = max(n_proj, round(a.lines / per_session))
        if a.active:
            n_quiet = max(n_proj, n_quiet - 1)
        lo = self.now - a.days * MS_DAY
        hi = self.now - QUIET_BEFORE_NOW
        expected = int(per_session / AVG_LINES_PER_TURN * AVG_TURN_MS)
        latest_start = max(lo, hi - expected - MS_MINUTE)
        starts = sorted(self.r.randint(lo, latest_start) for _ in range(n_quiet))
        owners = list(range(n_proj)) + [self.r.randrange(n_proj) for _ in range(n_quiet - n_proj)]
        self.r.shuffle(owners)
        plan = [(starts[i], hi, owners[i]) for i in range(n_quiet)]
        if a.active:
            plan.append((self.now - ACTIVE_START_BEFORE_NOW, self.now - MS_MINUTE, self.r.randrange(n_proj)))
        return per_session, plan

    # ---- line builders --------------------------------------------------------------------
    def _usage(self, version: str, context: int, mean_out: int) -> dict:
        r = self.r
        created = r.randint(100, 4000) if r.random() < 0.4 else 0
        usage = {
            "input_tokens": r.randint(1, 40),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": context,
        }
        if not version.startswith("1."):
            long_lived = created if r.random() < 0.1 else 0
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": created - long_lived,
                                       "ephemeral_1h_input_tokens": long_lived}
        usage["output_tokens"] = max(1, int(r.gauss(mean_out, mean_out / 3)))
        if not version.startswith("1."):
            usage["service_tier"] = "standard"
        return usage

    @staticmethod
    def _tokens(usage: dict) -> tuple:
        return (usage.get("input_tokens", 0), usage.get("output_tokens", 0),
                usage.get("cache_creation_input_tokens", 0), usage.get("cache_read_input_tokens", 0))

    def _pick_model(self):
        x = self.r.random() * 100
        for name, weight, mean_out in MODEL_TABLE:
            x -= weight
            if x < 0:
                return name, mean_out
        return MODEL_TABLE[-1][0], MODEL_TABLE[-1][2]

    def _content_blocks(self, n: int, model: str):
        """Content for each line of an n-line response, plus whether it ends in tool use."""
        rnd = self.rnd
        if model == SYNTHETIC_MODEL:
            return [[{"type": "text", "text": "No response requested."}]] * n, False
        kinds = ["text"] * n
        if n >= 2 and self.r.random() < 0.5:
            kinds[0] = "thinking"
        uses_tool = self.r.random() < 0.45
        if uses_tool:
            kinds[-1] = "tool_use"
        blocks = []
        for kind in kinds:
            if kind == "thinking":
                blocks.append([{"type": "thinking", "thinking": rnd.text(), "signature": rnd.token("Eq", 40)}])
            elif kind == "tool_use":
                tool = self.r.choice(TOOLS)
                blocks.append([{"type": "tool_use", "id": rnd.token("toolu_01"), "name": tool,
                                "input": {"command" if tool == "Bash" else "pattern": rnd.text()}}])
            else:
                blocks.append([{"type": "text", "text": rnd.text()}])
        return blocks, uses_tool

    def _record(self, key, ms: int, pdir: str, model: str, usage: dict):
        rec = (ms_to_iso(ms)[:10], pdir, model, self._tokens(usage))
        self.ledger.add(key, rec)
        return rec

    # ---- one session ----------------------------------------------------------------------
    def build_session(self, index: int, start: int, end_cap: int, owner: int, per_session: int,
                      with_cost: bool) -> Session:
        r, rnd = self.r, self.rnd
        cwd = self.cwds[owner]
        s = Session(rnd.uuid4(), cwd, start, end_cap)
        version = r.choice(CLIENT_VERSIONS)
        branch = r.choice(BRANCHES)
        common = {"isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": s.sid,
                  "version": version, "gitBranch": branch}
        first_session = index == 0
        parent = None

        # Resumed session: replay the start of an earlier session of the same project.
        earlier = self.history.get(s.pdir)
        if earlier and (self.resumed == 0 or r.random() < 0.12):
            source = r.choice(earlier)
            if source.head:
                self.resumed += 1
                s.lines.append(to_json({"type": "summary", "summary": rnd.text(60),
                                        "leafUuid": rnd.uuid4()}))
                for obj, key, rec, ms in source.head[: r.randint(4, self.HEAD_KEEP)]:
                    copy = dict(obj)
                    copy["sessionId"] = s.sid
                    s.lines.append(to_json(copy))
                    s.last_ms = max(s.last_ms, ms)
                    if key is not None:
                        self.ledger.add(key, rec)
                    parent = obj.get("uuid")

        t = start
        context = r.randint(8000, 20000)
        agent_id = None
        turn = 0
        pending_tool = None
        budget = per_session
        while budget > 0 and t + 70 * MS_SECOND <= end_cap:  # a turn spans < 60 s
            # -- user line: a prompt, or the result of the previous tool call
            user_uuid = rnd.uuid4()
            if pending_tool:
                content = [{"tool_use_id": pending_tool, "type": "tool_result", "content": rnd.text()}]
            else:
                content = rnd.text()
            user = {"parentUuid": parent, **common, "type": "user",
                    "message": {"role": "user", "content": content},
                    "uuid": user_uuid, "timestamp": ms_to_iso(t)}
            self._add_main(s, user, None, None, t)
            parent = user_uuid
            budget -= 1
            t += rnd.ms_between(2, 40)

            # -- assistant response: 1-3 lines with the same ids
            model, mean_out = self._pick_model()
            shape = r.random()
            if first_session and turn < 3:
                shape = (0.99, 0.95, 0.5)[turn]  # streamed, triple copy, synthetic
            synthetic = (first_session and turn == 2) or r.random() < 0.01
            context += r.randint(200, 3000)
            if synthetic:
                shape = min(shape, 0.5)  # a synthetic reply is never streamed
                model = SYNTHETIC_MODEL
                usage = {"input_tokens": 0, "output_tokens": 0,
                         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
                self.synthetic += 1
            else:
                usage = self._usage(version, context, mean_out)
            if shape < 0.86:
                copies = [usage]
            elif shape < 0.93:
                copies = [usage, usage]
            elif shape < 0.97:
                copies = [usage, usage, usage]
            else:
                early = dict(usage)
                early["output_tokens"] = r.randint(1, min(12, max(1, usage["output_tokens"] - 1)))
                copies = [early, usage] if r.random() < 0.7 else [early, usage, usage]
                self.streamed += 1
            times = []
            for _ in copies:
                times.append(t)
                t += r.randint(50, 900)
            # keep a response on one UTC day so its day is the same for both policies
            if times[0] // MS_DAY != times[-1] // MS_DAY:
                shift = (times[-1] // MS_DAY) * MS_DAY + 1 - times[0]
                times = [x + shift for x in times]
                t += shift
            msg_id = rnd.token("msg_01")
            req_id = rnd.token("req_011C")
            blocks, uses_tool = self._content_blocks(len(copies), model)
            for i, u in enumerate(copies):
                a_uuid = rnd.uuid4()
                last = i == len(copies) - 1
                line = {"parentUuid": parent, **common,
                        "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                    "content": blocks[i],
                                    "stop_reason": ("tool_use" if uses_tool else "end_turn") if last else None,
                                    "stop_sequence": None, "usage": u},
                        "requestId": req_id, "type": "assistant", "uuid": a_uuid,
                        "timestamp": ms_to_iso(times[i])}
                if with_cost:
                    line["costUSD"] = self._cost(u)
                key = (msg_id, req_id)
                rec = self._record(key, times[i], s.pdir, model, u)
                self._add_main(s, line, key, rec, times[i])
                parent = a_uuid
                budget -= 1
            pending_tool = blocks[-1][0]["id"] if uses_tool else None

            # -- sometimes a Task sub-agent call, written to subagents/agent-<id>.jsonl
            if (first_session and turn == 3) or r.random() < 0.03:
                if agent_id is None or r.random() < 0.4:
                    agent_id = rnd.token("", 8, HEX)
                    s.agents[agent_id] = []
                t += rnd.ms_between(1, 10)
                self._subagent_turn(s, agent_id, version, with_cost, t)
                budget -= 1
            t += rnd.ms_between(5, 240)
            turn += 1
        return s

    def _subagent_turn(self, s: Session, agent_id: str, version: str, with_cost: bool, t: int):
        r, rnd = self.r, self.rnd
        out = s.agents[agent_id]
        base = {"isSidechain": True, "userType": "external", "cwd": s.cwd, "sessionId": s.sid,
                "version": version, "agentId": agent_id}
        parent = None
        if not out:
            prompt_uuid = rnd.uuid4()
            out.append(to_json({"parentUuid": None, **base, "type": "user",
                                "message": {"role": "user", "content": rnd.text(200)},
                                "uuid": prompt_uuid, "timestamp": ms_to_iso(t)}))
            parent = prompt_uuid
            t += rnd.ms_between(1, 5)
        model, _ = self._pick_model()
        usage = {"input_tokens": r.randint(1, 20), "cache_creation_input_tokens": r.randint(0, 2000),
                 "cache_read_input_tokens": r.randint(1000, 9000), "output_tokens": r.randint(50, 600)}
        msg_id, req_id = rnd.token("msg_01"), rnd.token("req_011C")
        line = {"parentUuid": parent, **base,
                "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                            "content": [{"type": "text", "text": rnd.text(120)}],
                            "stop_reason": "end_turn", "stop_sequence": None, "usage": usage},
                "requestId": req_id, "type": "assistant", "uuid": rnd.uuid4(), "timestamp": ms_to_iso(t)}
        if with_cost:
            line["costUSD"] = self._cost(usage)
        out.append(to_json(line))
        self._record((msg_id, req_id), t, s.pdir, model, usage)
        s.agent_last_ms[agent_id] = t
        self.subagent_lines += 1

    @staticmethod
    def _cost(u: dict) -> float:
        return round(u["input_tokens"] * 3e-6 + u["output_tokens"] * 15e-6
                     + u.get("cache_creation_input_tokens", 0) * 3.75e-6
                     + u.get("cache_read_input_tokens", 0) * 0.3e-6, 6)

    def _add_main(self, s: Session, obj: dict, key, rec, ms: int):
        s.lines.append(to_json(obj))
        s.last_ms = max(s.last_ms, ms)
        if len(s.head) < self.HEAD_KEEP:
            s.head.append((obj, key, rec, ms))

    # ---- output ---------------------------------------------------------------------------
    def _write(self, path: str, lines: list[str], last_ms: int):
        data = ("\n".join(lines) + "\n").encode("utf-8")
        with open(path, "wb") as fh:
            fh.write(data)
        if self.args.touch_old and last_ms:
            ns = last_ms * 1_000_000
            os.utime(path, ns=(ns, ns))
        self.files += 1
        self.lines += len(lines)
        self.bytes += len(data)
        self.oldest = last_ms if self.oldest is None else min(self.oldest, last_ms)
        self.newest = last_ms if self.newest is None else max(self.newest, last_ms)

    def write_session(self, s: Session):
        pdir = os.path.join(self.projects_root, s.pdir)
        os.makedirs(pdir, exist_ok=True)
        self._write(os.path.join(pdir, s.sid + ".jsonl"), s.lines, s.last_ms)
        if s.agents:
            adir = os.path.join(pdir, s.sid, "subagents")
            os.makedirs(adir, exist_ok=True)
            for agent_id, lines in s.agents.items():
                self._write(os.path.join(adir, f"agent-{agent_id}.jsonl"), lines, s.agent_last_ms[agent_id])

    def run(self) -> dict:
        os.makedirs(self.projects_root, exist_ok=True)
        per_session, plan = self.plan()
        cost_index = 1 if len(plan) > 1 else 0
        for index, (start, cap, owner) in enumerate(plan):
            s = self.build_session(index, start, cap, owner, per_session, index == cost_index)
            self.write_session(s)
            s.lines = []  # only the head is needed from here on
            s.agents = {}
            self.history[s.pdir].append(s)
        summary = self.ledger.report()
        a = self.args
        summary["generator"] = {
            "args": {k: v for k, v in vars(a).items()},
            "now": ms_to_iso(self.now),
            "files": self.files,
            "lines": self.lines,
            "bytes": self.bytes,
            "sessions": len(plan),
            "projects": self.cwds,
            "projectDirs": sorted({project_dir_name(c) for c in self.cwds}),
            "resumedSessions": self.resumed,
            "streamedResponses": self.streamed,
            "syntheticResponses": self.synthetic,
            "subagentLines": self.subagent_lines,
            "costSessionIndex": cost_index,
            "oldestFileEnd": ms_to_iso(self.oldest) if self.oldest is not None else None,
            "newestFileEnd": ms_to_iso(self.newest) if self.newest is not None else None,
        }
        return summary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="Claude config dir to fill (projects/ is created inside)")
    p.add_argument("--projects", type=int, default=2, help="number of generated projects (default 2)")
    p.add_argument("--days", type=int, default=8, help="history span in days, ending now (default 8)")
    p.add_argument("--lines", type=int, default=400, help="approximate total JSONL lines (default 400)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--pad", type=int, default=120, help="mean characters of message text per line (default 120)")
    p.add_argument("--active", action="store_true",
                   help="add a session starting 40 min before now (an active ccusage block)")
    p.add_argument("--now", help="ISO-8601 time treated as now, e.g. 2026-01-15T12:00:00Z (default: current time)")
    p.add_argument("--summary", help="ground-truth JSON path (default OUT/expected-summary.json)")
    p.add_argument("--project-cwd", action="append", metavar="PATH",
                   help="working directory of a project; repeatable; replaces the generated projects "
                        "(--projects is then ignored)")
    p.add_argument("--touch-old", action="store_true",
                   help="set each transcript file's mtime (and atime) to the timestamp of its newest line")
    a = p.parse_args(argv)
    if a.days < 1:
        p.error("--days must be at least 1")
    if a.lines < 1:
        p.error("--lines must be at least 1")
    if not a.project_cwd and a.projects < 1:
        p.error("--projects must be at least 1")
    for cwd in a.project_cwd or ():
        name = project_dir_name(cwd)
        if not cwd or "\0" in cwd or name in (".", ".."):
            p.error(f"unusable --project-cwd {cwd!r}")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    gen = Generator(args)
    summary = gen.run()
    path = args.summary or os.path.join(args.out, "expected-summary.json")
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1)
        fh.write("\n")
    g = summary["generator"]
    print(f"{g['lines']} lines, {g['bytes']} bytes in {g['files']} files; {g['sessions']} sessions in "
          f"{len(gen.cwds)} projects under {gen.projects_root}; summary: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
