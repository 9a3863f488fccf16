"""The Numba kernel of the compiled candidate test (:mod:`hotpixel.detect.cascade.compiled`).

Importing this module imports Numba; only :mod:`~hotpixel.detect.cascade.compiled` does, on
first use. Arrays are ``(H, W, C)`` float32 unless said; every function writes into arrays it
is given, so a band's working set is allocated once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.extending import intrinsic

# compiled once, cached on disk, run without the GIL (bands run on threads), no fast-math
_jit = numba.njit(nogil=True, cache=True, error_model="numpy")


@_jit
def _reflect(p: int, n: int) -> int:
    """OpenCV's ``borderInterpolate`` for ``BORDER_REFLECT`` (fedcba|abcdef|fedcba), folded
    as often as a picture smaller than the filter needs."""
    if n == 1:
        return 0
    while p < 0 or p >= n:
        p = -p - 1 if p < 0 else 2 * n - 1 - p
    return p


def _llvm_pair(name: str, nan: bool = False) -> Any:
    """An intrinsic ``f(a, b)`` for two floats of one type: LLVM's ``llvm.<name>``, and with
    ``nan`` NaN wherever ``a`` or ``b`` is NaN (as ``np.maximum`` gives).

    ``llvm.maxnum`` and ``llvm.minnum`` are one vector instruction where a comparison and a
    select in Python become a branch per element; without ``nan`` they differ from
    ``np.maximum`` only on NaN, for inputs that hold none
    (:func:`hotpixel.detect.cascade.compiled.evidence` checks)."""

    def typer(typingctx: Any, a: Any, b: Any) -> Any:
        if not isinstance(a, types.Float) or a != b:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            ty = args[0].type
            fnty = ir.FunctionType(ty, [ty, ty])
            suffix = "f32" if a.bitwidth == 32 else "f64"
            fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.{name}.{suffix}")
            out = builder.call(fn, args)
            if nan:  # selects, not branches: the loop stays vectorised
                for x in args:
                    out = builder.select(builder.fcmp_unordered("uno", x, x), x, out)
            return out

        return a(a, b), codegen

    typer.__name__ = f"_{name}{'_nan' if nan else ''}"
    return intrinsic(typer)


_hi = _llvm_pair("maxnum")  # the larger of two numbers that are not NaN
_lo = _llvm_pair("minnum")  # the smaller
_mx = _llvm_pair("maxnum", nan=True)  # np.maximum: for maps that may hold NaN (Inf - Inf)


@_jit
def _edges(w: int, c: int, radius: int) -> np.ndarray:
    """Where the ``radius`` reflected elements either side of a row of ``w`` pixels of ``c``
    channels come from: ``(2 radius c,)`` indices into the row, left border then right."""
    edge = np.empty(2 * radius * c, np.int64)
    for j in range(radius):
        for ch in range(c):
            edge[j * c + ch] = _reflect(j - radius, w) * c + ch
            edge[(radius + j) * c + ch] = _reflect(w + j, w) * c + ch
    return edge


@_jit
def _row_sums(line, c, radius, edge, pad, sums):
    """OpenCV's ``RowSum`` of one row ``line`` ``(W * C,)`` float32 over ``2 r + 1`` pixels,
    border reflected, into ``sums`` float64 (``pad`` scratch, ``edge`` from :func:`_edges`):
    3 and 5 taps added left to right, wider windows as a running sum."""
    wc = len(line)
    w = wc // c
    k = 2 * radius + 1
    for j in range(radius * c):
        pad[j] = line[edge[j]]
        pad[(w + radius) * c + j] = line[edge[radius * c + j]]
    # offsets as views: an index i + c might be negative as far as Numba knows, and its check
    # for that keeps the loop from being vectorised; a loop index alone is known not to be
    inner = pad[radius * c :]
    for i in range(wc):
        inner[i] = line[i]
    p1, p2 = pad[c:], pad[2 * c :]
    if k == 3:
        for i in range(wc):
            sums[i] = pad[i] + p1[i] + p2[i]
    elif k == 5:
        p3, p4 = pad[3 * c :], pad[4 * c :]
        for i in range(wc):
            sums[i] = pad[i] + p1[i] + p2[i] + p3[i] + p4[i]
    elif c == 3:  # three running sums at once, as OpenCV's RowSum does for 3 channels
        s0 = s1 = s2 = 0.0
        for t in range(k):
            s0 += pad[t * 3]
            s1 += pad[t * 3 + 1]
            s2 += pad[t * 3 + 2]
        sums[0], sums[1], sums[2] = s0, s1, s2
        for x in range(w - 1):
            i, j = (x + k) * 3, x * 3
            s0 += pad[i] - pad[j]
            s1 += pad[i + 1] - pad[j + 1]
            s2 += pad[i + 2] - pad[j + 2]
            sums[j + 3], sums[j + 4], sums[j + 5] = s0, s1, s2
    else:
        for ch in range(c):
            s = 0.0
            for t in range(k):
                s += pad[t * c + ch]
            sums[ch] = s
            for x in range(w - 1):
                s += pad[(x + k) * c + ch] - pad[x * c + ch]
                sums[(x + 1) * c + ch] = s


@_jit
def _column_start(rows, size, h, radius, total):
    """OpenCV's ``ColumnSum`` start: ``total`` = the row sums of the first ``2 r`` rows of the
    reflected picture, added top down from 0. ``rows`` ``(size, W * C)`` float64 holds the row
    sums of picture row ``y`` at ``y % size``."""
    for i in range(len(total)):
        total[i] = 0.0
    for t in range(2 * radius):
        r = rows[_reflect(t - radius, h) % size]
        for i in range(len(total)):
            total[i] += r[i]


@_jit
def _column_step(rows, size, h, radius, y, total, out):
    """OpenCV's ``ColumnSum`` for output row ``y`` (after row ``y - 1``): the running sum plus
    the row ``r`` below, scaled and rounded to float32 into ``out``, then less the row ``r``
    above."""
    plus = rows[_reflect(y + radius, h) % size]
    minus = rows[_reflect(y - radius, h) % size]
    scale = 1.0 / ((2 * radius + 1) * (2 * radius + 1))
    for i in range(len(total)):
        s0 = total[i] + plus[i]
        out[i] = np.float32(s0 * scale)
        total[i] = s0 - minus[i]


@_jit
def box(src: np.ndarray, c: int, radius: int, out: np.ndarray, rows: np.ndarray) -> None:
    """``cv2.blur(src, (2 r + 1, 2 r + 1), borderType=BORDER_REFLECT)`` into ``out``, with
    OpenCV's sums (row sums, then running column sums, in float64, scaled and rounded to
    float32); ``src`` and ``out`` are ``(H, W * C)`` rows of ``c`` channels, ``rows``
    ``(H, W * C)`` float64 scratch. :func:`evidence` runs the same steps a row at a time."""
    h, wc = src.shape
    edge = _edges(wc // c, c, radius)
    pad = np.empty(wc + 2 * radius * c, np.float64)
    for y in range(h):
        _row_sums(src[y], c, radius, edge, pad, rows[y])
    total = np.empty(wc, np.float64)
    _column_start(rows, h, h, radius, total)
    for y in range(h):
        _column_step(rows, h, h, radius, y, total, out[y])


@_jit
def _row_max(line, c, t, pad, out):
    """The maxima of one row ``line`` ``(W * C,)`` over ``2 t + 1`` pixels, edge repeated (the
    first half of ``cv2.dilate`` with ``BORDER_REPLICATE``), into ``out``."""
    wc = len(line)
    w = wc // c
    for j in range(t):
        for ch in range(c):
            pad[j * c + ch] = line[ch]
            pad[(w + t + j) * c + ch] = line[(w - 1) * c + ch]
    inner = pad[t * c :]  # views, not offset indices: see _row_sums
    for i in range(wc):
        inner[i] = line[i]
    if t == 1:
        p1, p2 = pad[c:], pad[2 * c :]
        for i in range(wc):
            out[i] = _hi(_hi(pad[i], p1[i]), p2[i])
        return
    for i in range(wc):
        out[i] = pad[i]
    for s in range(1, 2 * t + 1):
        ps = pad[s * c :]
        for i in range(wc):
            out[i] = _hi(out[i], ps[i])


@_jit
def _fold(k, n, s, ok, reference, high, low, total):
    """Neighbour ``k``'s row ``n`` (and its max-filtered row ``s``) into the running maxima,
    minimum and sum, where ``ok`` says it is trusted."""
    inf = np.float32(np.inf)
    zero = np.float32(0.0)
    if k == 0:
        for i in range(len(n)):
            reference[i] = s[i] if ok[i] else -inf
            high[i] = n[i] if ok[i] else -inf
            low[i] = n[i] if ok[i] else inf
            total[i] = n[i] if ok[i] else zero
        return
    for i in range(len(n)):
        reference[i] = _hi(reference[i], s[i] if ok[i] else -inf)
    for i in range(len(n)):
        high[i] = _hi(high[i], n[i] if ok[i] else -inf)
    for i in range(len(n)):
        low[i] = _lo(low[i], n[i] if ok[i] else inf)
    for i in range(len(n)):
        total[i] += n[i] if ok[i] else zero


@_jit
def _fold_all(k, n, s, reference, high, low, total):
    """:func:`_fold` where the neighbour is trusted everywhere (a loop per map: loops over two
    arrays are the ones the compiler vectorises)."""
    if k == 0:
        for i in range(len(n)):  # loops: numba's slice copies are several times slower
            reference[i] = s[i]
            high[i] = n[i]
            low[i] = n[i]
            total[i] = n[i]
        return
    for i in range(len(n)):
        reference[i] = _hi(reference[i], s[i])
    for i in range(len(n)):
        high[i] = _hi(high[i], n[i])
    for i in range(len(n)):
        low[i] = _lo(low[i], n[i])
    for i in range(len(n)):
        total[i] += n[i]


@_jit
def _ring(box_r, box_1, area):
    """The definition's ring mean from its two box means, in place in ``box_r``:
    ``(box_r * area - box_1 * 9) / (area - 9)`` in float32."""
    outer, nine = np.float32(area), np.float32(9.0)
    for i in range(len(box_r)):
        v = box_r[i] * outer
        v -= box_1[i] * nine
        box_r[i] = v / (outer - nine)


@_jit
def evidence(
    centre,
    neighbours,
    c,
    trust,
    per_pixel,
    tolerance,
    noise_radius,
    floor,
    floor_relative,
    min_excess,
    centre_noise,
    ranges,
    deviation_to_sigma,
    residual,
    sigma,
    level,
    score,
):
    """The definition of ``candidates.evidence`` into ``residual``, ``sigma``, ``level`` and
    ``score``, in one pass down the rows; every picture ``(H, W * C)`` rows of ``c``
    channels, ``neighbours`` a tuple of K of them, ``trust`` ``(K, H, W * C)`` bool (read only
    when ``per_pixel``), ``ranges`` the expected range by neighbour count.

    Row ``i`` is max-filtered along (kept for ``2 t + 1`` rows), row ``j = i - t`` compared
    with its neighbours and its row sums taken (kept for ``2 lag + 1`` rows), and row
    ``y = j - lag`` of the box filters and the score finished; a picture no taller than the
    row sums kept goes row by row through each step in turn."""
    h, wc = centre.shape
    w = wc // c
    kk = len(neighbours)
    t = tolerance
    f32, f64 = np.float32, np.float64
    zero, one = f32(0.0), f32(1.0)
    lag = max(noise_radius, 3)  # the widest box: the neighbours' disagreement or the ring
    size = 2 * lag + 1
    if h <= size:  # every row's sums first, then the outputs
        size, lag = h, h
    tsize = 2 * t + 1 if h > 2 * t + 1 else h
    across = np.empty((kk, tsize, wc), f32)  # each neighbour's row maxima
    pad32 = np.empty(wc + 2 * t * c, f32)
    spread = np.empty(wc, f32)
    reference, high = np.empty(wc, f32), np.empty(wc, f32)
    low, total = np.empty(wc, f32), np.empty(wc, f32)
    count = np.full(wc, kk, np.int64)
    widest = max(noise_radius, 3)
    pad64 = np.empty(wc + 2 * widest * c, f64)
    e_noise, e3 = _edges(w, c, noise_radius), _edges(w, c, 3)
    e2, e1 = _edges(w, c, 2), _edges(w, c, 1)
    rows_hl, rows_d7 = np.empty((size, wc), f64), np.empty((size, wc), f64)
    rows_d3, rows_c5 = np.empty((size, wc), f64), np.empty((size, wc), f64)
    rows_c3 = np.empty((size, wc), f64)
    sum_hl, sum_d7, sum_d3 = np.empty(wc, f64), np.empty(wc, f64), np.empty(wc, f64)
    sum_c5, sum_c3 = np.empty(wc, f64), np.empty(wc, f64)
    dis, ring, core = np.empty(wc, f32), np.empty(wc, f32), np.empty(wc, f32)
    longest = len(ranges) - 1
    expected = ranges[min(kk, longest)]
    for i in range(h + t + lag):
        if i < h and t > 0:
            for k in range(kk):
                _row_max(neighbours[k][i], c, t, pad32, across[k, i % tsize])
        j = i - t
        if 0 <= j < h:
            for k in range(kk):
                n = neighbours[k][j]
                s = n
                if t > 0:
                    first = across[k, max(j - t, 0) % tsize]
                    for q in range(wc):
                        spread[q] = first[q]
                    for r in range(max(j - t, 0) + 1, min(j + t, h - 1) + 1):
                        a = across[k, r % tsize]
                        for q in range(wc):
                            spread[q] = _hi(spread[q], a[q])
                    s = spread
                if per_pixel:
                    _fold(k, n, s, trust[k, j], reference, high, low, total)
                else:
                    _fold_all(k, n, s, reference, high, low, total)
            ce, res = centre[j], residual[j]
            for q in range(wc):
                res[q] = ce[q] - reference[q]
            if per_pixel:
                for q in range(wc):
                    count[q] = 0
                for k in range(kk):
                    ok = trust[k, j]
                    for q in range(wc):
                        count[q] += 1 if ok[q] else 0
                for q in range(wc):
                    high[q] = (high[q] - low[q]) / ranges[min(count[q], longest)]
            else:
                for q in range(wc):
                    high[q] = (high[q] - low[q]) / expected
            _row_sums(high, c, noise_radius, e_noise, pad64, rows_hl[j % size])
            if centre_noise:  # the deviation, in float64 as the integer count makes it
                for q in range(wc):
                    mean = f64(total[q]) / f64(count[q])
                    low[q] = f32(abs(f64(ce[q]) - mean))
                _row_sums(low, c, 3, e3, pad64, rows_d7[j % size])
                _row_sums(low, c, 1, e1, pad64, rows_d3[j % size])
            _row_sums(ce, c, 2, e2, pad64, rows_c5[j % size])
            _row_sums(ce, c, 1, e1, pad64, rows_c3[j % size])
        y = i - t - lag
        if y < 0 or y >= h:
            continue
        if y == 0:
            _column_start(rows_hl, size, h, noise_radius, sum_hl)
            _column_start(rows_d7, size, h, 3, sum_d7)
            _column_start(rows_d3, size, h, 1, sum_d3)
            _column_start(rows_c5, size, h, 2, sum_c5)
            _column_start(rows_c3, size, h, 1, sum_c3)
        _column_step(rows_hl, size, h, noise_radius, y, sum_hl, dis)  # the disagreement
        if centre_noise:
            _column_step(rows_d7, size, h, 3, y, sum_d7, ring)
            _column_step(rows_d3, size, h, 1, y, sum_d3, core)
            _ring(ring, core, 49)
            for q in range(wc):
                dis[q] = _mx(dis[q], ring[q] / deviation_to_sigma)
        lv = level[y]
        _column_step(rows_c5, size, h, 2, y, sum_c5, lv)
        _column_step(rows_c3, size, h, 1, y, sum_c3, core)
        _ring(lv, core, 25)
        sg, ce, res, sc = sigma[y], centre[y], residual[y], score[y]
        for q in range(wc):  # sigma
            fl = _mx(lv[q], zero) * floor_relative
            fl += floor
            d = dis[q]
            sg[q] = np.sqrt(d * d + fl * fl)
        for q in range(wc):  # the spatial test's bar, in score for now
            sc[q] = _mx(lv[q], zero) * min_excess + sg[q]
        for q in range(wc):  # the test: centre - level above the bar
            sc[q] = one if ce[q] - lv[q] > sc[q] else zero
        for q in range(wc):
            sc[q] = res[q] / sg[q] if sc[q] == one else zero


def build() -> Callable[..., None]:
    """The compiled ``evidence`` kernel (Numba compiles it on its first call)."""
    run: Callable[..., None] = evidence
    return run
