/// The dashboard (`GET /`), the page of one task (`GET /tasks/ID`) and of one schedule
/// (`GET /schedules/NAME`, DashboardPage+Schedule.swift): one HTML document with its CSS and
/// script inline (no CDN, works offline), reading `/api/dashboard`, `/api/results/ID` and
/// `/api/schedules/NAME/history` and refreshing itself every 5 seconds. A viewer signed in with the admin
/// token gets pause and resume buttons per schedule.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Warren</title>
<style>
  :root { --ok: #2e7d32; --bad: #c62828; --muted: #667; --line: #e3e5ea; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2230; background: var(--bg); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #1d2230; color: #fff; }
  header h1 { font-size: 18px; margin: 0; letter-spacing: .5px; }
  header a { color: #fff; text-decoration: none; }
  header .meta { color: #aab; font-size: 12px; margin-left: auto; }
  main { padding: 18px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 0 0 10px; }
  table { width: 100%; border-collapse: collapse; }
  th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 6px; }
  td { padding: 5px 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .status { display: inline-block; white-space: nowrap; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--muted); }
  .status.succeeded { background: var(--ok); } .status.failed, .status.timed_out, .status.rejected { background: var(--bad); }
  .status.retrying { background: #ef6c00; } .status.expired, .status.cancelled { background: #6d4c41; }
  .legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-bottom: 6px; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  .error { color: var(--bad); }
  .empty { color: var(--muted); font-style: italic; }
  pre { background: #0f1320; color: #dfe3ee; padding: 10px 12px; border-radius: 6px; overflow: auto; max-height: 360px; margin: 6px 0 0; }
  .big { font-size: 26px; font-weight: 700; } .tiles { display: flex; gap: 28px; margin-bottom: 10px; }
  .tiles div span { display: block; font-size: 12px; color: var(--muted); }
  a { color: #1f5fbf; }
  button.op { font-size: 12px; padding: 1px 8px; margin-left: 6px; }
  header form { margin: 0; } header button { font-size: 12px; }
  .status.skipped { background: #8d99ae; } .status.missed { background: #6a1b9a; }
  tr.trouble td:first-child, section.trouble { border-left: 4px solid var(--bad); }
  .bar { display: inline-block; width: 120px; height: 10px; background: var(--line); border-radius: 5px; overflow: hidden; vertical-align: middle; margin-right: 6px; }
  .bar i { display: block; height: 100%; background: #1f5fbf; }
  svg.graph { display: block; max-width: 100%; } svg.graph text { font: 12px system-ui, sans-serif; fill: #fff; }
  svg.graph path { fill: none; stroke: #8d99ae; stroke-width: 1.5; } svg.graph a:hover rect { opacity: .85; }
</style>
</head>
<body>
<header><h1><a href="/">Warren</a></h1><span id="title">dashboard</span><span class="meta" id="updated">loading…</span><form method="post" action="/signout" id="signout" hidden><button>sign out</button></form></header>
<main id="main"><section class="wide"><p class="empty">Loading…</p></section></main>
<script>
"use strict";
const main = document.getElementById("main");
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c]));
const time = (t) => t ? esc(t.replace("T", " ").replace(/\.\d+Z$/, "Z")) : "–";
const took = (ms) => ms == null ? "–" : ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(2) + " s" : Math.floor(ms / 60000) + " min " + Math.round(ms % 60000 / 1000) + " s";
const badge = (s) => `<span class="status ${esc(s)}">${esc(s)}</span>`;
const taskLink = (id) => `<a href="/tasks/${encodeURIComponent(id)}">${esc(id)}</a>`;
const scheduleLink = (name) => `<a href="/schedules/${encodeURIComponent(name)}">${esc(name)}</a>`;
\#(DashboardPage.scheduleScript)
\#(DashboardPage.deadLettersScript)
\#(DashboardPage.workflowScript)

function chart(minutes) {
  const width = 960, height = 180, left = 34, bottom = 22, top = 8;
  const max = Math.max(1, ...minutes.map((m) => m.succeeded + m.failed + m.cancelled));
  const step = (width - left) / minutes.length, bar = Math.max(2, step - 3);
  const y = (v) => (height - bottom) - v / max * (height - bottom - top);
  let svg = `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="runs per minute">`;
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    svg += `<line x1="${left}" x2="${width}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e5ea"/><text x="${left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end" fill="#667">${v}</text>`;
  }
  minutes.forEach((m, i) => {
    const x = left + i * step;
    const ok = y(m.succeeded), bad = y(m.succeeded + m.failed), off = y(m.succeeded + m.failed + m.cancelled);
    svg += `<rect x="${x}" y="${ok}" width="${bar}" height="${height - bottom - ok}" fill="#2e7d32"><title>${esc(m.minute)}: ${m.succeeded} succeeded</title></rect>`;
    if (m.failed) svg += `<rect x="${x}" y="${bad}" width="${bar}" height="${ok - bad}" fill="#c62828"><title>${esc(m.minute)}: ${m.failed} failed</title></rect>`;
    if (m.cancelled) svg += `<rect x="${x}" y="${off}" width="${bar}" height="${bad - off}" fill="#6d4c41"><title>${esc(m.minute)}: ${m.cancelled} cancelled</title></rect>`;
    if (i % 10 === 0) svg += `<text x="${x}" y="${height - 6}" font-size="11" fill="#667">${esc(m.minute.slice(11, 16))} UTC</text>`;
  });
  return svg + "</svg>";
}

function dashboard(d) {
  const total = d.runs_per_minute.reduce((a, m) => a + m.succeeded + m.failed + m.cancelled, 0);
  const failed = d.runs_per_minute.reduce((a, m) => a + m.failed, 0);
  const cancelled = d.runs_per_minute.reduce((a, m) => a + m.cancelled, 0);
  const operable = d.viewer === "admin";
  document.getElementById("signout").hidden = d.viewer === "open";
  const pause = (s) => s.runtime_pause ? ` <span class="paused error" data-schedule="${esc(s.name)}">paused ${s.runtime_pause.until ? "until " + time(s.runtime_pause.until) : "until resumed"}${s.runtime_pause.reason ? ": " + esc(s.runtime_pause.reason) : ""}</span>` : "";
  const button = (s) => !operable ? "" : s.runtime_pause
    ? `<button class="op" data-op="resume" data-name="${esc(s.name)}">resume</button>`
    : `<button class="op" data-op="pause" data-name="${esc(s.name)}">pause</button>`;
  const schedules = d.schedules.length ? `<table><tr><th>schedule</th><th>task</th><th>last run (UTC)</th><th>status</th><th>took</th><th>next fire (schedule's zone)</th></tr>` +
    d.schedules.map((s) => `<tr class="${s.health && s.health.in_trouble ? "trouble" : ""}"><td>${scheduleLink(s.name)}${s.health && s.health.in_trouble ? ` <span class="error trouble-note">${s.health.problems.map(esc).join("; ")}</span>` : ""}${s.paused ? " <span class=\"empty\">(paused)</span>" : ""}${pause(s)}${button(s)}</td><td>${esc(s.task)}</td>` +
      `<td>${s.last ? taskLink(s.last.id) + "<br>" + time(s.last.finished_at) : "<span class=\"empty\">never ran</span>"}</td>` +
      `<td>${s.last ? badge(s.last.status) : ""}</td><td class="num">${s.last ? took(s.last.duration_ms) : ""}</td><td>${time(s.next_fire)}</td></tr>`).join("") + "</table>"
    : `<p class="empty">No schedules known (start the backend with --schedules DIR).</p>`;
  const failures = d.failures.length ? `<table><tr><th>finished (UTC)</th><th>task</th><th>status</th><th>error</th></tr>` +
    d.failures.map((r) => `<tr><td>${time(r.finished_at)}</td><td>${taskLink(r.id)}<br><span class="empty">${esc(r.task)}</span></td><td>${badge(r.status)}</td><td class="error">${esc(r.error)}</td></tr>`).join("") + "</table>"
    : `<p class="empty">No failures in the last 24 hours.</p>`;
  const workers = d.workers.length ? `<table><tr><th>worker</th><th>queues</th><th>busy (last minute)</th><th class="num">running</th><th>running now</th></tr>` +
    d.workers.map((w) => `<tr class="worker" data-worker="${esc(w.worker)}"><td>${esc(w.worker)}<br><span class="empty">${esc(w.version)}, seen ${time(w.at)}</span></td><td>${esc(w.queues.join(", "))}</td>` +
      `<td><div class="bar" title="${Math.round(w.busy * 100)}%"><i style="width:${Math.round(w.busy * 100)}%"></i></div><span class="busy">${Math.round(w.busy * 100)}%</span></td>` +
      `<td class="num">${w.running}/${w.concurrency}</td><td>${w.running_tasks.length ? w.running_tasks.map((t) => `${esc(t.task)} ${taskLink(t.id)} <span class="empty">since ${time(t.since)}</span>`).join("<br>") : "<span class=\"empty\">–</span>"}</td></tr>`).join("") + "</table>"
    : `<p class="empty">No worker alive (each announces itself every 5 s).</p>`;
  const queues = d.queues.length ? `<table><tr><th>queue</th><th class="num">ready</th><th class="num">consumers</th></tr>` +
    d.queues.map((q) => `<tr><td>${esc(q.name)}</td><td class="num">${q.exists ? q.ready : "missing"}</td><td class="num">${q.exists ? q.consumers : "–"}</td></tr>`).join("") + "</table>"
    : `<p class="empty">Broker unreachable.</p>`;
  main.innerHTML = `
    <section class="wide"><h2>Runs per minute, last hour (UTC)</h2>
      <div class="tiles"><div><span>runs</span><b class="big" id="runs">${total}</b></div><div><span>failed</span><b class="big error" id="failed">${failed}</b></div><div><span>cancelled</span><b class="big" id="cancelled">${cancelled}</b></div>
      <div><span>dead letters</span><b class="big" id="dead">${d.dead_letters != null && operable ? `<a href="/dead-letters">${d.dead_letters}</a>` : d.dead_letters ?? "–"}</b></div><div><span>delayed</span><b class="big">${d.delayed ?? "–"}</b></div></div>
      <div class="legend"><span><i style="background:#2e7d32"></i>succeeded</span><span><i style="background:#c62828"></i>failed, timed out, rejected, expired</span><span><i style="background:#6d4c41"></i>cancelled</span></div>
      ${chart(d.runs_per_minute)}</section>
    <section id="schedules"><h2>Schedules</h2>${schedules}</section>
    <section id="failures"><h2>Recent failures</h2>${failures}</section>
    <section id="queues"><h2>Queues</h2>${queues}</section>
    <section class="wide" id="workers"><h2>Workers</h2>${workers}</section>`;
  document.getElementById("updated").textContent = "updated " + d.generated_at.replace("T", " ");
}

function task(t) {
  document.getElementById("title").textContent = (t.workflow ? "workflow run " : "task ") + t.id;
  const l = t.latest ?? {task: t.workflow?.name, queue: "–", status: t.workflow?.status ?? "running"};
  main.innerHTML = (t.workflow ? workflowGraph(t.workflow) : "") + `<section class="wide" id="task"><h2>Task</h2><table>
      <tr><th>id</th><td>${esc(t.id)}</td></tr><tr><th>task</th><td>${esc(l.task)}</td></tr><tr><th>queue</th><td>${esc(l.queue)}</td></tr>
      <tr><th>schedule</th><td>${l.schedule ? esc(l.schedule) + " (fire for " + esc(l.scheduled_for) + ")" : "–"}</td></tr>
      <tr><th>args</th><td>${l.args != null ? `<code id="args">${esc(JSON.stringify(l.args))}</code>` : "–"}</td></tr>
      <tr><th>status</th><td>${badge(l.status)} after ${t.attempts.length} attempt(s)</td></tr>
      ${l.traceparent ? `<tr><th>trace</th><td>${esc(l.traceparent)}</td></tr>` : ""}</table></section>` +
    t.attempts.map((a) => `<section class="wide attempt"><h2>Attempt ${a.attempt}${a.redelivered ? ` <span class="error">redelivered</span>` : ""}</h2><table>
      <tr><th>status</th><td>${badge(a.status)}</td></tr><tr><th>run</th><td>${esc(a.run_id ?? "–")}</td></tr><tr><th>worker</th><td>${esc(a.worker ?? "–")}</td></tr>
      <tr><th>started (UTC)</th><td>${time(a.started_at)}</td></tr><tr><th>finished (UTC)</th><td>${time(a.finished_at)}</td></tr>
      <tr><th>took</th><td>${took(a.duration_ms)}</td></tr><tr><th>exit code</th><td>${a.exit_code ?? "–"}</td></tr>
      ${a.error ? `<tr><th>error</th><td class="error">${esc(a.error)}</td></tr>` : ""}
      ${a.result != null ? `<tr><th>result</th><td><code>${esc(JSON.stringify(a.result))}</code></td></tr>` : ""}</table>
      ${a.output ? `<pre>${esc(a.output)}</pre>` : ""}</section>`).join("");
  document.getElementById("updated").textContent = "updated " + new Date().toISOString().replace("T", " ").slice(0, 19) + "Z";
}

main.addEventListener("click", async (event) => {
  const target = event.target.closest("button.op");
  if (!target) return;
  target.disabled = true;
  const body = target.dataset.op === "pause" ? JSON.stringify({reason: "paused from the dashboard"}) : "{}";
  const answer = await fetch(`/api/schedules/${encodeURIComponent(target.dataset.name)}/${target.dataset.op}`,
    {method: "POST", headers: {"Content-Type": "application/json", "X-Warren-Request": "dashboard"}, body});
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    alert(problem.error || answer.statusText);
  }
  refresh();
});

async function refresh() {
  const id = location.pathname.startsWith("/tasks/") ? decodeURIComponent(location.pathname.slice(7)) : null;
  const schedule = location.pathname.startsWith("/schedules/") ? decodeURIComponent(location.pathname.slice(11)) : null;
  const dead = location.pathname === "/dead-letters";
  try {
    const answer = await fetch(id ? "/api/results/" + encodeURIComponent(id)
      : schedule ? "/api/schedules/" + encodeURIComponent(schedule) + "/history" : dead ? "/api/dead-letters" : "/api/dashboard",
      // Dead letters need the admin role even to read: a signed-in page says it is the dashboard.
      {headers: {"X-Warren-Request": "dashboard"}});
    if (answer.status === 401) { location.href = "/signin?next=" + encodeURIComponent(location.pathname); return; }
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.error || answer.statusText);
    id ? task(body) : schedule ? schedulePage(body) : dead ? deadLettersPage(body) : dashboard(body);
  } catch (error) {
    main.innerHTML = `<section class="wide"><p class="error" id="problem">${esc(error.message)}</p></section>`;
  }
}
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
"""#
}
