"""Thinkbox Deadline: job files for a CommandLine job (chunked detect) and a merge job after it.

``write_job_files`` writes ``detect.job``/``detect.plugin`` and ``merge.job``/``merge.plugin``
plus ``submit.sh``, which submits both with ``deadlinecommand -SubmitMultipleJobs -dependent``
so the merge job waits for the detect job. Nothing here talks to a Deadline repository.
"""

from __future__ import annotations

import os
import re
import shlex

from hotpixel.errors import OutputError, UsageError
from hotpixel.farm.job import FarmJob, check_priority, detect_args, merge_args
from hotpixel.io.atomic import write_text

# Deadline replaces these in a CommandLine job's arguments with each task's first and last frame
# (Deadline 10.1 User Manual, "Manual Job Submission":
# http://docs.thinkboxsoftware.com/products/deadline/10.1/1_User%20Manual/manual/manual-submission.html).
START_FRAME = "<STARTFRAME>"
END_FRAME = "<ENDFRAME>"
# The CommandLine plugin's plugin-info keys, as in Thinkbox's examples and the plugin's own code.
PLUGIN = "CommandLine"
PLUGIN_KEYS = ("Executable", "Arguments")
# [unverified] the -SubmitMultipleJobs -dependent form follows the deadlinecommand documentation
# but has not been run against a repository; a studio with Deadline corrects it here.
SUBMIT = ("deadlinecommand", "-SubmitMultipleJobs", "-dependent")
# Job priority: 0 to the repository's "Maximum Priority", which is 100 unless a studio raises it.
PRIORITY = (0, 100)


def quote_arguments(args: list[str]) -> str:
    """Arguments as one line: double quotes around those with spaces (Deadline's own quoting)."""
    out = []
    for arg in args:
        if '"' in arg:
            raise UsageError(
                f"argument {arg!r} holds a double quote, which a Deadline argument line cannot "
                "carry; rename the path"
            )
        out.append(f'"{arg}"' if re.search(r"\s", arg) or not arg else arg)
    return " ".join(out)


def _info(pairs: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in pairs.items())


def job_files(job: FarmJob, pool: str = "", group: str = "", priority: int = 50) -> dict[str, str]:
    """File name -> content of the job files (detect, merge); ``priority`` within PRIORITY."""
    check_priority(priority, *PRIORITY, "Deadline")
    common = {"Plugin": PLUGIN, "BatchName": job.name, "Priority": str(priority)}
    if pool:
        common["Pool"] = pool
    if group:
        common["Group"] = group
    detect = detect_args(job, START_FRAME, END_FRAME)
    merge = merge_args(job)
    key_exe, key_args = PLUGIN_KEYS
    files = {
        "detect.job": _info(
            {
                **common,
                "Name": f"{job.name} detect",
                "Frames": job.frame_range,
                "ChunkSize": str(job.chunk),
            }
        ),
        "detect.plugin": _info({key_exe: detect[0], key_args: quote_arguments(detect[1:])}),
        "merge.job": _info(
            {**common, "Name": f"{job.name} merge", "Frames": str(job.first), "ChunkSize": "1"}
        ),
        "merge.plugin": _info({key_exe: merge[0], key_args: quote_arguments(merge[1:])}),
    }
    return files


def write_job_files(
    job: FarmJob, folder: str, pool: str = "", group: str = "", priority: int = 50
) -> list[str]:
    """Write the job files and ``submit.sh`` into ``folder``; return their paths."""
    files = job_files(job, pool, group, priority)  # checked before anything is written
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create {folder!r} ({exc.strerror}); pass another --job-dir"
        ) from exc
    paths = []
    for name, text in files.items():
        path = os.path.join(folder, name)
        write_text(path, text)
        paths.append(path)
    script = os.path.join(folder, "submit.sh")
    write_text(
        script,
        "#!/bin/sh\n# submit the detect job, then the merge job that depends on it\n"
        + shlex.join(submit_command(folder))
        + "\n",
    )
    os.chmod(script, 0o755)
    return [*paths, script]


def submit_command(folder: str) -> list[str]:
    """The ``deadlinecommand`` call that submits both jobs, merge depending on detect."""
    cmd = list(SUBMIT)
    for stem in ("detect", "merge"):
        cmd += ["-job", os.path.join(folder, f"{stem}.job"), os.path.join(folder, f"{stem}.plugin")]
    return cmd
