/// The script of the dashboard's page of one schedule (`/schedules/NAME`, from
/// `/api/schedules/NAME/history`): its definition, runtime state, health, next fires, and a
/// chart of each fire's lateness and duration over time with failed, skipped and missed fires
/// marked, above the table of fires.
extension DashboardPage {
    static let scheduleScript = #"""
const axis = (ms) => ms < 1000 ? ms + " ms" : ms < 60000 ? +(ms / 1000).toFixed(1) + " s" : ms < 3600000 ? +(ms / 60000).toFixed(1) + " min" : ms < 86400000 ? +(ms / 3600000).toFixed(1) + " h" : +(ms / 86400000).toFixed(1) + " d";
const fireColor = (s) => s === "succeeded" ? "#2e7d32" : s === "skipped" ? "#8d99ae" : s === "missed" ? "#6a1b9a" : s === "retrying" ? "#ef6c00" : "#c62828";

function fireChart(fires) {
  const width = 960, height = 220, left = 64, right = 8, bottom = 22, top = 10;
  const points = fires.filter((f) => f.scheduled_for).map((f) => ({f, t: Date.parse(f.scheduled_for)}));
  if (!points.length) return `<p class="empty">No fires stored in this period.</p>`;
  const t0 = Math.min(...points.map((p) => p.t)), t1 = Math.max(t0 + 1000, ...points.map((p) => p.t));
  const max = Math.max(1, ...points.map((p) => Math.max(p.f.lateness_ms ?? 0, p.f.duration_ms ?? 0)));
  const x = (t) => left + (t - t0) / (t1 - t0) * (width - left - right);
  const y = (v) => (height - bottom) - v / max * (height - bottom - top);
  let svg = `<svg id="fire-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="lateness and duration of each fire">`;
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    svg += `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e5ea"/><text x="${left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end" fill="#667">${esc(axis(v))}</text>`;
  }
  const line = (key, color) => {
    const run = points.filter((p) => p.f[key] != null);
    if (run.length < 2) return "";
    return `<polyline class="series-${key}" fill="none" stroke="${color}" stroke-width="1.5" points="${run.map((p) => `${x(p.t).toFixed(1)},${y(p.f[key]).toFixed(1)}`).join(" ")}"/>`;
  };
  svg += line("lateness_ms", "#1f5fbf") + line("duration_ms", "#2e7d32");
  for (const p of points) {
    const title = `<title>${esc(p.f.scheduled_for)}: ${esc(p.f.status)}${p.f.reason ? " (" + esc(p.f.reason) + ")" : ""}, late ${esc(took(p.f.lateness_ms))}, took ${esc(took(p.f.duration_ms))}</title>`;
    if (p.f.status === "succeeded") {
      svg += `<circle class="fire succeeded" cx="${x(p.t).toFixed(1)}" cy="${y(p.f.duration_ms ?? 0).toFixed(1)}" r="2.5" fill="#2e7d32">${title}</circle>`;
    } else {
      // A fire that did not run or failed: a mark across the chart at its instant.
      svg += `<g class="fire mark ${esc(p.f.status)}" data-status="${esc(p.f.status)}"><line x1="${x(p.t).toFixed(1)}" x2="${x(p.t).toFixed(1)}" y1="${top}" y2="${height - bottom}" stroke="${fireColor(p.f.status)}" stroke-width="2" opacity=".55"/>` +
        `<rect x="${(x(p.t) - 4).toFixed(1)}" y="${height - bottom - 8}" width="8" height="8" fill="${fireColor(p.f.status)}">${title}</rect></g>`;
    }
  }
  svg += `<text x="${left}" y="${height - 6}" font-size="11" fill="#667">${esc(new Date(t0).toISOString().slice(0, 19).replace("T", " "))} UTC</text>`;
  svg += `<text x="${width - right}" y="${height - 6}" font-size="11" text-anchor="end" fill="#667">${esc(new Date(t1).toISOString().slice(0, 19).replace("T", " "))} UTC</text>`;
  return svg + "</svg>";
}

function schedulePage(s) {
  document.getElementById("title").textContent = "schedule " + s.name;
  const d = s.definition;
  const health = s.health ? (s.health.in_trouble
      ? `<p class="error" id="health">In trouble: ${s.health.problems.map(esc).join("; ")}</p>`
      : `<p id="health">Healthy: ${s.health.consecutive_failures} failures in a row; last success ${time(s.health.last_success)}</p>`)
    : `<p class="empty" id="health">Not watched (no alert_after or alert_failures).</p>`;
  const pause = s.runtime_pause ? `<p class="error">Paused ${s.runtime_pause.until ? "until " + time(s.runtime_pause.until) : "until resumed"}${s.runtime_pause.reason ? ": " + esc(s.runtime_pause.reason) : ""} (by ${esc(s.runtime_pause.by)})</p>` : "";
  const settings = d ? `<table>${Object.keys(d).sort().map((k) => `<tr><th>${esc(k)}</th><td>${esc(typeof d[k] === "string" ? d[k] : JSON.stringify(d[k]))}</td></tr>`).join("")}</table>`
    : `<p class="empty">Not in the backend's schedule files (--schedules).</p>`;
  const counts = {};
  for (const f of s.fires) counts[f.status] = (counts[f.status] ?? 0) + 1;
  const rows = s.fires.slice().reverse().map((f) => `<tr class="fire-row ${esc(f.status)}"><td>${time(f.scheduled_for)}</td><td>${esc(f.trigger)}</td><td>${badge(f.status)}</td>` +
    `<td class="num">${took(f.lateness_ms)}</td><td class="num">${took(f.duration_ms)}</td><td class="num">${f.attempts}</td><td>${taskLink(f.id)}${f.reason ? `<br><span class="${f.status === "skipped" ? "empty" : "error"}">${esc(f.reason)}</span>` : ""}</td></tr>`).join("");
  main.innerHTML = `
    <section class="wide ${s.health && s.health.in_trouble ? "trouble" : ""}" id="schedule"><h2>Schedule ${esc(s.name)}</h2>${health}${pause}
      <div class="tiles">${["succeeded", "failed", "skipped", "missed"].map((k) => `<div><span>${k}</span><b class="big">${counts[k] ?? 0}</b></div>`).join("")}</div>
      <div class="legend"><span><i style="background:#1f5fbf"></i>lateness</span><span><i style="background:#2e7d32"></i>duration</span>
        <span><i style="background:#c62828"></i>failed</span><span><i style="background:#8d99ae"></i>skipped</span><span><i style="background:#6a1b9a"></i>missed</span></div>
      ${fireChart(s.fires)}</section>
    <section id="definition"><h2>Definition</h2>${settings}</section>
    <section id="next"><h2>Next fires</h2>${s.next_fires.length ? "<table>" + s.next_fires.map((t) => `<tr><td>${esc(t)}</td></tr>`).join("") + "</table>" : `<p class="empty">None.</p>`}</section>
    <section class="wide" id="fires"><h2>Fires since ${time(s.since)} (newest first)</h2>${rows ? `<table><tr><th>scheduled for (UTC)</th><th>trigger</th><th>status</th><th class="num">late</th><th class="num">took</th><th class="num">tries</th><th>task</th></tr>${rows}</table>` : `<p class="empty">None stored.</p>`}</section>`;
  document.getElementById("updated").textContent = "updated " + new Date().toISOString().replace("T", " ").slice(0, 19) + "Z";
}
"""#
}
