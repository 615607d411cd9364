/// The script of the dashboard's page of dead letters (`/dead-letters`, from
/// `/api/dead-letters`, admin token only): one row per dead letter, oldest first, with a
/// requeue button each, and requeue-all and purge-all (after a confirmation).
extension DashboardPage {
    static let deadLettersScript = #"""
function deadLettersPage(d) {
  document.getElementById("title").textContent = "dead letters";
  const reasons = {};
  for (const e of d.dead_letters) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
  const rows = d.dead_letters.map((e) => `<tr class="dead-letter" data-id="${esc(e.id)}"><td>${time(e.dead_at)}</td><td>${esc(e.reason)}</td>` +
    `<td>${esc(e.task ?? "–")}</td><td class="num">${e.attempt ?? "–"}</td><td>${esc(e.queue ?? "–")}</td><td class="error">${esc(e.error ?? "")}</td>` +
    `<td>${e.id ? taskLink(e.id) : "<span class=\"empty\">(no id)</span>"}${e.args != null ? `<br><code>${esc(JSON.stringify(e.args))}</code>` : ""}</td>` +
    `<td>${e.id ? `<button class="dl" data-dl-op="requeue" data-id="${esc(e.id)}">requeue</button>` : ""}</td></tr>`).join("");
  main.innerHTML = `<section class="wide" id="dead-letters"><h2>Dead letters (${d.count}, oldest first)</h2>
    <div class="tiles">${Object.keys(reasons).sort().map((r) => `<div><span>${esc(r)}</span><b class="big">${reasons[r]}</b></div>`).join("")}</div>
    ${d.count ? `<p><button class="dl" data-dl-op="requeue-all">requeue all</button> <button class="dl" data-dl-op="purge-all">purge all</button></p>` +
      `<table><tr><th>dead-lettered (UTC)</th><th>reason</th><th>task</th><th class="num">attempt</th><th>queue</th><th>error</th><th>id and args</th><th></th></tr>${rows}</table>`
      : `<p class="empty">No dead letters.</p>`}</section>`;
  document.getElementById("updated").textContent = "updated " + new Date().toISOString().replace("T", " ").slice(0, 19) + "Z";
}

main.addEventListener("click", async (event) => {
  const target = event.target.closest("button.dl");
  if (!target) return;
  const op = target.dataset.dlOp;
  if (op === "purge-all" && !confirm("Delete every dead letter for good?")) return;
  target.disabled = true;
  const body = op === "requeue" ? {ids: [target.dataset.id]} : {all: true};
  const answer = await fetch(`/api/dead-letters/${op.startsWith("purge") ? "purge" : "requeue"}`,
    {method: "POST", headers: {"Content-Type": "application/json", "X-Warren-Request": "dashboard"}, body: JSON.stringify(body)});
  const reply = await answer.json().catch(() => ({}));
  if (!answer.ok) alert(reply.error || answer.statusText);
  else if (reply.not_requeued && reply.not_requeued.length) alert(reply.not_requeued.map((p) => p.id + ": " + p.problem).join("\n"));
  refresh();
});
"""#
}
