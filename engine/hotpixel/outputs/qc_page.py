"""The QC report a supervisor opens: ``report.html`` with a picture of every detection.

Written from ``report.json`` (``hotpixel report OUT``, and at the end of ``detect``/``merge``):
a shot summary (frames, detector and model version, threshold, a detections-per-frame chart),
then one card per detection: the 17x17 crop around it, 8x nearest-neighbour, in frames t-2..t+2
with the detection's frame outlined (see :mod:`hotpixel.outputs.hit_sheet` for the exposure),
and its frame, position, score, area and kind. Cards can be filtered (kind, minimum score,
frames) and sorted in the page, or from the address (``report.html#kind=hot&score=0.9``). Images
load lazily, so long shots stay fast. No server and nothing from the network: the page and
``report_files/`` open from disk.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from hotpixel.errors import FrameReadError, InputError
from hotpixel.io.atomic import write_text
from hotpixel.io.frames import FrameCache, read_display
from hotpixel.io.sequence import discover
from hotpixel.outputs.hit_sheet import build_sheet, write_sheet
from hotpixel.outputs.report import read_report, track_name

FILES = "report_files"
_CROP_NAME = re.compile(r"^[a-z]+_-?\d+_\d+\.png$")


def display_loader(paths: dict[int, str]) -> Callable[[int], np.ndarray | None]:
    """Display-window frames by number; None for a missing or damaged one (shown grey)."""

    def load(frame: int) -> np.ndarray | None:
        path = paths.get(frame)
        if path is None:
            return None
        try:
            return read_display(path, frame)
        except FrameReadError:
            return None  # a damaged neighbour is shown grey, not fatal for the page

    return load


def source_paths(report: dict[str, Any]) -> dict[int, str]:
    """Frame -> plate file: the report's own frames, neighbours found through its pattern."""
    paths = {int(r["frame"]): str(r["file"]) for r in report.get("frames", [])}
    try:
        seq = discover(str(report["source"]["pattern"]))
    except InputError:
        return paths
    return {**seq.paths, **paths}


def write_html_report(
    out_dir: str,
    report: dict[str, Any] | None = None,
    load: Callable[[int], np.ndarray | None] | None = None,
) -> str:
    """Write ``out_dir/report.html`` and its crops; return the page's path."""
    if report is None:
        report = read_report(out_dir)
    detections = sorted(report["detections"], key=lambda d: (d["frame"], d["x"], d["y"]))
    load = load or FrameCache(display_loader(source_paths(report)))
    folder = os.path.join(out_dir, FILES)
    os.makedirs(folder, exist_ok=True)
    names: list[str] = []
    per_frame: Counter[tuple[str, int]] = Counter()
    for d in detections:
        key = (d["kind"], d["frame"])
        name = track_name(d, per_frame[key]).replace(".txt", ".png")
        per_frame[key] += 1
        write_sheet(os.path.join(folder, name), build_sheet([d], load))
        names.append(name)
    keep = set(names)
    for name in os.listdir(folder):
        if _CROP_NAME.match(name) and name not in keep:
            os.unlink(os.path.join(folder, name))
    path = os.path.join(out_dir, "report.html")
    write_text(path, render_page(report, list(zip(detections, names, strict=True))))
    return path


def _chart(report: dict[str, Any]) -> str:
    """Detections per frame as an inline SVG bar chart."""
    rows = report.get("frames", [])
    if not rows:
        return "<p>No frames processed yet.</p>"
    counts = [int(r["detections"]) for r in rows]
    top = max(max(counts), 1)
    width, height = 900, 120
    bar = width / len(rows)
    bars = []
    for i, (r, c) in enumerate(zip(rows, counts, strict=True)):
        h = 0 if c == 0 else max(2.0, (height - 20) * c / top)
        bars.append(
            f'<rect x="{i * bar:.2f}" y="{height - 14 - h:.2f}" width="{max(bar - 1, 1):.2f}" '
            f'height="{h:.2f}"><title>frame {r["frame"]}: {c}</title></rect>'
        )
    first, last = rows[0]["frame"], rows[-1]["frame"]
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="detections per frame">{"".join(bars)}'
        f'<text x="0" y="{height - 2}">{first}</text>'
        f'<text x="{width}" y="{height - 2}" text-anchor="end">{last}</text>'
        f'<text x="{width}" y="10" text-anchor="end">max {top}</text></svg>'
    )


def _warnings(report: dict[str, Any]) -> str:
    """The report's warnings as a box above everything else (reports without the field: none)."""
    items = [str(w.get("message", "")) for w in report.get("warnings", [])]
    if not items:
        return ""
    lis = "".join(f"<li>{html.escape(m)}</li>" for m in items)
    return f'<section class="warnings" role="alert"><h2>Warnings</h2><ul>{lis}</ul></section>'


def render_page(report: dict[str, Any], cards: list[tuple[dict[str, Any], str]]) -> str:
    source, det, summary = report["source"], report["detector"], report["summary"]
    esc = html.escape
    facts = [
        ("Plate", source["pattern"]),
        ("Frames", f"{source['frames']} ({summary['frames_processed']} processed)"),
        ("Size", f"{source['width']} x {source['height']}"),
        ("Detector", f"{det['name']} {det['version']}, model {det['model_version']}"),
        ("Ran on", det.get("runtime", "not recorded")),  # reports older than the field lack it
        ("Threshold", str(report["threshold"])),
        ("Detections", f"{summary['detections']} in {summary['frames_with_detections']} frame(s)"),
        ("Pending", ", ".join(map(str, summary["frames_pending"])) or "none"),
    ]
    if source.get("pattern_given") and source["pattern_given"] != source["pattern"]:
        facts.insert(1, ("Given as", source["pattern_given"]))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in facts)
    kinds = sorted({d["kind"] for d, _ in cards})
    options = "".join(f'<option value="{esc(k)}">{esc(k)}</option>' for k in kinds)
    items = []
    for d, name in cards:
        caption = (
            f"frame {d['frame']} &middot; x {d['x']:.1f} y {d['y']:.1f} "
            f"(Nuke {d['nuke_x']:.1f}, {d['nuke_y']:.1f}) &middot; {esc(d['kind'])} &middot; "
            f"score {d['score']:.3f} &middot; area {d['area']}"
        )
        items.append(
            f'<figure class="hit" data-frame="{d["frame"]}" data-score="{d["score"]}" '
            f'data-area="{d["area"]}" data-kind="{esc(d["kind"])}" data-x="{d["x"]}" '
            f'data-y="{d["y"]}"><img loading="lazy" width="700" height="140" '
            f'src="{FILES}/{esc(name)}" alt="frames t-2 to t+2 around the detection">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    title = f"hotpixel QC: {os.path.basename(source['pattern'])}"
    return _PAGE.format(
        title=esc(title),
        facts=dl,
        warnings=_warnings(report),
        chart=_chart(report),
        options=options,
        total=len(cards),
        cards="\n".join(items) or '<p class="none">No detections.</p>',
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; background: #1e1e1e; color: #ddd; }}
h1 {{ font-size: 1.3em; }} dl {{ display: grid; grid-template-columns: max-content auto;
gap: .2em 1em; }} dt {{ color: #999; }} dd {{ margin: 0; }}
.chart {{ width: 100%; max-width: 900px; height: 120px; background: #2a2a2a; }}
.chart rect {{ fill: #e0533d; }} .chart text {{ fill: #aaa; font-size: 10px; }}
.controls {{ margin: 1em 0; display: flex; gap: 1em; flex-wrap: wrap; align-items: center; }}
.hit {{ margin: 0 0 1em 0; }} .hit img {{ image-rendering: pixelated; max-width: 100%;
height: auto; background: #444; }} figcaption {{ color: #bbb; }}
.warnings {{ border: 2px solid #e0a030; background: #3a2e14; padding: .2em 1em;
margin: 0 0 1em 0; }} .warnings h2 {{ font-size: 1.1em; color: #f0c050; }}
input, select {{ background: #333; color: #ddd; border: 1px solid #555; }}
</style></head>
<body data-total="{total}">
<h1>{title}</h1>
{warnings}
<dl>{facts}</dl>
{chart}
<div class="controls">
<label>Kind <select id="kind"><option value="">all</option>{options}</select></label>
<label>Min score <input id="score" type="number" min="0" max="1" step="0.05" value="0"></label>
<label>Frames <input id="frames" placeholder="e.g. 1001-1050" size="12"></label>
<label>Sort <select id="sort"><option value="frame">frame</option>
<option value="score">score (high first)</option><option value="area">area (large first)</option>
</select></label>
<span><b id="shown">{total}</b> of {total} shown</span>
</div>
<main id="hits">
{cards}
</main>
<script>
"use strict";
(function () {{
  const list = document.getElementById("hits");
  const cards = Array.from(list.querySelectorAll(".hit"));
  const kind = document.getElementById("kind");
  const score = document.getElementById("score");
  const frames = document.getElementById("frames");
  const sort = document.getElementById("sort");
  function frameTest(text) {{
    const parts = text.split(",").map(p => p.trim()).filter(p => p);
    if (!parts.length) return () => true;
    const spans = parts.map(p => {{
      const m = p.match(/^(-?\\d+)(?:-(-?\\d+))?$/);
      return m ? [Number(m[1]), Number(m[2] === undefined ? m[1] : m[2])] : null;
    }}).filter(s => s);
    return f => spans.some(([a, b]) => f >= a && f <= b);
  }}
  function update() {{
    const k = kind.value, s = Number(score.value) || 0, inFrames = frameTest(frames.value);
    const key = sort.value;
    cards.sort((a, b) => key === "frame"
      ? Number(a.dataset.frame) - Number(b.dataset.frame)
      : Number(b.dataset[key]) - Number(a.dataset[key]));
    let shown = 0;
    for (const c of cards) {{
      const ok = (!k || c.dataset.kind === k) && Number(c.dataset.score) >= s
        && inFrames(Number(c.dataset.frame));
      c.hidden = !ok;
      shown += ok ? 1 : 0;
      list.appendChild(c);
    }}
    document.getElementById("shown").textContent = String(shown);
    document.body.dataset.shown = String(shown);
  }}
  // filters can come in the address: report.html#kind=hot&score=0.9&frames=1001-1010&sort=score
  const given = new URLSearchParams(location.hash.slice(1));
  const named = [["kind", kind], ["score", score], ["frames", frames], ["sort", sort]];
  for (const [name, el] of named) {{
    if (given.has(name)) el.value = given.get(name);
  }}
  [kind, score, frames, sort].forEach(el => el.addEventListener("input", update));
  update();
}})();
</script>
</body></html>
"""
