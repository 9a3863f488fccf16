"""Night exteriors with many small lights, made from a real HDR still: a clip-like source.

No real night timelapse is available offline, so one is built from a bundled HDR plate
(:func:`hotpixel.ml.synth.plates.load_plate`): the plate darkened to night levels with a blue
cast, then a few hundred practical lights drawn at sub-pixel positions with a lens PSF (a
gaussian core of 1-3 px full width at half maximum plus a faint wide halo), lit windows (small
soft-edged rectangles) that switch on and off between frames, twinkle on some lights, slow
blinkers, a slow camera move (a drift with a little shake and zoom breathing) and, optionally,
one cut to another view of the plate with other lights. Photon-like grain goes on last, with
the standard deviation ``grain * sqrt(v + 0.01)`` the window generator uses
(:func:`hotpixel.ml.synth.windows.render`).

Every frame is a pure function of the clip's seed and the frame's index, so any stretch of
frames can be asked for in any order and comes out the same: a :class:`NightClip` behaves like
a decoded clip of :attr:`NightClip.length` frames. :meth:`NightClip.lights` gives, per frame,
where the lights and lit windows are: the hard negatives a detector must leave alone.

Frames are ``(H, W, 3)`` float32 scene-linear, top-left origin, indexed ``[y, x]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.special import erf

from hotpixel.ml.synth.plates import load_plate

# sodium, warm tungsten, cool LED, red warning, green signal: relative RGB of a light
PALETTE = np.array(
    [
        [1.0, 0.55, 0.2],
        [1.0, 0.8, 0.55],
        [0.85, 0.92, 1.0],
        [1.0, 0.12, 0.06],
        [0.15, 1.0, 0.35],
    ],
    np.float32,
)
PALETTE_WEIGHTS = np.array([0.35, 0.3, 0.25, 0.06, 0.04])
NIGHT_TINT = np.array([0.6, 0.75, 1.15], np.float32)  # moonlit blue cast on the darkened plate
MASK_LEVEL = 0.05  # a light's footprint: where its core is at least this share of its peak


@dataclass(frozen=True)
class NightConfig:
    """How a night clip varies; ranges are (low, high), drawn uniformly unless said otherwise."""

    size: tuple[int, int] = (960, 540)  # (w, h) output frames
    length: int = 240  # frames in the clip
    zoom: float = 1.6  # output pixels per plate pixel
    night_level: tuple[float, float] = (0.003, 0.012)  # the darkened plate's median, linear
    lights: tuple[int, int] = (200, 400)  # per shot
    light_peak: tuple[float, float] = (0.03, 12.0)  # log-uniform peak value, linear
    core_fwhm: tuple[float, float] = (1.0, 3.0)  # px
    windows: tuple[int, int] = (60, 140)  # lit-window rectangles per shot
    window_level: tuple[float, float] = (0.01, 0.25)  # log-uniform
    window_toggle: tuple[float, float] = (0.002, 0.02)  # per window and frame
    twinkle_share: float = 0.4  # share of lights that twinkle
    twinkle: tuple[float, float] = (0.05, 0.35)  # relative per-frame brightness change
    blink_share: float = 0.03  # share of lights that blink slowly (on half of a 20-40 frame cycle)
    drift: tuple[float, float] = (0.05, 0.4)  # camera drift, px/frame
    shake: float = 0.08  # px of per-frame camera shake
    zoom_breath: float = 0.01  # relative scale change over the clip
    cut_rate: float = 1.0  # chance of one cut, somewhere in the middle 40 % of the clip
    grain: tuple[float, float] = (0.002, 0.008)
    band: tuple[float, float] = (0.15, 0.75)  # rows (share of height) where lights gather


@dataclass(frozen=True)
class _Shot:
    """One camera set-up: which part of the plate, its lights and windows, its camera path."""

    first: int  # clip frame the shot starts at
    origin: tuple[float, float]  # plate (x, y) of output pixel (0, 0) at the shot's start
    exposure: float
    grain: float
    light_xy: np.ndarray  # (L, 2) world positions, output px
    light_rgb: np.ndarray  # (L, 3) peak value per channel
    light_sigma: np.ndarray  # (L,) core sigma, px
    light_halo: np.ndarray  # (L,) halo amplitude relative to the core
    light_twinkle: np.ndarray  # (L,) 0 = steady
    light_blink: np.ndarray  # (L, 2) period, phase in frames; period 0 = no blink
    window_box: np.ndarray  # (K, 4) x0, y0, x1, y1 world positions, output px
    window_rgb: np.ndarray  # (K, 3)
    window_on: np.ndarray  # (K, frames of the shot) bool
    shift: np.ndarray  # (frames of the shot, 2) camera (x, y) offset, output px
    scale: np.ndarray  # (frames of the shot,)


class NightClip:
    """A night exterior of ``config.length`` frames over bundled plate ``plate``.

    ``seed`` fixes everything: the same seed gives the same frames, whichever are asked for.
    """

    def __init__(self, plate: str, seed: int, config: NightConfig | None = None) -> None:
        self.plate_name = plate
        self.seed = seed
        self.config = config or NightConfig()
        self._plate: np.ndarray | None = None
        self._median = 1.0
        self._shots = self._plan()

    @property
    def length(self) -> int:
        return self.config.length

    @property
    def cuts(self) -> tuple[int, ...]:
        """Frames that start a new shot (a cut lies between each and the frame before)."""
        return tuple(s.first for s in self._shots[1:])

    @property
    def plate(self) -> np.ndarray:
        if self._plate is None:
            plate = load_plate(self.plate_name)
            if plate.shape[:2] != (512, 1024):  # layouts assume the bundled size: scale to it
                plate = cv2.resize(plate, (1024, 512), interpolation=cv2.INTER_AREA)
            self._plate = plate
            self._median = max(float(np.median(plate)), 1e-6)
        return self._plate

    def frames(self, start: int = 0, count: int | None = None) -> np.ndarray:
        """Frames ``start .. start+count-1`` as ``(N, H, W, 3)`` float32 (fewer past the end)."""
        stop = self.length if count is None else min(start + count, self.length)
        return np.stack([self.frame(t) for t in range(start, stop)])

    def lights(self, start: int = 0, count: int | None = None) -> np.ndarray:
        """``(N, H, W)`` bool: the footprints of lights and lit windows in each frame."""
        stop = self.length if count is None else min(start + count, self.length)
        return np.stack([self.light_mask(t) for t in range(start, stop)])

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` as ``(H, W, 3)`` float32 scene-linear."""
        shot, i = self._at(t)
        w, h = self.config.size
        frame = self._background(shot, i)
        rng = np.random.Generator(np.random.PCG64([self.seed, 1, t]))
        gains = 1.0 + shot.light_twinkle * rng.standard_normal(len(shot.light_twinkle))
        gains = np.maximum(gains, 0.1) * _blink_state(shot.light_blink, t)
        xy = self._to_frame(shot, i, shot.light_xy)
        for (x, y), rgb, sigma, halo, gain in zip(
            xy, shot.light_rgb, shot.light_sigma, shot.light_halo, gains, strict=True
        ):
            if gain > 0 and -8 < x < w + 8 and -8 < y < h + 8:
                _stamp_light(frame, x, y, rgb * gain, sigma, halo)
        boxes = self._box_to_frame(shot, i)
        for box, rgb, on in zip(boxes, shot.window_rgb, shot.window_on[:, i], strict=True):
            if on:
                _stamp_box(frame, box, rgb)
        noise = rng.standard_normal(frame.shape, dtype=np.float32)
        frame += noise * np.float32(shot.grain) * np.sqrt(np.maximum(frame, 0.0) + 0.01)
        return frame

    def light_mask(self, t: int) -> np.ndarray:
        """``(H, W)`` bool: where frame ``t`` shows a light's core or a lit window (grown 1 px)."""
        shot, i = self._at(t)
        w, h = self.config.size
        mask = np.zeros((h, w), bool)
        on = _blink_state(shot.light_blink, t) > 0
        xy = self._to_frame(shot, i, shot.light_xy)
        for (x, y), sigma, lit in zip(xy, shot.light_sigma, on, strict=True):
            r = sigma * np.sqrt(-2.0 * np.log(MASK_LEVEL))
            x0, x1 = max(int(np.floor(x - r)), 0), min(int(np.ceil(x + r)) + 1, w)
            y0, y1 = max(int(np.floor(y - r)), 0), min(int(np.ceil(y + r)) + 1, h)
            if lit and x1 > x0 and y1 > y0:
                mask[y0:y1, x0:x1] = True
        for (x0, y0, x1, y1), lit in zip(
            self._box_to_frame(shot, i), shot.window_on[:, i], strict=True
        ):
            ix0, iy0 = max(int(np.floor(x0)) - 1, 0), max(int(np.floor(y0)) - 1, 0)
            ix1, iy1 = min(int(np.ceil(x1)) + 2, w), min(int(np.ceil(y1)) + 2, h)
            if lit and ix1 > ix0 and iy1 > iy0:
                mask[iy0:iy1, ix0:ix1] = True
        return mask

    # --- layout ---------------------------------------------------------------------------

    def _plan(self) -> list[_Shot]:
        c = self.config
        rng = np.random.Generator(np.random.PCG64([self.seed, 0]))
        firsts = [0]
        if c.length >= 20 and rng.random() < c.cut_rate:
            firsts.append(int(rng.integers(int(c.length * 0.3), int(c.length * 0.7) + 1)))
        ends = [*firsts[1:], c.length]
        return [self._shot(rng, a, b - a) for a, b in zip(firsts, ends, strict=True)]

    def _shot(self, rng: np.random.Generator, first: int, frames: int) -> _Shot:
        c = self.config
        w, h = c.size
        ph, pw = 512, 1024  # the bundled plates' size (others are scaled to it on load)
        drift = rng.uniform(*c.drift)
        angle = rng.uniform(0, 2 * np.pi)
        t = np.arange(frames, dtype=np.float64)
        shift = np.outer(t, drift * np.array([np.cos(angle), np.sin(angle)]))
        shift += rng.normal(0.0, c.shake, shift.shape)
        shift -= shift.mean(axis=0)
        scale = 1.0 + c.zoom_breath * np.sin(np.pi * t / max(frames, 1) + rng.uniform(0, np.pi))
        reach = float(np.abs(shift).max()) + c.zoom_breath * max(w, h) + 4
        span_x, span_y = (w + 2 * reach) / c.zoom, (h + 2 * reach) / c.zoom
        ox = rng.uniform(0, max(pw - span_x, 0)) + reach / c.zoom
        oy = rng.uniform(0.2, 0.8) * max(ph - span_y, 0) + reach / c.zoom
        lights = int(rng.integers(*c.lights, endpoint=True))
        lx = rng.uniform(-reach, w + reach, lights)
        band = rng.uniform(*c.band, lights) * h
        ly = np.clip(band + rng.normal(0, 0.08 * h, lights), -reach, h + reach)
        colour = PALETTE[rng.choice(len(PALETTE), lights, p=PALETTE_WEIGHTS)]
        peak = _log_uniform(rng, c.light_peak, lights)
        sigma = rng.uniform(*c.core_fwhm, lights) / 2.3548  # FWHM = 2.3548 sigma
        twinkles = rng.random(lights) < c.twinkle_share
        blink = np.zeros((lights, 2))
        blinks = rng.random(lights) < c.blink_share
        blink[blinks, 0] = rng.integers(20, 41, int(blinks.sum()))
        blink[blinks, 1] = rng.uniform(0, 40, int(blinks.sum()))
        count = int(rng.integers(*c.windows, endpoint=True))
        wx = rng.uniform(-reach, w + reach, count)
        wy = rng.uniform(*c.band, count) * h
        size = np.stack([rng.integers(3, 8, count), rng.integers(4, 10, count)], 1)
        on = np.empty((count, frames), bool)
        state = rng.random(count) < 0.6
        toggle = rng.uniform(*c.window_toggle, count)
        for i in range(frames):
            if i:
                state = state ^ (rng.random(count) < toggle)
            on[:, i] = state
        return _Shot(
            first=first,
            origin=(float(ox), float(oy)),
            exposure=float(rng.uniform(*c.night_level)),
            grain=float(rng.uniform(*c.grain)),
            light_xy=np.stack([lx, ly], 1),
            light_rgb=(colour * peak[:, None]).astype(np.float32),
            light_sigma=sigma,
            light_halo=rng.uniform(0.005, 0.03, lights),
            light_twinkle=np.where(twinkles, rng.uniform(*c.twinkle, lights), 0.0),
            light_blink=blink,
            window_box=np.concatenate([np.stack([wx, wy], 1), np.stack([wx, wy], 1) + size], 1),
            window_rgb=(
                PALETTE[rng.choice(2, count)] * _log_uniform(rng, c.window_level, count)[:, None]
            ).astype(np.float32),
            window_on=on,
            shift=shift,
            scale=scale,
        )

    def _at(self, t: int) -> tuple[_Shot, int]:
        if not 0 <= t < self.length:
            raise IndexError(f"frame {t} is outside the night clip's 0-{self.length - 1}")
        shot = next(s for s in reversed(self._shots) if s.first <= t)
        return shot, t - shot.first

    def _to_frame(self, shot: _Shot, i: int, xy: np.ndarray) -> np.ndarray:
        """World positions ``(N, 2)`` (output px at the shot's start) to frame ``i``'s pixels."""
        w, h = self.config.size
        centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        out: np.ndarray = (xy - shot.shift[i] - centre) * shot.scale[i] + centre
        return out

    def _box_to_frame(self, shot: _Shot, i: int) -> np.ndarray:
        a = self._to_frame(shot, i, shot.window_box[:, :2])
        b = self._to_frame(shot, i, shot.window_box[:, 2:])
        return np.concatenate([a, b], 1)

    def _background(self, shot: _Shot, i: int) -> np.ndarray:
        """The darkened plate as frame ``i`` of ``shot`` sees it: ``(H, W, 3)`` float32."""
        c = self.config
        w, h = c.size
        plate = self.plate
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        world = self._to_world(shot, i, xx, yy)
        map_x = (shot.origin[0] + world[0] / c.zoom).astype(np.float32)
        map_y = (shot.origin[1] + world[1] / c.zoom).astype(np.float32)
        frame: np.ndarray = cv2.remap(
            plate, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        gain = shot.exposure / self._median
        out: np.ndarray = (np.maximum(frame, 0.0) * NIGHT_TINT * np.float32(gain)).astype(
            np.float32
        )
        return out

    def _to_world(
        self, shot: _Shot, i: int, xx: np.ndarray, yy: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        w, h = self.config.size
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        s = float(shot.scale[i])
        dx, dy = (float(v) for v in shot.shift[i])
        return (xx - cx) / s + cx + dx, (yy - cy) / s + cy + dy


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> np.ndarray:
    out: np.ndarray = np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]), n))
    return out


def _blink_state(blink: np.ndarray, t: int) -> np.ndarray:
    """``(L,)`` 1 where a light is lit at frame ``t``, 0 where a blinker is in its dark half."""
    period, phase = blink[:, 0], blink[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        dark = (period > 0) & (((t + phase) % np.where(period > 0, period, 1)) >= period / 2)
    out: np.ndarray = np.where(dark, 0.0, 1.0)
    return out


def _stamp_light(
    frame: np.ndarray, x: float, y: float, rgb: np.ndarray, sigma: float, halo: float
) -> None:
    """Add a point light at (x, y): a gaussian core of ``sigma`` and a halo 4x as wide."""
    h, w = frame.shape[:2]
    wide = 4.0 * sigma + 1.0
    r = int(np.ceil(4 * wide))
    x0, x1 = max(int(x) - r, 0), min(int(x) + r + 1, w)
    y0, y1 = max(int(y) - r, 0), min(int(y) + r + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    dy = (np.arange(y0, y1) - y)[:, None]
    dx = (np.arange(x0, x1) - x)[None, :]
    d2 = dx * dx + dy * dy
    psf = np.exp(-d2 / (2 * sigma**2)) + halo * np.exp(-d2 / (2 * wide**2))
    frame[y0:y1, x0:x1] += (psf[..., None] * rgb).astype(np.float32)


def _stamp_box(frame: np.ndarray, box: np.ndarray, rgb: np.ndarray, blur: float = 0.5) -> None:
    """Add a lit window: a rectangle ``box`` (x0, y0, x1, y1) with edges softened by ``blur``."""
    h, w = frame.shape[:2]
    bx0, by0, bx1, by1 = (float(v) for v in box)
    x0, x1 = max(int(np.floor(bx0)) - 2, 0), min(int(np.ceil(bx1)) + 3, w)
    y0, y1 = max(int(np.floor(by0)) - 2, 0), min(int(np.ceil(by1)) + 3, h)
    if x1 <= x0 or y1 <= y0:
        return
    px = _edge_profile(np.arange(x0, x1) + 0.5, bx0, bx1, blur)
    py = _edge_profile(np.arange(y0, y1) + 0.5, by0, by1, blur)
    frame[y0:y1, x0:x1] += (np.outer(py, px)[..., None] * rgb).astype(np.float32)


def _edge_profile(at: np.ndarray, lo: float, hi: float, blur: float) -> np.ndarray:
    """Coverage of ``[lo, hi]`` seen through a gaussian of ``blur`` px, at pixel centres ``at``."""
    k = 1.0 / (blur * np.sqrt(2.0))
    out: np.ndarray = 0.5 * (erf((at - lo) * k) - erf((at - hi) * k))
    return out
