"""The candidate test compiled: :func:`hotpixel.detect.cascade.candidates.evidence` in one call.

The NumPy definition makes about 45 passes over full frames (max filters, box filters, running
maxima, the ring means); here one Numba-compiled function walks the pixels a row at a time and
keeps only the few rows of each intermediate map that the filters still need. It computes the
very same numbers, operation for operation:

- the box filters are OpenCV's ``cv2.blur`` with ``BORDER_REFLECT`` as it computes them for
  float32 (row sums, then running column sums, in float64; see ``RowSum`` and ``ColumnSum`` in
  https://github.com/opencv/opencv/blob/4.x/modules/imgproc/src/box_filter.simd.hpp);
- the max filters are ``cv2.dilate``'s with ``BORDER_REPLICATE`` (a maximum is exact in any
  order);
- everything else is the definition's float32 (and float64) arithmetic in the definition's
  order, with no fast-math.

``tests/test_compiled.py`` checks it against the NumPy path value for value. The function is
compiled on first use (10-25 s of one core, :data:`COMPILE_AFTER` says when) and cached on disk
by Numba: beside this module when its folder is writable, else under the user's cache folder
(:func:`cache_folder`); later runs load it in well under a second. Where Numba is
missing or fails, :func:`evidence` returns None once with a warning and the caller keeps to
NumPy.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pathlib
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# the kernel, once built: None before the first try, False when Numba is unavailable
_kernel: Callable[..., None] | bool | None = None
_lock = threading.Lock()
# set HOTPIXEL_COMPILED=0 to keep to the NumPy path (the reference)
SWITCH = "HOTPIXEL_COMPILED"
# a first compile costs 10-25 s of one core; before it is on disk the NumPy path takes the
# first this many pixels of a process (about five 4K frames, a short clip or the demo: they
# finish sooner without it), and the kernel is compiled once a run has gone past them
COMPILE_AFTER = 40_000_000
_seen = 0  # pixels the NumPy path took while the kernel was not built


def cache_folder() -> pathlib.Path:
    """Where Numba keeps the compiled kernel when this package's folder is read-only:
    ``$XDG_CACHE_HOME/hotpixel/numba`` (``~/.cache/hotpixel/numba`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(pathlib.Path.home() / ".cache")
    return pathlib.Path(base) / "hotpixel" / "numba"


def _choose_cache() -> None:
    """Point Numba's cache at :func:`cache_folder` when it would otherwise write beside a
    read-only install (before Numba is imported; a user's own NUMBA_CACHE_DIR wins)."""
    here = pathlib.Path(__file__).parent
    if "NUMBA_CACHE_DIR" in os.environ or os.access(here, os.W_OK):
        return
    try:
        cache_folder().mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # Numba's own user-wide cache, or none: it still compiles
    os.environ["NUMBA_CACHE_DIR"] = str(cache_folder())


def _marker() -> pathlib.Path:
    """A file that says this kernel's source has been compiled on this machine (so Numba's
    cache holds it): named for a digest of the source, the Numba and the Python version."""
    source = (pathlib.Path(__file__).parent / "kernels.py").read_bytes()
    try:
        numba_version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        numba_version = "none"
    digest = hashlib.sha1(source + f"{numba_version} {sys.version}".encode()).hexdigest()
    return cache_folder() / f"evidence-{digest[:16]}.built"


def _build() -> Callable[..., None] | bool:
    if os.environ.get(SWITCH, "1") == "0":
        return False
    try:
        _choose_cache()
        from hotpixel.detect.cascade import kernels

        return kernels.build()
    except Exception as error:  # Numba missing or broken: the NumPy path gives the same numbers
        warnings.warn(
            f"the compiled candidate test is unavailable ({type(error).__name__}: {error}); "
            "using the NumPy path, same results, slower (pip install numba to fix)",
            RuntimeWarning,
            stacklevel=3,
        )
        return False


def kernel(pixels: int = 0) -> Callable[..., None] | None:
    """The compiled kernel, or None where Numba cannot give it. ``pixels`` is the size of the
    picture it is wanted for: until the kernel is on disk here (:func:`_marker`), a process's
    first :data:`COMPILE_AFTER` pixels get None too and go the NumPy way. ``0`` builds it now."""
    global _kernel, _seen
    if _kernel is None and pixels:
        with _lock:
            _seen += pixels
            if _seen <= COMPILE_AFTER and not _marker().exists():
                return None
    if _kernel is None:
        with _lock:
            if _kernel is None:
                _kernel = _build()
                if callable(_kernel):
                    _remember()
    return _kernel if callable(_kernel) else None


def _remember() -> None:
    """Leave :func:`_marker` (the kernel is compiled when it is first called, just after)."""
    try:
        _marker().parent.mkdir(parents=True, exist_ok=True)
        _marker().touch()
    except OSError:
        pass  # no writable cache folder: every run compiles after its first pixels


def _has_nan(a: np.ndarray) -> bool:
    """Whether ``a`` holds a NaN (its minimum is NaN then: one fast reduction, no mask)."""
    return a.size > 0 and bool(np.isnan(np.min(a)))


_Maps = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_scratch = threading.local()  # per thread: the last scratch maps, by shape


def _outputs(shape: tuple[int, int, int], scratch: bool) -> _Maps:
    """Four ``shape`` float32 maps: new ones, or with ``scratch`` this thread's from its last
    call of that shape (fresh memory costs a page fault per 4 KiB on first touch, about a
    sixth of a band's time)."""
    if scratch and getattr(_scratch, "shape", None) == shape:
        kept: _Maps = _scratch.maps
        return kept
    maps = (
        np.empty(shape, np.float32),
        np.empty(shape, np.float32),
        np.empty(shape, np.float32),
        np.empty(shape, np.float32),
    )
    if scratch:
        _scratch.shape, _scratch.maps = shape, maps
    return maps


def evidence(
    centre: np.ndarray,
    neighbours: np.ndarray | Sequence[np.ndarray],
    valid: np.ndarray | None,
    params: Any,
    ranges: np.ndarray,
    deviation_to_sigma: float,
    scratch: bool = False,
) -> _Maps | None:
    """``(residual, sigma, level, score)`` ``(H, W, C)`` float32 as the NumPy definition gives
    them, or None where the compiled kernel is unavailable (or fails: warned once).

    ``centre`` ``(H, W, C)`` and K ``neighbours`` of the same shape float32; ``valid``
    ``(K, H, W, 1)`` bool (which neighbours each pixel is compared with) or None for all;
    ``params`` a :class:`~hotpixel.detect.cascade.candidates.CandidateParams`; with
    ``scratch`` the maps are this thread's scratch, overwritten by its next such call of the
    same shape (for a caller that reduces them at once). Pictures with
    a NaN get None too: the kernel's maxima are defined for numbers only."""
    pictures = (centre, *neighbours)
    if any(a.dtype != np.float32 or a.ndim != 3 for a in pictures):
        return None  # the kernel is built for float32 (H, W, C) pictures
    run = kernel(centre.shape[0] * centre.shape[1])
    if run is None or any(_has_nan(a) for a in pictures):
        return None  # NaN (which the caller should have removed): the definition's own path
    f32 = np.float32
    h, w, c = centre.shape
    outs = _outputs((h, w, c), scratch)
    # (K, H, W * C): each pixel's trust repeated over its channels, for flat row loops
    trust = (
        np.ones((len(neighbours), 1, 1), np.bool_)
        if valid is None
        else np.repeat(valid[..., 0], c, axis=2)
    )
    try:
        run(
            np.ascontiguousarray(centre).reshape(h, w * c),
            tuple(np.ascontiguousarray(n).reshape(h, w * c) for n in neighbours),
            c,
            trust,
            valid is not None,
            int(params.tolerance),
            int(params.noise_radius),
            f32(params.floor),
            f32(params.floor_relative),
            f32(params.min_excess),
            bool(params.centre_noise),
            np.ascontiguousarray(ranges, f32),
            f32(deviation_to_sigma),
            *(o.reshape(h, w * c) for o in outs),
        )
    except Exception as error:  # a compile failure for these types: the NumPy path answers
        global _kernel
        _kernel = False
        warnings.warn(
            f"the compiled candidate test failed ({type(error).__name__}: {error}); "
            "using the NumPy path, same results, slower",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return outs
