/// The script that draws a workflow run's graph on its task page (`/tasks/RUN_ID`, from the
/// `workflow` member of `/api/results/RUN_ID`): steps in columns by depth (each column after
/// every step it follows), a box per step coloured by its state and linked to the step's own
/// page, a line from each step to each one that follows it.
extension DashboardPage {
    static let workflowScript = #"""
const stepColours = {succeeded: "#2e7d32", failed: "#c62828", timed_out: "#c62828", rejected: "#c62828", expired: "#6d4c41",
  cancelled: "#6d4c41", retrying: "#ef6c00", skipped: "#8d99ae", queued: "#1f5fbf", waiting: "#b0b6c3"};
function workflowGraph(w) {
  const depth = {};
  const byName = Object.fromEntries(w.steps.map((s) => [s.name, s]));
  const depthOf = (name, seen = new Set()) => {
    if (depth[name] != null) return depth[name];
    if (seen.has(name)) return 0;
    seen.add(name);
    const before = byName[name]?.after ?? [];
    return depth[name] = before.length ? 1 + Math.max(...before.map((b) => depthOf(b, seen))) : 0;
  };
  const columns = [];
  for (const s of w.steps) (columns[depthOf(s.name)] ??= []).push(s);
  const [boxW, boxH, gapX, gapY] = [150, 40, 60, 14];
  const at = {};
  columns.forEach((column, x) => column.forEach((s, y) => at[s.name] = {x: 10 + x * (boxW + gapX), y: 10 + y * (boxH + gapY)}));
  const width = 20 + columns.length * (boxW + gapX) - gapX;
  const height = 20 + Math.max(...columns.map((c) => c.length)) * (boxH + gapY) - gapY;
  const lines = w.steps.flatMap((s) => s.after.filter((b) => at[b]).map((b) => {
    const [from, to] = [at[b], at[s.name]];
    const [x1, y1, x2, y2] = [from.x + boxW, from.y + boxH / 2, to.x, to.y + boxH / 2];
    return `<path d="M${x1},${y1} C${x1 + gapX / 2},${y1} ${x2 - gapX / 2},${y2} ${x2},${y2}"/>`;
  }));
  const boxes = w.steps.map((s) => {
    const p = at[s.name];
    const label = s.name.length > 20 ? s.name.slice(0, 19) + "…" : s.name;
    return `<a href="/tasks/${encodeURIComponent(s.task_id)}" class="step" data-step="${esc(s.name)}" data-state="${esc(s.state)}">` +
      `<rect x="${p.x}" y="${p.y}" width="${boxW}" height="${boxH}" rx="6" fill="${stepColours[s.state] ?? "#667"}"/>` +
      `<text x="${p.x + 8}" y="${p.y + 16}">${esc(label)}</text>` +
      `<text x="${p.x + 8}" y="${p.y + 32}" opacity=".85">${esc(s.state)}${s.duration_ms != null ? " · " + esc(took(s.duration_ms)) : ""}</text></a>`;
  });
  return `<section class="wide" id="workflow"><h2>Workflow ${esc(w.name)} · ${badge(w.status)}</h2>` +
    `<svg class="graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="workflow graph">` +
    lines.join("") + boxes.join("") + `</svg></section>`;
}
"""#
}
