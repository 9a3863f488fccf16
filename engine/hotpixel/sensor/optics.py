"""How sharp the picture's optics are, measured from its own content, and the sharpest point of
light they can form.

Everything the scene puts on the sensor passes through the lens, so no scene feature is sharper
than the lens's point spread; a photosite that stands out alone, sharper than that, is the
sensor's own. The spread is estimated from the picture's steepest real edges: at a step edge,
the share of the whole rise (over four pixels) that happens between the two middle pixels is 1
for a lens sharper than the pixels and falls as the spread widens. The edges' share is matched
to a gaussian spread, integrated over square pixels, and that spread says how much of a point
source's light reaches the photosites beside its brightest one (its *spill*).

Both figures are best cases (an edge on a pixel boundary, a point source on a pixel centre), so
a real point source spills at least as much as the bound says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hotpixel.sensor.background import MAD_TO_SIGMA, median5

RISE_SIGMAS = 12.0  # an edge's rise over four pixels, in the picture's noise sigmas, to count
MIN_EDGES = 30  # edges needed before the picture's sharpness is taken as measured
EDGE_QUANTILE = 0.9  # the sharpest edges, not the one sharpest (noise, aliasing)
_SPREADS = np.geomspace(0.05, 4.0, 200)  # gaussian sigmas, px


@dataclass(frozen=True)
class Optics:
    """The picture's measured sharpness: ``edges`` counted, their ``share`` (0..1, None when
    fewer than :data:`MIN_EDGES`), the matched gaussian ``spread`` (px) and a centred point
    source's ``spill``: the level of the photosites beside it over its own (0..1)."""

    edges: int
    share: float | None
    spread: float | None
    spill: float | None


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _edge_share(sigma: float) -> float:
    """Rise between the two middle pixels over the rise across four, edge on their boundary."""

    # pixel k covers [k, k+1) with the edge at 0: its mean of the blurred step
    def pixel(k: int) -> float:
        xs = np.linspace(k, k + 1, 33)
        return float(np.mean([_phi(x / sigma) for x in xs]))

    return (pixel(0) - pixel(-1)) / (pixel(1) - pixel(-2))


def _point_spill(sigma: float) -> float:
    """Light of a point source centred on a photosite reaching the next one, over its own."""
    own = _phi(0.5 / sigma) - _phi(-0.5 / sigma)
    return (_phi(1.5 / sigma) - _phi(0.5 / sigma)) / own


_SHARES = np.array([_edge_share(s) for s in _SPREADS])  # decreasing with the spread
_SPILLS = np.array([_point_spill(s) for s in _SPREADS])  # increasing with the spread


def measure(picture: np.ndarray) -> Optics:
    """The sharpness of ``picture`` ``(H, W)`` (linear, a shot's mean picture: its noise is low)."""
    residual = picture - median5(picture)
    noise = float(np.median(np.abs(residual))) * MAD_TO_SIGMA
    shares = [_edges(picture, noise), _edges(picture.T, noise)]
    found = np.concatenate(shares)
    if found.size < MIN_EDGES:
        return Optics(int(found.size), None, None, None)
    share = float(np.quantile(found, EDGE_QUANTILE))
    spread = float(np.interp(share, _SHARES[::-1], _SPREADS[::-1]))
    spill = float(np.interp(spread, _SPREADS, _SPILLS))
    return Optics(int(found.size), round(share, 4), round(spread, 4), round(spill, 4))


def _edges(p: np.ndarray, noise: float) -> np.ndarray:
    """Shares of the steepest step of every monotone four-pixel run along rows whose rise is at
    least :data:`RISE_SIGMAS` noise sigmas. A lone bright photosite is no edge: its run is not
    monotone."""
    a, b, c, d = p[:, :-3], p[:, 1:-2], p[:, 2:-1], p[:, 3:]
    steps = np.stack([b - a, c - b, d - c])  # (3, H, W-3)
    rising = (steps > 0).all(axis=0)
    falling = (steps < 0).all(axis=0)
    rise = np.abs(d - a)
    middle = np.abs(steps[1])
    # the middle step is the run's steepest: each edge counts once, at its centre
    steepest = (middle >= np.abs(steps[0])) & (middle >= np.abs(steps[2]))
    ok = (rising | falling) & steepest & (rise >= RISE_SIGMAS * max(noise, 1e-12))
    out: np.ndarray = (middle[ok] / rise[ok]).astype(np.float64)
    return out
