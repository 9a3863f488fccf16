"""Fine-tune a model from review labels: rejects become hard negatives, accepts positives
(needs the train extra: torch and onnx)."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from hotpixel.errors import UsageError


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__.splitlines()[0],
        description=__doc__,
        allow_abbrev=False,
    )
    p.add_argument("--labels", nargs="+", required=True, help="labels.json files (review output)")
    p.add_argument("--base", default="", help="model to start from (default: the shipped one)")
    p.add_argument("--out", required=True, help="the new model file (.onnx)")
    p.add_argument("--version", help="model version to store (default: <base>-ft<date>)")
    p.add_argument("--steps", type=int, default=400, help="optimisation steps")
    p.add_argument("--lr", type=float, default=3e-4, help="learning rate")
    p.add_argument(
        "--synthetic-share",
        type=float,
        default=0.5,
        help="share of each batch drawn from synthetic windows (keeps recall)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument(
        "--threshold",
        type=float,
        help="operating threshold stored in the new model (default: the threshold the labels "
        "were reviewed at, i.e. detect's --threshold when the report was made; review at a "
        "lower threshold than the base model's to teach it more false positives and keep "
        "more recall)",
    )
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.synthetic_share < 1.0:
        raise UsageError(f"--synthetic-share must be in [0, 1); got {args.synthetic_share}")
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise UsageError(f"--threshold must be between 0 and 1; got {args.threshold}")
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1; got {args.steps}")
    try:
        from hotpixel.detect.model_file import default_model_path
        from hotpixel.ml.training.finetune import FinetuneConfig, finetune, model_from_onnx
    except ImportError as exc:
        raise UsageError(
            f"fine-tuning needs torch and onnx ({exc}); pip install -e '.[train]'"
        ) from exc
    base = args.base or default_model_path()
    version = args.version
    if not version:
        _, _, meta = model_from_onnx(base)
        stamp = datetime.date.today().strftime("%Y%m%d")
        version = f"{meta.get('model_version', 'model')}-ft{stamp}"
    cfg = FinetuneConfig(
        steps=args.steps,
        lr=args.lr,
        synthetic_share=args.synthetic_share,
        seed=args.seed,
        threshold=args.threshold,
    )
    finetune(args.labels, base, args.out, version, cfg)
    return 0
