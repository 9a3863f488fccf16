"""Detection: temporal windows, detectors, grouping into detections, the run and its chunks."""
