"""Render-farm jobs: one shot as chunked detect tasks plus a merge task (OpenCue, Deadline,
Open Job Description).

:mod:`.job` builds the commands every farm manager runs; :mod:`.opencue`, :mod:`.deadline` and
:mod:`.openjd` wrap them in each manager's job description. Facts about a manager that could
not be checked against a running farm are marked ``[unverified]`` next to the one constant that
holds them.
"""
