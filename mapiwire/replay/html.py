"""The self-contained HTML report: one file that opens offline (no network, no external script).

A timeline per session drawn as inline SVG by a small script from the report's JSON (embedded in
the page): requests as bars (recorded and live lanes), NotificationWait long polls on their own
lane, PENDING ticks (MS-OXCMAPIHTTP 2.2.7), client address changes, long gaps, where the context
would expire (X-ExpirationInfo, 2.2.3.3.8), reconnects and scenario events; then the divergence
table, the X-ResponseCode groups and the resume-vs-reconnect figures.
"""

from __future__ import annotations

import html
import json

from .report import _default

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>mapiwire report: __TITLE__</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin-top: 24px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
th { background: #f3f3f3; } .protocol { color: #b00; } .content { color: #a60; } .expected { color: #888; }
.first { background: #fee; font-weight: bold; }
svg { background: #fcfcfc; border: 1px solid #ddd; display: block; margin: 4px 0 12px; }
.lane { font-size: 11px; fill: #555; } .axis { font-size: 10px; fill: #777; }
.legend span { display: inline-block; margin-right: 12px; } .legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; }
#verdict.match { color: #070; } #verdict.diverged { color: #b00; }
</style></head>
<body>
<h1>mapiwire __MODE__ report</h1>
<p id="summary"></p>
<p id="verdict"></p>
<div class="legend">
<span><i style="background:#4a90d9"></i>request ok</span><span><i style="background:#8e6bbf"></i>NotificationWait</span>
<span><i style="background:#d9534f"></i>protocol divergence / failed</span><span><i style="background:#c9a227"></i>content divergence</span><span><i style="background:#f0ad4e"></i>predicted by a scenario</span>
<span><i style="background:#aaa"></i>refused / skipped / cut</span><span><i style="background:#5cb85c"></i>reconnect / reopen / measure</span>
</div>
<div id="timelines"></div>
<h2>Scenarios</h2><div id="scenarios"></div>
<h2>Resume vs full reconnect</h2><div id="recovery"></div>
<h2>Divergences</h2><div id="divergences"></div>
<h2>X-ResponseCodes</h2><div id="codes"></div>
<script type="application/json" id="report-data">__DATA__</script>
<script>
"use strict";
(function () {
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var bars = 0;
  var QUIET = ["cut", "abandoned", "dropped", "closed", "refused", "skipped"];  // not sent or ended on purpose
  function el(tag, attrs, parent, text) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function tip(node, text) { el("title", {}, node, text); }
  function table(parent, headers, rows, rowClass) {
    if (!rows.length) { var p = document.createElement("p"); p.textContent = "none"; parent.appendChild(p); return; }
    var t = document.createElement("table"), tr = document.createElement("tr");
    headers.forEach(function (h) { var th = document.createElement("th"); th.textContent = h; tr.appendChild(th); });
    t.appendChild(tr);
    rows.forEach(function (row, i) {
      var r = document.createElement("tr");
      if (rowClass) { r.className = rowClass(i); }
      row.forEach(function (cell) { var td = document.createElement("td"); td.textContent = cell === null || cell === undefined ? "" : String(cell); r.appendChild(td); });
      t.appendChild(r);
    });
    parent.appendChild(t);
  }
  function ms(s) { return s === null || s === undefined ? "n/a" : (s * 1000).toFixed(1) + " ms"; }

  var live = report.mode === "replay";
  var duration = Math.max(report.duration_s || 0, 0.001);
  report.sessions.forEach(function (s) {
    (live ? s.live : s.recorded).forEach(function (e) {
      var end = live ? e.received : e.end;
      if (end > duration) { duration = end; }
    });
    if (live) { s.recorded.forEach(function (e) { if (e.planned > duration) { duration = e.planned; } }); }
  });
  var width = 1100, left = 150, right = 20, laneH = 22;
  function x(t) { return left + (Math.max(0, t) / duration) * (width - left - right); }

  report.sessions.forEach(function (s) {
    var box = document.createElement("div");
    var title = document.createElement("h2");
    title.textContent = "Session " + s.key + " (" + s.endpoint + "), clients " + s.clients.join(", ") +
      (s.reconnects ? ", " + s.reconnects + " reconnects" : "");
    box.appendChild(title);
    var lanes = live ? ["recorded", "recorded notify", "live", "live notify", "recovery"] : ["requests", "NotificationWait"];
    var height = lanes.length * laneH + 48;
    var svg = el("svg", {width: width, height: height, "class": "timeline", "data-session": s.key});
    lanes.forEach(function (name, i) { el("text", {x: 4, y: 28 + i * laneH + 14, "class": "lane"}, svg, name); });
    for (var k = 0; k <= 10; k++) {
      var t = duration * k / 10;
      el("line", {x1: x(t), x2: x(t), y1: 24, y2: height - 16, stroke: "#eee"}, svg);
      el("text", {x: x(t) - 10, y: height - 4, "class": "axis"}, svg, t.toFixed(t < 10 ? 2 : 1) + " s");
    }
    function laneY(i) { return 28 + i * laneH; }
    function bar(lane, start, end, color, text) {
      var w = Math.max(2, x(end) - x(start));
      var r = el("rect", {x: x(start), y: laneY(lane) + 3, width: w, height: laneH - 6, fill: color, "class": "bar"}, svg);
      tip(r, text); bars++;
      return r;
    }
    function tick(lane, t, color, text) {
      var l = el("line", {x1: x(t), x2: x(t), y1: laneY(lane) + 1, y2: laneY(lane) + laneH - 1, stroke: color, "stroke-width": 2, "class": "tick"}, svg);
      tip(l, text);
    }
    // recorded lanes: bars drawn at the planned replay time (replay) or capture time (capture)
    var gapFloor = Math.max(1, duration * 0.05);
    var previousEnd = null;
    s.recorded.forEach(function (e) {
      var start = live ? e.planned : e.start, end = start + (e.end - e.start);
      var lane = e.lane === "notify" ? 1 : 0;
      var color = e.lane === "notify" ? "#8e6bbf" : (e.code ? "#d9534f" : "#4a90d9");
      bar(lane, start, end, color, "#" + e.number + " " + e.type + (e.rops.length ? ": " + e.rops.join(", ") : "") +
        "\\nHTTP " + e.status + ", X-ResponseCode " + e.code + "\\n" + (e.client || ""));
      var pendings = e.meta.filter(function (m) { return m === "PENDING"; }).length;
      if (pendings && e.pending_period) {
        for (var p = 1; p <= pendings; p++) {
          var at = start + p * e.pending_period / 1000;
          if (at <= end) { tick(lane, at, "#333", "PENDING (recorded: one per X-PendingPeriod)"); }
        }
      }
      if (lane === 0 && previousEnd !== null && start - previousEnd > gapFloor) {
        var g = el("rect", {x: x(previousEnd), y: laneY(0) + 8, width: x(start) - x(previousEnd), height: 6, fill: "#ddd", "class": "gap"}, svg);
        tip(g, "gap " + (start - previousEnd).toFixed(1) + " s");
        if (e.expiration && start - previousEnd > e.expiration / 1000) {
          var ex = previousEnd + e.expiration / 1000;
          tick(0, ex, "#b00", "the context would expire here (X-ExpirationInfo " + e.expiration + " ms)");
        }
      }
      if (lane === 0) { previousEnd = end; }
    });
    if (live) {
      s.live.forEach(function (e) {
        if (e.sent === null || e.sent === undefined) { return; }
        var own = e.kind === "plan" || e.kind === "resend" || e.kind === "repark";
        var lane = !own ? 4 : (e.lane === "notify" ? 3 : 2);
        var diverged = e.divergences.some(function (d) { return !d.expected && d.kind === "protocol"; });
        var content = e.divergences.some(function (d) { return !d.expected && d.kind === "content"; });
        var predicted = e.divergences.length && !diverged && !content;
        var color = e.lane === "notify" ? "#8e6bbf" : "#4a90d9";
        if (!own) { color = "#5cb85c"; }
        else if (QUIET.indexOf(e.outcome) >= 0) { color = "#aaa"; }
        else if (diverged || e.outcome !== "ok") { color = "#d9534f"; }
        else if (content) { color = "#c9a227"; }
        else if (predicted) { color = "#f0ad4e"; }
        bar(lane, e.sent, e.received === null ? e.sent : e.received, color,
          "#" + e.number + " " + e.type + " [" + e.kind + "] " + e.outcome + (e.error ? ": " + e.error : "") +
          "\\nHTTP " + e.status + ", X-ResponseCode " + e.code + (e.inner_code !== null && e.inner_code !== undefined ? "/" + e.inner_code : "") +
          "\\nplanned " + ms(e.planned) + ", sent " + ms(e.sent) + ", received " + ms(e.received) + "\\nclient " + (e.client || ""));
        e.meta.forEach(function (m) { if (m[0] === "PENDING") { tick(lane, m[1], "#333", "PENDING at " + ms(m[1])); } });
      });
    }
    var labelled = 0;
    s.events.forEach(function (ev) {
      var color = ev.kind === "address-change" ? "#0a6" : (ev.kind === "reconnect" ? "#b00" : "#e80");
      var l = el("line", {x1: x(ev.at), x2: x(ev.at), y1: 22, y2: height - 16, stroke: color, "stroke-dasharray": "4,3",
                          "class": "event"}, svg);
      tip(l, ev.kind + ": " + ev.what + (ev.took !== undefined ? " (" + ms(ev.took) + ")" : ""));
      if (ev.until !== undefined && ev.until !== null) {
        var span = el("rect", {x: x(ev.at), y: 22, width: Math.max(1, x(ev.until) - x(ev.at)), height: height - 38,
                               fill: color, "fill-opacity": 0.08, "class": "event-span"}, svg);
        tip(span, ev.kind + ": " + ev.what);
      }
      if (ev.expiry_at !== undefined && ev.expiry_at !== null) {
        tick(live ? 2 : 0, ev.expiry_at, "#b00", "context expiry (X-ExpirationInfo)");
      }
      if (ev.kind === "scenario" || ev.kind.indexOf("notify") === 0) { return; }  // in the tables / tooltips
      var nearEnd = x(ev.at) > width - 120;
      el("text", {x: x(ev.at) + (nearEnd ? -2 : 2), y: 10 + (labelled++ % 2) * 9, "class": "axis",
                  "text-anchor": nearEnd ? "end" : "start"}, svg, ev.kind);
    });
    box.appendChild(svg);
    document.getElementById("timelines").appendChild(box);
  });

  var summary = report.mode === "replay"
    ? "Replay of " + report.capture + " against " + report.target + " (timing " + report.timing + "): " +
      report.counts.requests + " requests, " + report.counts.reconnects + " reconnects, " + report.duration_s.toFixed(3) + " s"
    : "Capture " + report.capture + ": " + report.sessions.length + " sessions, " + report.duration_s.toFixed(3) + " s";
  document.getElementById("summary").textContent = summary;
  var verdict = document.getElementById("verdict");
  if (report.verdict) { verdict.textContent = "Verdict: " + report.verdict + " (exit " + report.exit_status + ")"; verdict.className = report.verdict; }

  table(document.getElementById("scenarios"), ["scenario", "session", "expected", "actual", "verdict"],
    report.scenarios.map(function (s) { return [s.spec, s.session, s.expected, s.actual, s.verdict]; }));
  table(document.getElementById("recovery"), ["event", "session", "resume (same context)", "full reconnect (Connect + Logon + reopen)", "reconnects"],
    report.recovery.map(function (r) { return [r.scenario, r.session, ms(r.resume_s), ms(r.reconnect_s), r.reconnects]; }));
  var first = report.divergences.indexOf(report.first_divergence);
  report.divergences.forEach(function (d, i) { if (report.first_divergence && d.step === report.first_divergence.step && d.what === report.first_divergence.what && first < 0) { first = i; } });
  table(document.getElementById("divergences"), ["step", "session", "class", "what", "recorded", "live", "predicted"],
    report.divergences.map(function (d) { return ["#" + d.step, d.session, d.kind, d.what, JSON.stringify(d.recorded), JSON.stringify(d.live), d.expected ? "yes" : ""]; }),
    function (i) { var d = report.divergences[i]; return (i === first ? "first " : "") + (d.expected ? "expected" : d.kind); });
  table(document.getElementById("codes"), ["group", "count", "codes"],
    Object.keys(report.codes).map(function (g) { return [g, report.codes[g].count, JSON.stringify(report.codes[g].codes)]; }));
  document.body.setAttribute("data-rendered", "ok");
  document.body.setAttribute("data-bars", String(bars));
})();
</script>
</body></html>
"""


def render_html(report: dict) -> str:
    """The report as one self-contained HTML page."""
    data = json.dumps(report, default=_default).replace("</", "<\\/")
    title = html.escape(str(report.get("capture") or ""))
    return PAGE.replace("__TITLE__", title).replace("__MODE__", html.escape(report["mode"])).replace("__DATA__", data)
