"""The peer detectors `hotpixel eval` runs beside ours answer on our windows."""

from __future__ import annotations

import numpy as np
import pytest

from hotpixel.detect.windows import Window
from hotpixel.ml.evaluation.baselines import BASELINES
from imagegen import dark_plate


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_flags_a_spike_and_not_the_background(name):
    fn = BASELINES[name]()
    if fn is None:
        pytest.fail(f"{name} is not installed; the eval extra (part of the test extra) brings it")
    rng = np.random.default_rng(0)
    frames = [dark_plate(rng, 96, 80) * 20 for _ in range(5)]
    frames[2][40, 50] = (8.0, 8.0, 8.0)
    prob = fn(Window(tuple(frames), (1, 2, 3, 4, 5), 2))
    assert prob.shape == (80, 96)
    assert prob[40, 50] >= 0.5
    assert (prob >= 0.5).sum() <= 9  # the spike (and at most its neighbours), not the plate
