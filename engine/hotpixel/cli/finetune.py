"""Fine-tune a model from review labels: rejects become hard negatives, accepts positives
(needs the train extra: torch and onnx).

The base model's file says which detector it belongs to: the cascade's classifier (the default,
``--detector cascade``) is fine-tuned on the candidates of the judged frames; the dense network
(``--detector neural``) on patches around the judged detections. Use the new file with
``hotpixel detect --model``.
"""

from __future__ import annotations

import argparse
import datetime
import os
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
    p.add_argument(
        "--detector",
        choices=("cascade", "neural"),
        default="cascade",
        help="whose shipped model to start from when --base is not given (default: cascade)",
    )
    p.add_argument(
        "--base", default="", help="model file to start from (default: the detector's shipped one)"
    )
    p.add_argument("--out", required=True, help="the new model file (.onnx)")
    p.add_argument("--version", help="model version to store (default: <base>-ft<date>)")
    p.add_argument("--steps", type=int, default=400, help="optimisation steps (neural)")
    p.add_argument("--epochs", type=int, default=30, help="passes over the verdicts (cascade)")
    p.add_argument("--lr", type=float, default=3e-4, help="learning rate")
    p.add_argument(
        "--synthetic-share",
        type=float,
        default=0.5,
        help="share of each batch drawn from synthetic windows, keeping recall (neural)",
    )
    p.add_argument(
        "--replay",
        type=float,
        default=16.0,
        help="replayed training candidates per labelled one, keeping recall (cascade)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument(
        "--threshold",
        type=float,
        help="operating threshold stored in the new model (default, cascade: chosen on the "
        "training's validation clips with recall held: the highest threshold that keeps the base "
        "model's clear-defect recall there (at most 0.995); neural: the "
        "threshold the labels were reviewed at). Review at a lower threshold than the base "
        "model's to teach it more false positives and keep more recall",
    )
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.synthetic_share < 1.0:
        raise UsageError(f"--synthetic-share must be in [0, 1); got {args.synthetic_share}")
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise UsageError(f"--threshold must be between 0 and 1; got {args.threshold}")
    for name in ("steps", "epochs"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1; got {getattr(args, name)}")
    if args.replay < 0:
        raise UsageError(f"--replay must be 0 or more; got {args.replay}")
    from hotpixel.detect.model_file import model_format

    base = args.base or _shipped(args.detector)
    if not os.path.exists(base):
        raise UsageError(f"--base {base!r} does not exist; pass a model file (.onnx)")
    try:
        if model_format(base) == "cascade":
            return _cascade(args, base)
        return _neural(args, base)
    except ImportError as exc:
        raise UsageError(
            f"fine-tuning needs torch and onnx ({exc}); pip install -e '.[train]'"
        ) from exc


def _shipped(detector: str) -> str:
    if detector == "cascade":
        from hotpixel.detect.cascade.detector import default_classifier_path

        return default_classifier_path()
    from hotpixel.detect.model_file import default_model_path

    return default_model_path()


def _version(args: argparse.Namespace, base_version: str) -> str:
    stamp = datetime.date.today().strftime("%Y%m%d")
    return str(args.version or f"{base_version}-ft{stamp}")


def _cascade(args: argparse.Namespace, base: str) -> int:
    from hotpixel.ml.training.cascade_finetune import (
        ClassifierFinetune,
        finetune_classifier,
        load_classifier_net,
    )

    _, meta = load_classifier_net(base)
    cfg = ClassifierFinetune(
        epochs=args.epochs, lr=args.lr, replay=args.replay, seed=args.seed, threshold=args.threshold
    )
    version = _version(args, meta.get("model_version", "cascade"))
    finetune_classifier(args.labels, base, args.out, version, cfg)
    return 0


def _neural(args: argparse.Namespace, base: str) -> int:
    from hotpixel.ml.training.finetune import FinetuneConfig, finetune, model_from_onnx

    _, _, meta = model_from_onnx(base)
    cfg = FinetuneConfig(
        steps=args.steps,
        lr=args.lr,
        synthetic_share=args.synthetic_share,
        seed=args.seed,
        threshold=args.threshold,
    )
    finetune(args.labels, base, args.out, _version(args, meta.get("model_version", "model")), cfg)
    return 0
