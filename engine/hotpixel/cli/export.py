"""Export a training checkpoint to a self-describing ONNX model (needs torch and onnx)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from hotpixel.errors import ModelError, UsageError


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__, description=__doc__, allow_abbrev=False
    )
    p.add_argument("checkpoint", help="checkpoint.pt written by `hotpixel train`")
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--version", required=True, help="model version stored in the metadata")
    p.add_argument("--lineage", default="", help="where the model came from (base model, labels)")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="the model's default operating point, chosen on validation data",
    )
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        from hotpixel.ml.training.export import export
    except ImportError as exc:
        raise UsageError(
            f"export needs torch and onnx ({exc}); install them with pip install -e '.[train]'"
        ) from exc
    if not os.path.isfile(args.checkpoint):
        raise ModelError(
            f"checkpoint {args.checkpoint!r} does not exist; pass the checkpoint.pt that "
            "`hotpixel train --out DIR` wrote in DIR"
        )
    print(export(args.checkpoint, args.out, args.version, args.lineage, threshold=args.threshold))
    return 0
