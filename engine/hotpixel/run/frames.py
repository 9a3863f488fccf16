"""Each pending frame of a run: read, judged by the detector, found regions, written out.

Reading runs ahead in a background thread (:class:`~hotpixel.detect.windows.ReadAhead`),
outputs are written by a second background thread, so decoding, detection and encoding
overlap. Memory is bounded by the window plus a few frames, whatever the sequence length.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from hotpixel.detect.detectors import Detector
from hotpixel.detect.grouping import find_detections
from hotpixel.detect.windows import ReadAhead, Window
from hotpixel.errors import OutputError
from hotpixel.io.canvas import Loaded, load_frame
from hotpixel.io.colour import Decoder
from hotpixel.io.exr_writer import MASK_CHANNEL, write_mask, write_plate_with_mask
from hotpixel.io.geometry import Geometry, paste
from hotpixel.io.images import read_named_channel
from hotpixel.io.sequence import FrameSequence
from hotpixel.outputs.masks import clean_mask
from hotpixel.outputs.records import write_frame_record
from hotpixel.outputs.schema import Detection
from hotpixel.params import DetectParams
from hotpixel.progress import Progress
from hotpixel.run.parameters import resolved_threshold, selection


@dataclass(frozen=True)
class RunContext:
    """What every frame of one run shares: where it reads, what judges it, where it goes."""

    seq: FrameSequence
    canvas: Geometry  # the union of the frames' data windows; frames are pasted onto it
    detector: Detector
    params: DetectParams  # validated, threshold resolved (the detector's own when not set)
    out: str  # absolute output folder
    fingerprint: str  # of source and settings, in every frame record
    mask_names: Mapping[int, str]  # frame -> its mask file
    inputs: Mapping[int, list[dict[str, Any]]]  # frame -> input stamps of its window's files
    decoder: Decoder | None = None  # to scene-linear; None: frames are read as stored
    with_plate: bool = False

    @property
    def threshold(self) -> float:
        return resolved_threshold(self.params)


@dataclass(frozen=True)
class JudgedFrame:
    """One frame after detection, ready to be written."""

    frame: int
    window: tuple[int, ...]  # the frame numbers its window read
    item: Loaded  # the frame itself, on the canvas
    mask: np.ndarray  # (H, W) float32 on the canvas
    detections: list[Detection]
    oversized: int  # regions over --max-area, not reported as defects


def process(ctx: RunContext, todo: list[tuple[int, tuple[int, ...]]], progress: Progress) -> None:
    """Judge and write each ``(frame, window frame numbers)`` of ``todo``, in order."""
    if not todo:
        return
    # one frame ahead is enough to keep detection fed: decoding a frame takes a fraction of
    # detecting it (docs/performance.md), and each frame held is 100 MB at 4K
    select = selection(ctx.params)
    reader: ReadAhead[Loaded] = ReadAhead(
        todo, lambda n: load_frame(ctx.seq, n, ctx.canvas, ctx.decoder, select), lookahead=1
    )
    meta = mask_metadata(ctx)
    writes: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotpixel-write") as writer:
        for frame, numbers, items in reader.windows():
            judged = judge(ctx, frame, numbers, items, progress)
            while len(writes) >= 2:  # bound memory: at most two frames waiting to be written
                writes.pop(0).result()
            writes.append(writer.submit(write_frame, ctx, judged, meta))
            progress.frame(frame, len(judged.detections))
        for w in writes:
            w.result()


def rethreshold(
    ctx: RunContext, todo: list[tuple[int, tuple[int, ...]]], progress: Progress
) -> None:
    """Find each ``(frame, window)`` of ``todo`` again at the run's threshold from the
    probability map its mask stores, without the detector, and write it as :func:`process`
    does.

    Only the frame itself is read (for peak colour, centroid weights and non-finite pixels).
    The mask must keep the probability down to the grouping level of this threshold
    (:func:`hotpixel.outputs.resume.settings_change` says when it does).
    """
    meta = mask_metadata(ctx)
    for frame, numbers in todo:
        item = load_frame(ctx.seq, frame, ctx.canvas, ctx.decoder)
        own = item.frame.geometry
        window = (own.x, own.y, own.width, own.height)
        stored = read_named_channel(ctx.mask_names[frame], MASK_CHANNEL, window)
        if stored is None:
            raise OutputError(
                f"frame {frame}: the mask {ctx.mask_names[frame]!r} cannot be read; rerun with "
                "--force to compute the frame again"
            )
        prob = stored if own == ctx.canvas else paste(stored, own, ctx.canvas)
        detections, mask, oversized = analyse(prob, item, ctx, frame)
        write_frame(ctx, JudgedFrame(frame, numbers, item, mask, detections, oversized), meta)
        progress.frame(frame, len(detections))


def mask_metadata(ctx: RunContext) -> dict[str, Any]:
    """The header attributes every mask of the run carries (each adds its own source)."""
    return {
        "hotpixel:detector": ctx.detector.name,
        "hotpixel:detector_version": ctx.detector.version,
        "hotpixel:model_version": ctx.detector.model_version,
        "hotpixel:threshold": ctx.threshold,
        "hotpixel:content": "probability",
    }


def judge(
    ctx: RunContext,
    frame: int,
    numbers: tuple[int, ...],
    items: Sequence[Loaded],
    progress: Progress,
) -> JudgedFrame:
    """Run the detector on one window and find the centre frame's detections."""
    centre = items[len(items) // 2]
    window = Window(tuple(i.rgb for i in items), numbers, len(items) // 2)
    prob = ctx.detector(window)  # (H, W) on the canvas
    for code, text in detector_warnings(ctx.detector):
        progress.warning(text, code)
    detections, mask, oversized = analyse(prob, centre, ctx, frame)
    return JudgedFrame(frame, numbers, centre, mask, detections, oversized)


def detector_warnings(detector: Detector) -> list[tuple[str, str]]:
    """``(code, message)`` a detector has for the user since it was last asked (a detector
    with a ``take_warnings`` method: the cascade's cap on candidates per frame)."""
    take: Callable[[], list[tuple[str, str]]] | None = getattr(detector, "take_warnings", None)
    return take() if take is not None else []


def excess_weight(prob: np.ndarray, rgb: np.ndarray) -> Callable[[np.ndarray, np.ndarray], Any]:
    """Centroid weights at flagged pixels: probability times light above the local floor.

    The light is the tone-compressed brightest channel, ``m / (1 + m)``; the floor its minimum
    over the 5x5 neighbourhood (clamped at the frame's edges). So a faint halo pixel that
    crossed the threshold does not pull the centre of a bright one. Computed at the flagged
    pixels only, not over the frame: they are few.
    """
    h, w = prob.shape
    steps = np.arange(-2, 3)

    def at(ys: np.ndarray, xs: np.ndarray) -> Any:
        yy = np.clip(ys[:, None, None] + steps[None, :, None], 0, h - 1)
        xx = np.clip(xs[:, None, None] + steps[None, None, :], 0, w - 1)
        m = np.clip(rgb[yy, xx].max(axis=-1), np.float32(0.0), np.float32(1e30))  # (N, 5, 5)
        tone = m / (np.float32(1.0) + m)
        floor = tone.reshape(len(ys), -1).min(axis=1)
        return prob[ys, xs] * np.maximum(tone[:, 2, 2] - floor, np.float32(0.0))

    return at


def analyse(
    prob: np.ndarray, item: Loaded, ctx: RunContext, frame: int
) -> tuple[list[Detection], np.ndarray, int]:
    """Detections, mask and oversized-region count of one frame's probability map ``(H, W)``.

    Non-finite pixels are their own detections (kind ``nonfinite``) and are set in the mask.
    """
    rgb, canvas, threshold = item.rgb, ctx.canvas, ctx.threshold
    weight = excess_weight(prob, rgb)
    mask = clean_mask(prob, threshold)  # zero below half the threshold (outputs/masks.py)
    if item.nonfinite is not None:
        prob = np.where(item.nonfinite, 0.0, prob)
    found = find_detections(prob, weight, rgb, canvas, frame, threshold, ctx.params.max_area, "hot")
    detections = list(found.detections)
    if item.nonfinite is not None:
        bad = item.nonfinite.astype(np.float32)
        raw = paste(item.frame.rgb, item.frame.geometry, canvas)  # colour with NaN/Inf kept
        nf = find_detections(bad, bad, raw, canvas, frame, 0.5, bad.size, "nonfinite")
        detections.extend(nf.detections)
        mask[item.nonfinite] = 1.0
    return detections, mask, found.oversized_regions


def write_frame(ctx: RunContext, judged: JudgedFrame, meta: dict[str, Any]) -> None:
    """Write one frame's mask (and plate), then its record: a record means a finished frame."""
    item, frame = judged.item, judged.frame
    own = item.frame.geometry
    canvas = ctx.canvas
    own_mask = judged.mask if own == canvas else paste(judged.mask, canvas, own)
    mask_file = ctx.mask_names[frame]
    meta = {**meta, "hotpixel:source": item.frame.path}
    write_mask(mask_file, own_mask, own, meta)
    if ctx.with_plate:
        plate_path = os.path.join(ctx.out, "plate", os.path.basename(mask_file))
        fr = item.frame
        write_plate_with_mask(plate_path, fr.rgb, fr.alpha, own_mask, own, fr.pixel_format, meta)
    write_frame_record(
        ctx.out,
        frame,
        ctx.seq.path(frame),
        mask_file,
        ctx.fingerprint,
        judged.detections,
        judged.oversized,
        judged.window,
        ctx.inputs[frame],
    )
