"""The QC page a supervisor opens: ``report.html``, hits grouped by place, every pixel marked.

Written from ``report.json`` (``hotpixel report OUT``, and at the end of ``detect``/``merge``),
or from a folder that holds only a sensor pass (:func:`~hotpixel.outputs.report.read_qc_folder`):

- the run's warnings; the shot's facts, among them the plate's colour space and how it was
  chosen; a legend;
- a timeline of hits per frame: a click on a frame shows that frame's hits and jumps to them;
- the hits grouped by place (:mod:`hotpixel.outputs.groups`), groups first, each with its
  count, frame range and the crops of its highest-scoring hit; a group opens to its hits. A
  "hits" view lists every hit instead;
- each hit as five crops (t-2..t+2, :mod:`hotpixel.outputs.hit_sheet`) with their frames
  labelled, the hit's frame outlined red and the flagged pixels outlined cyan, and its id,
  group, frame, position (also in Nuke coordinates), kind, score and area;
- beside each place, a locator: its frame shrunk to a thumbnail with the place marked;
- the sensor pass's dead, stuck and persistent hot positions in their own section: crops of
  the position in five frames spread over the shot, its kind and its evidence; folded below
  them, the unconfirmed candidates (``sensor.json``), each with why it is unconfirmed. A group
  at a sensor position names that finding;
- verdicts: keys a/r/s (accept, reject, skip, as in ``hotpixel review``) label the focused
  place (each of its hits) or hit, u undoes. The page keeps them in the browser's storage,
  keyed on the run, and saves them as ``labels.json`` (:mod:`hotpixel.outputs.labels`; the
  browser's file picker where it offers one, a download otherwise). The page starts from the
  verdicts of the folder's ``labels.json`` when it was written.

Crops are made from frames decoded to scene-linear with the run's colour space, as detection
saw them, and stored at 1x; the browser enlarges them by whole factors (the zoom), so pixels
stay square. Filters (kind, minimum score, frames), sort, view and zoom work in the page and
from the address (``report.html#kind=hot&score=0.9&frames=1001-1050&view=hits``); keys j/k
move, Enter opens a group. Images load lazily. No server and nothing from the network: the
page and ``report_files/`` open from disk. The page's style and script are package files
(``outputs/assets/qc_page.css``, ``qc_page.js`` and ``qc_verdicts.js``), inlined so the page
is one file.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import numpy as np

from hotpixel.errors import FrameReadError, HotPixelError, InputError
from hotpixel.io.atomic import write_text
from hotpixel.io.colour import Decoder, InputColour
from hotpixel.io.frames import FIRST, FrameCache, Selection, read_display
from hotpixel.io.images import write_png8
from hotpixel.io.sequence import discover
from hotpixel.outputs.groups import ensure_ids_and_groups, sensor_hit_id
from hotpixel.outputs.hit_sheet import (
    MAX_ROWS,
    RADIUS,
    SHEET,
    build_strip,
    context_frames,
    marked_box,
)
from hotpixel.outputs.labels import new_labels, open_labels
from hotpixel.outputs.report import read_qc_folder
from hotpixel.outputs.schema import KINDS
from hotpixel.outputs.sensor_results import load_sensor_result
from hotpixel.outputs.tone import thumbnail

FILES = "report_files"
_CROP_NAME = re.compile(r"^(?:[a-z]+_-?\d+_\d+|sensor_[a-z]+_\d+|frame_-?\d+)\.png$")
ZOOMS = (2, 3, 4, 6, 8, 12)
LOCATOR_WIDTH = 160  # pixels of a locator thumbnail
Thumbs = dict[int, "tuple[int, int, int, int] | None"]  # frame -> (W, H, w, h) of frame, thumb
Loader = Callable[[int], "np.ndarray | None"]


def display_loader(
    paths: dict[int, str], decoder: Decoder | None = None, select: Selection = FIRST
) -> Loader:
    """Display-window frames by number, decoded through ``decoder`` (scene-linear) when given,
    of the part and layer ``select`` names; None for a missing or damaged one (shown grey)."""

    def load(frame: int) -> np.ndarray | None:
        path = paths.get(frame)
        if path is None:
            return None
        try:
            return read_display(path, frame, decoder, select)
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


def report_decoder(report: dict[str, Any]) -> tuple[Decoder | None, str]:
    """The run's decoder to scene-linear (None: values as stored), and a note for people.

    Reports from before colour management, and plates taken as scene-linear, need none. When
    the run's OCIO config cannot be loaded here, crops show the stored values and the note says
    so.
    """
    colour = report.get("colour") or {}
    if not colour or colour.get("chosen_by") == "linear":
        return None, ""
    try:
        decoder = Decoder(InputColour(**colour))
    except (TypeError, HotPixelError) as exc:
        return None, f"crops show the stored values: the colour space cannot be loaded ({exc})"
    return (None, "") if decoder.identity else (decoder, "")


def frame_loader(report: dict[str, Any], keep: int = 6) -> Loader:
    """Frames of the report's plate by number, as detection decoded them, the last ``keep``
    remembered (readers walk the shot in frame order)."""
    decoder, _ = report_decoder(report)
    params = report.get("params") or {}
    select = Selection(str(params.get("part") or ""), str(params.get("layer") or ""))
    return FrameCache(display_loader(source_paths(report), decoder, select), keep=keep)


def sensor_hits(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's sensor defects as hits for the page and the review: each with ``id``
    ``sensor_<kind>_<id>``, ``sensor_id``, ``frame`` (the middle frame of its crops) and
    ``score`` (its confidence)."""
    section = report.get("sensor") or {}
    out = []
    for d in section.get("defects", []):
        hit = {**d, "sensor_id": d["id"], "id": sensor_hit_id(d)}
        frames, own, _ = context_frames(hit)
        hit["frame"] = frames[own] if frames else int(d.get("first_frame") or 0)
        hit["score"] = float(d.get("confidence") or 0.0)
        out.append(hit)
    return out


def write_html_report(
    out_dir: str, report: dict[str, Any] | None = None, load: Loader | None = None
) -> str:
    """Write ``out_dir/report.html`` and its crops; return the page's path.

    ``report`` defaults to what the folder holds (``report.json``, or a sensor pass alone);
    ``load`` to :func:`frame_loader`.
    """
    if report is None:
        report = read_qc_folder(out_dir)
    detections, groups = ensure_ids_and_groups(report)
    sensor = sensor_hits(report)
    load = load or frame_loader(report)
    folder = os.path.join(out_dir, FILES)
    os.makedirs(folder, exist_ok=True)
    present: dict[str, list[bool]] = {}
    wanted = {int(d["frame"]) for d in sensor} | {
        int(d["frame"]) for d in detections if d["id"] in {g["representative"] for g in groups}
    }
    thumbs: Thumbs = {}
    for item in sorted(detections, key=lambda d: int(d["frame"])) + sensor:
        strip, present[item["id"]] = build_strip(item, load)
        write_png8(os.path.join(folder, f"{item['id']}.png"), strip)
        frame = int(item["frame"])
        if frame in wanted and frame not in thumbs:  # just read for the strip: still cached
            thumbs[frame] = _write_thumbnail(
                os.path.join(folder, f"frame_{frame}.png"), load(frame)
            )
    kept = set(present) | {f"frame_{f}" for f, t in thumbs.items() if t is not None}
    for name in os.listdir(folder):
        if _CROP_NAME.match(name) and name[: -len(".png")] not in kept:
            os.unlink(os.path.join(folder, name))
    path = os.path.join(out_dir, "report.html")
    labels = _labels(out_dir, report)
    sheet = os.path.isfile(os.path.join(out_dir, SHEET))
    page = render_page(
        report, detections, groups, sensor, present, thumbs, labels, _candidates(out_dir), sheet
    )
    write_text(path, page)
    return path


def _candidates(out_dir: str) -> dict[str, Any]:
    """The sensor pass's unconfirmed candidates: ``total`` and the ``listed`` ones (none when
    the folder has no readable ``sensor.json``: the section says what the report holds)."""
    try:
        result = load_sensor_result(out_dir)
    except HotPixelError:
        result = None
    if result is None:
        return {"total": 0, "listed": []}
    total = int(result.get("summary", {}).get("candidates", 0))
    return {"total": total, "listed": list(result.get("candidates", []))}


def _write_thumbnail(path: str, image: np.ndarray | None) -> tuple[int, int, int, int] | None:
    """Write a frame's locator thumbnail; its frame's and its own size, None when unreadable."""
    if image is None:
        return None
    small, _ = thumbnail(image, LOCATOR_WIDTH)
    write_png8(path, small / 255.0)
    return image.shape[1], image.shape[0], small.shape[1], small.shape[0]


def _labels(out_dir: str, report: dict[str, Any]) -> dict[str, Any]:
    """The verdicts the page starts from: the folder's ``labels.json``, or none when that file
    cannot be read or was made for another plate (the review app says why)."""
    fresh = new_labels(report)
    try:
        found = open_labels(out_dir, report)
    except HotPixelError:
        return fresh
    return found if os.path.normpath(str(found.get("pattern"))) == fresh["pattern"] else fresh


# -- the page ------------------------------------------------------------------------------


def page_asset(name: str) -> str:
    """The text of ``hotpixel/outputs/assets/<name>``: the page's CSS or JavaScript."""
    return (resources.files("hotpixel.outputs") / "assets" / name).read_text(encoding="utf-8")


def render_page(
    report: dict[str, Any],
    detections: list[dict[str, Any]],
    groups: list[dict[str, Any]],
    sensor: list[dict[str, Any]],
    present: dict[str, list[bool]],
    thumbs: Thumbs | None = None,
    labels: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    sheet: bool = False,
) -> str:
    """The page's HTML (see the module docstring); ``present[id]`` says which crops exist,
    ``thumbs`` which locators (none: no locators), ``labels`` the verdicts it starts from,
    ``candidates`` the sensor pass's unconfirmed ones (:func:`_candidates`), ``sheet`` whether
    the folder has a contact sheet to link."""
    by_id = {d["id"]: d for d in detections}
    esc = html.escape
    title = f"hotpixel QC: {os.path.basename(str(report['source'].get('pattern', '')))}"
    kinds = "".join(f'<option value="{k}">{k}</option>' for k in KINDS)
    zooms = "".join(
        f'<option value="{z}"{" selected" if z == 4 else ""}>{z}x</option>' for z in ZOOMS
    )
    thumbs = thumbs or {}
    candidates = candidates or {"total": 0, "listed": []}
    at_sensor = SensorPlaces(sensor, candidates["listed"])
    cards = "\n".join(
        _group(g, [by_id[i] for i in g["detections"]], present, thumbs, at_sensor) for g in groups
    )
    run = labels if labels is not None else new_labels(report)
    key = f"hotpixel-labels:{run['pattern']}:{run['fingerprint']}"
    return _PAGE.format(
        title=esc(title),
        style=page_asset("qc_page.css"),
        script=page_asset("qc_page.js"),
        verdicts=page_asset("qc_verdicts.js"),
        warnings=_warnings(report),
        facts=_facts(report, len(groups), int(candidates["total"]))
        + _sheet_link(sheet, len(detections) + len(sensor)),
        legend=_LEGEND,
        timeline=_timeline(report, detections),
        kinds=kinds,
        zooms=zooms,
        total=len(detections),
        groups_total=len(groups),
        groups=cards or '<p class="none">No detections.</p>',
        sensor=_sensor_section(report, sensor, present, thumbs, candidates),
        run=json.dumps({"key": key, "labels": run}).replace("</", "<\\/"),
    )


def _facts(report: dict[str, Any], groups: int, unconfirmed: int = 0) -> str:
    source, det, summary = report["source"], report["detector"], report["summary"]
    threshold = report.get("threshold")
    facts = [
        ("Plate", source.get("pattern", "")),
        ("Frames", f"{source.get('frames', '')} ({summary.get('frames_processed', 0)} processed)"),
        ("Size", f"{source.get('width')} x {source.get('height')}"),
        ("Colour", _colour(report)),
        ("Detector", _detector(det)),
        ("Ran on", det.get("runtime", "not recorded")),  # reports older than the field lack it
        ("Threshold", "none (sensor pass only)" if threshold is None else str(threshold)),
        ("Detections", _count_line(summary, report, groups, unconfirmed)),
        ("Pending", ", ".join(map(str, summary.get("frames_pending", []))) or "none"),
    ]
    if source.get("pattern_given") and source["pattern_given"] != source.get("pattern"):
        facts.insert(1, ("Given as", source["pattern_given"]))
    return "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)


def _sheet_link(sheet: bool, hits: int) -> str:
    """A link to the folder's contact sheet (every hit in one picture), if it has one."""
    if not sheet:
        return ""
    more = f" (the first {MAX_ROWS} of {hits} hits)" if hits > MAX_ROWS else ""
    return f'<dt>Contact sheet</dt><dd><a href="{SHEET}">{SHEET}</a>{more}</dd>'


def _detector(det: dict[str, Any]) -> str:
    if det["name"] == "sensor" and not det.get("version"):
        return "none: the shot-level sensor pass (hotpixel sensor) alone"
    return f"{det['name']} {det['version']}, model {det['model_version']}"


def _count_line(
    summary: dict[str, Any], report: dict[str, Any], groups: int, unconfirmed: int
) -> str:
    line = (
        f"{summary.get('detections', 0)} in {summary.get('frames_with_detections', 0)} frame(s)"
        f", {groups} place(s)"
    )
    section = report.get("sensor")
    if section is not None:
        line += f"; sensor pass: {len(section.get('defects', []))} position(s)"
        line += f", {unconfirmed} unconfirmed candidate(s)" if unconfirmed else ""
    return line


def _colour(report: dict[str, Any]) -> str:
    """The plate's colour space and how it was chosen, in words."""
    colour = report.get("colour") or {}
    if not colour:
        return "not recorded (a report from before colour management: values as stored)"
    how = {
        "flag": "given",
        "metadata": "from the file's metadata",
        "assumed": "assumed",
        "linear": "taken as scene-linear",
    }.get(str(colour.get("chosen_by")), str(colour.get("chosen_by")))
    reason = str(colour.get("reason"))
    if reason.endswith(f"; {how}"):  # older reports' reason repeated how it was chosen
        reason = reason[: -len(how) - 2]
    text = (
        f"{colour.get('colorspace')} ({how}: {reason}); crops decoded to "
        f"{colour.get('linear')} as detection saw them"
    )
    _, note = report_decoder(report)
    return f"{text}. {note}" if note else text


def _warnings(report: dict[str, Any]) -> str:
    """The report's warnings as a box above everything else (reports without the field: none)."""
    items = [str(w.get("message", "")) for w in report.get("warnings", []) if isinstance(w, dict)]
    if not items:
        return ""
    lis = "".join(f"<li>{html.escape(m)}</li>" for m in items)
    return f'<section class="warnings" role="alert"><h2>Warnings</h2><ul>{lis}</ul></section>'


def _timeline(report: dict[str, Any], detections: list[dict[str, Any]]) -> str:
    """Hits per frame as an inline SVG; every frame a click target (``rect.hitbox``)."""
    rows = [int(r["frame"]) for r in report.get("frames", [])]
    if not rows:
        return '<p class="none">No frames processed.</p>'
    counts = {f: 0 for f in rows}
    for d in detections:
        counts[int(d["frame"])] = counts.get(int(d["frame"]), 0) + 1
    top = max(max(counts.values()), 1)
    width, height = 1000, 110
    step = width / len(rows)
    parts = []
    for i, f in enumerate(rows):
        c = counts[f]
        h = 0 if c == 0 else max(2.0, (height - 26) * c / top)
        x = i * step
        parts.append(
            f'<rect class="bar" x="{x:.2f}" y="{height - 14 - h:.2f}" '
            f'width="{max(step - 1, 1):.2f}" height="{h:.2f}"></rect>'
            f'<rect class="hitbox" data-frame="{f}" data-count="{c}" x="{x:.2f}" y="0" '
            f'width="{max(step, 1):.2f}" height="{height - 12}"><title>frame {f}: {c} hit(s)'
            "</title></rect>"
        )
    return (
        f'<svg class="timeline" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'role="img" aria-label="hits per frame; click a frame to see its hits">'
        f'{"".join(parts)}<text x="0" y="{height - 2}">{rows[0]}</text>'
        f'<text x="{width}" y="{height - 2}" text-anchor="end">{rows[-1]}</text>'
        f'<text x="{width}" y="10" text-anchor="end">max {top}</text></svg>'
    )


def _strip(item: dict[str, Any], present: list[bool]) -> str:
    """The five labelled crops of a hit, with its frame outlined and its pixels marked."""
    _, own, labels = context_frames(item)
    spans = []
    for k in range(5):
        ok = k < len(labels) and present[k]
        cls = ' class="own"' if k == own and ok else ("" if ok else ' class="none"')
        spans.append(f"<span{cls}>{html.escape(labels[k]) if ok else 'no frame'}</span>")
    x0, y0, x1, y1 = marked_box(item)
    markers = "".join(
        f'<i class="marker" style="--k:{k};--x0:{x0};--y0:{y0};--x1:{x1};--y1:{y1}"></i>'
        for k in range(5)
        if k < len(present) and present[k]
    )
    size = 2 * RADIUS + 1
    return (
        f'<div class="labels">{"".join(spans)}</div><div class="strip">'
        f'<img loading="lazy" width="{5 * size}" height="{size}" '
        f'src="{FILES}/{html.escape(item["id"])}.png" alt="the hit in five frames">'
        f'<i class="ownframe" style="--k:{own}"></i>{markers}</div>'
    )


def _locator(item: dict[str, Any], thumbs: Thumbs) -> str:
    """The item's whole frame as a thumbnail with its place marked (CSS, in percent)."""
    frame = int(item["frame"])
    size = thumbs.get(frame)
    if size is None:
        return f'<span class="locator none">frame {frame} cannot be read</span>'
    width, height, w, h = size
    return (
        f'<span class="locator" title="frame {frame}, the place marked">'
        f'<img loading="lazy" width="{w}" height="{h}" src="{FILES}/frame_{frame}.png" '
        f'alt="frame {frame}, the place marked"><i style="--lx:{100 * item["x"] / width:.3f};'
        f'--ly:{100 * item["y"] / height:.3f}"></i></span>'
    )


def _verdict_data(d: dict[str, Any]) -> str:
    """What a verdict on a hit records (:func:`hotpixel.outputs.labels.set_label`), as data-."""
    bbox = ",".join(str(int(v)) for v in d["bbox"])
    return (
        f'data-id="{html.escape(d["id"])}" data-frame="{d["frame"]}" data-score="{d["score"]}" '
        f'data-kind="{html.escape(str(d["kind"]))}" data-x="{d["x"]}" data-y="{d["y"]}" '
        f'data-bbox="{bbox}"'
    )


class SensorPlaces:
    """What the sensor pass found at a position: a defect (within its box, 1 px around), or
    an unconfirmed candidate (within 1 px)."""

    def __init__(self, defects: list[dict[str, Any]], candidates: list[dict[str, Any]]) -> None:
        self.defects = defects
        self.candidates = candidates

    def note(self, x: float, y: float) -> str:
        """The line a card at (x, y) shows about it ("" when the pass found nothing there)."""
        px, py = int(x), int(y)
        for d in self.defects:
            x0, y0, x1, y1 = (int(v) for v in d["bbox"])
            if x0 - 1 <= px <= x1 and y0 - 1 <= py <= y1:
                return (
                    f'<br><span class="sensor-note">at sensor defect <a href="#{d["id"]}">'
                    f"{html.escape(d['id'])}</a>: a {html.escape(str(d['kind']))} photosite "
                    "found by hotpixel sensor over the whole shot (evidence: "
                    f"{html.escape(str(d.get('evidence') or 'not recorded'))}), one defect "
                    "however many frames flag it</span>"
                )
        for c in self.candidates:
            if abs(float(c["x"]) - x) <= 1.0 and abs(float(c["y"]) - y) <= 1.0:
                return (
                    '<br><span class="sensor-note">at a <a href="#sensor-candidates">sensor '
                    "candidate</a> the sensor pass left unconfirmed: "
                    f"{html.escape(str(c.get('reason') or 'reason not recorded'))}</span>"
                )
        return ""


def _hit(
    d: dict[str, Any], present: dict[str, list[bool]], locator: str = "", note: str = ""
) -> str:
    esc = html.escape
    caption = (
        f'<span class="id">{esc(d["id"])}</span> &middot; group {esc(str(d.get("group", "")))}'
        f" &middot; frame {d['frame']}<br>x {d['x']:.1f} y {d['y']:.1f} "
        f"(Nuke {d['nuke_x']:.1f}, {d['nuke_y']:.1f}) &middot; {esc(d['kind'])} &middot; "
        f"score {d['score']:.3f} &middot; area {d['area']}{note}"
    )
    return (
        f'<figure class="hit" id="{esc(d["id"])}" tabindex="0" data-nav {_verdict_data(d)} '
        f'data-group="{esc(str(d.get("group", "")))}" data-area="{d["area"]}">'
        f"{_strip(d, present[d['id']])}<figcaption>{locator}{caption}</figcaption></figure>"
    )


def _group(
    g: dict[str, Any],
    hits: list[dict[str, Any]],
    present: dict[str, list[bool]],
    thumbs: Thumbs,
    at_sensor: SensorPlaces,
) -> str:
    """A group card: its count, frames, best hit's crops and locator, and what the sensor pass
    found there; it opens to every hit."""
    esc = html.escape
    rep = next(h for h in hits if h["id"] == g["representative"])
    data = (
        f'data-group="{esc(g["id"])}" data-count="{g["count"]}" data-kind="{esc(g["kind"])}" '
        f'data-frame="{g["first_frame"]}" data-first="{g["first_frame"]}" '
        f'data-last="{g["last_frame"]}" data-score="{g["score"]}" data-area="{rep["area"]}"'
    )
    if g["count"] == 1:
        note = at_sensor.note(hits[0]["x"], hits[0]["y"])
        single = _hit(hits[0], present, _locator(hits[0], thumbs), note)
        return f'<div class="group single" {data}>{single}</div>'
    caption = (
        f'<span class="count">{g["count"]} hits</span> <span class="id">{esc(g["id"])}</span>'
        f" &middot; {esc(g['kind'])} at x {g['x']:.0f} y {g['y']:.0f} &middot; frames "
        f"{esc(g['frames'])} &middot; best score {g['score']:.3f} (shown: "
        f"{esc(rep['id'])}) &middot; one place in several frames: a light, a glint, or a "
        "defect that persists. Open to see every hit" + at_sensor.note(g["x"], g["y"])
    )
    members = "".join(_hit(h, present) for h in hits)
    return (
        f'<details class="group" {data}><summary tabindex="0" data-nav>'
        f'{_strip(rep, present[rep["id"]])}<div class="gcap">{_locator(rep, thumbs)}{caption}'
        "</div></summary>"
        f'<div class="members grid">{members}</div></details>'
    )


def _sensor_section(
    report: dict[str, Any],
    sensor: list[dict[str, Any]],
    present: dict[str, list[bool]],
    thumbs: Thumbs,
    candidates: dict[str, Any],
) -> str:
    section = report.get("sensor")
    if section is None:
        return ""
    esc = html.escape
    warn = [
        str(w.get("message", w)) if isinstance(w, dict) else str(w)
        for w in section.get("warnings", [])
    ]
    notes = "".join(f"<li>{esc(m)}</li>" for m in warn)
    cards = []
    for d in sensor:
        caption = (
            f'<span class="id">{esc(d["id"])}</span> &middot; {esc(str(d["kind"]))} &middot; '
            f"x {d['x']:.1f} y {d['y']:.1f} (Nuke {d['nuke_x']:.1f}, {d['nuke_y']:.1f})"
            f" &middot; area {d.get('area')}<br>seen in {d.get('seen_count') or '?'} frame(s): "
            f"{esc(str(d.get('frames_seen') or ''))} &middot; confidence {d['score']:.2f}<br>"
            f"evidence: {esc(str(d.get('evidence') or 'not recorded'))}, "
            f"{d.get('evidence_frames') if d.get('evidence_frames') is not None else '?'} "
            f"independent frame(s)<br>why: {esc(str(d.get('reason') or 'not recorded'))}"
        )
        cards.append(
            f'<figure class="hit sensor" id="{esc(d["id"])}" tabindex="0" data-nav '
            f'{_verdict_data(d)} data-first="{d.get("first_frame") or d["frame"]}" '
            f'data-last="{d.get("last_frame") or d["frame"]}">{_strip(d, present[d["id"]])}'
            f"<figcaption>{_locator(d, thumbs)}{caption}</figcaption></figure>"
        )
    body = "".join(cards) or '<p class="none">No dead, stuck or persistent hot pixels.</p>'
    return (
        '<section id="sensor"><h2>Sensor: dead, stuck and persistent hot pixels</h2>'
        '<p class="legend">The same photosite in every frame, found by <b>hotpixel sensor</b> '
        "over the whole shot; crops in five frames spread over the frames it was seen in.</p>"
        f'{f"<ul>{notes}</ul>" if notes else ""}<div class="grid">{body}</div>'
        f"{_candidate_list(candidates)}</section>"
    )


def _candidate_list(candidates: dict[str, Any]) -> str:
    """The unconfirmed candidates, folded: position, direction, evidence frames and why."""
    total, listed = int(candidates["total"]), candidates["listed"]
    if not total:
        return '<p class="none">No unconfirmed candidates.</p>'
    esc = html.escape
    rows = "".join(
        f"<tr><td>{float(c['x']):.1f}</td><td>{float(c['y']):.1f}</td>"
        f"<td>{esc(str(c.get('direction', '')))}</td>"
        f"<td>{esc(str(c.get('evidence_frames', '?')))}</td>"
        f"<td>{esc(str(c.get('reason') or 'not recorded'))}</td></tr>"
        for c in listed
    )
    shown = f"; the first {len(listed)} listed" if len(listed) < total else ""
    return (
        f'<details class="candidates" id="sensor-candidates"><summary>{total} unconfirmed '
        f"candidate(s){shown}: photosites that depart the same way in most frames, but that "
        "neither moving content, invariance nor a lone footprint sharper than the optics "
        "confirms as defects (a small static light looks the same)</summary><table><thead><tr>"
        "<th>x</th><th>y</th><th>direction</th>"
        "<th>evidence frames</th><th>why unconfirmed</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )


_LEGEND = (
    '<p class="legend"><b>Crops</b>: 17x17 pixels around each hit in frames t-2..t+2, exposed '
    "so the hit frame's median is mid-grey; <span class=\"own\">red</span>: the hit's frame; "
    '<span class="mark">cyan</span>: the flagged pixels (drawn just outside them); '
    '"no frame": no frame there. <b>Groups</b>: hits at one place in several frames (a light '
    "that stays is flagged again in every frame); open one to see its hits. <b>Timeline</b>: "
    "click a frame to jump to its hits. <b>Locator</b>: the whole frame, the place marked. "
    "<b>Keys</b>: j/k next/previous, Enter open a group, g groups/all hits, +/- zoom, Esc all "
    "frames; <b>verdicts</b> (as in hotpixel review): a accept (a real defect), r reject (a "
    "false positive), s skip, for the focused place (each of its hits) or hit; u undo.</p>"
)

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style></head>
<body data-total="{total}" data-groups="{groups_total}">
<h1>{title}</h1>
{warnings}
<div class="top"><dl>{facts}</dl>{legend}</div>
<h2>Hits per frame</h2>
{timeline}
<div class="controls">
<label>View <select id="view"><option value="groups">groups by place</option>
<option value="hits">all hits</option></select></label>
<label>Kind <select id="kind"><option value="">all</option>{kinds}</select></label>
<label>Min score <input id="score" type="number" min="0" max="1" step="0.05" value="0"></label>
<label>Frames <input id="frames" placeholder="e.g. 1001-1050" size="12"></label>
<button id="all-frames" type="button">all frames</button>
<label>Sort <select id="sort"><option value="frame">frame</option>
<option value="score">score (high first)</option><option value="count">hits (most first)</option>
<option value="area">area (large first)</option></select></label>
<label>Zoom <select id="zoom">{zooms}</select></label>
<span><b id="shown">{total}</b> of {total} hits in <b id="shown-groups">{groups_total}</b>
place(s)</span>
<span class="review" title="verdicts stay in this browser until saved">
<span id="verdicts"></span>
<label>Reviewer <input id="reviewer" size="10" placeholder="your name"></label>
<button id="save-labels" type="button" title="save it into this folder, beside report.html,
for hotpixel review and hotpixel finetune">save labels.json</button> <span id="saved"></span>
</span>
</div>
<main>
<div id="groups" class="grid">
{groups}
</div>
<div id="flat" class="grid" hidden></div>
{sensor}
</main>
<script type="application/json" id="run">{run}</script>
<script>{script}</script>
<script>{verdicts}</script>
</body></html>
"""
