"""Review state: the hits grouped by place, where we are, the labels, undo.

The session lists groups first (hits at one place across frames, :mod:`hotpixel.outputs.groups`;
every sensor defect is a group of its own): a verdict on a group is given to each of its hits,
and a group opens to its single hits. Labels stay per hit. Every verdict is written at once
(atomically, with who and when) so a crash loses nothing; a new session on the same folder
resumes at the first group with a hit without a verdict.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hotpixel.errors import InputError, UsageError
from hotpixel.outputs.groups import ensure_ids_and_groups
from hotpixel.outputs.labels import VERDICTS, labels_path, open_labels, save_labels, set_label
from hotpixel.outputs.qc_page import sensor_hits
from hotpixel.outputs.report import read_qc_folder

_Undo = tuple[bool, int, int, list[tuple[int, dict[str, Any] | None]]]


class ReviewSession:
    """One person's pass over a QC folder; verdicts go to ``out_dir/labels.json``.

    ``items`` are the report's detections, then its sensor defects (``ids`` theirs, in the same
    order); ``groups`` lists the item indices of each place. ``grouped`` is the view: True shows
    one group at a time (``group``), its verdicts given to all its hits; False shows the hits of
    that group one by one. ``index`` is the item shown: in the group view the group's
    highest-scoring hit. A session starts at ``start`` (an id; a hit of a larger group opens
    that group) or at the first group with an open hit. Undo is kept for this session only; the
    labels themselves are on disk.
    """

    def __init__(self, out_dir: str, start: str | None = None) -> None:
        self.out_dir = out_dir
        self.report = read_qc_folder(out_dir)
        detections, groups = ensure_ids_and_groups(self.report)
        self.items: list[dict[str, Any]] = detections + sensor_hits(self.report)
        self.detections = self.items  # the name older callers use
        self.ids: list[str] = [str(d["id"]) for d in self.items]
        at = {i: k for k, i in enumerate(self.ids)}
        self.groups: list[list[int]] = [[at[i] for i in g["detections"]] for g in groups]
        self.group_ids: list[str] = [str(g["id"]) for g in groups]
        self.representative = [at[str(g["representative"])] for g in groups]
        for k in range(len(detections), len(self.items)):  # a sensor defect: a place of its own
            self.groups.append([k])
            self.group_ids.append(self.ids[k])
            self.representative.append(k)
        self.group_of = {k: g for g, members in enumerate(self.groups) for k in members}
        self.labels = open_labels(out_dir, self.report)
        _check_labels_match(out_dir, self.report, self.labels, self.ids, self.items)
        self.start = start
        self.earlier = [self.labels["labels"][i] for i in self.ids if i in self.labels["labels"]]
        self._undo: list[_Undo] = []
        if start is not None and start not in at:
            shown = ", ".join(self.ids[:3]) + (", ..." if len(self.ids) > 3 else "")
            raise UsageError(
                f"--start {start!r} is not a detection of {out_dir} (its ids: {shown or 'none'})"
            )
        self.grouped = True
        self.group = 0
        self.index = self.representative[0] if self.ids else 0
        if start is not None:
            self._go(self.group_of[at[start]], at[start])
            self.grouped = len(self.groups[self.group]) == 1
        else:
            first = self.first_unlabelled()
            self._go(first if first < len(self.groups) else max(len(self.groups) - 1, 0))

    def resumed_text(self) -> str:
        """Where this session opened, when an earlier one left verdicts ("" when none did)."""
        if not self.earlier:
            return ""
        last = max(self.earlier, key=lambda e: str(e.get("time", "")))
        before = (
            f"{len(self.earlier)} of {len(self.ids)} hits have verdicts from before (the last by "
            f"{last.get('user', 'unknown')} at {last.get('time', 'an unknown time')})"
        )
        if self.done:
            return f"{before}; all are done, showing place {self.group_ids[self.group]}"
        how = "opened (--start)" if self.start is not None else "resumed"
        return (
            f"{how} at place {self.group_ids[self.group]} ({self.group + 1} of "
            f"{len(self.groups)}), hit {self.ids[self.index]}: {before}"
        )

    def __len__(self) -> int:
        return len(self.ids)

    def _go(self, group: int, index: int | None = None) -> None:
        if not self.groups:
            return
        self.group = group
        self.index = self.representative[group] if index is None else index

    @property
    def current(self) -> dict[str, Any] | None:
        return self.items[self.index] if self.ids else None

    @property
    def members(self) -> list[int]:
        """Item indices of the current group."""
        return self.groups[self.group] if self.groups else []

    def verdict(self, i: int | None = None) -> str | None:
        entry = self.labels["labels"].get(self.ids[self.index if i is None else i])
        return None if entry is None else str(entry["label"])

    def group_verdict(self) -> str:
        """The current group's verdicts in words: ``reject`` (all hits), ``mixed``, ``open``."""
        found = {self.verdict(k) for k in self.members}
        if found == {None}:
            return "open"
        if len(found) == 1:
            return str(found.pop())
        return "mixed (" + ", ".join(sorted(v or "open" for v in found)) + ")"

    def _open(self, g: int) -> bool:
        return any(self.ids[k] not in self.labels["labels"] for k in self.groups[g])

    def first_unlabelled(self, after: int = -1) -> int:
        """The first group after group ``after`` with a hit without a verdict (wrapping), or
        the number of groups when every hit has one."""
        n = len(self.groups)
        for k in range(1, n + 1):
            g = (after + k) % n
            if self._open(g):
                return g
        return n

    @property
    def done(self) -> bool:
        return all(i in self.labels["labels"] for i in self.ids)

    def label(self, verdict: str) -> None:
        """Give ``verdict`` to the current group (group view: every hit) or hit, save, and move
        on: to the next group with an open hit, or the group's next open hit."""
        if verdict not in VERDICTS or not self.ids:
            raise ValueError(f"verdict must be one of {VERDICTS}")
        targets = self.members if self.grouped else [self.index]
        before = [(k, copy.deepcopy(self.labels["labels"].get(self.ids[k]))) for k in targets]
        self._undo.append((self.grouped, self.group, self.index, before))
        for k in targets:
            set_label(self.labels, self.ids[k], self.items[k], verdict)
        save_labels(self.out_dir, self.labels)
        if self.grouped:
            nxt = self.first_unlabelled(self.group)
            if nxt < len(self.groups):
                self._go(nxt)
            return
        members = self.members
        at = members.index(self.index)
        for k in members[at + 1 :] + members[:at]:
            if self.ids[k] not in self.labels["labels"]:
                self.index = k
                return

    def undo(self) -> bool:
        """Restore the verdicts before the last one (saved); go back to where it was given."""
        if not self._undo:
            return False
        grouped, group, index, before = self._undo.pop()
        for k, previous in before:
            if previous is None:
                self.labels["labels"].pop(self.ids[k], None)
            else:
                self.labels["labels"][self.ids[k]] = previous
        save_labels(self.out_dir, self.labels)
        self.grouped, self.group, self.index = grouped, group, index
        return True

    def move(self, step: int) -> None:
        """Previous or next group (group view), or hit of the open group (hit view)."""
        if not self.ids:
            return
        if self.grouped:
            self._go(min(max(self.group + step, 0), len(self.groups) - 1))
            return
        members = self.members
        at = members.index(self.index)
        self.index = members[min(max(at + step, 0), len(members) - 1)]

    def open_group(self) -> None:
        """Show the current group's hits one by one, from its first hit."""
        if self.ids:
            self.grouped = False
            self.index = self.members[0]

    def close_group(self) -> None:
        """Back to the groups, at the current one."""
        if self.ids:
            self.grouped = True
            self.index = self.representative[self.group]

    def save(self) -> None:
        """Write the labels (they are written after every verdict; this is for quitting)."""
        if self.labels["labels"] or os.path.exists(labels_path(self.out_dir)):
            save_labels(self.out_dir, self.labels)

    def counts(self) -> dict[str, int]:
        """Verdicts given to this folder's hits (``accept``/``reject``/``skip`` -> n)."""
        out = {v: 0 for v in VERDICTS}
        for det_id in self.ids:
            entry = self.labels["labels"].get(det_id)
            if entry is not None:
                out[str(entry["label"])] = out.get(str(entry["label"]), 0) + 1
        return out

    def progress_text(self) -> str:
        c = self.counts()
        if not self.ids:
            position = "0 / 0"
        elif self.grouped:
            position = f"{self.group + 1} / {len(self.groups)}"
        else:
            position = f"hit {self.members.index(self.index) + 1} / {len(self.members)}"
        where = ""
        if self.ids and len(self.members) > 1:
            where = f"  -  place {self.group_ids[self.group]}: {len(self.members)} hits"
        return (
            f"{position}  (accepted {c['accept']}, rejected {c['reject']}, skipped {c['skip']}"
            f", open {len(self.ids) - sum(c.values())}){where}"
        )


def _check_labels_match(
    out_dir: str,
    report: dict[str, Any],
    labels: dict[str, Any],
    ids: list[str],
    items: list[dict[str, Any]],
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
    by_id = dict(zip(ids, items, strict=True))
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
