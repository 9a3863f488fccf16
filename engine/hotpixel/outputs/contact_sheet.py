"""``hits.png``: the contact sheet of a QC folder, the one picture a supervisor is sent.

One row per hit (:func:`hotpixel.outputs.hit_sheet.build_sheet`: its id, place, frame, kind and
score over its five crops), the hits of one place together (places in the report's order, each
place's hits by frame), then the sensor pass's defects. Crops are decoded as detection saw
them, like the QC page's (:func:`hotpixel.outputs.qc_page.frame_loader`). A sheet holds at most
:data:`MAX_ROWS` rows, so that a run with thousands of hits still gives a picture an image
viewer opens; the rest are on the QC page. A folder without hits gets no sheet (an older one
is removed).
"""

from __future__ import annotations

import os
from typing import Any

from hotpixel.outputs.groups import ensure_ids_and_groups
from hotpixel.outputs.hit_sheet import MAX_ROWS, SHEET, Loader, build_sheet, write_sheet
from hotpixel.outputs.qc_page import frame_loader, sensor_hits
from hotpixel.outputs.report import read_qc_folder


def sheet_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every hit of ``report`` in the sheet's order: by place, then by frame; sensor last."""
    detections, groups = ensure_ids_and_groups(report)
    by_id = {d["id"]: d for d in detections}
    rows: list[dict[str, Any]] = []
    for group in groups:
        rows += sorted((by_id[i] for i in group["detections"]), key=lambda d: int(d["frame"]))
    placed = {d["id"] for d in rows}
    rows += [d for d in detections if d["id"] not in placed]  # a hit no group names
    return rows + sensor_hits(report)


def write_contact_sheet(
    out_dir: str, report: dict[str, Any] | None = None, load: Loader | None = None
) -> tuple[str, int, int]:
    """Write ``out_dir/hits.png``; return its path ("" without hits), the rows drawn and the
    hits in all.

    ``report`` defaults to what the folder holds, ``load`` to the QC page's frame loader.
    """
    if report is None:
        report = read_qc_folder(out_dir)
    rows = sheet_rows(report)
    path = os.path.join(out_dir, SHEET)
    if not rows:
        if os.path.isfile(path):
            os.unlink(path)  # an earlier run's hits are not this run's
        return "", 0, 0
    write_sheet(path, build_sheet(rows[:MAX_ROWS], load or frame_loader(report)))
    return path, min(len(rows), MAX_ROWS), len(rows)
