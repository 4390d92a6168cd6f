//! The trace player: one self-contained HTML page (`player.html`, `deploysim trace
//! --html`) that replays a traced run for a class: the pods of each version as they are
//! created, become ready, receive traffic and terminate; the weight; success ratio and
//! p99 latency per second; the deploy, detection, decision, rollback and done marks.
//!
//! Unlike the plots, the page is built from the in-memory trace at trace time (it needs
//! the pod ids of the events and the scenario's `deploy_at`). No I/O here: the caller
//! writes the returned string. The data is embedded as JSON with per-second arrays and
//! one compact transition list per pod; the page loads nothing from the network.

use crate::metrics::{DeployPhase, Trace};
use crate::scenario::Scenario;
use crate::sim::SimTime;
use serde_json::{Value, json};

/// Pod state bits of a transition, as the page reads them.
const IN_LB: u32 = 1;
const READY: u32 = 2;
const FAILING: u32 = 4;
const TERMINATING: u32 = 8;
const GONE: u32 = 16;

/// Events that mark a moment of the deploy on the page: (kind, label, css class).
const MARKS: [(&str, &str, &str); 8] = [
    ("deploy_start", "deploy start", "deploy"),
    ("alert", "detection: alert", "detect"),
    ("analysis_failed", "detection: analysis failed", "detect"),
    ("paged", "decision: a person is paged", "decide"),
    ("rollback_start", "decision: rollback starts", "decide"),
    ("rollback_complete", "rollback complete", "rollback"),
    ("deploy_complete", "done", "done"),
    ("stalled", "stalled", "rollback"),
];

/// Milliseconds, rounded up, so "at or before second s" compares exactly.
fn ms_up(t: SimTime) -> u64 {
    t.micros().div_ceil(1000)
}

/// The span worth replaying, in whole simulated seconds: from a little before the
/// deploy to a little after the last mark, crash or state change (phase, pods, weight).
pub fn interesting_span(sc: &Scenario, tr: &Trace) -> (u64, u64) {
    let t0 = sc.deploy_at.second() as u64;
    let horizon = tr.timeline.last().map(|r| r.sample.t_s).unwrap_or(t0);
    let mut last = t0;
    let key = |r: &crate::metrics::TimelineRow| {
        let x = &r.sample;
        (
            x.phase,
            x.old.active,
            x.new.active,
            x.old.ready,
            x.new.ready,
            x.new_weight.round() as i64,
        )
    };
    for w in tr.timeline.windows(2) {
        if key(&w[0]) != key(&w[1]) && w[1].sample.phase != DeployPhase::Done {
            last = last.max(w[1].sample.t_s);
        }
    }
    // Crashes count: a release that crash-loops after `done` is worth watching.
    for e in &tr.events {
        if e.kind == "crash" || MARKS.iter().any(|m| m.0 == e.kind) {
            last = last.max(e.t.second() as u64);
        }
    }
    (t0.saturating_sub(10), (last + 30).min(horizon))
}

/// The page's data: per-second arrays over the span, pods, marks.
fn data(title: &str, sc: &Scenario, tr: &Trace) -> Value {
    let (from, to) = interesting_span(sc, tr);
    let rows: Vec<_> = tr
        .timeline
        .iter()
        .filter(|r| r.sample.t_s >= from && r.sample.t_s <= to)
        .collect();
    let col = |f: &dyn Fn(&crate::metrics::TimelineRow) -> Value| -> Vec<Value> {
        rows.iter().map(|r| f(r)).collect()
    };
    let phases = [
        DeployPhase::Steady,
        DeployPhase::Rolling,
        DeployPhase::Paused,
        DeployPhase::Analysis,
        DeployPhase::Promoting,
        DeployPhase::RollingBack,
        DeployPhase::Stalled,
        DeployPhase::Done,
    ];
    let phase_ix = |p: DeployPhase| phases.iter().position(|&q| q == p).unwrap_or(0);
    let end_ms = (to + 1) * 1000;
    let mut pods: Vec<(u8, Vec<u64>)> = Vec::new();
    let mut state: Vec<u32> = Vec::new();
    for e in &tr.events {
        let (Some(p), Some(v)) = (e.pod, e.version) else {
            continue;
        };
        let t = ms_up(e.t);
        if t > end_ms {
            break;
        }
        let p = p as usize;
        if p >= pods.len() {
            pods.resize_with(p + 1, || (0, Vec::new()));
            state.resize(p + 1, 0);
        }
        pods[p].0 = v;
        let s = state[p];
        let next = match e.kind {
            "create" => 0,
            "ready" if e.detail.starts_with("boot") => s | READY | IN_LB,
            "ready" => s | READY,
            "unready" => s & !READY,
            "endpoint_add" => s | IN_LB,
            "endpoint_remove" => s & !IN_LB,
            "crash" | "pull_failed" | "evicted" => s | FAILING,
            "started" => s & !FAILING,
            "terminate" => (s | TERMINATING) & !READY,
            "exit" => GONE,
            _ => s,
        };
        if next != s || e.kind == "create" {
            state[p] = next;
            pods[p].1.extend([t, next as u64]);
        }
    }
    // Pods gone before the span are left out (the boot pods of a long trace stay).
    let pods: Vec<Value> = pods
        .into_iter()
        .enumerate()
        .filter(|(_, (_, tr))| {
            tr.len() >= 2 && !(tr[tr.len() - 1] == GONE as u64 && tr[tr.len() - 2] < from * 1000)
        })
        .map(|(id, (v, tr))| json!([id, v, tr]))
        .collect();
    let marks: Vec<Value> = tr
        .events
        .iter()
        .filter_map(|e| {
            let m = MARKS.iter().find(|m| m.0 == e.kind)?;
            Some(json!([ms_up(e.t), m.1, m.2]))
        })
        .collect();
    let round = |x: f64, k: f64| (x * k).round() / k;
    json!({
        "title": title,
        "t0": sc.deploy_at.second(),
        "from": from,
        "slo": sc.slo.success,
        "phases": phases.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "phase": col(&|r| json!(phase_ix(r.sample.phase))),
        "old": col(&|r| json!(r.sample.old.active)),
        "new": col(&|r| json!(r.sample.new.active)),
        "oldReady": col(&|r| json!(r.sample.old.ready)),
        "newReady": col(&|r| json!(r.sample.new.ready)),
        "term": col(&|r| json!(r.sample.old.terminating + r.sample.new.terminating)),
        "weight": col(&|r| json!(round(r.sample.new_weight, 10.0))),
        "ok": col(&|r| r.success_ratio.map(|v| json!(round(v, 1e4))).unwrap_or(Value::Null)),
        "p99": col(&|r| r.latency_p99_ms.map(|v| json!(v.round())).unwrap_or(Value::Null)),
        "pods": pods,
        "marks": marks,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole page. `title` names the run (scenario, strategy, seed, release).
pub fn player_html(title: &str, sc: &Scenario, tr: &Trace) -> String {
    // `</` cannot end the script element early once escaped.
    let json = data(title, sc, tr).to_string().replace("</", "<\\/");
    let mut page = String::with_capacity(json.len() + PAGE_HEAD.len() + PAGE_SCRIPT.len() + 512);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(&format!(
        "<title>{} — trace player</title>\n",
        escape(title)
    ));
    page.push_str(PAGE_HEAD);
    page.push_str(&format!("<h1 id=\"title\">{}</h1>\n", escape(title)));
    page.push_str(PAGE_BODY);
    page.push_str("<script id=\"data\" type=\"application/json\">");
    page.push_str(&json);
    page.push_str("</script>\n<script>\n");
    page.push_str(PAGE_SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

const PAGE_HEAD: &str = r##"<style>
:root { --old: #0072b2; --new: #d55e00; --ok: #009e73; --bad: #c81e1e; --ink: #1a1a1a; --mute: #666; }
* { box-sizing: border-box; }
body { margin: 0; padding: 14px 22px; font: 20px/1.3 system-ui, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 26px; margin: 0 0 8px; }
#top { display: flex; align-items: center; gap: 20px; flex-wrap: wrap; }
#clock { font: bold 44px/1 ui-monospace, "DejaVu Sans Mono", monospace; min-width: 6.2em; }
#phase { font-size: 22px; padding: 4px 12px; border-radius: 6px; background: #eee; }
#controls { display: flex; align-items: center; gap: 8px; }
button { font-size: 20px; padding: 6px 14px; border: 2px solid #444; border-radius: 6px; background: #fff; cursor: pointer; }
button.on { background: #333; color: #fff; }
#scrub { width: 100%; margin: 10px 0 4px; height: 28px; }
#main { display: grid; grid-template-columns: 1fr 1fr 300px; gap: 16px; margin-top: 6px; align-items: start; }
.panel { border: 2px solid #ddd; border-radius: 8px; padding: 8px 10px; min-height: 150px; }
.panel h2 { font-size: 22px; margin: 0 0 6px; }
.panel.old h2 { color: var(--old); } .panel.new h2 { color: var(--new); }
.pods { display: flex; flex-wrap: wrap; gap: 6px; }
.pod { width: 44px; height: 44px; border-radius: 6px; border: 3px dashed; position: relative; font-size: 13px; text-align: center; line-height: 38px; }
.pod.old { border-color: var(--old); color: var(--old); } .pod.new { border-color: var(--new); color: var(--new); }
.pod.ready { border-style: solid; color: #fff; }
.pod.old.ready { background: var(--old); } .pod.new.ready { background: var(--new); }
.pod.lb::after { content: ""; position: absolute; left: 4px; right: 4px; bottom: -9px; height: 5px; border-radius: 3px; background: var(--ok); }
.pod.failing { border-color: var(--bad); border-style: solid; background: #fde0e0; color: var(--bad); }
.pod.terminating { opacity: .35; border-style: dotted; }
#stats div { margin-bottom: 8px; } #stats b { font-size: 30px; }
#weightbar { display: flex; height: 30px; border-radius: 6px; overflow: hidden; margin: 4px 0 10px; border: 1px solid #999; }
#wold { background: var(--old); } #wnew { background: var(--new); }
#charts { margin-top: 12px; }
#charts svg { width: 100%; height: auto; display: block; }
#legend { display: flex; flex-wrap: wrap; gap: 18px; font-size: 17px; margin-top: 6px; color: #333; }
#legend span.sw { display: inline-block; width: 22px; height: 16px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; border: 3px solid; }
.mark-deploy { stroke: #333; } .mark-detect { stroke: #e69f00; } .mark-decide { stroke: var(--bad); } .mark-rollback { stroke: #7b3294; } .mark-done { stroke: var(--ok); }
#marks { font-size: 17px; } #marks div { border-left: 6px solid; padding-left: 6px; margin-bottom: 3px; }
#marks .future { opacity: .4; } #marks .past { font-weight: bold; }
#marks .deploy { border-color: #333; } #marks .detect { border-color: #e69f00; } #marks .decide { border-color: #c81e1e; }
#marks .rollback { border-color: #7b3294; } #marks .done { border-color: #009e73; }
</style>
</head>
<body>
"##;

const PAGE_BODY: &str = r##"<div id="top">
<div id="clock">t+0s</div><div id="phase">steady</div>
<div id="controls"><button id="play">▶ play</button>
<button class="speed on" data-speed="1">1x</button><button class="speed" data-speed="5">5x</button>
<button class="speed" data-speed="20">20x</button><button class="speed" data-speed="60">60x</button></div>
</div>
<input id="scrub" type="range" min="0" max="1" step="0.1" value="0" aria-label="time">
<div id="state" data-t="0"></div>
<div id="main">
<div class="panel old"><h2>old version: <span id="nold">0 pods</span>, <span id="rold">0</span> ready</h2><div class="pods" id="podsold"></div></div>
<div class="panel new"><h2>new version: <span id="nnew">0 pods</span>, <span id="rnew">0</span> ready</h2><div class="pods" id="podsnew"></div></div>
<div class="panel" id="stats">
<div>traffic to new: <b id="weight">0%</b></div><div id="weightbar"><div id="wold"></div><div id="wnew"></div></div>
<div>success: <b id="ok">–</b></div><div>p99 latency: <b id="p99">–</b></div>
<div id="marks"></div>
</div>
</div>
<div id="charts"></div>
<div id="legend">
<span><span class="sw" style="border-color:#0072b2;background:#0072b2"></span>old pod, ready</span>
<span><span class="sw" style="border-color:#d55e00;background:#d55e00"></span>new pod, ready</span>
<span><span class="sw" style="border-color:#d55e00;border-style:dashed"></span>starting (not ready)</span>
<span><span class="sw" style="border-color:#c81e1e;background:#fde0e0"></span>crashed / failing</span>
<span><span class="sw" style="border-color:#888;border-style:dotted;opacity:.5"></span>terminating</span>
<span><span class="sw" style="border-color:#009e73;background:#009e73;height:6px"></span>receives traffic</span>
</div>
"##;

const PAGE_SCRIPT: &str = r##"'use strict';
const D = JSON.parse(document.getElementById('data').textContent);
const N = D.old.length, T0 = D.t0, FROM = D.from;
const $ = (id) => document.getElementById(id);
const rel = (s) => (s < 0 ? 't' + s : 't+' + s) + 's';
let cur = FROM, playing = false, speed = 1, last = null;
const scrub = $('scrub');
scrub.min = FROM; scrub.max = FROM + N - 1;

function podState(tr, ms) {
  let s = -1;
  for (let i = 0; i < tr.length; i += 2) { if (tr[i] <= ms) s = tr[i + 1]; else break; }
  return s;
}

function pct(v) { return v === null || v === undefined ? '–' : (100 * v).toFixed(2) + '%'; }

function render() {
  const sec = Math.floor(cur), i = Math.min(N - 1, Math.max(0, sec - FROM));
  const ms = Math.round(cur * 1000);
  const w = D.weight[i];
  // An endpoint receives traffic only while its version has a share of the weight.
  const share = { old: w < 100, new: w > 0 };
  const counts = { old: [0, 0], new: [0, 0] };
  const boxes = { old: [], new: [] };
  for (const [id, v, tr] of D.pods) {
    const s = podState(tr, ms);
    if (s < 0 || s & 16) continue;
    const ver = v === 0 ? 'old' : 'new';
    let cls = 'pod ' + ver;
    if (s & 8) cls += ' terminating';
    else { counts[ver][0]++; if (s & 2) counts[ver][1]++; }
    if (s & 2) cls += ' ready';
    if (s & 4) cls += ' failing';
    if (s & 1 && share[ver]) cls += ' lb';
    boxes[ver].push('<div class="' + cls + '" title="pod ' + id + '">' + id + '</div>');
  }
  for (const ver of ['old', 'new']) {
    $('pods' + ver).innerHTML = boxes[ver].join('');
    $('n' + ver).textContent = counts[ver][0] + (counts[ver][0] === 1 ? ' pod' : ' pods');
    $('r' + ver).textContent = counts[ver][1];
  }
  $('clock').textContent = rel(sec - T0);
  $('phase').textContent = D.phases[D.phase[i]];
  $('weight').textContent = Math.round(w) + '%';
  $('wold').style.width = (100 - w) + '%'; $('wnew').style.width = w + '%';
  const ok = D.ok[i];
  $('ok').textContent = pct(ok);
  $('ok').style.color = ok !== null && ok < D.slo ? '#c81e1e' : '#009e73';
  $('p99').textContent = D.p99[i] === null ? '–' : D.p99[i] + ' ms';
  $('marks').innerHTML = D.marks.map(([t, label, kind]) =>
    '<div class="' + kind + ' ' + (t <= ms ? 'past' : 'future') + '">' + rel(Math.round(t / 1000) - T0) + ' ' + label + '</div>').join('');
  const st = $('state');
  st.dataset.t = sec - T0; st.dataset.old = counts.old[0]; st.dataset.new = counts.new[0];
  st.dataset.oldReady = counts.old[1]; st.dataset.newReady = counts.new[1];
  st.dataset.weight = Math.round(w); st.dataset.phase = D.phases[D.phase[i]];
  scrub.value = cur;
  const x = X(cur);
  document.querySelectorAll('.cursor').forEach((c) => { c.setAttribute('x1', x); c.setAttribute('x2', x); });
}

const W = 1300, PAD = 200;
function X(s) { return PAD + (W - PAD - 10) * (s - FROM) / Math.max(1, N - 1); }

function charts() {
  const rows = [
    ['traffic to new (%)', D.weight, 100, '#d55e00', (v) => v],
    ['success ratio (%)', D.ok, null, '#009e73', (v) => 100 * v],
    ['p99 latency (ms)', D.p99, null, '#cc79a7', (v) => v],
  ];
  const h = 52, gap = 8;
  let svg = '<svg viewBox="0 0 ' + W + ' ' + (rows.length * (h + gap) + 24) + '" font-size="16">';
  rows.forEach(([name, vals, fixed, colour, f], k) => {
    const y0 = k * (h + gap) + 4;
    const got = vals.filter((v) => v !== null).map(f);
    let lo = 0, hi = fixed || Math.max(1, ...got);
    if (name.startsWith('success')) { lo = Math.min(90, Math.floor(Math.min(100, ...got))); hi = 100; }
    const Y = (v) => y0 + h - h * (f(v) - lo) / Math.max(1e-9, hi - lo);
    let d = '', pen = false;
    vals.forEach((v, i) => { if (v === null) { pen = false; return; } d += (pen ? 'L' : 'M') + X(FROM + i).toFixed(1) + ',' + Y(v).toFixed(1); pen = true; });
    svg += '<rect x="' + PAD + '" y="' + y0 + '" width="' + (W - PAD - 10) + '" height="' + h + '" fill="#fafafa" stroke="#ddd"/>';
    svg += '<text x="' + (PAD - 6) + '" y="' + (y0 + 14) + '" text-anchor="end" fill="#333">' + hi + '</text><text x="' + (PAD - 6) + '" y="' + (y0 + h) + '" text-anchor="end" fill="#333">' + lo + '</text>';
    svg += '<text x="0" y="' + (y0 + h / 2 + 6) + '" fill="' + colour + '" font-weight="bold">' + name + '</text>';
    svg += '<path d="' + d + '" fill="none" stroke="' + colour + '" stroke-width="2" vector-effect="non-scaling-stroke"/>';
    for (const [t, , kind] of D.marks) {
      const x = X(t / 1000);
      svg += '<line class="mark-' + kind + '" x1="' + x + '" x2="' + x + '" y1="' + y0 + '" y2="' + (y0 + h) + '" stroke-dasharray="5,4" stroke-width="2" vector-effect="non-scaling-stroke"/>';
    }
    svg += '<line class="cursor" x1="0" x2="0" y1="' + y0 + '" y2="' + (y0 + h) + '" stroke="#000" stroke-width="3" vector-effect="non-scaling-stroke"/>';
  });
  const yb = rows.length * (h + gap) + 18;
  for (let k = 0; k <= 6; k++) {
    const s = FROM + Math.round(k * (N - 1) / 6);
    const anchor = k === 0 ? 'start' : k === 6 ? 'end' : 'middle';
    svg += '<text x="' + X(s) + '" y="' + yb + '" text-anchor="' + anchor + '" fill="#333">' + rel(s - T0) + '</text>';
  }
  $('charts').innerHTML = svg + '</svg>';
}

function seek(s) { cur = Math.min(FROM + N - 1, Math.max(FROM, s)); render(); }

function fromHash() {
  const m = /t=(-?[0-9.]+)/.exec(location.hash);
  if (m) { playing = false; $('play').textContent = '▶ play'; seek(T0 + parseFloat(m[1])); }
}

function frame(now) {
  if (!playing) { last = null; return; }
  if (last !== null) cur += speed * (now - last) / 1000;
  last = now;
  if (cur >= FROM + N - 1) { cur = FROM + N - 1; playing = false; $('play').textContent = '▶ play'; }
  render();
  if (playing) requestAnimationFrame(frame);
}

$('play').addEventListener('click', () => {
  playing = !playing;
  $('play').textContent = playing ? '❚❚ pause' : '▶ play';
  if (playing) { if (cur >= FROM + N - 1) cur = FROM; requestAnimationFrame(frame); }
});
document.querySelectorAll('.speed').forEach((b) => b.addEventListener('click', () => {
  speed = Number(b.dataset.speed);
  document.querySelectorAll('.speed').forEach((o) => o.classList.toggle('on', o === b));
}));
scrub.addEventListener('input', () => seek(Number(scrub.value)));
window.addEventListener('hashchange', fromHash);
charts();
seek(FROM);
fromHash();
"##;
