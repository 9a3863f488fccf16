"""Export a trained checkpoint to a self-describing ONNX file.

The file takes ``window`` ``(1, T, 3, H, W)`` float32 (H and W dynamic) and gives ``probability``
``(1, 1, H, W)``. Its metadata (checked by the engine's loader,
:mod:`hotpixel.detect.model_file`) holds the model version, window length, channels, input
normalisation, receptive-field halo, training commit and the training config.
"""

from __future__ import annotations

import json
import os
import subprocess

import onnx
import torch

from hotpixel.detect.detectors.network import TemporalDetector
from hotpixel.detect.model_file import FORMAT, INPUT, OUTPUT, halo_for
from hotpixel.io.atomic import atomic_path
from hotpixel.ml.training.train import TrainConfig, load_checkpoint

NORMALISATION = "t = (log2(max(x, 0) + 2^-8) + 8) / 8, inside the graph; input is raw decoded RGB"


def training_commit() -> str:
    """The git commit of the code that exported the model, or 'unknown'."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(__file__),
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def export(
    checkpoint: str,
    out_path: str,
    version: str,
    lineage: str = "",
    metrics: str = "",
    threshold: float = 0.5,
) -> str:
    """Write the ONNX model for ``checkpoint``; return ``out_path``."""
    model, config = load_checkpoint(checkpoint)
    return export_model(model, config, out_path, version, lineage, metrics, threshold)


def export_model(
    model: TemporalDetector,
    config: TrainConfig,
    out_path: str,
    version: str,
    lineage: str = "",
    metrics: str = "",
    threshold: float = 0.5,
) -> str:
    """Export ``model``; ``threshold`` is stored as the model's default operating point."""
    model.eval()
    t = config.model.window
    example = torch.rand(1, t, 3, 32, 32)
    with atomic_path(out_path) as tmp:
        torch.onnx.export(
            model,
            (example,),
            tmp,
            dynamo=False,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {3: "height", 4: "width"}, OUTPUT: {2: "height", 3: "width"}},
            opset_version=17,
        )
        proto = onnx.load(tmp)
        meta = {
            "format": FORMAT,
            "model_version": version,
            "window": str(t),
            "channels": "R,G,B",
            "normalisation": NORMALISATION,
            "halo": str(halo_for(config.model.context)),
            "threshold": str(threshold),
            "temporal": str(config.model.temporal).lower(),
            "training_commit": training_commit(),
            "training_config": json.dumps(config.as_dict()),
            "lineage": lineage,
            "metrics": metrics,
        }
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, tmp)
    return out_path
