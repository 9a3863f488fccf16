"""Labelled candidates kept on disk, so a second training or fine-tuning run does not make them
again.

Collecting a clip's candidates (decode, flow, the candidate stage, the encoding) takes most of a
training run; fitting the network takes a minute. :func:`cached` keeps each
:class:`~hotpixel.ml.training.cascade_data.Batch` in ``<clip cache>/../candidates/`` (see
:func:`hotpixel.ml.realvideo.cache_dir`) under a digest of everything that made it: the caller's
key and the source of the candidate stage, the encoding, the second opinion, the labelling and
the material (clips, defects, negatives: :func:`stage_stamp`). Changed code or settings give
another file; a file is written whole (temporary name, then rename) or not at all, and stored in
float32, so a run from the cache trains exactly as a run that collected afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.encoding import Encoded
from hotpixel.ml import realvideo
from hotpixel.ml.training import cascade_data as cdata

_ARRAYS = ("label", "contrast", "defects_contrast", "region", "defect_region", "opinion")


def stage_stamp() -> str:
    """A digest of the source of what makes a batch: cached batches made by other code are
    never reused."""
    from hotpixel.detect.cascade import candidates, encoding, spot, stage
    from hotpixel.ml.synth import defects, negatives, night

    digest = hashlib.blake2b(digest_size=8)
    for module in (candidates, encoding, spot, stage, cdata, realvideo, defects, negatives, night):
        digest.update(pathlib.Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def cached(name: str, key: dict[str, Any], make: Callable[[], cdata.Batch]) -> cdata.Batch:
    """The batch ``make()`` gives, from the disk cache when one with the same ``key`` (and the
    same code) is there; ``name`` only makes the file name readable."""
    full = {**key, "stage": stage_stamp()}
    digest = hashlib.blake2b(json.dumps(full, sort_keys=True).encode(), digest_size=8)
    path = realvideo.cache_dir().parent / "candidates" / f"{name}-{digest.hexdigest()}.npz"
    if path.exists():
        with np.load(path) as data:
            return unpack(data)
    batch = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    arrays: dict[str, Any] = pack(batch)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return batch


def clip_batch(
    clip: str,
    motions: tuple[str, ...],
    frames: int,
    seed: int,
    params: cand.CandidateParams,
    preset: str = "medium",
) -> cdata.Batch:
    """:func:`hotpixel.ml.training.cascade_data.clip_batch`, kept on disk."""
    key = {"clip": clip, "motions": motions, "frames": frames, "seed": seed}
    key |= {"preset": preset, "candidates": params.threshold, "params": repr(params)}
    return cached(clip, key, partial(cdata.clip_batch, clip, motions, frames, seed, params, preset))


def pack(b: cdata.Batch) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {k: getattr(b, k) for k in _ARRAYS}
    out["patches"] = b.encoded.patches
    out["scalars"] = b.encoded.scalars
    out["counts"] = np.array([b.frames, b.pixels, b.defects], np.int64)
    return out


def unpack(data: Any) -> cdata.Batch:
    frames, pixels, defects = (int(v) for v in data["counts"])
    arrays = {k: data[k] for k in _ARRAYS}
    return cdata.Batch(
        Encoded(data["patches"], data["scalars"]),
        arrays["label"],
        arrays["contrast"],
        frames,
        pixels,
        defects,
        arrays["defects_contrast"],
        arrays["region"],
        arrays["defect_region"],
        arrays["opinion"],
    )
