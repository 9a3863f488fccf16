// The QC page's script (report.html), inlined into the page by hotpixel.outputs.qc_page.
// It reads only the page's own data- attributes: filters (kind, minimum score, frames), the view
// (groups or all hits), the zoom, the frame timeline and the keys. State that a test or a link
// may set comes in the address: report.html#kind=hot&score=0.9&frames=1001-1050&view=hits&zoom=6
"use strict";
(function () {
  const body = document.body;
  const groups = Array.from(document.querySelectorAll("#groups > .group"));
  const hits = Array.from(document.querySelectorAll("#groups .hit"));
  const flat = document.getElementById("flat");
  const sensor = Array.from(document.querySelectorAll("#sensor .hit"));
  const home = new Map(hits.map(h => [h, h.parentElement]));
  const $ = id => document.getElementById(id);
  const kind = $("kind"), score = $("score"), frames = $("frames"), sort = $("sort");
  const view = $("view"), zoom = $("zoom");
  function spans(text) {
    return text.split(",").map(p => p.trim()).filter(p => p).map(p => {
      const m = p.match(/^(-?\d+)(?:-(-?\d+))?$/);
      return m ? [Number(m[1]), Number(m[2] === undefined ? m[1] : m[2])] : null;
    }).filter(s => s);
  }
  function frameTest(text) {
    const s = spans(text);
    if (!s.length) return () => true;
    return (a, b) => s.some(([lo, hi]) => b >= lo && a <= hi);
  }
  function passes(el, k, min, inFrames) {
    const d = el.dataset;
    const last = d.last === undefined ? d.frame : d.last;
    return (!k || d.kind === k) && Number(d.score) >= min
      && inFrames(Number(d.first === undefined ? d.frame : d.first), Number(last));
  }
  function order(a, b) {
    const key = sort.value;
    if (key === "frame") return Number(a.dataset.frame) - Number(b.dataset.frame);
    if (key === "count") return Number(b.dataset.count || 1) - Number(a.dataset.count || 1);
    return Number(b.dataset[key]) - Number(a.dataset[key]);
  }
  function update() {
    const k = kind.value, min = Number(score.value) || 0, inFrames = frameTest(frames.value);
    const flatView = view.value === "hits";
    body.style.setProperty("--z", zoom.value);
    let shown = 0, shownGroups = 0;
    for (const h of hits) {
      h.hidden = !passes(h, k, min, inFrames);
      shown += h.hidden ? 0 : 1;
    }
    if (flatView) {
      hits.slice().sort(order).forEach(h => flat.appendChild(h));
    } else {
      for (const h of hits) home.get(h).appendChild(h);
      groups.sort(order).forEach(g => g.parentElement.appendChild(g));
    }
    for (const g of groups) {
      const any = Array.from(g.querySelectorAll(".hit")).some(h => !h.hidden);
      g.hidden = flatView || !any;
      shownGroups += g.hidden ? 0 : 1;
    }
    flat.hidden = !flatView;
    let shownSensor = 0;
    for (const s of sensor) {
      s.hidden = !passes(s, k, min, inFrames);
      shownSensor += s.hidden ? 0 : 1;
    }
    const chosen = spans(frames.value);
    document.querySelectorAll(".timeline rect.hitbox").forEach(r => {
      const f = Number(r.dataset.frame);
      r.classList.toggle("chosen", chosen.some(([a, b]) => f >= a && f <= b));
    });
    $("shown").textContent = String(shown);
    $("shown-groups").textContent = String(shownGroups);
    body.dataset.shown = String(shown);
    body.dataset.shownGroups = String(shownGroups);
    body.dataset.shownSensor = String(shownSensor);
  }
  function visibleHits() {
    return hits.filter(h => !h.hidden && h.offsetParent !== null);
  }
  // a click on the timeline jumps to that frame's hits: their groups open, the first in view
  function jump(frame) {
    frames.value = String(frame);
    update();
    for (const g of groups) {
      if (g.tagName === "DETAILS" && !g.hidden
          && g.querySelector(".hit:not([hidden])") && Number(g.dataset.count) > 1) g.open = true;
    }
    const first = visibleHits()[0];
    if (first) { first.focus(); first.scrollIntoView({block: "center"}); }
    body.dataset.jumped = String(frame);
  }
  document.querySelectorAll(".timeline rect.hitbox").forEach(r =>
    r.addEventListener("click", () => jump(Number(r.dataset.frame))));
  $("all-frames").addEventListener("click", () => { frames.value = ""; update(); });
  // keys: j/k or arrows move between cards, Enter or o opens a group, g switches the view,
  // + and - zoom, Escape clears the frame filter
  function navigable() {
    const out = [];
    for (const el of document.querySelectorAll("[data-nav]")) {
      if (el.offsetParent === null) continue;
      // a closed group's hits keep a layout box in newer Chromium: skip them by hand
      const shut = el.closest("details:not([open])");
      if (shut && el.parentElement !== shut) continue;
      out.push(el);
    }
    return out;
  }
  function move(step) {
    const items = navigable();
    if (!items.length) return;
    const at = items.indexOf(document.activeElement);
    const next = items[Math.min(Math.max(at + step, 0), items.length - 1)];
    next.focus();
    next.scrollIntoView({block: "nearest"});
  }
  document.addEventListener("keydown", e => {
    if (e.target.matches && e.target.matches("input, select")) return;
    const active = document.activeElement;
    if (e.key === "j" || e.key === "ArrowDown") move(1);
    else if (e.key === "k" || e.key === "ArrowUp") move(-1);
    else if ((e.key === "Enter" || e.key === "o") && active && active.closest(".group")) {
      const g = active.closest("details.group");
      if (g) { g.open = !g.open; }
    } else if (e.key === "g") { view.value = view.value === "hits" ? "groups" : "hits"; update(); }
    else if (e.key === "+" || e.key === "=") { zoom.selectedIndex = Math.min(
      zoom.selectedIndex + 1, zoom.options.length - 1); update(); }
    else if (e.key === "-") { zoom.selectedIndex = Math.max(zoom.selectedIndex - 1, 0); update(); }
    else if (e.key === "Escape") { frames.value = ""; update(); }
    else return;
    e.preventDefault();
  });
  const given = new URLSearchParams(location.hash.slice(1));
  const named = [["kind", kind], ["score", score], ["frames", frames], ["sort", sort],
    ["view", view], ["zoom", zoom]];
  for (const [name, el] of named) {
    if (given.has(name)) el.value = given.get(name);
  }
  [kind, score, frames, sort, view, zoom].forEach(el => el.addEventListener("input", update));
  update();
  if (given.has("frame")) jump(Number(given.get("frame")));
  window.hotpixelQC = {move: move};  // for qc_verdicts.js: move on after a verdict
})();
