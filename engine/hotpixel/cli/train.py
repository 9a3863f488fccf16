"""Train the temporal detector on synthetic defects over the bundled real plates (needs torch)."""

from __future__ import annotations

import argparse
from typing import Any

from hotpixel.errors import UsageError


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__, description=__doc__, allow_abbrev=False
    )
    p.add_argument("--out", required=True, help="folder for checkpoint.pt and the training log")
    p.add_argument("--config", help="JSON training config (defaults reproduce the shipped model)")
    p.add_argument("--seed", type=int, help="override the config's seed")
    p.add_argument("--steps", type=int, help="override the number of optimisation steps")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        from dataclasses import replace

        from hotpixel.ml.training.train import config_from_file, train
    except ImportError as exc:
        raise UsageError(
            f"training needs torch ({exc}); install it with pip install -e '.[train]'"
        ) from exc
    config = config_from_file(args.config, args.seed)
    if args.steps is not None:
        config = replace(config, steps=args.steps)
    path = train(config, args.out)
    print(f"checkpoint: {path}")
    return 0
