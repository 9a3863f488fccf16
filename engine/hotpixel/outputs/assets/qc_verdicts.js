// Verdicts on the QC page (report.html), inlined by hotpixel.outputs.qc_page after qc_page.js.
// Keys as in hotpixel review: a accept (a real defect), r reject (a false positive), s skip,
// for the focused place (every one of its hits) or hit; u or Ctrl+Z undo. Verdicts start from
// the labels.json the folder held when the page was written (<script id="run">), are kept in
// the browser's localStorage under the run's key while the page is open and across reloads,
// and are saved as labels.json (schema hotpixel-labels 1, as hotpixel/outputs/labels.py
// writes it): through the browser's file picker where it offers one (showSaveFilePicker),
// else as a download.
"use strict";
(function () {
  const body = document.body;
  const run = JSON.parse(document.getElementById("run").textContent);
  const base = run.labels;
  const VERDICTS = {a: "accept", r: "reject", s: "skip"};
  const cards = new Map();  // id -> its figure, in page order
  for (const el of document.querySelectorAll("figure.hit[data-id]")) cards.set(el.dataset.id, el);
  const places = Array.from(document.querySelectorAll("#groups > .group"));
  const members = new Map(places.map(g => [g, Array.from(cards.values())
    .filter(h => h.dataset.group === g.dataset.group)]));
  const reviewer = document.getElementById("reviewer");
  const saved = document.getElementById("saved");
  let unsaved = false;

  function now() { return new Date().toISOString().slice(0, 19) + "+00:00"; }
  function storage(name, value) {  // localStorage can be refused (privacy settings): then none
    try {
      if (value === undefined) return localStorage.getItem(name);
      localStorage.setItem(name, value);
    } catch (e) {
      saved.textContent = "this browser keeps no verdicts: save labels.json before closing";
    }
    return null;
  }
  // id -> entry as labels.py writes it, or {label: null, time} where a verdict was taken back;
  // of the folder's entry and the browser's, the later one counts
  const labels = {};
  let kept = {};
  try { kept = JSON.parse(storage(run.key) || "{}"); } catch (e) { kept = {}; }
  for (const id of new Set([...Object.keys(base.labels), ...Object.keys(kept)])) {
    const a = base.labels[id], b = kept[id];
    labels[id] = !a ? b : !b ? a : String(b.time) > String(a.time) ? b : a;
  }
  reviewer.value = storage("hotpixel-reviewer") || "";
  reviewer.addEventListener("input", () => storage("hotpixel-reviewer", reviewer.value));

  function entry(el, verdict) {
    const d = el.dataset;
    return {label: verdict, frame: Number(d.frame), x: Number(d.x), y: Number(d.y),
      kind: d.kind, bbox: d.bbox.split(",").map(Number), score: Number(d.score),
      user: reviewer.value.trim() || "unknown", time: now()};
  }
  function verdictOf(id) { const e = labels[id]; return e && e.label ? e.label : ""; }
  function badge(el, text) {
    let b = el.querySelector(":scope > .verdict");
    if (!b) { b = document.createElement("b"); b.className = "verdict"; el.prepend(b); }
    b.textContent = text;
    b.hidden = !text;
  }
  function show() {
    const counts = {accept: 0, reject: 0, skip: 0};
    for (const [id, el] of cards) {
      const v = verdictOf(id);
      if (v) { el.dataset.verdict = v; counts[v] += 1; } else delete el.dataset.verdict;
      badge(el, v);
    }
    for (const g of places) {
      const found = new Set(members.get(g).map(h => h.dataset.verdict || "open"));
      const v = found.size === 1 ? [...found][0] : "mixed";
      g.dataset.verdict = v;
      const summary = g.querySelector(":scope > summary");
      if (summary) badge(summary, v === "open" ? "" : v);
    }
    const open = cards.size - counts.accept - counts.reject - counts.skip;
    document.getElementById("verdicts").textContent = `accepted ${counts.accept}, rejected `
      + `${counts.reject}, skipped ${counts.skip}, open ${open}`;
    body.dataset.accepted = String(counts.accept);
    body.dataset.rejected = String(counts.reject);
    body.dataset.skipped = String(counts.skip);
  }
  // what a verdict key labels: the focused place (each of its hits) or the focused hit
  function targets(active) {
    if (!active || !active.closest) return [];
    const summary = active.closest("summary");
    if (summary) return members.get(summary.parentElement) || [];
    const hit = active.closest("figure.hit[data-id]");
    return hit ? [hit] : [];
  }
  const undo = [];
  function give(els, verdict, at) {
    undo.push({at: at, before: els.map(el => [el.dataset.id, labels[el.dataset.id]])});
    for (const el of els) labels[el.dataset.id] = entry(el, verdict);
    changed();
  }
  function takeBack() {
    const last = undo.pop();
    if (!last) return null;
    for (const [id, before] of last.before) labels[id] = before || {label: null, time: now()};
    changed();
    return last.at;
  }
  function changed() {
    storage(run.key, JSON.stringify(labels));
    unsaved = true;
    show();
  }
  document.addEventListener("keydown", e => {
    if (e.target.matches && e.target.matches("input, select")) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const active = document.activeElement;
    if (VERDICTS[e.key] && !ctrl && !e.altKey) {
      const els = targets(active);
      if (!els.length) return;
      give(els, VERDICTS[e.key], active);
      window.hotpixelQC.move(1);
    } else if ((e.key === "u" && !ctrl) || (ctrl && e.key === "z")) {
      const at = takeBack();
      if (at && at.isConnected) at.focus();
    } else return;
    e.preventDefault();
  });

  // labels.json: the run's header (plate, fingerprint, threshold, model) and every verdict
  function labelsText() {
    const out = {};
    for (const [id, e] of Object.entries(labels)) if (e && e.label) out[id] = e;
    return JSON.stringify({...base, labels: out}, null, 1) + "\n";
  }
  function done(how, text) {
    unsaved = false;
    saved.textContent = text;
    body.dataset.saved = how;
  }
  async function save() {
    const text = labelsText();
    if (window.showSaveFilePicker) {
      try {
        const handle = await window.showSaveFilePicker({suggestedName: "labels.json",
          types: [{description: "hotpixel labels", accept: {"application/json": [".json"]}}]});
        const out = await handle.createWritable();
        await out.write(text);
        await out.close();
        return done("picker", `saved as ${handle.name}`);
      } catch (e) {
        if (e && e.name === "AbortError") { saved.textContent = "not saved"; return; }
        // the picker is refused (a file:// page in some browsers): download instead
      }
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
    link.download = "labels.json";
    body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    done("download", "downloaded labels.json: move it into this folder, beside report.html");
  }
  document.getElementById("save-labels").addEventListener("click", save);
  window.addEventListener("beforeunload", e => {
    if (unsaved) { e.preventDefault(); e.returnValue = ""; }
  });
  show();
})();
