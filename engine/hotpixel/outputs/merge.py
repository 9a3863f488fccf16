"""Merge: one report from the records of chunks that ran separately into one folder.

Chunks of one shot run as separate processes (``--workers``, a render farm) in any order;
``hotpixel merge`` rebuilds the report from every finished frame's record and the run record
its fingerprint names, and can insist that the whole shot is finished.
"""

from __future__ import annotations

import os
from typing import Any

from hotpixel.errors import InputError
from hotpixel.io.sequence import format_ranges
from hotpixel.outputs.records import read_run_records, recorded_frames
from hotpixel.outputs.report import build_report


def merge_report(
    out_dir: str, expect: list[int] | None = None, fp: str | None = None
) -> dict[str, Any]:
    """Rebuild the report of ``out_dir`` from its records (after chunks ran separately).

    The settings are those of the newest run record, or of fingerprint ``fp``. Frames finished
    with other settings are named in the error or left out; ``expect`` lists frames that must
    all be finished (the shot's range on a farm), else :class:`InputError` names the rest.
    """
    out_dir = os.path.abspath(out_dir)
    header = _run_header(out_dir, fp)
    fp = str(header["fingerprint"])
    if expect:
        _check_finished(out_dir, fp, expect)
    return build_report(out_dir, fp, header, expect or [])


def _run_header(out_dir: str, fp: str | None) -> dict[str, Any]:
    """The run record of fingerprint ``fp`` (None: the newest); :class:`InputError` if none."""
    runs = read_run_records(out_dir)
    if not runs:
        raise InputError(
            f"{out_dir!r} holds no hotpixel run (no runs/*.json); pass the --out folder of "
            "`hotpixel detect`"
        )
    if fp is None:
        return runs[-1]
    matches = [r for r in runs if r.get("fingerprint") == fp]
    if not matches:
        known = ", ".join(str(r.get("fingerprint")) for r in runs)
        raise InputError(f"{out_dir!r} has no run with fingerprint {fp!r} (it has {known})")
    return matches[-1]


def _check_finished(out_dir: str, fp: str, expect: list[int]) -> None:
    """:class:`InputError` naming the frames of ``expect`` not finished with fingerprint ``fp``."""
    done = recorded_frames(out_dir)
    absent = [f for f in expect if done.get(f, {}).get("fingerprint") != fp]
    if not absent:
        return
    other = [f for f in absent if f in done]
    why = (
        f"; frames {format_ranges(other)} were made with other settings (rerun them "
        "with the same flags and --force)"
        if other
        else ""
    )
    raise InputError(
        f"frames {format_ranges(absent)} of {out_dir!r} are not finished{why}; run "
        "their chunks (a rerun resumes), then merge again"
    )
