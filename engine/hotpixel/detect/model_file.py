"""The ONNX model file contract: names, metadata, and the one loader that checks them.

Only this module and :mod:`hotpixel.detect.detectors.neural` touch onnxruntime; nothing here
needs torch.
"""

from __future__ import annotations

import os
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
    inputs = [i.name for i in session.get_inputs()]  # type: ignore[attr-defined]
    outputs = [o.name for o in session.get_outputs()]  # type: ignore[attr-defined]
    if inputs != [INPUT] or outputs != [OUTPUT]:
        raise ModelError(
            f"model file {path!r} has inputs {inputs} and outputs {outputs}; "
            f"expected [{INPUT!r}] and [{OUTPUT!r}]; export it with `hotpixel export`"
        )
    if meta["channels"] != "R,G,B":
        raise ModelError(
            f"model file {path!r} expects channels {meta['channels']}; this engine gives R,G,B"
        )
    return ModelInfo(
        path,
        meta["model_version"],
        int(meta["window"]),
        int(meta["halo"]),
        meta.get("temporal", "true") == "true",
        float(meta.get("threshold") or 0.5),
        meta,
    )


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


def load_classifier(path: str, device: str) -> tuple[object, ClassifierInfo]:
    """An onnxruntime session for the cascade classifier at ``path`` and its checked info."""
    session = open_session(path, device)
    meta: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)  # type: ignore[attr-defined]
    missing = [k for k in CLASSIFIER_REQUIRED if k not in meta]
    if missing or meta.get("format") != CLASSIFIER_FORMAT:
        raise ModelError(
            f"classifier file {path!r} is not a {CLASSIFIER_FORMAT} model (missing "
            f"{', '.join(missing) or 'nothing'}, format {meta.get('format')!r}); export it with "
            "`hotpixel train --detector cascade`"
        )
    inputs = [i.name for i in session.get_inputs()]  # type: ignore[attr-defined]
    if inputs != ["patches", "scalars"]:
        raise ModelError(f"classifier file {path!r} has inputs {inputs}; expected patches, scalars")
    info = ClassifierInfo(
        path,
        meta["model_version"],
        int(meta["patch"]),
        tuple(meta["scalars"].split(",")),
        float(meta["threshold"]),
        float(meta["candidates"]),
        meta.get("preset", "medium"),
        meta,
    )
    return session, info
