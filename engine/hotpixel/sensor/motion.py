"""Per-photosite motion evidence: has the content under each photosite changed?

A frame is evidence for a photosite only where the picture content under it is new, so that a
pixel that still departs from its neighbours in the same way is fixed on the sensor. Whether it
is new is a per-pixel question (a locked-off camera with people walking: the people's pixels
change, the street behind them does not), answered from dense optical flow between consecutive
frames (:mod:`hotpixel.detect.motion`'s DIS flow image, which a one- or two-pixel defect cannot
pull, and its forward-backward confidence).

Each photosite keeps a *key*: the residual (pixel minus neighbourhood) of the content that was
under it at its last evidence frame, and the content's *drift* since then, the sum of the
frame-to-frame flow at that photosite. When the drift reaches :data:`MIN_SHIFT` pixels, the
frame is evidence there; the key's residual, taken where the content came from, predicts what
scene content should do (with a 3x3 tolerance, which the 2 px shift keeps clear of the photosite
itself), and the key moves on. A flow counts only where it is confident and where warping the
previous frame by it explains the current one at least as well as standing still does; that
rejects flow spilling from a moving person onto the static background beside them. Where the
content is at rest (its leaky mean speed under :data:`REST_SPEED`) or the flow cannot be trusted
(occlusion, a reveal), the key restarts from the current frame and nothing counts. A cut (most of
the picture changed beyond what flow follows) is evidence wherever it changed, with nothing
predicted. Memory is a few ``(H, W)`` arrays, whatever the shot's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from hotpixel.detect.motion import PRESETS, consistency, flow_fits, flow_image, warp

MIN_SHIFT = 2  # px (rounded, either axis): with the 3x3 tolerance a defect cannot explain itself
REST_SPEED = 0.1  # px/frame: leaky mean speed under which the content under a photosite is at rest
PACE = 0.2  # weight of the newest frame in the leaky mean velocity (time constant ~5 frames)
MIN_CONFIDENCE = 0.5  # forward-backward confidence below which a flow is not followed
MATCH_SLACK = 1.5  # 8-bit codes: warping may explain the frame this much worse than standing still
VERIFY_MARGIN = 1.0  # 8-bit codes: how much better than standing still a local motion must match
TEXTURE_TIE = 0.006  # tone units (1/20 stop): closer matches than this are a tie (grain)
TEXTURE_MARGIN = 0.2  # share of the 24 surrounding pixels by which standing still may win
CHANGED_SHARE = 0.5  # share of the picture beyond the flow, and changed, that makes a cut
CHANGE = 6.0  # 8-bit codes of mean difference that count as a changed picture
MOVING_SHARE = 0.5  # share of the picture in motion for a frame to be called moving
FLOW_PRESET = "fast"  # DIS preset: 0.17 s for the two flows of a 1920x1080 frame on one core


@dataclass(frozen=True)
class Step:
    """What one frame contributes.

    ``evidence`` ``(H, W)`` bool: the photosites for which this frame is evidence (None: none).
    ``low``, ``high`` ``(H, W, 3)`` float32: the range of residuals the moved key content spans
    around each evidence photosite (0, 0 where nothing is predicted: a cut).
    ``moving`` is the share of the picture whose content is in (trusted) motion.
    """

    label: str  # "first", "static", "moving" or "changed"
    evidence: np.ndarray | None
    low: np.ndarray | None
    high: np.ndarray | None
    moving: float

    @property
    def evidence_share(self) -> float:
        return 0.0 if self.evidence is None else float(self.evidence.mean())


class MotionEvidence:
    """Follows the content under every photosite; ``observe`` returns each frame's :class:`Step`.

    A picture too small for flow (``flow_fits``) gives no motion evidence: every frame after
    the first is "static" (``flows`` is False), so only the invariance test can confirm.
    """

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.flows = flow_fits(height, width)
        self._dis = cv2.DISOpticalFlow.create(PRESETS[FLOW_PRESET])
        self._image: np.ndarray | None = None  # (H, W) uint8 flow image of the previous frame
        self._key_r: np.ndarray | None = None  # (H, W, 3) residual under each photosite's key
        self._drift = np.zeros((height, width, 2), np.float32)  # content shift since the key
        self._pace = np.zeros((height, width, 2), np.float32)  # leaky mean velocity, px/frame
        rows, cols = np.mgrid[0:height, 0:width]
        self._rows, self._cols = rows.astype(np.int32), cols.astype(np.int32)

    def observe(self, linear: np.ndarray, r: np.ndarray) -> Step:
        """``linear`` ``(H, W, 3)`` finite scene-linear frame, ``r`` its ``(H, W, 3)`` residual."""
        image = flow_image(linear)
        previous, self._image = self._image, image
        if previous is None or self._key_r is None:
            self._key_r = r.copy()
            return Step("first", None, None, None, 0.0)
        if not self.flows:
            return Step("static", None, None, None, 0.0)
        forward = np.asarray(self._dis.calc(image, previous, None))  # type: ignore[call-overload]
        backward = np.asarray(self._dis.calc(previous, image, None))  # type: ignore[call-overload]
        matches, forward = _believed(image, previous, forward)
        trusted = (consistency(forward, backward) >= MIN_CONFIDENCE) & matches
        if (~trusted).mean() >= CHANGED_SHARE and _changed(image, previous):
            return self._cut(r, ~trusted)
        self._pace += np.float32(PACE) * (forward - self._pace)
        speed = np.hypot(self._pace[..., 0], self._pace[..., 1])
        moving = trusted & (speed >= REST_SPEED)
        self._drift[moving] += forward[moving]
        shift = np.rint(self._drift).astype(np.int32)
        far = moving & (np.abs(shift).max(axis=-1) >= MIN_SHIFT)
        src_r, src_c = self._rows + shift[..., 1], self._cols + shift[..., 0]
        inside = (src_r >= 2) & (src_r < self.height - 2) & (src_c >= 2) & (src_c < self.width - 2)
        sr = np.clip(src_r, 0, self.height - 1)
        sc = np.clip(src_c, 0, self.width - 1)
        evidence = far & inside & _texture_moved(r, self._key_r, self._key_r[sr, sc])
        low = high = None
        if evidence.any():
            high = ndimage.maximum_filter(self._key_r, size=(3, 3, 1))[sr, sc]
            low = ndimage.minimum_filter(self._key_r, size=(3, 3, 1))[sr, sc]
        restart = ~moving | far  # at rest, untrusted, or just used: the key starts again here
        self._key_r[restart] = r[restart]
        self._drift[restart] = 0.0
        # the frame's own motion names it (the leaky speed lingers a few frames after a stop)
        now = float((trusted & (np.abs(forward).max(axis=-1) >= REST_SPEED)).mean())
        label = "moving" if now >= MOVING_SHARE else "static"
        return Step(label, evidence if evidence.any() else None, low, high, now)

    def _cut(self, r: np.ndarray, changed: np.ndarray) -> Step:
        assert self._key_r is not None
        self._key_r[...] = r
        self._drift[...] = 0.0
        self._pace[...] = 0.0
        zero = np.zeros_like(r)
        return Step("changed", changed, zero, zero, 1.0)


def _box(a: np.ndarray) -> np.ndarray:
    out: np.ndarray = cv2.blur(a, (5, 5))
    return out


def _believed(
    image: np.ndarray, previous: np.ndarray, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where ``forward`` matches, ``(H, W)`` bool, and the flow to follow, ``(H, W, 2)``.

    The camera's motion is the median flow. A flow that departs from it is followed only where
    it is *verified*: warping ``previous`` by it matches ``image`` (5x5 mean absolute error,
    8-bit codes) clearly better than standing still. Elsewhere the camera's motion is followed
    instead: on flat ground beside a moving person DIS spreads the person's motion, and there
    standing still (the camera, locked off) explains the picture as well as the spread flow.
    Matching means warping by the followed flow explains ``image`` about as well as standing
    still, or better.
    """
    cur = image.astype(np.float32)
    prev = previous.astype(np.float32)
    still = _box(np.abs(cur - prev))
    verified = _box(np.abs(cur - warp(prev, forward))) + np.float32(VERIFY_MARGIN) <= still
    camera = np.median(forward.reshape(-1, 2), axis=0).astype(np.float32)
    followed = np.where(verified[..., None], forward, camera[None, None, :])
    moved = _box(np.abs(cur - warp(prev, followed)))
    matches: np.ndarray = moved <= still + np.float32(MATCH_SLACK)
    return matches, followed.astype(np.float32, copy=False)


def _texture_moved(r: np.ndarray, key: np.ndarray, moved_key: np.ndarray) -> np.ndarray:
    """Where the residual texture around each photosite (5x5, itself left out) matches the key's
    moved with the flow at least about as well as the key's left in place: ``(H, W)`` bool.

    A shadow or a reflection sliding over static ground carries flow, but the ground's texture
    (the residual, which a smooth change of light barely touches) stays where it was: that is
    not new content under the photosite. ``r``, ``key``, ``moved_key`` are ``(H, W, 3)``.
    """
    moved = np.abs(r - moved_key).mean(axis=-1)
    still = np.abs(r - key).mean(axis=-1)
    # a vote, not a mean: the other photosites of a defect cluster, fixed in place, match the
    # key left in place; a few of them must not outvote the moved content around them
    tie = np.float32(TEXTURE_TIE)
    still_wins = _ring((still + tie < moved).astype(np.float32))
    moved_wins = _ring((moved + tie < still).astype(np.float32))
    out: np.ndarray = still_wins <= moved_wins + np.float32(TEXTURE_MARGIN)
    return out


def _ring(a: np.ndarray) -> np.ndarray:
    """Mean of the 24 pixels around each pixel of ``(H, W)`` float32 (5x5, centre left out)."""
    a = a.astype(np.float32, copy=False)
    out: np.ndarray = (cv2.blur(a, (5, 5)) * np.float32(25.0) - a) / np.float32(24.0)
    return out


def _changed(image: np.ndarray, previous: np.ndarray) -> bool:
    diff = np.abs(image.astype(np.float32) - previous.astype(np.float32))
    return float(diff.mean()) > CHANGE
