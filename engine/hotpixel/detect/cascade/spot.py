"""A second opinion for the classifier: a spot no picture could hold.

The classifier weighs each candidate against its aligned window, so where the flow is not to be
trusted (a person walking close to the camera, a panned edge, a cut) or the picture is crowded
with small lights, it says no even to a defect a person sees at once. :func:`spots` marks the
candidates that stand out of their own frame beyond anything the picture at that place holds,
whatever the flow says, and the detector flags them as well (:data:`SPOT_PROBABILITY`).

A candidate is a spot when, in its own channel:

- it is clear: at least ``contrast + 1`` times its local level, and ``sigmas`` noise sigmas out of
  its window (the candidate stage's score);
- it has a photosite's footprint: at most ``footprint`` pixels of the 5x5 around it hold half
  its excess over the level (one photosite, a demosaiced one, a pair);
- it is isolated: 2 px out, no pixel keeps more than ``1 - isolation`` of its excess;
- it is sharper than the picture around it: the Laplacian at its peak is ``sharpness`` times the
  largest one 3-6 px around (a moving picture is blurred by its motion; a lens-blurred light
  is no sharper than its neighbourhood's own edges);
- it is absent from every other frame of the window near the place, both as decoded and as
  aligned onto the centre: in no neighbour does a pixel within 2 px of it reach
  ``absent_here`` of its excess over the level, or one within 6 px ``absent`` of it. A light
  that twinkles, moves on its own or lasts a frame longer, a spark or a glint is there in a
  neighbour, dimmer or a little further on; a light the camera pans across is there in the
  aligned neighbours where the flow holds; a defect is in neither. Where the flow fails the
  aligned neighbours show other content, and the test as decoded still stands. (On made night
  exteriors, defects the rule flags show at most 0.05 of their excess within 2 px in the
  neighbours for 9 in 10 of them, the lights it must leave 0.11-0.47.)

Where no neighbour saw the place at all the window holds no evidence about it in time: every
neighbour's flow there looks beyond the picture's edge (the strip a pan brings in as it turns
back, the edge of a handheld shake), and what the aligned neighbours show is the edge pixel
repeated. A one-frame test, the classifier's included, cannot tell a light the camera has just
revealed from a defect there (on made night exteriors such places were a third of the false
alerts on small lights). There the spot test alone decides (:func:`opinions`): a clear,
photosite-sized spot sharper than the picture around it is flagged (nothing can be absent from
neighbours that never saw it), anything else is set aside, whatever the classifier said.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.stage import CandidateWindow

SPOT_PROBABILITY = np.float32(1.0)  # what a spot paints: flagged at any threshold
REACH = 6  # px around a candidate the rule looks at (absent, sharpness)
OUTSIDE = 0.5  # px beyond the picture's edge a neighbour's look-up lands where it saw nothing
FLAG, VETO = 1, -1  # :func:`opinions`: a spot, flagged; an unseen place, set aside (0: neither)


@dataclass(frozen=True)
class SpotRule:
    """The bars of :func:`spots` (module doc)."""

    contrast: float = 1.0
    sigmas: float = 8.0
    footprint: int = 6
    isolation: float = 0.6
    sharpness: float = 3.0
    absent_here: float = 0.1
    absent: float = 0.5


def _chebyshev(size: int) -> np.ndarray:
    """``(size, size)`` int: each pixel's Chebyshev distance from the centre."""
    r = np.abs(np.arange(size) - size // 2)
    out: np.ndarray = np.maximum(r[:, None], r[None, :])
    return out


def _laplacian(patches: np.ndarray) -> np.ndarray:
    """``(N, s, s)`` -> ``(N, s - 2, s - 2)``: 4 x centre - its four neighbours."""
    c = patches[:, 1:-1, 1:-1]
    out: np.ndarray = 4 * c - (
        patches[:, :-2, 1:-1] + patches[:, 2:, 1:-1] + patches[:, 1:-1, :-2] + patches[:, 1:-1, 2:]
    )
    return out


def spots(window: CandidateWindow, rule: SpotRule | None = None) -> np.ndarray:
    """``(N,)`` bool: which candidates of ``window`` (the candidate stage's result) are spots
    (module doc). A slot showing the centre's own picture is no neighbour: nothing is a spot
    beside it."""
    flagged: np.ndarray = opinions(window, rule) == FLAG
    return flagged


def opinions(window: CandidateWindow, rule: SpotRule | None = None) -> np.ndarray:
    """``(N,)`` int8, the second opinion on each candidate of ``window``: :data:`FLAG` for a
    spot, :data:`VETO` for a place no neighbour saw that is no spot, 0 where the classifier
    decides (module doc; :func:`overrule` applies it)."""
    rule = rule or SpotRule()
    found = window.found
    out = np.zeros(len(found), np.int8)
    numbers = list(window.numbers)
    t = len(numbers) // 2
    slots = [k for k, number in enumerate(numbers) if number != numbers[t]]
    if len(slots) < len(numbers) - 1 or not slots:  # the centre's picture is a neighbour too
        return out
    blind = unseen(window)
    out[blind] = VETO
    pick = np.flatnonzero((found.contrast >= rule.contrast) & (found.score >= rule.sigmas))
    if len(pick) == 0:
        return out
    chosen = replace(window, found=found.select(pick))
    size = 2 * REACH + 1
    ch = chosen.found.channel[:, None, None, None, None]
    raw = cand.cutouts(list(window.frames), chosen.found.y, chosen.found.x, size)
    own = np.take_along_axis(raw, ch, axis=4)[..., 0]  # (M, T, s, s) its channel, as decoded
    aligned = np.take_along_axis(chosen.aligned_cutouts(size), ch, axis=4)[..., 0]
    level = np.maximum(chosen.found.level, 0.0)[:, None, None]
    centre = own[:, t]  # (M, s, s)
    excess = np.maximum(centre[:, REACH, REACH][:, None, None] - level, 1e-12)  # (M, 1, 1)
    shaped = _shaped(centre, level, excess, chosen.found.sigma, rule)
    absent = _absent(own[:, slots], level, excess, rule) & _absent(
        aligned[:, slots], level, excess, rule
    )
    out[pick[shaped & (absent | blind[pick])]] = FLAG
    return out


def unseen(window: CandidateWindow) -> np.ndarray:
    """``(N,)`` bool: the candidates at which every neighbour's flow looks more than
    :data:`OUTSIDE` px beyond the picture's edge (module doc). The centre's own picture in a
    neighbour slot sees everything."""
    found = window.found
    h, w = window.frames[len(window.frames) // 2].shape[:2]
    blind = np.full(len(found), bool(window.flows))  # no neighbour pictures: nothing unseen
    for full in window.flows.values():  # one per neighbour picture (a mirrored slot repeats)
        flow = full.at(found.y, found.x)  # (N, 2)
        x = found.x.astype(np.float32) + flow[:, 0]
        y = found.y.astype(np.float32) + flow[:, 1]
        blind &= (x < -OUTSIDE) | (x > w - 1 + OUTSIDE) | (y < -OUTSIDE) | (y > h - 1 + OUTSIDE)
    return blind


def overrule(prob: np.ndarray, said: np.ndarray) -> np.ndarray:
    """The classifier's ``prob`` ``(N,)`` with the second opinion ``said`` (:func:`opinions`)
    applied: a flagged spot at :data:`SPOT_PROBABILITY`, a vetoed place at 0."""
    out: np.ndarray = np.where(
        said == FLAG,
        np.maximum(prob, SPOT_PROBABILITY),
        np.where(said == VETO, np.float32(0.0), prob),
    ).astype(np.float32)
    return out


def _shaped(
    centre: np.ndarray, level: np.ndarray, excess: np.ndarray, sigma: np.ndarray, rule: SpotRule
) -> np.ndarray:
    """``(M,)``: a photosite's footprint, isolated, sharper than around it (module doc)."""
    rel = (centre - level) / excess  # (M, s, s): 1 at the peak
    size = centre.shape[1]
    dist = _chebyshev(size)
    footprint = ((rel >= 0.5) & (dist <= 2)[None]).sum(axis=(1, 2))
    ring2 = np.where((dist == 2)[None], rel, -np.inf).max(axis=(1, 2))
    lap = _laplacian(centre)  # (M, s - 2, s - 2)
    inner = _chebyshev(size - 2)
    around = np.where(((inner >= 3) & (inner <= REACH - 1))[None], np.abs(lap), 0.0)
    floor = 2.0 * np.maximum(sigma, 1e-6)  # the noise's own Laplacian, roughly
    sharp = lap[:, REACH - 1, REACH - 1] / np.maximum(around.max(axis=(1, 2)), floor)
    shaped: np.ndarray = (
        (footprint <= rule.footprint) & (1.0 - ring2 >= rule.isolation) & (sharp >= rule.sharpness)
    )
    return shaped


def _absent(
    others: np.ndarray, level: np.ndarray, excess: np.ndarray, rule: SpotRule
) -> np.ndarray:
    """``(M,)``: nothing in the neighbours ``(M, K, s, s)`` near the place (module doc)."""
    seen = (others - level[:, None]) / excess[:, None]  # (M, K, s, s)
    here = seen[:, :, REACH - 2 : REACH + 3, REACH - 2 : REACH + 3].max(axis=(1, 2, 3))
    absent: np.ndarray = (here < rule.absent_here) & (seen.max(axis=(1, 2, 3)) < rule.absent)
    return absent
