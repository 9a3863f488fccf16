"""Where a run writes: mask file names, and the checks made before anything is written."""

from __future__ import annotations

import os

from hotpixel.errors import OutputError
from hotpixel.io.atomic import ensure_folders
from hotpixel.io.sequence import FrameSequence


def mask_path(out: str, seq: FrameSequence, frame: int) -> str:
    """``OUT/masks/<stem>.hotpixel.<frame>.exr``, padded like the plate's frame numbers."""
    pat = seq.pattern
    stem = pat.prefix.rstrip("._-") or "frame"
    digits = str(abs(frame)).zfill(pat.padding)
    sign = "-" if frame < 0 else ""
    return os.path.join(out, "masks", f"{stem}.hotpixel.{sign}{digits}.exr")


def mask_pattern(seq: FrameSequence) -> str:
    """The masks' pattern relative to the output folder, in Nuke's ``####`` form."""
    stem = seq.pattern.prefix.rstrip("._-") or "frame"
    hashes = "#" * max(seq.pattern.padding, 1)
    return f"masks/{stem}.hotpixel.{hashes}.exr"


def check_out_folder(out: str, seq: FrameSequence, flag: str = "--out") -> None:
    """Refuse an output folder that is the plate's own: QC files must not mix into a delivery."""
    out = os.path.abspath(out)
    if os.path.realpath(out) == os.path.realpath(seq.pattern.directory or "."):
        suggestion = os.path.join(os.path.dirname(out), "qc")
        raise OutputError(
            f"{flag} {out!r} is the plate's own folder; outputs must not be mixed into the "
            f"plate's delivery. Pass another folder, e.g. {suggestion!r}"
        )


def prepare_output(
    out: str, seq: FrameSequence, mask_names: dict[int, str], with_plate: bool
) -> None:
    """Check ``out`` (not the plate's folder, no mask over an input) and make its folders."""
    check_out_folder(out, seq)
    inputs = {os.path.realpath(p) for p in seq.paths.values()}
    ensure_folders(out, ("masks", "frames", "tracks", *(("plate",) if with_plate else ())))
    clash = [p for p in mask_names.values() if os.path.realpath(p) in inputs]
    if clash:
        raise OutputError(
            f"output {clash[0]!r} would overwrite an input frame; pass a different --out"
        )
