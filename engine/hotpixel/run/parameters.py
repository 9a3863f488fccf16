"""What the chosen detector makes of the detection parameters.

Each detector declares which of the detector parameters it reads
(:data:`hotpixel.detect.detectors.DETECTORS`). A parameter it does not read changes nothing it
finds: set away from its default, it earns the run a warning, and the resume fingerprint is
taken without it (:func:`effective`), so such a flag never forces a recompute.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hotpixel import params as params_mod
from hotpixel.detect import detectors
from hotpixel.io.frames import Selection
from hotpixel.params import DetectParams


def resolved_threshold(params: DetectParams) -> float:
    """The threshold in force; the run resolves a missing one from the detector first."""
    if params.threshold is None:
        raise ValueError("threshold not resolved; run_detect fills it from the detector")
    return params.threshold


def inert_params(params: DetectParams) -> list[str]:
    """Parameters set away from their default that the chosen detector does not read."""
    defaults = DetectParams()
    ignored = detectors.kind(params.detector).ignores
    return [
        f.name
        for f in params_mod.param_fields()
        if f.name in ignored and getattr(params, f.name) != getattr(defaults, f.name)
    ]


def effective(params: DetectParams) -> DetectParams:
    """``params`` with the ones the detector ignores put back to their defaults.

    The resume fingerprint is taken from these, so a flag that changes nothing never forces a
    recompute.
    """
    defaults = DetectParams()
    return dataclasses.replace(params, **{n: getattr(defaults, n) for n in inert_params(params)})


def inert_warnings(params: DetectParams) -> list[dict[str, Any]]:
    """One ``inert_parameter`` warning for each of :func:`inert_params`."""
    return [inert_warning(name, params) for name in inert_params(params)]


def inert_warning(name: str, params: DetectParams) -> dict[str, Any]:
    """The warning that ``--<name>`` does nothing with ``params.detector``, naming who reads it."""
    flag = f"--{params_mod.flag_name(name)}"
    choices = next(f for f in params_mod.param_fields() if f.name == "detector").metadata["choices"]
    users = " or ".join(d for d in choices if name in detectors.kind(d).reads)
    return {
        "code": "inert_parameter",
        "parameter": name,
        "message": (
            f"{flag} {getattr(params, name)!r} does nothing with --detector {params.detector}, "
            f"which does not read it (results and resume are as without it); it applies to "
            f"--detector {users}"
        ),
    }


def selection(params: DetectParams) -> Selection:
    """The part and layer of each file the run reads (``--part``, ``--layer``)."""
    return Selection(params.part, params.layer)
