"""The detection parameter set, declared once.

One frozen dataclass drives the CLI flags, the job file the Nuke plugin writes, the report and
the Nuke knobs. Each field's ``metadata`` holds its help text, its flag and its valid range or
choices; :func:`validate` checks a value against them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hotpixel.errors import UsageError


def param_field(default: Any, help: str, **limits: Any) -> Any:
    """A parameter declaration: default, help text, and its ``range`` or ``choices``."""
    return field(default=default, metadata={"help": help, **limits})


@dataclass(frozen=True)
class DetectParams:
    """Everything that changes what detection finds. Stored in every report."""

    threshold: float | None = param_field(
        None,
        "Confidence threshold: pixels whose probability is at least this are flagged. "
        "Lower finds fainter defects and raises false alerts. Default: the detector's own "
        "operating point (the neural model's is stored in the model file; classical 0.5).",
        range=(0.0, 1.0),
    )
    detector: str = param_field(
        "cascade",
        "Detector to run: 'cascade' (motion-compensated candidates judged by a classifier), "
        "'neural' (the dense temporal network, see --model) or 'classical' "
        "(spatial + temporal contrast test, the fallback).",
        choices=("cascade", "neural", "classical"),
    )
    model: str = param_field(
        "",
        "ONNX model for the neural detector (or the cascade's classifier); empty means the "
        "model shipped with hotpixel.",
    )
    device: str = param_field(
        "auto",
        "Where neural detectors run: auto (a GPU when present, through onnxruntime-gpu or else "
        "PyTorch with CUDA; the CPU otherwise), cpu or cuda.",
        choices=("auto", "cpu", "cuda"),
    )
    motion_tolerance: int = param_field(
        3,
        "Pixels a real feature may move between neighbouring frames and still count as the "
        "same feature (classical detector).",
        range=(0, 16),
    )
    flow_scale: str = param_field(
        "auto",
        "Resolution the cascade's optical flow runs at, as a share of the picture's width: "
        "auto (full size up to 1024 px wide, else the largest of 1/2, 1/4, 1/8 that brings it "
        "there: half at HD, a quarter at UHD), or 1, 0.5, 0.25, 0.125. Lower is faster; "
        "candidates are still tested at every pixel.",
        choices=("auto", "1", "0.5", "0.25", "0.125"),
    )
    max_area: int = param_field(
        64,
        "Largest flagged region, in pixels, still reported as a pixel defect; larger regions "
        "are scene changes, not hot pixels.",
        range=(1, 100000),
    )
    colorspace: str = param_field(
        "",
        "Colour space the plate is encoded in: a colour space, alias or role of the OCIO "
        "config, such as 'ARRI LogC3 (EI800)', 'S-Log3 S-Gamut3' or 'ACEScct'. Frames are "
        "decoded from it to the config's scene_linear before detection. Empty: from the "
        "file's metadata (oiio:ColorSpace, DPX transfer, EXR chromaticities); a DPX without "
        "any is taken as ARRI LogC3, with a warning.",
    )
    ocio: str = param_field(
        "",
        "OpenColorIO config that names the colour spaces: a .ocio file or an ocio:// URI. "
        "Empty: $OCIO when set, else the config built into OpenImageIO "
        "(ocio://studio-config-latest).",
    )
    part: str = param_field(
        "",
        "Part of a multi-part EXR to read, by name (e.g. 'beauty'). Empty: the first part "
        "holding R, G and B; a file with several parts says which it read.",
    )
    layer: str = param_field(
        "",
        "Layer to read, by the prefix of its channels: 'diffuse' reads diffuse.R, diffuse.G "
        "and diffuse.B. Empty: R, G, B (or rgba.R...); a file with several RGB layers says "
        "which it read.",
    )


def param_fields() -> tuple[dataclasses.Field[Any], ...]:
    """The fields of :class:`DetectParams`, in declaration order."""
    return dataclasses.fields(DetectParams)


P = TypeVar("P")


def validate(params: P) -> P:
    """Check every value against its declared range or choices; raise :class:`UsageError`.

    Works for any parameter dataclass declared with :func:`param_field` (``DetectParams``,
    the sensor pass's ``SensorParams``).
    """
    for f in dataclasses.fields(params):  # type: ignore[arg-type]
        value = getattr(params, f.name)
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise UsageError(
                f"--{flag_name(f.name)} must be one of {', '.join(choices)}; got {value!r}"
            )
        limits = f.metadata.get("range")
        if limits is not None and value is not None and not (limits[0] <= value <= limits[1]):
            raise UsageError(
                f"--{flag_name(f.name)} must be between {limits[0]} and {limits[1]}; got {value!r}"
            )
    return params


def flag_name(field_name: str) -> str:
    """The CLI flag of a parameter, without dashes: ``motion_tolerance`` -> ``motion-tolerance``."""
    return field_name.replace("_", "-")


def to_dict(params: DetectParams) -> dict[str, Any]:
    """A JSON-ready dict of the parameters."""
    return dataclasses.asdict(params)


def from_dict(values: dict[str, Any]) -> DetectParams:
    """Build validated parameters from a dict, e.g. a job file; unknown keys are an error."""
    known = {f.name for f in param_fields()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return validate(DetectParams(**values))


def to_flags(params: DetectParams) -> list[str]:
    """The ``hotpixel detect`` flags that reproduce ``params`` (unset values left out).

    Chunk commands for ``--workers`` and for farm jobs are built from this, so a chunk runs
    with exactly the parameters of the whole run.
    """
    flags: list[str] = []
    for f in param_fields():
        value = getattr(params, f.name)
        if value is None or value == "":
            continue
        flags += [f"--{flag_name(f.name)}", str(value)]
    return flags
