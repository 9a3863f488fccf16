"""The detection run: a job in; masks, frame records and the report out, in one or many processes.

:mod:`~hotpixel.run.job` says what a run is asked to do, :mod:`~hotpixel.run.detect` runs it in
this process, :mod:`~hotpixel.run.parallel` as chunk processes (:mod:`~hotpixel.run.chunks`
builds their commands, which the render farm runs too), :mod:`~hotpixel.run.jobfile` reads the
job file the Nuke plugin writes.
"""
