"""The cascade detector and its pieces, each in one place.

- :mod:`~hotpixel.detect.cascade.candidates`: the candidate test's definition (per-channel
  aligned residual over local noise, the best channel, peaks, cutouts);
- :mod:`~hotpixel.detect.cascade.stage`: :func:`~hotpixel.detect.cascade.stage.find_candidates`,
  the candidate stage of one window, the one function detection, training and fine-tuning call;
- :mod:`~hotpixel.detect.cascade.encoding`: the classifier's input cut from its result;
- :mod:`~hotpixel.detect.cascade.detector`: :class:`CascadeDetector`, the default detector.

Motion (:mod:`hotpixel.detect.motion`) stays outside: the sensor pass shares it.
"""
