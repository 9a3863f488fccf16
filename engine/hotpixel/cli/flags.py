"""Flags several commands share, declared once so their names and help never drift apart."""

from __future__ import annotations

import argparse

from hotpixel.progress import MODES


def add_output_flags(
    p: argparse.ArgumentParser,
    progress: str | None = "bar",
    gate: str = "anything is detected",
) -> None:
    """Add ``--progress`` (unless ``progress`` is None), ``--quiet``, ``--fail-on-detections``."""
    if progress is not None:
        p.add_argument(
            "--progress",
            choices=MODES,
            default=progress,
            help="bar for people, json (one object per line on stdout) for programs",
        )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument(
        "--fail-on-detections",
        action="store_true",
        help=f"exit with code 1 when {gate} (QC gates)",
    )
