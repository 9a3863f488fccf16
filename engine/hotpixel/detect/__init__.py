"""Detection: temporal windows, the detectors, grouping a probability map into detections."""
