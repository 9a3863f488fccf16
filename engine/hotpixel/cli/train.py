"""Train a detector's model (needs the train extra: torch and onnx).

``--detector cascade`` (the default detector's classifier) trains on candidates from real video
clips with camera moves and from the bundled stills; ``--detector neural`` trains the dense
temporal network on synthetic defects over the bundled plates and writes a checkpoint for
``hotpixel export``. The defaults reproduce the shipped models.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from typing import Any

from hotpixel.errors import UsageError

# flags of one detector's trainer only: (flag, detector)
_CASCADE_ONLY = (
    "frames",
    "stills",
    "still_points",
    "epochs",
    "recall",
    "false_alerts",
    "version",
    "preset",
)
_NEURAL_ONLY = ("config", "steps")


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__.splitlines()[0], description=__doc__, allow_abbrev=False
    )
    p.add_argument(
        "--detector",
        choices=("cascade", "neural"),
        default="cascade",
        help="whose model to train: the cascade's classifier (default) or the dense network",
    )
    p.add_argument("--out", required=True, help="folder for the model and its training record")
    p.add_argument("--seed", type=int, help="random seed (cascade default 2026; neural: config)")
    cascade = p.add_argument_group("cascade")
    cascade.add_argument("--frames", type=int, help="centre frames per clip and camera move (12)")
    cascade.add_argument("--stills", type=int, help="generator windows over the stills (400)")
    cascade.add_argument("--still-points", type=int, help="most lights per still window (10)")
    cascade.add_argument("--epochs", type=int, help="passes over the candidates (16)")
    cascade.add_argument(
        "--recall", type=float, help="clear-defect recall the threshold keeps on validation (0.995)"
    )
    cascade.add_argument(
        "--false-alerts",
        type=float,
        help="where no threshold keeps --recall: the false alerts per 1080p frame the lowest "
        "chosen one may raise out of fold (0.3)",
    )
    cascade.add_argument("--version", help="model version, also the file name (cascade-v3)")
    cascade.add_argument(
        "--preset", choices=("ultrafast", "fast", "medium"), help="DIS flow preset (medium)"
    )
    neural = p.add_argument_group("neural")
    neural.add_argument("--config", help="JSON training config (defaults: the shipped model's)")
    neural.add_argument("--steps", type=int, help="override the number of optimisation steps")
    p.set_defaults(run=run)
    return p


def _misplaced(args: argparse.Namespace) -> None:
    other = _NEURAL_ONLY if args.detector == "cascade" else _CASCADE_ONLY
    given = [f"--{n.replace('_', '-')}" for n in other if getattr(args, n) is not None]
    if given:
        owner = "neural" if args.detector == "cascade" else "cascade"
        raise UsageError(
            f"{', '.join(given)} applies to --detector {owner}, not {args.detector}; "
            f"drop it or pass --detector {owner}"
        )


def run(args: argparse.Namespace) -> int:
    _misplaced(args)
    try:
        if args.detector == "cascade":
            return _cascade(args)
        return _neural(args)
    except ImportError as exc:
        raise UsageError(
            f"training needs torch and onnx ({exc}); install them with pip install -e '.[train]'"
        ) from exc


def _cascade(args: argparse.Namespace) -> int:
    from hotpixel.ml.training.cascade import CascadeTrainConfig, train_classifier

    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(CascadeTrainConfig)
        if getattr(args, f.name, None) is not None
    }
    config = CascadeTrainConfig(**given)
    flags = [f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in given.items()]
    recipe = " ".join(["hotpixel train --detector cascade --out OUT", *flags])
    print(f"model: {train_classifier(config, args.out, recipe)}")
    return 0


def _neural(args: argparse.Namespace) -> int:
    from hotpixel.ml.training.train import config_from_file, train

    config = config_from_file(args.config, args.seed)
    if args.steps is not None:
        config = dataclasses.replace(config, steps=args.steps)
    path = train(config, args.out)
    print(f"checkpoint: {path}")
    return 0
