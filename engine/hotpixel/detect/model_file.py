"""The ONNX model file contract: names, metadata, and the one loader that checks them.

Only this module and :mod:`hotpixel.detect.detectors.neural` touch onnxruntime; nothing here
needs torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from hotpixel.errors import ModelError, UsageError

FORMAT = "hotpixel-onnx-1"
INPUT = "window"
OUTPUT = "probability"
DEFAULT_MODEL = "hotpixel-temporal-v2.onnx"
REQUIRED = ("format", "model_version", "window", "channels", "normalisation", "halo")


def halo_for(reach: int) -> int:
    """Pixels of context a tile needs on each side: the conv stack's radius (8) plus ``reach``,
    the widest motion tolerance of the model's temporal features."""
    return 8 + reach + 1


def default_model_path() -> str:
    return str(resources.files("hotpixel") / "data" / "models" / DEFAULT_MODEL)


@dataclass(frozen=True)
class ModelInfo:
    path: str
    version: str
    window: int
    halo: int
    temporal: bool
    threshold: float  # the operating point chosen for this model (metadata, default 0.5)
    metadata: dict[str, str]


def load_session(path: str, device: str) -> tuple[object, ModelInfo]:
    """An onnxruntime session for ``path`` on ``device`` (auto, cpu, cuda) and its checked info.

    Raises :class:`ModelError` naming the file and what is wrong with it.
    """
    session = open_session(path, device)
    return session, check_metadata(path, session)


def open_session(path: str, device: str) -> object:
    """An onnxruntime session for any model file of the engine, on ``device``."""
    import onnxruntime as ort

    if not os.path.isfile(path):
        raise ModelError(f"model file {path!r} does not exist; pass --model with an exported .onnx")
    available = ort.get_available_providers()
    if device == "cuda" and "CUDAExecutionProvider" not in available:
        raise ModelError(
            "--device cuda asked for, but onnxruntime has no CUDA provider here "
            f"({', '.join(available)}); install onnxruntime-gpu or use --device cpu"
        )
    use_cuda = device in ("cuda", "auto") and "CUDAExecutionProvider" in available
    providers = (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if use_cuda else ["CPUExecutionProvider"]
    )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    threads = _threads_from_env()
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(path, options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"model file {path!r} cannot be loaded: {exc}") from exc


def _threads_from_env() -> int:
    """``HOTPIXEL_THREADS`` (set by ``--workers`` for each chunk process); 0 = onnxruntime's."""
    text = os.environ.get("HOTPIXEL_THREADS", "").strip()
    try:
        return max(0, int(text)) if text else 0
    except ValueError:
        raise UsageError(
            f"HOTPIXEL_THREADS={text!r} is not a whole number; unset it or set e.g. 2"
        ) from None


def check_metadata(path: str, session: object) -> ModelInfo:
    """The checked info of a dense model: its metadata, and inputs and outputs of the shapes
    the detector feeds and reads (``window`` ``(1, T, 3, H, W)``, ``probability``
    ``(1, 1, H, W)``, H and W free). :class:`ModelError` naming the file otherwise."""
    meta: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)  # type: ignore[attr-defined]
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise ModelError(
            f"model file {path!r} lacks metadata {', '.join(missing)}; export it with "
            "`hotpixel export`"
        )
    if meta["format"] != FORMAT:
        raise ModelError(
            f"model file {path!r} has format {meta['format']!r}; this engine reads {FORMAT!r}"
        )
    if meta["channels"] != "R,G,B":
        raise ModelError(
            f"model file {path!r} expects channels {meta['channels']}; this engine gives R,G,B"
        )
    window = _whole(path, meta, "window")
    if window < 1 or window % 2 == 0:
        raise ModelError(f"model file {path!r} has window {window}; it must be odd (5 is usual)")
    check_shapes(path, session, {INPUT: (window, 3, None, None)}, {OUTPUT: (1, None, None)})
    return ModelInfo(
        path,
        meta["model_version"],
        window,
        _whole(path, meta, "halo"),
        meta.get("temporal", "true") == "true",
        _share(path, meta, "threshold", 0.5),
        meta,
    )


def check_shapes(
    path: str,
    session: object,
    inputs: Mapping[str, Sequence[int | None]],
    outputs: Mapping[str, Sequence[int | None]],
) -> None:
    """Refuse a model whose inputs and outputs are not ``inputs`` and ``outputs``: name -> the
    shape after the batch axis, an int where the engine feeds or reads that size, None where
    any size goes (the picture's height and width). A free axis of the model takes any size.
    """
    for kind, wanted, nodes in (
        ("inputs", inputs, session.get_inputs()),  # type: ignore[attr-defined]
        ("outputs", outputs, session.get_outputs()),  # type: ignore[attr-defined]
    ):
        shapes = {n.name: list(n.shape) for n in nodes}
        if list(shapes) != list(wanted):
            raise ModelError(
                f"model file {path!r} has {kind} {list(shapes)}; expected {list(wanted)}; "
                "export it with `hotpixel export` (or `hotpixel train` for a classifier)"
            )
        for name, dims in wanted.items():
            shape = shapes[name]
            if len(shape) != len(dims) + 1 or not all(
                _fits(have, want) for have, want in zip(shape[1:], dims, strict=True)
            ):
                raise ModelError(
                    f"model file {path!r} has {name} of shape {_shape(shape)}; this engine "
                    f"needs {_shape(['N', *dims])}; it was made for another version of the "
                    "detector: export it again from its checkpoint, or pass another --model"
                )


def _fits(have: object, want: int | None) -> bool:
    """Whether a model's axis ``have`` (an int, or a name or None when free) takes ``want``."""
    free = not isinstance(have, int) or have <= 0
    return want is None or free or have == want


def _shape(dims: Sequence[object]) -> str:
    return "(" + ", ".join("any" if d is None else str(d) for d in dims) + ")"


def _whole(path: str, meta: Mapping[str, str], key: str) -> int:
    """Metadata ``key`` as a whole number, or :class:`ModelError` naming the file."""
    try:
        return int(meta[key])
    except ValueError:
        raise ModelError(
            f"model file {path!r} has metadata {key}={meta[key]!r}, not a whole number; "
            "export it again with hotpixel"
        ) from None


def _share(path: str, meta: Mapping[str, str], key: str, default: float) -> float:
    """Metadata ``key`` as a number in 0..1 (``default`` when absent or empty)."""
    text = meta.get(key) or str(default)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise ModelError(
            f"model file {path!r} has metadata {key}={text!r}, not a number in 0..1; "
            "export it again with hotpixel"
        )
    return value


CLASSIFIER_FORMAT = "hotpixel-cascade-1"
CLASSIFIER_REQUIRED = ("format", "model_version", "patch", "scalars", "threshold", "candidates")


@dataclass(frozen=True)
class ClassifierInfo:
    """The cascade classifier's contract: inputs ``patches`` ``(N, K, patch, patch)`` and
    ``scalars`` ``(N, S)``, output ``probability`` ``(N, 1)``."""

    path: str
    version: str
    patch: int
    scalars: tuple[str, ...]
    threshold: float  # the operating point chosen on validation clips
    candidate_threshold: float  # the candidate stage's threshold it was trained behind
    preset: str  # the DIS flow preset it was trained behind (the flow shapes its inputs)
    metadata: dict[str, str]


def model_format(path: str) -> str:
    """Which detector the model file at ``path`` belongs to: ``"cascade"`` (a classifier) or
    ``"neural"`` (the dense network), from its metadata; :class:`ModelError` otherwise."""
    session = open_session(path, "cpu")
    meta: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)  # type: ignore[attr-defined]
    if meta.get("format") == CLASSIFIER_FORMAT:
        return "cascade"
    if "training_config" in meta:
        return "neural"
    raise ModelError(
        f"{path!r} is neither a cascade classifier nor a dense hotpixel model (no format or "
        "training_config metadata); pass a model file hotpixel wrote"
    )


def load_classifier(
    path: str,
    device: str,
    channels: int | None = None,
    patch: int | None = None,
    scalars: Sequence[str] | None = None,
) -> tuple[object, ClassifierInfo]:
    """An onnxruntime session for the cascade classifier at ``path`` and its checked info.

    ``channels``, ``patch`` and ``scalars`` are what the caller feeds (``patches`` of ``(N,
    channels, patch, patch)``, ``scalars`` named so); a model made for others is refused with
    :class:`ModelError`. Left out, only the model's own consistency is checked.
    """
    session = open_session(path, device)
    meta: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)  # type: ignore[attr-defined]
    missing = [k for k in CLASSIFIER_REQUIRED if k not in meta]
    if missing or meta.get("format") != CLASSIFIER_FORMAT:
        raise ModelError(
            f"classifier file {path!r} is not a {CLASSIFIER_FORMAT} model (missing "
            f"{', '.join(missing) or 'nothing'}, format {meta.get('format')!r}); export it with "
            "`hotpixel train --detector cascade`"
        )
    info = ClassifierInfo(
        path,
        meta["model_version"],
        _whole(path, meta, "patch"),
        tuple(meta["scalars"].split(",")),
        _share(path, meta, "threshold", 0.5),
        _number(path, meta, "candidates"),
        meta.get("preset", "medium"),
        meta,
    )
    other_patch = patch is not None and info.patch != patch
    if other_patch or (scalars is not None and info.scalars != tuple(scalars)):
        raise ModelError(
            f"classifier file {path!r} was made for {info.patch} px cutouts and scalars "
            f"{','.join(info.scalars)}; this engine gives {patch} px and "
            f"{','.join(scalars or info.scalars)}: pass a classifier this version trained"
        )
    size = info.patch
    check_shapes(
        path,
        session,
        {"patches": (channels, size, size), "scalars": (len(info.scalars),)},
        {"probability": (1,)},
    )
    return session, info


def _number(path: str, meta: Mapping[str, str], key: str) -> float:
    """Metadata ``key`` as a finite number, or :class:`ModelError` naming the file."""
    try:
        value = float(meta[key])
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise ModelError(
            f"model file {path!r} has metadata {key}={meta[key]!r}, not a number; "
            "export it again with hotpixel"
        )
    return value
