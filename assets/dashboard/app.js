// The ccusage-import dashboard. Every figure comes from a panel of the API (named SQL in
// sql/dashboard.sql) or, in a static report, from the same panels embedded in the page. This
// file only lays them out: cards, ECharts charts (SVG) and tables with CSV download.
"use strict";

(function () {
  const EMBEDDED = window.CCUSAGE_DASHBOARD_DATA || null;
  const RETRY_MS = 3000;
  const EMPTY = "No usage has been imported into this database yet. Run ccusage-import on each machine; this page shows the usage as it arrives.";
  const REFRESH_MS = 5 * 60 * 1000;
  const DAYS_PAGE = 14;
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const charts = [];
  let last = null; // {config, filter, panels} of the last good load

  const $ = (id) => document.getElementById(id);

  // ---- formatting ------------------------------------------------------------------------
  const num = (v) => (v === null || v === undefined || v === "" ? 0 : Number(v));
  const usd = (v) => "$" + num(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const pct = (v) => (100 * num(v)).toFixed(1) + "%";
  function tokens(v) {
    const n = num(v);
    const units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (const [size, unit] of units) if (Math.abs(n) >= size) return (n / size).toFixed(1) + unit;
    return String(n);
  }
  const int = (v) => num(v).toLocaleString("en-US");
  // "1 row", "2 rows": a count with its noun in the right number.
  const plural = (n, one, many) => int(n) + " " + (num(n) === 1 ? one : many || one + "s");
  // Text whose dates (2026-12-08, 2026-12, 2026-12-08 14:00 UTC) stay whole: a line may
  // break between words, never inside a date at its hyphens.
  const DATE = /(\d{4}-\d{2}(?:-\d{2})?(?: \d{2}:\d{2}(?: UTC)?)?)/;
  function setText(el, text) {
    el.textContent = "";
    String(text).split(DATE).forEach((part, i) => {
      if (!part) return;
      if (i % 2 === 0) return el.appendChild(document.createTextNode(part));
      const span = document.createElement("span");
      span.className = "nowrap";
      span.textContent = part;
      el.appendChild(span);
    });
  }
  const keepDates = (el) => setText(el, el.textContent);
  // A money axis that reaches `top` in round steps. ECharts draws a fixed max that is not a
  // step as one more label, over the last round one ($52 on $50).
  function roundAxis(axis, top) {
    const rough = Math.max(top, 1e-6) / 5;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= rough);
    return Object.assign({}, axis, { min: 0, max: Math.ceil(top / step) * step, interval: step });
  }

  // ---- the filter: the URL's since, until, machine, agent, tz ------------------------------
  function urlFilter() {
    const params = new URLSearchParams(location.search);
    const get = (k) => params.get(k) || null;
    return { since: get("since"), until: get("until"), machine: get("machine"), agent: get("agent"), tz: get("tz") };
  }
  function query(filter) {
    const params = new URLSearchParams();
    for (const k of ["since", "until", "machine", "agent", "tz"]) if (filter[k]) params.set(k, filter[k]);
    return params.toString();
  }
  // The zone days are counted in: the URL's tz, else the dashboard's --timezone.
  function zoneOf(data) {
    return data.filter.tz || data.config.timezone || "UTC";
  }
  // Today in a zone, YYYY-MM-DD (en-CA writes days that way); null for a zone the browser
  // does not know.
  function todayIn(zone) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
    } catch (e) {
      return null;
    }
  }
  // The page's today: the report's own for a static report, else now in the zone shown.
  function todayOf(data) {
    return (!data.config.static && todayIn(zoneOf(data))) || data.config.today;
  }
  function go(filter) {
    const qs = query(filter);
    location.search = qs ? "?" + qs : "";
    if (!qs) location.href = location.pathname;
  }
  function daysBefore(today, n) {
    const d = new Date(today + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - n);
    return d.toISOString().slice(0, 10);
  }

  // ---- data --------------------------------------------------------------------------------
  function rowsOf(panel) {
    if (!panel || !panel.columns) return [];
    return panel.rows.map((r) => Object.fromEntries(panel.columns.map((c, i) => [c, r[i]])));
  }
  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = (body && body.error) || response.status + " " + response.statusText;
      const error = new Error(message);
      error.status = response.status;
      error.details = (body && body.details) || "";
      throw error;
    }
    return body;
  }
  async function fetchAll(filter) {
    const qs = query(filter);
    // The panels are the server's list (/api/panels, one per statement of sql/dashboard.sql),
    // never a second list kept here.
    const [config, list] = await Promise.all([getJson("api/config"), getJson("api/panels")]);
    const names = list.map((p) => p.name);
    const answers = await Promise.all(
      names.map((name) => getJson("api/panel/" + name + (qs ? "?" + qs : ""))));
    const panels = {};
    names.forEach((name, i) => { panels[name] = answers[i]; });
    return { config, filter, panels };
  }

  // ---- state shown on the page ---------------------------------------------------------------
  // One sentence a person can act on; ClickHouse's own text only behind a "details" toggle.
  // Nothing imported yet is not an error: body[data-state="empty"] and what to run.
  function showError(error) {
    const box = $("error");
    box.textContent = "";
    const empty = error.kind === "empty";
    if (empty) error.message = EMPTY;
    box.classList.toggle("empty-state", empty);
    const status = error.status && !empty ? " (HTTP " + error.status + ")" : "";
    const line = document.createElement("p");
    line.textContent = empty ? error.message : "The dashboard cannot show its figures" + status + ": " + error.message +
      (error.status === 400 ? "" : " Retrying every " + RETRY_MS / 1000 + " s.");
    box.appendChild(line);
    if (empty) {
      const command = document.createElement("pre");
      command.textContent = "ccusage-import init     # once on each machine: settings, hourly job, first import\nccusage-import          # or: one import now";
      box.appendChild(command);
    }
    if (error.details) {
      const more = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = "details";
      const text = document.createElement("pre");
      text.textContent = error.details;
      more.append(summary, text);
      box.appendChild(more);
    }
    box.dataset.status = error.status || "";
    box.hidden = false;
    document.body.dataset.state = empty ? "empty" : "error";
  }
  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
    $("error").classList.remove("empty-state");
  }

  // ---- cards -------------------------------------------------------------------------------
  function card(parent, metric, label, value, shown, hint) {
    const el = document.createElement("div");
    el.className = "card";
    el.dataset.metric = metric;
    el.dataset.value = value === null || value === undefined ? "" : String(value);
    el.innerHTML = '<span class="label"></span><span class="value"></span><span class="hint"></span>';
    el.children[0].textContent = label;
    el.children[1].textContent = shown;
    setText(el.children[2], hint || "");
    parent.appendChild(el);
    return el;
  }
  // The budget of the view: the machine's (the budget file) or the fleet's (--budget).
  function budgetFor(data) {
    const budgets = data.config.budget || {};
    const value = data.filter.machine ? (budgets.machines || {})[data.filter.machine] : budgets.fleet;
    return value === undefined || value === null ? null : num(value);
  }
  function cards(data) {
    const h = rowsOf(data.panels.headline)[0] || {};
    const m = rowsOf(data.panels.month_projection)[0] || {};
    const c = rowsOf(data.panels.cache_saving)[0] || {};
    const box = $("cards");
    box.textContent = "";
    card(box, "total_cost", "Cost", h.cost, usd(h.cost), "API-equivalent, USD");
    card(box, "total_tokens", "Tokens", h.tokens, tokens(h.tokens), int(h.tokens));
    card(box, "input_tokens", "Input tokens", h.input, tokens(h.input));
    card(box, "output_tokens", "Output tokens", h.output, tokens(h.output));
    card(box, "cache_creation_tokens", "Cache write tokens", h.cache_write, tokens(h.cache_write));
    card(box, "cache_read_tokens", "Cache read tokens", h.cache_read, tokens(h.cache_read));
    card(box, "machines", "Machines", h.machines, int(h.machines));
    card(box, "active_days", "Active days", h.active_days, int(h.active_days),
      h.first_day ? h.first_day + " to " + h.last_day : "no usage in the range");
    card(box, "cost_per_active_day", "Cost per active day", h.cost_per_active_day, usd(h.cost_per_active_day));
    card(box, "cache_hit_rate", "Cache hit rate", h.cache_hit_rate, pct(h.cache_hit_rate), "cache reads / prompt tokens");
    card(box, "cache_saving", "Cache saving", c.cache_saving, usd(c.cache_saving), "estimate, Claude models");
    // A month without usage says so, rather than "$0.00" and "Projected $0.00".
    const idle = !num(m.month_cost);
    const month = m.current_month || "this month";
    card(box, "month_cost", "This month so far", m.month_cost, idle ? "No usage" : usd(m.month_cost),
      idle ? "none yet in " + month : month);
    card(box, "projected_month_cost", "Projected this month", m.projected_cost, idle ? "—" : usd(m.projected_cost),
      idle ? "no usage this month to project from" :
        m.days_elapsed ? "at the rate of " + m.days_elapsed + " of " + m.days_in_month + " days" : "");
    const budget = budgetFor(data);
    if (budget !== null) {
      const projected = num(m.projected_cost);
      const over = projected > budget;
      const el = card(box, "budget", "Monthly budget", budget, usd(budget), idle ? "no usage this month yet" :
        "projected " + usd(projected) + ", " + Math.round(100 * projected / budget) + "% of it" + (over ? ": over" : ""));
      el.classList.toggle("over", over);
      el.dataset.over = over ? "1" : "0";
    }
  }
  // Months from one YYYY-MM to another, both counted.
  function monthsFrom(first, last) {
    const [y1, m1] = first.split("-").map(Number);
    const [y2, m2] = last.split("-").map(Number);
    return (y2 - y1) * 12 + (m2 - m1) + 1;
  }
  function planCards(data) {
    const months = rowsOf(data.panels.plan);
    const box = $("plan-cards");
    box.textContent = "";
    const total = months.reduce((s, r) => s + num(r.cost), 0);
    // Over every month from the first with usage to the range's end (its last day, or today
    // when that is later): a month without usage cost nothing and counts as $0, or a plan
    // would look worth more than it is.
    const first = months.length ? months[0].month : null;
    const today = todayOf(data);
    const end = (data.filter.until && data.filter.until < today ? data.filter.until : today).slice(0, 7);
    const span = first ? Math.max(months.length, monthsFrom(first, end)) : 0;
    const average = span ? total / span : 0;
    const price = data.config.plan_price;
    card(box, "monthly_average_cost", "Average per month", average.toFixed(6), usd(average),
      first ? "over " + plural(span, "month") + ", " + first + " to " + (span === 1 ? first : end) + " (" +
        months.length + " with usage)" : "no usage in the range");
    if (price === null || price === undefined) {
      card(box, "plan_price", "Plan price", "", "not set", "--plan-price or CCUSAGE_IMPORT_PLAN_PRICE");
    } else {
      const saving = average - price;
      card(box, "plan_price", "Plan price", price, usd(price), "per month");
      card(box, "plan_saving", saving >= 0 ? "Saved by the plan" : "Paid above API cost",
        saving.toFixed(6), usd(Math.abs(saving)), "per month on average");
    }
  }

  // ---- charts --------------------------------------------------------------------------------
  function chart(id, option) {
    const el = $(id);
    const old = echarts.getInstanceByDom(el);
    if (old) old.dispose();
    el.textContent = "";
    const instance = echarts.init(el, dark.matches ? "dark" : null, { renderer: "svg" });
    instance.setOption(Object.assign({
      animation: false,
      backgroundColor: "transparent",
      tooltip: { trigger: "axis", confine: true },
      grid: { left: 56, right: 24, top: 36, bottom: 36, containLabel: false },
    }, option));
    el.dataset.drawn = "1";
    charts.push(instance);
  }
  function empty(id, text) {
    const el = $(id);
    const old = echarts.getInstanceByDom(el);
    if (old) old.dispose();
    el.dataset.drawn = "";
    el.innerHTML = '<p class="empty"></p>';
    el.firstChild.textContent = text || "No usage in this range.";
  }
  // Rows of {x, series, value} as one stacked series per name, on a shared category axis.
  function stacked(rows, x, series, value) {
    const xs = [...new Set(rows.map((r) => r[x]))];
    const names = [...new Set(rows.map((r) => r[series]))];
    const index = new Map(xs.map((v, i) => [v, i]));
    return {
      xs,
      series: names.map((name) => {
        const data = new Array(xs.length).fill(0);
        rows.filter((r) => r[series] === name).forEach((r) => { data[index.get(r[x])] = num(r[value]); });
        return { name, data };
      }),
    };
  }
  // One colour per machine, model and agent on the whole page, so a name looks the same in
  // every chart; seeded in sorted order at each render, so it also stays put between views.
  const PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc"];
  const OTHERS = "#9ca3af";
  let colors = new Map();
  function seedColors(data) {
    colors = new Map();
    const names = (panel, key) => rowsOf(panel).map((r) => r[key]).sort();
    for (const name of [...names(data.panels.meta_machines, "machine"), ...names(data.panels.models, "model"), ...names(data.panels.meta_agents, "agent")]) {
      colorOf(name);
    }
  }
  function colorOf(name) {
    if (name === "(others)") return OTHERS;
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]);
    return colors.get(name);
  }
  const legend = { type: "scroll", top: 0 };
  const usdAxis = { type: "value", axisLabel: { formatter: (v) => "$" + v } };
  const BUDGET_COLOR = "#d9534f";
  const tokenAxis = { type: "value", axisLabel: { formatter: tokens } };

  function costPerDay(data) {
    // By machine only when there are machines to compare.
    const machines = new Set(rowsOf(data.panels.daily_by_machine).map((r) => r.series));
    const oneMachine = !!data.filter.machine || machines.size < 2;
    const rows = rowsOf(oneMachine ? data.panels.daily_by_model : data.panels.daily_by_machine);
    $("cost-per-day-title").textContent = oneMachine ? "Cost per day by model" : "Cost per day by machine";
    if (!rows.length) return empty("chart-cost-per-day");
    const s = stacked(rows, "date", "series", "cost");
    const series = s.series.map((x) => ({ name: x.name, type: "bar", stack: "cost", data: x.data, itemStyle: { color: colorOf(x.name) } }));
    // The budget as a daily pace: the month's budget over its days.
    const budget = budgetFor(data);
    const m = rowsOf(data.panels.month_projection)[0] || {};
    const pace = budget !== null && num(m.days_in_month) ? budget / num(m.days_in_month) : null;
    let yAxis = usdAxis;
    if (pace !== null) {
      series[0].markLine = { symbol: "none", silent: true, data: [{ yAxis: +pace.toFixed(2), name: "budget",
        lineStyle: { color: BUDGET_COLOR, type: "dashed" },
        label: { formatter: "budget " + usd(pace) + "/day", position: "insideEndTop", color: BUDGET_COLOR } }] };
      const totals = s.xs.map((_, i) => s.series.reduce((t, x) => t + x.data[i], 0));
      yAxis = roundAxis(usdAxis, Math.max(...totals, pace * 1.15));
    }
    chart("chart-cost-per-day", { legend, xAxis: { type: "category", data: s.xs }, yAxis, series });
  }
  function tokensPerDay(data) {
    const rows = rowsOf(data.panels.days);
    if (!rows.length) return empty("chart-tokens-per-day");
    const kinds = [["input", "Input"], ["output", "Output"], ["cache_write", "Cache write"], ["cache_read", "Cache read"]];
    chart("chart-tokens-per-day", {
      legend, xAxis: { type: "category", data: rows.map((r) => r.date) }, yAxis: tokenAxis,
      series: kinds.map(([k, name]) => ({ name, type: "bar", stack: "tokens", data: rows.map((r) => num(r[k])) })),
    });
  }
  function efficiency(data) {
    const rows = rowsOf(data.panels.days);
    if (!rows.length) return empty("chart-efficiency");
    const prompt = (r) => num(r.input) + num(r.cache_write) + num(r.cache_read);
    chart("chart-efficiency", {
      legend, xAxis: { type: "category", data: rows.map((r) => r.date) },
      yAxis: [{ type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        { type: "value", name: "prompt / output", splitLine: { show: false } }],
      series: [
        { name: "Cache hit rate", type: "line", data: rows.map((r) => +(100 * num(r.cache_read) / Math.max(prompt(r), 1)).toFixed(2)) },
        { name: "Prompt tokens per output token", type: "line", yAxisIndex: 1,
          data: rows.map((r) => +(prompt(r) / Math.max(num(r.output), 1)).toFixed(1)) },
      ],
    });
  }
  function modelMix(data) {
    const rows = rowsOf(data.panels.model_mix);
    if (!rows.length) return empty("chart-model-mix");
    const s = stacked(rows, "week", "series", "share");
    chart("chart-model-mix", {
      legend, xAxis: { type: "category", data: s.xs, boundaryGap: false },
      yAxis: { type: "value", max: 1, axisLabel: { formatter: (v) => Math.round(100 * v) + "%" } },
      series: s.series.map((x) => ({ name: x.name, type: "line", stack: "mix", areaStyle: { color: colorOf(x.name) },
        lineStyle: { color: colorOf(x.name) }, itemStyle: { color: colorOf(x.name) }, symbol: "none", data: x.data })),
    });
  }
  function models(data) {
    const rows = rowsOf(data.panels.models).slice(0, 12).reverse();
    if (!rows.length) return empty("chart-models");
    chart("chart-models", {
      grid: { left: 200, right: 40, top: 10, bottom: 30 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: usdAxis, yAxis: { type: "category", data: rows.map((r) => r.model) },
      series: [{ name: "Cost", type: "bar", data: rows.map((r) => ({ value: num(r.cost), itemStyle: { color: colorOf(r.model) } })) }],
    });
  }
  // The eight largest by value, the rest summed: a pie of a thousand slices says nothing.
  function topAndRest(rows, label, value, n) {
    const sorted = [...rows].sort((a, b) => num(b[value]) - num(a[value]));
    const top = sorted.slice(0, n).map((r) => ({ name: r[label], value: num(r[value]) }));
    const rest = sorted.slice(n).reduce((s, r) => s + num(r[value]), 0);
    if (sorted.length > n) top.push({ name: "(others)", value: +rest.toFixed(6) });
    return top;
  }
  function pie(id, items, formatter) {
    if (!items.length || items.every((i) => !i.value)) return empty(id);
    chart(id, {
      tooltip: { trigger: "item", valueFormatter: formatter },
      legend: { type: "scroll", orient: "vertical", left: 0, top: 10 },
      series: [{ type: "pie", radius: ["35%", "70%"], center: ["62%", "52%"], label: { show: false },
        data: items.map((i) => Object.assign({ itemStyle: { color: colorOf(i.name) } }, i)) }],
    });
  }
  function machineCharts(data) {
    const rows = rowsOf(data.panels.machines_usage).filter((r) => num(r.active_days) > 0);
    // One machine has no share to show: its panels stand down in the one-machine view.
    const several = !data.filter.machine && rows.length > 1;
    $("machine-share-panel").hidden = !several;
    $("machine-tokens-panel").hidden = !several;
    if (!several) return;
    pie("chart-machine-share", topAndRest(rows, "machine", "cost", 8), usd);
    const top = [...rows].sort((a, b) => num(b.tokens) - num(a.tokens)).slice(0, 20).reverse();
    if (!top.length) return empty("chart-machine-tokens");
    chart("chart-machine-tokens", {
      grid: { left: 140, right: 40, top: 10, bottom: 30 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: tokenAxis, yAxis: { type: "category", data: top.map((r) => r.machine) },
      series: [{ name: "Tokens", type: "bar", data: top.map((r) => ({ value: num(r.tokens), itemStyle: { color: colorOf(r.machine) } })) }],
    });
  }
  function heatmap(data) {
    const rows = rowsOf(data.panels.block_heatmap);
    // It sums the tokens of each hour (not blocks), in the zone shown: the title says which.
    document.querySelector("[data-panel=heatmap] h2").textContent = "Tokens by hour and weekday (" + zoneOf(data) + ")";
    // The cells with usage as "weekday:hour" (1 = Monday) in the zone shown, for scripts.
    $("chart-heatmap").dataset.hours = rows.map((r) => r.weekday + ":" + r.hour).join(" ");
    if (!rows.length) return empty("chart-heatmap", "No usage by hour in this range.");
    const cells = rows.map((r) => [num(r.hour), num(r.weekday) - 1, num(r.tokens)]);
    chart("chart-heatmap", {
      tooltip: { trigger: "item", formatter: (p) => WEEKDAYS[p.value[1]] + " " + p.value[0] + ":00 " + zoneOf(data) + ": " + tokens(p.value[2]) + " tokens" },
      grid: { left: 50, right: 20, top: 10, bottom: 100 },
      xAxis: { type: "category", data: [...Array(24).keys()].map(String), splitArea: { show: true } },
      yAxis: { type: "category", data: WEEKDAYS, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(...cells.map((c) => c[2]), 1), calculable: true, orient: "horizontal", left: "center", bottom: 0, formatter: tokens },
      series: [{ name: "Tokens", type: "heatmap", data: cells }],
    });
  }
  function blocks(data) {
    const rows = rowsOf(data.panels.active_blocks);
    // Nothing open: the message once, in the chart's place, and no empty table under it.
    if (!rows.length) {
      $("table-blocks").textContent = "";
      return empty("chart-blocks", "No machine is in an open 5-hour block now.");
    }
    table("table-blocks", "active_blocks", rows, [
      ["machine", "Machine"], ["start_time", "Started (UTC)"], ["end_time", "Ends (UTC)"],
      ["tokens", "Tokens", tokens], ["cost", "Cost", usd], ["usd_per_hour", "Burn $/h", usd],
      ["tokens_per_minute", "Tokens/min", int], ["projected_cost", "Projected", usd],
      ["remaining_minutes", "Minutes left", int],
    ]);
    const top = rows.slice(0, 20).reverse();
    chart("chart-blocks", {
      legend, grid: { left: 140, right: 40, top: 30, bottom: 30 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: usdAxis, yAxis: { type: "category", data: top.map((r) => r.machine) },
      series: [
        { name: "So far", type: "bar", data: top.map((r) => num(r.cost)) },
        { name: "Projected", type: "bar", data: top.map((r) => num(r.projected_cost)) },
      ],
    });
  }
  function agents(data) {
    const rows = rowsOf(data.panels.agents);
    const daily = rowsOf(data.panels.agents_daily);
    // Agents appear where the all-agent report (ccusage 19+) stored more than one: a single
    // agent has nothing to compare.
    const several = rows.length > 1;
    $("agents-panel").hidden = !several;
    $("agents-daily-panel").hidden = !several;
    if (several) pie("chart-agents", rows.map((r) => ({ name: r.agent, value: num(r.cost) })), usd);
    if (several && daily.length) {
      const s = stacked(daily, "date", "agent", "cost");
      chart("chart-agents-daily", {
        legend, xAxis: { type: "category", data: s.xs }, yAxis: usdAxis,
        series: s.series.map((x) => ({ name: x.name, type: "bar", stack: "agents", data: x.data, itemStyle: { color: colorOf(x.name) } })),
      });
    }
  }
  function plan(data) {
    const rows = rowsOf(data.panels.plan);
    if (!rows.length) return empty("chart-plan");
    const price = data.config.plan_price;
    const budget = budgetFor(data);
    const series = { name: "API-equivalent cost", type: "bar", data: rows.map((r) => num(r.cost)) };
    const lines = [];
    if (price !== null && price !== undefined) {
      lines.push({ yAxis: num(price), name: "plan", label: { formatter: "plan " + usd(price), position: "insideEndTop" } });
    }
    if (budget !== null) {
      lines.push({ yAxis: budget, name: "budget", lineStyle: { color: BUDGET_COLOR, type: "dashed" },
        label: { formatter: "budget " + usd(budget), position: "insideStartTop", color: BUDGET_COLOR } });
    }
    if (lines.length) series.markLine = { symbol: "none", silent: true, data: lines };
    // The axis reaches the lines, so they are always in view, in round steps.
    const top = Math.max(...rows.map((r) => num(r.cost)), ...lines.map((l) => l.yAxis * 1.15));
    const yAxis = lines.length ? roundAxis(usdAxis, top) : usdAxis;
    chart("chart-plan", { xAxis: { type: "category", data: rows.map((r) => r.month) }, yAxis, series: [series] });
  }

  // ---- tables ----------------------------------------------------------------------------------
  // columns: [key, label, format?]; numbers (a format given) are right-aligned and sort as numbers.
  function table(id, name, rows, columns, options) {
    options = options || {};
    const box = $(id);
    box.textContent = "";
    if (!rows.length) {
      box.innerHTML = '<p class="empty"></p>';
      box.firstChild.textContent = options.empty || "No usage in this range.";
      return;
    }
    let sortKey = null, ascending = false, page = 0;
    const tools = document.createElement("div");
    tools.className = "table-tools";
    const info = document.createElement("span");
    info.className = "note";
    const buttons = document.createElement("span");
    const download = document.createElement("button");
    download.type = "button";
    download.textContent = "CSV";
    download.dataset.csv = name;
    download.title = "Download every row of this table as CSV";
    download.addEventListener("click", () => saveCsv(name, rows, columns));
    buttons.appendChild(download);
    const prev = document.createElement("button");
    const next = document.createElement("button");
    if (options.pageSize) {
      prev.type = next.type = "button";
      prev.textContent = "‹ Newer";
      next.textContent = "Older ›";
      prev.addEventListener("click", () => { page--; draw(); });
      next.addEventListener("click", () => { page++; draw(); });
      buttons.prepend(prev, next);
    }
    tools.append(info, buttons);
    const scroll = document.createElement("div");
    scroll.className = "scroll";
    const t = document.createElement("table");
    t.dataset.table = name;
    scroll.appendChild(t);
    box.append(tools, scroll);
    function draw() {
      let shown = [...rows];
      if (sortKey !== null) {
        const fmt = columns.find((c) => c[0] === sortKey)[2];
        shown.sort((a, b) => {
          const x = a[sortKey], y = b[sortKey];
          const order = fmt ? num(x) - num(y) : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
      }
      const size = options.pageSize || shown.length;
      const pages = Math.max(1, Math.ceil(shown.length / size));
      page = Math.min(Math.max(page, 0), pages - 1);
      shown = shown.slice(page * size, page * size + size);
      info.textContent = plural(rows.length, "row") + (pages > 1 ? ", page " + (page + 1) + " of " + pages : "");
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
      t.textContent = "";
      const head = t.createTHead().insertRow();
      for (const [key, label, fmt] of columns) {
        const th = document.createElement("th");
        th.textContent = label;
        if (fmt) th.className = "num";
        if (key === sortKey) th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        th.addEventListener("click", () => {
          ascending = key === sortKey ? !ascending : !fmt;
          sortKey = key;
          draw();
        });
        head.appendChild(th);
      }
      const body = t.createTBody();
      for (const row of shown) {
        const tr = body.insertRow();
        for (const [key, , fmt] of columns) {
          const td = tr.insertCell();
          const value = row[key];
          if (options.cell && options.cell(key, row, td)) continue;
          td.textContent = value === null || value === undefined ? "—" : fmt ? fmt(value) : String(value);
          if (fmt) td.className = "num";
          td.title = value === null || value === undefined ? "" : String(value);
        }
      }
    }
    draw();
  }
  // As src/csv.rs writes the API's CSV: a text cell a spreadsheet would evaluate as a formula
  // (a project directory named =HYPERLINK(…) on any machine of the fleet) gets a leading ',
  // as OWASP advises; numbers, even negative ones, stay numbers.
  function csvField(value) {
    let text = value === null || value === undefined ? "" : String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text) && !isFinite(Number(text))) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function saveCsv(name, rows, columns) {
    const lines = [columns.map((c) => csvField(c[0])).join(",")];
    for (const row of rows) lines.push(columns.map((c) => csvField(row[c[0]])).join(","));
    const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  // Days without new usage after which a machine's logs count as stale: the importer's own
  // STALE_AFTER_DAYS (src/run/mod.rs), whose warning the ledger keeps.
  const STALE_AFTER_DAYS = 3;
  // Tells a machine that stopped importing (cron, the server, the network) from one that
  // imports but finds no new usage (stale logs, ccusage reading the wrong place).
  function machineStatus(row, imported) {
    const hours = imported ? num(row.hours_since_ok) : -1;
    if (!imported || num(row.stale) === 1) {
      return hours < 0 ? "no successful import" : "no import for " + plural(hours, "hour");
    }
    const days = row.days_since_use;
    if (days === undefined || days === null) return "no usage found";
    if (num(days) > STALE_AFTER_DAYS) return "no new usage for " + plural(days, "day");
    return "ok";
  }
  function tables(data) {
    const usage = rowsOf(data.panels.machines_usage);
    const imports = new Map(rowsOf(data.panels.machines_imports).map((r) => [r.machine, r]));
    const names = [...new Set([...usage.map((r) => r.machine), ...imports.keys()])];
    const byName = new Map(usage.map((r) => [r.machine, r]));
    const machines = names.map((machine) => {
      const row = Object.assign({ machine }, byName.get(machine) || {}, imports.get(machine) || {});
      row.status = machineStatus(row, imports.has(machine));
      return row;
    });
    table("table-machines", "machines", machines, [
      ["machine", "Machine"], ["last_day", "Last usage"], ["days_since_use", "Days since", int],
      ["active_days", "Active days", int], ["tokens", "Tokens", tokens], ["cost", "Cost", usd],
      ["last_import", "Last import (UTC)"], ["last_ok", "Last good import"],
      ["failed_runs", "Failed runs", int], ["ccusage_version", "ccusage"], ["status", "Status"],
      ["last_error", "Last error"], ["last_warnings", "Last warnings"],
    ], {
      cell: (key, row, td) => {
        if (key === "status") {
          const ok = row.status === "ok";
          td.innerHTML = ok ? "ok" : '<span class="stale"></span>';
          if (!ok) td.firstChild.textContent = row.status;
          td.dataset.stale = ok ? "0" : "1";
          return true;
        }
        if (key === "failed_runs" && num(row.failed_runs) > 0) {
          td.className = "num";
          td.innerHTML = '<span class="failed"></span>';
          td.firstChild.textContent = int(row.failed_runs);
          return true;
        }
        return false;
      },
    });
    table("table-projects", "projects", rowsOf(data.panels.projects), [
      ["project", "Project"], ["cost", "Cost", usd], ["tokens", "Tokens", tokens],
      ["days", "Days", int], ["machines", "Machines", int], ["last_day", "Last day"],
    ]);
    table("table-sessions", "sessions", rowsOf(data.panels.sessions), [
      ["machine", "Machine"], ["project", "Project"], ["session_id", "Session"],
      // Stored and shown as UTC instants, whatever the zone picked: the headers say so.
      ["first_activity", "First activity (UTC)"], ["last_activity", "Last activity (UTC)"],
      ["tokens", "Tokens", tokens], ["cost", "Cost", usd], ["models", "Models", int],
    ]);
    table("table-models", "models", rowsOf(data.panels.models), [
      ["model", "Model"], ["cost", "Cost", usd], ["tokens", "Tokens", tokens],
      ["input", "Input", tokens], ["output", "Output", tokens], ["cache_write", "Cache write", tokens],
      ["cache_read", "Cache read", tokens], ["machines", "Machines", int], ["days", "Days", int],
    ]);
    table("table-days", "days", rowsOf(data.panels.days).reverse(), [
      ["date", "Day"], ["machines", "Machines", int], ["input", "Input", tokens],
      ["output", "Output", tokens], ["cache_write", "Cache write", tokens],
      ["cache_read", "Cache read", tokens], ["tokens", "Tokens", tokens], ["cost", "Cost", usd],
    ], { pageSize: DAYS_PAGE });
  }

  // ---- warnings where people look -------------------------------------------------------------
  // Sessions stored by more than one machine: the fleet counts them twice (the importer warns
  // on the machine; this says it on the page).
  function shared(data) {
    const s = rowsOf(data.panels.shared_sessions)[0] || {};
    const box = $("shared");
    const n = num(s.sessions);
    box.hidden = !n;
    box.dataset.sessions = String(n);
    box.dataset.counted = String(num(s.counted_twice));
    box.textContent = "";
    if (!n) return;
    const text = document.createElement("span");
    text.textContent = plural(n, "session") + (n === 1 ? " is" : " are") + " stored by more than one machine (" +
      (s.machines || []).join(", ") + "): the same Claude logs are imported on each (a synced ~/.claude?), so " +
      "fleet figures count " + usd(s.counted_twice) + " of their " + usd(s.cost) + " twice. Which ones: ";
    const code = document.createElement("code");
    code.textContent = "ccusage-import query fleet_shared_sessions";
    box.append(text, code);
  }
  // Cards that read another panel than the headline.
  const CARD_READS = { month_cost: "month_projection", projected_month_cost: "month_projection",
    budget: "month_projection", cache_saving: "cache_saving" };
  // Panels and cards an agent filter cannot narrow (they read Claude Code's own reports; the
  // server lists those it can) stand down under another agent, and a note says which.
  function agentScope(data) {
    const agent = data.filter.agent;
    const narrowed = new Set(data.config.agent_panels || []);
    const follows = (reads) => !agent || agent === "claude" || reads.split(" ").every((p) => narrowed.has(p));
    const hidden = [];
    for (const section of document.querySelectorAll("main > [data-reads]")) {
      if (follows(section.dataset.reads)) continue;
      if (!section.hidden) hidden.push(section.querySelector("h2").textContent);
      section.hidden = true;
    }
    for (const el of document.querySelectorAll("#cards [data-metric]")) {
      if (follows(CARD_READS[el.dataset.metric] || "headline")) continue;
      hidden.push(el.querySelector(".label").textContent);
      el.hidden = true;
    }
    const note = $("agent-note");
    note.dataset.hidden = String(hidden.length);
    if (hidden.length) {
      note.hidden = false;
      note.textContent = "Agent " + agent + ": hidden here are the panels and cards that read " +
        "Claude Code's own reports, which the agent filter cannot narrow: " + hidden.join(", ") +
        ". The other cards and the days are " + agent + "'s.";
      return;
    }
    // Under "All agents" the cards and charts still read Claude Code's own reports: say so when
    // another agent holds usage in the range, rather than let its cost go unseen.
    const others = agent ? [] : rowsOf(data.panels.agents).filter((r) => r.agent !== "claude" && Number(r.cost) > 0);
    note.hidden = !others.length;
    note.dataset.others = String(others.length);
    note.textContent = others.length ? "All agents: the cards and charts count Claude Code's usage; " +
      others.map((r) => r.agent + " (" + usd(Number(r.cost)) + ")").join(", ") +
      " is counted only in Cost by agent and Cost per day by agent." : "";
  }

  // ---- filters -------------------------------------------------------------------------------
  function fillSelect(select, values, chosen) {
    while (select.options.length > 1) select.remove(1);
    const all = [...new Set(values.concat(chosen ? [chosen] : []))];
    for (const value of all) select.add(new Option(value, value, false, value === chosen));
    select.value = chosen || "";
  }
  function filters(data) {
    const f = data.filter;
    $("since").value = f.since || "";
    $("until").value = f.until || "";
    fillSelect($("machine"), rowsOf(data.panels.meta_machines).map((r) => r.machine), f.machine);
    fillSelect($("agent"), rowsOf(data.panels.meta_agents).map((r) => r.agent), f.agent);
    // The browser's own zone first, then UTC and the dashboard's default, then every zone the
    // browser knows; the server checks the name (a 400 for one it does not know).
    const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
    const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    fillSelect($("tz"), [own, "UTC", data.config.timezone || "UTC"].concat(zones).filter(Boolean), zoneOf(data));
    const today = todayOf(data);
    for (const button of document.querySelectorAll("[data-range]")) {
      const n = button.dataset.range;
      const since = n === "all" ? null : daysBefore(today, Number(n) - 1);
      const until = n === "all" ? null : today;
      button.classList.toggle("active", (f.since || null) === since && (f.until || null) === until);
    }
    const scope = f.machine ? "machine " + f.machine : "the fleet: every machine";
    $("scope").textContent = scope + (f.agent ? ", agent " + f.agent : "");
    $("scope").dataset.scope = f.machine ? "machine" : "fleet";
  }
  function wireFilters() {
    const form = $("filters");
    for (const button of document.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => {
        const today = (last && todayOf(last)) || new Date().toISOString().slice(0, 10);
        const n = button.dataset.range;
        const f = urlFilter();
        f.since = n === "all" ? null : daysBefore(today, Number(n) - 1);
        f.until = n === "all" ? null : today;
        go(f);
      });
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      // The zone goes into the URL unless it is the dashboard's default.
      const zone = $("tz").value || null;
      const fallback = (last && last.config.timezone) || "UTC";
      go({ since: $("since").value || null, until: $("until").value || null,
        machine: $("machine").value || null, agent: $("agent").value || null,
        tz: zone && (zone !== fallback || urlFilter().tz) ? zone : null });
    });
    for (const id of ["machine", "agent", "tz"]) $(id).addEventListener("change", () => form.requestSubmit());
  }

  // What "a day" means on the page: UTC days are the stored days; in another zone the days,
  // today, months and the heat map come from the stored hours, and usage from before a
  // machine's first stored hour keeps its UTC day (only days were stored then).
  function zoneNote(data) {
    const zone = zoneOf(data);
    if (zone === "UTC") return "Days are UTC days.";
    return "Days, months and hours are in " + zone + ", from the stored hours; usage before a machine's first stored hour stays on its UTC day," +
      " and the model, project and agent panels count UTC days.";
  }

  // ---- drawing -------------------------------------------------------------------------------
  function render(data) {
    charts.splice(0).forEach((c) => c.dispose());
    // Each drawing decides again which panels stand down (one machine, one agent, an agent).
    for (const section of document.querySelectorAll("main > [data-reads]")) section.hidden = false;
    seedColors(data);
    filters(data);
    cards(data);
    planCards(data);
    const drawers = [plan, costPerDay, tokensPerDay, efficiency, modelMix, models, machineCharts, heatmap, blocks, agents, tables];
    for (const draw of drawers) draw(data);
    shared(data);
    agentScope(data);
    const claudeOnly = data.filter.agent && data.filter.agent !== "claude";
    for (const section of document.querySelectorAll("[data-panel]")) {
      section.classList.toggle("claude-only", !!claudeOnly);
    }
    const generated = data.config.generated_at ? ", generated " + data.config.generated_at : "";
    $("footer").textContent = "ccusage-import " + data.config.version + generated +
      ". " + zoneNote(data) + " Costs are ccusage's API-equivalent estimates." +
      (claudeOnly ? " The agent filter applies to the cards, days and agent panels; the other panels read Claude Code's reports." : "");
    keepDates($("footer"));
    document.body.dataset.scheme = dark.matches ? "dark" : "light";
    document.body.dataset.state = "ready";
  }

  async function load() {
    if (EMBEDDED) {
      $("filters").hidden = true;
      const f = EMBEDDED.filter;
      $("static-note").hidden = false;
      $("static-note").textContent = "Static report: " + (f.since || "first day") + " to " + (f.until || "last day") +
        (f.machine ? ", machine " + f.machine : ", every machine") + (f.agent ? ", agent " + f.agent : "") +
        (f.tz ? ", days in " + f.tz : "") + ".";
      keepDates($("static-note"));
      last = { config: EMBEDDED.config, filter: { since: f.since, until: f.until, machine: f.machine, agent: f.agent, tz: f.tz }, panels: EMBEDDED.panels };
      render(last);
      return;
    }
    try {
      const data = await fetchAll(urlFilter());
      // A database that exists but holds no usage at all is "empty" too (a filter that
      // matches nothing is not: that is an answer).
      const h = rowsOf(data.panels.headline)[0] || {};
      if (!query({ ...data.filter, tz: null }) && !Number(h.machines)) {
        const error = new Error(EMPTY);
        error.kind = "empty";
        throw error;
      }
      clearError();
      last = data;
      render(data);
      setTimeout(load, REFRESH_MS);
    } catch (error) {
      showError(error);
      // A bad filter stays bad; a ClickHouse failure may pass.
      if (error.status !== 400) setTimeout(load, RETRY_MS);
    }
  }

  dark.addEventListener("change", () => { if (last) render(last); });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  wireFilters();
  load();
})();
