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
from hotpixel.farm.job import (
    FarmJob,
    check_priority,
    detect_args,
    make_job_folder,
    merge_args,
)
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
SCRIPT = "submit.sh"


# Arguments made only of these characters go bare; every other one, every path among them, is
# double-quoted, so a plate path survives whatever it holds (spaces, '#', '&').
_BARE = re.compile(r"[A-Za-z0-9_.,:=<>+-]+")


def quote_arguments(args: list[str]) -> str:
    """Arguments as one line, every path in double quotes (Deadline's own quoting)."""
    out = []
    for arg in args:
        if '"' in arg:
            raise UsageError(
                f"argument {arg!r} holds a double quote, which a Deadline argument line cannot "
                "carry; rename the path"
            )
        out.append(arg if _BARE.fullmatch(arg) else f'"{arg}"')
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
    """Write the job files and ``submit.sh`` into ``folder``; return their (absolute) paths."""
    files = all_files(job, folder, pool, group, priority)  # checked before anything is written
    folder = make_job_folder(folder)
    paths = []
    for name, text in files.items():
        path = os.path.join(folder, name)
        write_text(path, text)
        paths.append(path)
    os.chmod(os.path.join(folder, SCRIPT), 0o755)
    return paths


def all_files(
    job: FarmJob, folder: str, pool: str = "", group: str = "", priority: int = 50
) -> dict[str, str]:
    """File name -> content of everything :func:`write_job_files` writes into ``folder``: the
    job files and ``submit.sh``, whose paths are absolute, so it runs from any folder."""
    files = job_files(job, pool, group, priority)
    files[SCRIPT] = (
        "#!/bin/sh\n# submit the detect job, then the merge job that depends on it\n"
        + shlex.join(submit_command(folder))
        + "\n"
    )
    return files


def submit_command(folder: str) -> list[str]:
    """The ``deadlinecommand`` call that submits both jobs, merge depending on detect; the job
    files are named by absolute path."""
    folder = os.path.abspath(folder)
    cmd = list(SUBMIT)
    for stem in ("detect", "merge"):
        cmd += ["-job", os.path.join(folder, f"{stem}.job"), os.path.join(folder, f"{stem}.plugin")]
    return cmd


def check_folder(folder: str) -> None:
    """Refuse a ``--job-dir`` that cannot hold the files: a file, or a folder not writable."""
    folder = os.path.abspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"--job-dir {folder!r} is a file, not a folder; pass another --job-dir")
    parent = folder
    while not os.path.exists(parent):  # the nearest folder that exists is where it is made
        parent = os.path.dirname(parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {parent!r}; pass another --job-dir")
