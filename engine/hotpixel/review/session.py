"""Review state: the detections in report order, where we are, the labels, undo.

Every verdict is written at once (atomically, with who and when) so a crash loses nothing; a
new session on the same folder resumes at the first detection without a verdict.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hotpixel.errors import InputError, UsageError
from hotpixel.outputs.labels import (
    VERDICTS,
    detection_ids,
    labels_path,
    open_labels,
    save_labels,
    set_label,
)
from hotpixel.outputs.report import read_report


class ReviewSession:
    """One person's pass over ``out_dir/report.json``; verdicts go to ``out_dir/labels.json``.

    ``index`` is the detection shown (0-based, report order). A new session starts at ``start``
    (a detection id) or at the first detection without a verdict; when every detection has one,
    at the last. Undo is kept for this session only; the labels themselves are on disk.
    """

    def __init__(self, out_dir: str, start: str | None = None) -> None:
        self.out_dir = out_dir
        self.report = read_report(out_dir)
        self.detections: list[dict[str, Any]] = self.report["detections"]
        self.ids = detection_ids(self.detections)
        self.labels = open_labels(out_dir, self.report)
        _check_labels_match(out_dir, self.report, self.labels, self.ids)
        self._undo: list[tuple[int, dict[str, Any] | None]] = []
        if start is not None and start not in self.ids:
            shown = ", ".join(self.ids[:3]) + (", ..." if len(self.ids) > 3 else "")
            raise UsageError(
                f"--start {start!r} is not a detection of {out_dir} (its ids: {shown or 'none'})"
            )
        self.index = self.ids.index(start) if start is not None else self.first_unlabelled()
        if self.index >= len(self.ids):
            self.index = max(len(self.ids) - 1, 0)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def current(self) -> dict[str, Any] | None:
        return self.detections[self.index] if self.ids else None

    def verdict(self, i: int | None = None) -> str | None:
        entry = self.labels["labels"].get(self.ids[self.index if i is None else i])
        return None if entry is None else str(entry["label"])

    def first_unlabelled(self, after: int = -1) -> int:
        """The first detection after ``after`` without a verdict (wrapping), or len()."""
        n = len(self.ids)
        for k in range(1, n + 1):
            i = (after + k) % n
            if self.ids[i] not in self.labels["labels"]:
                return i
        return n

    @property
    def done(self) -> bool:
        return self.first_unlabelled() == len(self.ids)

    def label(self, verdict: str) -> None:
        """Record ``verdict`` for the current detection, save, and move to the next open one."""
        if verdict not in VERDICTS or not self.ids:
            raise ValueError(f"verdict must be one of {VERDICTS}")
        det_id = self.ids[self.index]
        self._undo.append((self.index, copy.deepcopy(self.labels["labels"].get(det_id))))
        set_label(self.labels, det_id, self.detections[self.index], verdict)
        save_labels(self.out_dir, self.labels)
        nxt = self.first_unlabelled(self.index)
        if nxt < len(self.ids):
            self.index = nxt

    def undo(self) -> bool:
        """Restore the verdict before the last one (saved); go back to that detection."""
        if not self._undo:
            return False
        index, previous = self._undo.pop()
        det_id = self.ids[index]
        if previous is None:
            self.labels["labels"].pop(det_id, None)
        else:
            self.labels["labels"][det_id] = previous
        save_labels(self.out_dir, self.labels)
        self.index = index
        return True

    def move(self, step: int) -> None:
        if self.ids:
            self.index = min(max(self.index + step, 0), len(self.ids) - 1)

    def counts(self) -> dict[str, int]:
        """Verdicts given to this report's detections (``accept``/``reject``/``skip`` -> n)."""
        out = {v: 0 for v in VERDICTS}
        for det_id in self.ids:
            entry = self.labels["labels"].get(det_id)
            if entry is not None:
                out[str(entry["label"])] = out.get(str(entry["label"]), 0) + 1
        return out

    def progress_text(self) -> str:
        c = self.counts()
        position = f"{self.index + 1} / {len(self.ids)}" if self.ids else "0 / 0"
        return (
            f"{position}  (accepted {c['accept']}, rejected {c['reject']}, skipped {c['skip']}"
            f", open {len(self.ids) - sum(c.values())})"
        )


def _check_labels_match(
    out_dir: str, report: dict[str, Any], labels: dict[str, Any], ids: list[str]
) -> None:
    """Refuse a labels.json made for another plate, or whose ids now name other detections.

    Ids are ``<kind>_<frame>_<n>``: a rerun of detect with other settings into the same folder
    can give an id to a different pixel, and its old verdict would silently move with it.
    """
    path = labels_path(out_dir)
    pattern = str(report["source"]["pattern"])
    labelled = str(labels.get("pattern") or pattern)
    # a relative pattern depends on where detect ran: then only the file names can be compared
    same = (
        os.path.normpath(labelled) == os.path.normpath(pattern)
        if os.path.isabs(pattern)
        else os.path.basename(labelled) == os.path.basename(pattern)
    )
    if not same:
        raise InputError(
            f"{path} holds labels for {labelled!r}, not this report's plate {pattern!r}; "
            "move it aside to review this plate"
        )
    by_id = dict(zip(ids, report["detections"], strict=True))
    for det_id, entry in labels["labels"].items():
        det = by_id.get(det_id)
        if det is None:
            continue  # kept as it is (finetune reads its own frame and position)
        if (entry["frame"], entry["kind"]) != (det["frame"], det["kind"]) or max(
            abs(entry["x"] - det["x"]), abs(entry["y"] - det["y"])
        ) > 0.5:
            raise InputError(
                f"{path}: {det_id} was labelled at ({entry['x']}, {entry['y']}) but the report "
                f"now has it at ({det['x']}, {det['y']}); detect was rerun with other settings. "
                "Move labels.json aside (its labels stay valid for hotpixel finetune) and review "
                "again"
            )
