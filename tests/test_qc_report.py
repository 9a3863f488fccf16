"""report.html: hits grouped by place, the pixel marked, a frame timeline, ids, a
sensor section and the plate's colour space, checked in a real browser.

The browser tests run headless Chromium and leave screenshots in their tmp_path
(``qc_groups.png``, ``qc_timeline_1005.png``, ``qc_sensor_only.png``).
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.io.colour import Decoder, InputColour
from hotpixel.io.frames import read_display
from hotpixel.ml.synth.persistent import PersistentDefect, inject, shot_path
from hotpixel.ml.synth.plates import load_plate, put_in_motion
from hotpixel.outputs.labels import load_labels
from hotpixel.outputs.qc_page import (
    _colour,
    frame_loader,
    page_asset,
    report_decoder,
    write_html_report,
)
from hotpixel.outputs.report import read_report
from hotpixel.outputs.schema import KINDS
from hotpixel.review.session import ReviewSession
from imagegen import CLASSICAL, dark_plate, write_sequence

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("HOTPIXEL_REQUIRE_BROWSER"),
    reason="chromium not installed (make test installs it and then requires it)",
)
BLINK = (60, 20)  # x, y of a pixel that lights up in frames 1002, 1005 and 1008: one place


@pytest.fixture(scope="module")
def qc(tmp_path_factory):
    """Three single hot pixels, a NaN pixel and one place flagged in three frames."""
    root = tmp_path_factory.mktemp("qc")
    rng = np.random.default_rng(12)
    frames = [dark_plate(rng, 96, 64) for _ in range(8)]
    frames[1][10, 20] = (3.0, 3.0, 3.0)
    frames[4][40, 70] = (0.2, 2.5, 0.2)
    frames[6][50, 10] = (4.0, 0.5, 0.5)
    frames[5][30, 30] = (np.nan, 0.1, 0.1)
    for i in (1, 4, 7):
        frames[i][BLINK[1], BLINK[0]] = (3.0, 3.0, 3.0)
    pattern = write_sequence(str(root / "plate <&> 'x'"), frames)  # HTML-special characters
    out = root / "out"
    assert main(["detect", *CLASSICAL, pattern, "--out", str(out), "--quiet"]) == 0
    return out


def test_report_csv_and_tracks_carry_ids_and_groups(qc):
    report = read_report(str(qc))
    ids = [d["id"] for d in report["detections"]]
    assert len(ids) == len(set(ids)) == report["summary"]["detections"] == 7
    assert sorted(f"{i}.txt" for i in ids) == sorted(os.listdir(qc / "tracks"))
    with open(qc / "detections.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], r["group"]) for r in rows] == [
        (d["id"], d["group"]) for d in report["detections"]
    ]
    (place,) = [g for g in report["groups"] if g["count"] > 1]
    assert place["frames"] == "1002, 1005, 1008" and place["count"] == 3
    assert (place["x"], place["y"]) == (BLINK[0] + 0.5, BLINK[1] + 0.5)
    assert report["summary"]["groups"] == len(report["groups"]) == 5
    members = [d for d in report["detections"] if d["group"] == place["id"]]
    assert [d["id"] for d in members] == place["detections"]


def test_page_has_ids_groups_crops_and_the_colour(qc):
    report = read_report(str(qc))
    page = (qc / "report.html").read_text()
    cards = re.findall(r'<figure class="hit" id="([^"]+)"', page)
    assert sorted(cards) == sorted(d["id"] for d in report["detections"])
    crops = re.findall(r'src="report_files/((?!frame_)[^"]+\.png)"', page)
    locators = set(re.findall(r'src="report_files/(frame_\d+\.png)"', page))
    shown = {d["frame"] for d in report["detections"] if d["id"] in _representatives(report)}
    assert locators == {f"frame_{f}.png" for f in shown}  # one thumbnail per frame shown
    assert set(crops) | locators == set(os.listdir(qc / "report_files"))
    assert set(crops) == {f"{i}.png" for i in cards}
    assert all((qc / "report_files" / c).stat().st_size > 200 for c in crops)
    assert page.count('<details class="group"') == 1 and 'data-count="3"' in page
    markers, missing = page.count('<i class="marker"'), page.count('class="none">no frame<')
    assert markers + missing == 5 * 8 and missing == 6  # each crop of each hit and the group
    # frames 1000 (two hits in 1002), 1009 and 1010 (a hit in 1008, the group's best hit at an
    # end too) do not exist: those crops say so and carry no marker
    assert "t-2 (1003)" in page and "t (1005)" in page  # crops labelled with their frames
    for kind in KINDS:  # the Kind filter offers every kind, found or not
        assert f'<option value="{kind}">' in page
    assert "plate &lt;&amp;&gt;" in page  # the pattern is escaped, not injected
    assert "<dt>Ran on</dt><dd>numpy/scipy (CPU)</dd>" in page
    colour = re.search(r"<dt>Colour</dt><dd>([^<]*)</dd>", page)
    assert colour is not None and colour.group(1).count("taken as scene-linear") == 1, colour
    assert "http://" not in page and "https://" not in page  # nothing from the network
    for asset, tag in (("qc_page.css", "style"), ("qc_page.js", "script")):
        assert f"<{tag}>{page_asset(asset)}</{tag}>" in page  # inlined whole: one file


def _representatives(report):
    return {g["representative"] for g in report["groups"]}


def test_report_command_rebuilds_and_drops_stale_crops(qc):
    stale = qc / "report_files" / "hot_999_0.png"
    stale.write_bytes(b"old")
    stale_frame = qc / "report_files" / "frame_999.png"
    stale_frame.write_bytes(b"old")
    assert main(["report", str(qc), "--quiet"]) == 0
    assert not stale.exists() and not stale_frame.exists()
    assert len([n for n in os.listdir(qc / "report_files") if not n.startswith("frame_")]) == 7


def test_no_html_leaves_no_page(tmp_path):
    rng = np.random.default_rng(1)
    pattern = write_sequence(str(tmp_path / "p"), [dark_plate(rng) for _ in range(3)])
    out = tmp_path / "o"
    assert main(["detect", *CLASSICAL, pattern, "--out", str(out), "--no-html", "--quiet"]) == 0
    assert not (out / "report.html").exists()


def test_crops_are_decoded_with_the_runs_colour_space(qc, tmp_path):
    """A plate detected as LogC3 is cropped from the same scene-linear values."""
    report = read_report(str(qc))
    colour = InputColour(
        "ARRI LogC3 (EI800)", "flag", "--colorspace 'ARRI LogC3 (EI800)'",
        "ocio://studio-config-latest", report["colour"]["linear"] or "ACEScg",
    )  # fmt: skip
    logc = {**report, "colour": colour.as_dict()}
    decoder, note = report_decoder(logc)
    assert decoder is not None and note == ""
    frame = report["frames"][0]
    linear = read_display(frame["file"], frame["frame"], Decoder(colour))
    got = frame_loader(logc)(frame["frame"])
    assert got is not None and np.allclose(got, linear)
    assert not np.allclose(got, read_display(frame["file"], frame["frame"]))
    page = tmp_path / "page"
    page.mkdir()
    with open(write_html_report(str(page), logc), encoding="utf-8") as fh:
        text = fh.read()
    assert "ARRI LogC3 (EI800) (given: --colorspace" in text
    broken = {**report, "colour": {**colour.as_dict(), "config": str(tmp_path / "none.ocio")}}
    assert report_decoder(broken)[0] is None and "stored values" in report_decoder(broken)[1]


# -- the sensor pass on the page ---------------------------------------------------------------

SENSOR_DEFECTS = [
    PersistentDefect("dead", "single", ((20, 20),), (1.0, 1.0, 1.0), 0.0005),
    PersistentDefect("stuck", "single", ((60, 24),), (1.0, 0.2, 0.15), 0.8),
    PersistentDefect("hot", "single", ((100, 30),), (1.0, 1.0, 1.0), 3.0),
]


@pytest.fixture(scope="module")
def sensor_only(tmp_path_factory):
    """A folder that holds only a sensor pass: a panning shot with three defects."""
    root = tmp_path_factory.mktemp("sensor")
    rng = np.random.default_rng(7)
    path = shot_path(rng, 20, "moving", speed=2.0)
    plate = put_in_motion(load_plate("city"), path - path.mean(axis=0), (128, 96), rng)
    pattern = write_sequence(str(root / "plate"), inject(plate, SENSOR_DEFECTS, rng))
    out = root / "qc"
    assert main(["sensor", pattern, "--out", str(out), "--quiet"]) == 0
    assert not (out / "report.json").exists()
    return out


def test_report_command_opens_a_sensor_only_folder(sensor_only):
    assert main(["report", str(sensor_only), "--quiet"]) == 0
    page = (sensor_only / "report.html").read_text()
    sensor = json.loads((sensor_only / "sensor" / "sensor.json").read_text())
    assert {d["kind"] for d in sensor["defects"]} == {"dead", "stuck", "hot"}
    for d in sensor["defects"]:
        hit = f"sensor_{d['kind']}_{d['id']}"
        assert f'<figure class="hit sensor" id="{hit}"' in page
        assert (sensor_only / "report_files" / f"{hit}.png").is_file()
        assert f"{d['evidence_frames']} independent frame(s)" in page
        assert f"why: {d['reason']}" in page.replace("&#x27;", "'")
    assert "Sensor: dead, stuck and persistent hot pixels" in page
    assert "none (sensor pass only)" in page and "No detections." in page


def test_report_command_on_an_empty_folder_names_both_files(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "report.json" in err and "sensor/sensor.json" in err


# -- in a real browser ---------------------------------------------------------------------------


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "chromium is required here (HOTPIXEL_REQUIRE_BROWSER is set)"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console_errors(stderr: str) -> list[str]:
    lines = [ln for ln in stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    return [ln for ln in lines if "error" in ln.lower() or "Uncaught" in ln]


def _screenshot(url: str, path) -> None:
    done = _chromium(f"--screenshot={path}", "--window-size=1400,1200", url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


# Driven like a person: click the timeline's frame 1005, press j, and measure where the marker
# sits against the pixel it marks. Results go into <pre id="probe"> for --dump-dom to read.
PROBE = """<script>
window.addEventListener("load", () => {
  const out = {};
  document.querySelector('.timeline rect.hitbox[data-frame="1005"]')
    .dispatchEvent(new MouseEvent("click", {bubbles: true}));
  const visible = Array.from(document.querySelectorAll(".hit")).filter(h => h.offsetParent);
  out.shown = document.body.dataset.shown;
  out.ids = visible.map(h => h.id);
  out.focused = document.activeElement.id;
  out.open = Array.from(document.querySelectorAll("details.group")).filter(g => g.open)
    .map(g => g.dataset.group);
  document.dispatchEvent(new KeyboardEvent("keydown", {key: "j", bubbles: true}));
  out.afterJ = document.activeElement.id;
  const hit = document.getElementById(out.ids[0]);
  const img = hit.querySelector(".strip img").getBoundingClientRect();
  const z = img.width / 85;
  const mark = hit.querySelectorAll(".marker")[2].getBoundingClientRect();
  out.zoom = z;
  out.cell = [img.left + 42 * z, img.top + 8 * z, img.left + 43 * z, img.top + 9 * z];
  out.mark = [mark.left, mark.top, mark.right, mark.bottom];
  out.labels = Array.from(hit.querySelectorAll(".labels span")).map(s => s.textContent);
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@needs_browser
def test_page_in_chromium_groups_filters_and_kinds(qc, tmp_path):
    url = (qc / "report.html").as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_errors(dom.stderr) == []
    assert 'data-shown="7"' in dom.stdout and 'data-shown-groups="5"' in dom.stdout
    only_nan = _chromium("--dump-dom", url + "#kind=nonfinite")
    assert 'data-shown="1"' in only_nan.stdout and 'data-shown-groups="1"' in only_nan.stdout
    late = _chromium("--dump-dom", url + "#frames=1006-1008")
    assert 'data-shown="3"' in late.stdout
    hits_view = _chromium("--dump-dom", url + "#view=hits&sort=score")
    assert 'data-shown-groups="0"' in hits_view.stdout and 'data-shown="7"' in hits_view.stdout
    _screenshot(url, tmp_path / "qc_groups.png")


@needs_browser
def test_timeline_click_marker_and_keys_in_chromium(qc, tmp_path):
    page = (qc / "report.html").read_text()
    probe = qc / "report_probe.html"  # beside the page, so its crops load
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    try:
        dom = _chromium("--dump-dom", probe.as_uri())
        assert dom.returncode == 0 and _console_errors(dom.stderr) == [], dom.stderr[-2000:]
        found = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout).group(1))
        _screenshot(probe.as_uri(), tmp_path / "qc_timeline_1005.png")
    finally:
        probe.unlink()
    report = read_report(str(qc))
    in_1005 = [d for d in report["detections"] if d["frame"] == 1005]
    assert found["shown"] == str(len(in_1005)) == "2"
    assert sorted(found["ids"]) == sorted(d["id"] for d in in_1005)
    assert found["focused"] == found["ids"][0]  # the jump lands on the frame's first hit
    (place,) = [g["id"] for g in report["groups"] if g["count"] > 1]
    assert found["open"] == [place]  # its group opened to show the hit
    assert found["afterJ"] and found["afterJ"] != found["focused"]  # j moves on
    assert found["zoom"] == 4
    cx0, cy0, cx1, cy1 = found["cell"]
    mx0, my0, mx1, my1 = found["mark"]
    assert cx0 - 3 <= mx0 < cx0 and cy0 - 3 <= my0 < cy0  # just outside the pixel,
    assert cx1 < mx1 <= cx1 + 3 and cy1 < my1 <= cy1 + 3  # never over it
    assert found["labels"] == ["t-2 (1003)", "t-1 (1004)", "t (1005)", "t+1 (1006)", "t+2 (1007)"]


@needs_browser
def test_sensor_only_page_in_chromium(sensor_only, tmp_path):
    assert main(["report", str(sensor_only), "--quiet"]) == 0
    url = (sensor_only / "report.html").as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0 and _console_errors(dom.stderr) == [], dom.stderr[-2000:]
    assert 'data-shown-sensor="3"' in dom.stdout
    dead = _chromium("--dump-dom", url + "#kind=dead")
    assert 'data-shown-sensor="1"' in dead.stdout
    accept = """<script>window.addEventListener("load", () => {
      document.querySelector("#sensor figure.hit").focus();
      document.dispatchEvent(new KeyboardEvent("keydown", {key: "a", bubbles: true}));
      const pre = document.createElement("pre");
      pre.id = "probe";
      pre.textContent = JSON.stringify({accepted: document.body.dataset.accepted,
        verdict: document.querySelector("#sensor figure.hit").dataset.verdict});
      document.body.appendChild(pre);
    });</script>"""
    found = _probe(sensor_only, accept, f"--user-data-dir={tmp_path / 'profile'}")
    assert found == {"accepted": "1", "verdict": "accept"}  # sensor positions take verdicts too
    _screenshot(url, tmp_path / "qc_sensor_only.png")


# -- verdicts and locators on the page ---------------------------------------------------------

# A person's pass: reject the place with r, accept one single hit, skip another, accept a
# third and take it back with u; then save through a stand-in for the browser's file picker and
# once as a download (the picker absent). Results go into <pre id="probe">.
VERDICT_PROBE = """<script>
window.addEventListener("load", async () => {
  const out = {};
  const press = key => document.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true}));
  document.getElementById("reviewer").value = "qc-op";
  const place = document.querySelector("details.group");
  place.querySelector("summary").focus();
  press("r");
  out.movedTo = document.activeElement.closest(".group").dataset.group;
  const singles = Array.from(document.querySelectorAll(".group.single .hit"));
  out.singles = singles.map(h => h.id);
  singles[0].focus(); press("a");
  singles[1].focus(); press("s");
  singles[2].focus(); press("a"); press("u");
  out.undoneFocus = document.activeElement.id;
  out.verdicts = {};
  document.querySelectorAll("figure.hit[data-id]").forEach(h => {
    out.verdicts[h.id] = h.dataset.verdict || ""; });
  out.place = place.dataset.verdict;
  out.counts = document.getElementById("verdicts").textContent;
  const img = place.querySelector(".locator img").getBoundingClientRect();
  const mark = place.querySelector(".locator i").getBoundingClientRect();
  out.locator = [img.width, (mark.left + mark.right) / 2 - img.left,
    (mark.top + mark.bottom) / 2 - img.top, img.height];
  out.locatorLoaded = place.querySelector(".locator img").naturalWidth;
  let picked = null;
  window.showSaveFilePicker = async opts => ({name: opts.suggestedName,
    createWritable: async () => ({write: async t => { picked = t; }, close: async () => {}})});
  document.getElementById("save-labels").click();
  await new Promise(r => setTimeout(r, 100));
  out.picked = picked;
  out.pickedVia = document.body.dataset.saved;
  window.showSaveFilePicker = undefined;
  let blob = null;
  const create = URL.createObjectURL;
  URL.createObjectURL = b => { blob = b; return create.call(URL, b); };
  HTMLAnchorElement.prototype.click = function () { out.downloadName = this.download; };
  document.getElementById("save-labels").click();
  out.downloaded = await blob.text();
  out.downloadVia = document.body.dataset.saved;
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""

READ_BACK = """<script>
window.addEventListener("load", () => {
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({counts: document.getElementById("verdicts").textContent,
    place: document.querySelector("details.group").dataset.verdict});
  document.body.appendChild(pre);
});
</script>"""


def _probe(folder, script: str, *args: str) -> dict:
    """Open ``folder``'s page with ``script`` added (beside it, so its images load)."""
    page = (folder / "report.html").read_text()
    probe = folder / "report_probe.html"
    probe.write_text(page.replace("</body>", script + "</body>"))
    try:
        dom = _chromium(*args, "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()
    assert dom.returncode == 0 and _console_errors(dom.stderr) == [], dom.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stdout[-2000:]
    return dict(json.loads(html.unescape(found.group(1))))


@needs_browser
def test_keys_give_verdicts_saved_as_labels_the_engine_reads(qc, tmp_path):
    folder = tmp_path / "qc"
    shutil.copytree(qc, folder)
    profile = tmp_path / "profile"
    found = _probe(folder, VERDICT_PROBE, f"--user-data-dir={profile}")
    report = read_report(str(folder))
    (place,) = [g for g in report["groups"] if g["count"] > 1]
    one, two, three = found["singles"][:3]
    assert found["place"] == "reject" and found["movedTo"] != place["id"]  # and moved on
    assert {i: found["verdicts"][i] for i in place["detections"]} == dict.fromkeys(
        place["detections"], "reject"
    )
    assert (found["verdicts"][one], found["verdicts"][two], found["verdicts"][three]) == (
        "accept", "skip", ""
    )  # fmt: skip
    assert found["undoneFocus"] == three  # undo goes back to where the verdict was given
    open_count = len(report["detections"]) - 5
    assert found["counts"] == f"accepted 1, rejected 3, skipped 1, open {open_count}"
    assert found["pickedVia"] == "picker" and found["downloadVia"] == "download"
    assert found["downloadName"] == "labels.json" and found["picked"] == found["downloaded"]
    width, cx, cy, height = found["locator"]  # the mark sits over the place in the thumbnail
    assert found["locatorLoaded"] > 0 and width == 128
    w, h = report["source"]["width"], report["source"]["height"]
    assert abs(cx - place["x"] / w * width) < 1.5 and abs(cy - place["y"] / h * height) < 1.5

    (folder / "labels.json").write_text(found["downloaded"])
    labels = load_labels(str(folder / "labels.json"))
    assert labels["pattern"] == report["source"]["pattern"]
    assert labels["threshold"] == report["threshold"]
    by_id = {d["id"]: d for d in report["detections"]}
    assert {k: v["label"] for k, v in labels["labels"].items()} == {
        **dict.fromkeys(place["detections"], "reject"),
        one: "accept",
        two: "skip",
    }
    for det_id, entry in labels["labels"].items():
        det = by_id[det_id]
        assert (entry["frame"], entry["kind"], entry["bbox"]) == (
            det["frame"], det["kind"], list(det["bbox"])
        )  # fmt: skip
        assert (entry["x"], entry["y"], entry["score"]) == (det["x"], det["y"], det["score"])
        assert entry["user"] == "qc-op" and entry["time"].endswith("+00:00")
    session = ReviewSession(str(folder))  # the review app resumes from the browser's verdicts
    assert session.counts() == {"accept": 1, "reject": 3, "skip": 1}

    kept = _probe(folder, READ_BACK, f"--user-data-dir={profile}")  # the browser kept them
    assert kept["counts"] == found["counts"] and kept["place"] == "reject"
    assert main(["report", str(folder), "--quiet"]) == 0  # a fresh browser: from labels.json
    fresh = _probe(folder, READ_BACK, f"--user-data-dir={tmp_path / 'other'}")
    assert fresh["counts"] == found["counts"] and fresh["place"] == "reject"
    other = {**labels, "pattern": "/elsewhere/other.####.exr"}  # another plate's verdicts
    (folder / "labels.json").write_text(json.dumps(other))
    assert main(["report", str(folder), "--quiet"]) == 0
    clean = _probe(folder, READ_BACK, f"--user-data-dir={tmp_path / 'third'}")
    assert clean["counts"] == f"accepted 0, rejected 0, skipped 0, open {len(by_id)}"


# -- the sensor pass's candidates, and detect groups at its positions --------------------------


def test_page_folds_the_unconfirmed_candidates_with_their_reasons(tmp_path):
    rng = np.random.default_rng(7)
    path = shot_path(rng, 20, "static")  # locked off: a hot photosite cannot be confirmed
    plate = put_in_motion(load_plate("city"), path - path.mean(axis=0), (128, 96), rng)
    pattern = write_sequence(str(tmp_path / "plate"), inject(plate, SENSOR_DEFECTS, rng))
    out = tmp_path / "qc"
    assert main(["sensor", pattern, "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(out), "--quiet"]) == 0
    page = html.unescape((out / "report.html").read_text())
    sensor = json.loads((out / "sensor" / "sensor.json").read_text())
    total, listed = sensor["summary"]["candidates"], sensor["candidates"]
    assert total > 0 and listed
    folded = re.search(r'<details class="candidates" id="sensor-candidates">(.*?)</details>', page)
    assert folded, "the candidates are folded (a closed <details>)"
    assert folded.group(1).startswith(f"<summary>{total} unconfirmed candidate(s)")
    rows = re.findall(r"<tr><td>([\d.]+)</td><td>([\d.]+)</td><td>(\w+)</td><td>(\d+)</td>"
                      r"<td>([^<]+)</td></tr>", folded.group(1))  # fmt: skip
    assert [(float(x), float(y), r) for x, y, _, _, r in rows] == [
        (c["x"], c["y"], c["reason"]) for c in listed
    ]
    assert (100.5, 30.5) in {(c["x"], c["y"]) for c in listed}  # the hot photosite, unconfirmed
    defects = len(sensor["defects"])
    assert f"sensor pass: {defects} position(s), {total} unconfirmed candidate(s)" in page


def test_a_detect_group_at_a_sensor_position_names_the_finding(sensor_only, tmp_path):
    folder = tmp_path / "qc"
    shutil.copytree(sensor_only, folder)
    sensor = json.loads((folder / "sensor" / "sensor.json").read_text())
    assert main(["detect", sensor["source"]["pattern"], "--out", str(folder), "--quiet"]) == 0
    report = read_report(str(folder))

    def finding(g):
        for d in sensor["defects"]:
            x0, y0, x1, y1 = d["bbox"]
            if x0 - 1 <= int(g["x"]) <= x1 and y0 - 1 <= int(g["y"]) <= y1:
                return d
        return None

    at_defect = [g for g in report["groups"] if finding(g)]
    assert at_defect, "detect flags a sensor defect's photosite in some frame"
    page = (folder / "report.html").read_text()
    cards = dict(re.findall(r'<(?:details|div) class="group[^"]*" data-group="(g\d+)"(.*?)'
                            r'(?=<(?:details|div) class="group|</div>\s*<div id="flat")', page,
                            re.S))  # fmt: skip
    assert set(cards) == {g["id"] for g in report["groups"]}
    for g in report["groups"]:
        d = finding(g)
        if d is None:
            assert "at sensor defect" not in cards[g["id"]]
        else:
            assert f'at sensor defect <a href="#sensor_{d["kind"]}_{d["id"]}">' in cards[g["id"]]


def test_the_colour_line_of_an_older_report_says_how_once():
    old = {"colorspace": "ACEScg", "chosen_by": "linear", "linear": "ACEScg"}
    old["reason"] = "no colour metadata in frame 1001; taken as scene-linear"
    line = _colour({"colour": old})
    assert line.count("taken as scene-linear") == 1
    assert "ACEScg (taken as scene-linear: no colour metadata in frame 1001)" in line
