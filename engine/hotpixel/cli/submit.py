"""Submit a shot to a render farm: chunked detect tasks, then a merge task that waits for them.

`hotpixel submit opencue` builds an OpenCue job with pyoutline (the `farm` extra) and launches
it, or prints the job specification it would send with --dry-run. It needs a show that exists on
the cuebot (--show or SHOW; a stock cuebot has only `testing`) and a user that is not root.
`hotpixel submit deadline` writes Deadline job files and a submit.sh, and runs it with --submit.
`hotpixel submit openjd` writes an Open Job Description job bundle (AWS Deadline Cloud's job
format), checked with openjd-model (the `farm` extra); --run-here runs it here (openjd run).
Every task runs the engine with absolute paths, so farm hosts need the same paths (shared
storage) and the engine installed. Names must be 3 or more of A-Z a-z 0-9 _ . - (OpenCue's rule).
"""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import subprocess
import sys
from typing import Any

from hotpixel.cli.detect import add_param_flags, frame_flag, params_from_args
from hotpixel.errors import Gather, UsageError
from hotpixel.farm import deadline, opencue, openjd
from hotpixel.farm.job import FarmJob, check_priority, plan_job


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__.splitlines()[0], description=__doc__, allow_abbrev=False
    )
    managers = p.add_subparsers(dest="manager", metavar="MANAGER")
    managers.required = True
    cue = _manager(managers, "opencue", "OpenCue job (pyoutline)")
    cue.add_argument(
        "--show",
        default=os.environ.get("SHOW", ""),
        help="OpenCue show, which must exist on the cuebot (default: $SHOW; required if unset; "
        "a stock cuebot has only 'testing')",
    )
    cue.add_argument("--shot", default="", help="OpenCue shot (default: the job name)")
    cue.add_argument(
        "--user",
        default=_user(),
        help="OpenCue user, not root: the uid of this account here is sent",
    )
    cue.add_argument("--cores", type=float, default=0.0, help="cores per task (0: the default)")
    low, high = opencue.PRIORITY
    cue.add_argument(
        "--priority",
        type=int,
        default=opencue.DEFAULT_PRIORITY,
        help=f"OpenCue job priority, {low}-{high}",
    )
    cue.add_argument("--pause", action="store_true", help="launch the job paused")
    cue.add_argument(
        "--dry-run",
        action="store_true",
        help="print the job specification that would be sent, submit nothing",
    )
    cue.set_defaults(run=run_opencue)
    dl = _manager(managers, "deadline", "Deadline job files (CommandLine plugin)")
    dl.add_argument("--job-dir", required=True, help="folder for the job files and submit.sh")
    dl.add_argument("--pool", default="", help="Deadline pool")
    dl.add_argument("--group", default="", help="Deadline group")
    low, high = deadline.PRIORITY
    dl.add_argument("--priority", type=int, default=50, help=f"Deadline priority, {low}-{high}")
    when = dl.add_mutually_exclusive_group()
    when.add_argument(
        "--submit", action="store_true", help="run deadlinecommand now (else print submit.sh)"
    )
    when.add_argument(
        "--dry-run",
        action="store_true",
        help="print the job files and submit.sh that would be written, write nothing",
    )
    dl.set_defaults(run=run_deadline)
    jd = _manager(managers, "openjd", "Open Job Description job bundle (AWS Deadline Cloud)")
    jd.add_argument(
        "--job-dir", required=True, help="folder for template.json and parameter_values.json"
    )
    jd.add_argument(
        "--run-here",
        action="store_true",
        help="run the job on this machine now with openjd run (else print the commands)",
    )
    jd.set_defaults(run=run_openjd)
    return p


def _manager(managers: Any, name: str, title: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = managers.add_parser(
        name,
        help=title,
        description=title,
        allow_abbrev=False,
    )
    p.add_argument("pattern", help="the plate sequence, as for hotpixel detect")
    p.add_argument("--out", required=True, help="output folder, on storage the farm sees")
    p.add_argument("--frames", help="frames of the shot (default: all found)")
    p.add_argument("--exclude", help="frames no task may read (e.g. a damaged one)")
    p.add_argument("--chunk", type=int, default=10, help="frames per farm task")
    p.add_argument("--name", default="", help="job name (default: hotpixel_<shot>_<range>)")
    p.add_argument("--allow-gaps", action="store_true", help="skip missing frames")
    p.add_argument("--with-plate", action="store_true", help="also write plate+mask EXRs")
    p.add_argument(
        "--engine-python",
        default=sys.executable,
        help="the engine's Python interpreter on the farm hosts",
    )
    add_param_flags(p)
    return p


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: OpenCue still needs one
        return "hotpixel"


def _job(args: argparse.Namespace) -> FarmJob:
    return plan_job(
        args.pattern,
        args.out,
        frames=frame_flag(args.frames),
        exclude=frame_flag(args.exclude, "--exclude"),
        chunk=args.chunk,
        name=args.name,
        allow_gaps=args.allow_gaps,
        with_plate=args.with_plate,
        params=params_from_args(args),
        python=args.engine_python,
    )


def run_opencue(args: argparse.Namespace) -> int:
    # everything cuebot would refuse, a missing pyoutline and a bad plate are found in one go,
    # before anything is built or sent
    found = Gather()
    to = found.check(
        opencue.submitter, args.show, args.shot, args.user, args.cores, args.priority, args.pause
    )
    found.check(opencue.check_installed)
    job = found.check(_job, args)
    found.raise_any()
    assert to is not None and job is not None  # raise_any raised otherwise
    if args.dry_run:
        spec = opencue.job_spec(job, to)
        names = opencue.spec_names(spec)
        print(
            "OpenCue job {job}: show {show}, shot {shot}, user {user} (uid {uid})".format(**names),
            file=sys.stderr,
        )
        print(spec)
        print("dry run: nothing submitted", file=sys.stderr)
        return 0
    launched = opencue.launch(job, to)
    print(f"submitted to OpenCue: {', '.join(launched)}", file=sys.stderr)
    return 0


def run_deadline(args: argparse.Namespace) -> int:
    found = Gather()
    job = found.check(_job, args)
    found.check(deadline.check_folder, args.job_dir)
    files = None
    if job is not None:
        files = found.check(
            deadline.all_files, job, args.job_dir, args.pool, args.group, args.priority
        )
    else:  # the priority is checked even when the plate is not there
        found.check(check_priority, args.priority, *deadline.PRIORITY, "Deadline")
    found.raise_any()
    assert job is not None and files is not None  # raise_any raised otherwise
    folder = os.path.abspath(args.job_dir)
    if args.dry_run:
        for name, text in files.items():
            print(f"==> {os.path.join(folder, name)} <==\n{text}")
        print("dry run: nothing written or submitted", file=sys.stderr)
        return 0
    paths = deadline.write_job_files(job, folder, args.pool, args.group, args.priority)
    print(f"wrote {', '.join(paths)}", file=sys.stderr)
    command = deadline.submit_command(folder)
    if not args.submit:
        print(shlex.join(command))
        return 0
    try:
        done = subprocess.run(command, check=False)
    except FileNotFoundError as exc:
        script = os.path.join(folder, deadline.SCRIPT)
        raise UsageError(
            f"deadlinecommand is not on PATH; run {script} where Deadline is installed"
        ) from exc
    return 0 if done.returncode == 0 else 4


def run_openjd(args: argparse.Namespace) -> int:
    job = _job(args)
    paths = openjd.write_bundle(job, args.job_dir)
    local = openjd.run_command(job, args.job_dir)
    print(f"wrote {', '.join(paths)}", file=sys.stderr)
    if not args.run_here:
        print(f"# on this machine\n{shlex.join(local)}")
        print(f"# on AWS Deadline Cloud\n{shlex.join(openjd.submit_command(args.job_dir))}")
        return 0
    try:
        done = subprocess.run(local, check=False)
    except FileNotFoundError as exc:
        raise UsageError(
            "openjd is not on PATH; pip install 'hotpixel[farm]', or submit the bundle to a farm"
        ) from exc
    return 0 if done.returncode == 0 else 4
