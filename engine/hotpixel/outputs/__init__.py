"""What a run leaves on disk: the documents' schema, frame records, report.json, CSV, tracks,
the QC page, the hit sheet, review labels and the sensor pass's results."""
