"""Dead, stuck and persistent hot photosites over a whole shot (``hotpixel sensor``).

One streaming pass (:mod:`.shot`) accumulates per-photosite statistics (:mod:`.stats`) of how
each pixel departs from its neighbourhood (:mod:`.background`) while the camera moves
(:mod:`.motion`); :mod:`.classify` turns them into defects and clusters, judging a lone
photosite on a locked-off shot against the picture's own sharpness (:mod:`.optics`).
:mod:`.run` reads the sequence from disk and writes ``sensor/sensor.json``, the shot's mask and
the tracks, whose format and readers live in :mod:`hotpixel.outputs.sensor_results`.
"""

from __future__ import annotations

from hotpixel.outputs.sensor_results import (
    SCHEMA,
    SCHEMA_VERSION,
    as_detections,
    load_sensor_result,
)
from hotpixel.sensor.classify import SensorParams
from hotpixel.sensor.run import SensorJob, SensorRun, run_sensor
from hotpixel.sensor.shot import Findings, ShotAnalysis

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Findings",
    "SensorJob",
    "SensorParams",
    "SensorRun",
    "ShotAnalysis",
    "as_detections",
    "load_sensor_result",
    "run_sensor",
]
