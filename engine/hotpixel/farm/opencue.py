"""OpenCue: the shot as an outline with a chunked detect layer and a merge layer after it.

Built with ``opencue-pyoutline`` (the ``farm`` extra), which writes the job specification (XML,
the ``cjsl`` DTD that pyoutline's config names: 1.15 for pyoutline 1.37). :func:`job_spec` is the
only place the specification is made: the dry run prints it and :func:`launch` sends that same
text, so what is printed is what is sent.

Commands are shell strings quoted with :func:`shlex.join`, because pyoutline joins a command list
with bare spaces (a path with a space would split). Cuebot replaces the chunk tokens in the
command before a host runs it.

What a stock cuebot checks before it takes a job (``JobSpec.java``): the spec validates against
the DTD; shot, layer and job names match ``^[\\w.-]{3,}$``; the user is not ``root`` and the uid
is not 0 ("Cannot launch jobs as root"); the show exists (a stock install has only ``testing``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hotpixel.errors import Gather, UsageError
from hotpixel.farm.job import FarmJob, check_name, check_priority, detect_args, merge_args

# Tokens cuebot substitutes per task (DispatchSupportService.prepareRqdRunFrame; OpenCue's
# cuesubmit/cuesubmit/Constants.py, github.com/AcademySoftwareFoundation/OpenCue): FRAME_START is
# the chunk's first frame and FRAME_END its last, which on the last, shorter chunk is the range's
# last frame.
FRAME_START = "#FRAME_START#"
FRAME_END = "#FRAME_END#"
# Cuebot stores any int; CueGUI's "Set Priority" takes 0-1000000. pyoutline's default is 1.
PRIORITY = (0, 1_000_000)
DEFAULT_PRIORITY = 1
# The show a stock cuebot creates (its seed data); any other must be made with cueadmin.
STOCK_SHOW = "testing"


@dataclass(frozen=True)
class Submitter:
    """Where the job goes and whose it is: what cuebot checks before it takes a job.

    ``uid`` is never 0 and ``user`` never ``root`` (see :func:`launch_uid`); ``show`` must exist
    on the cuebot; an empty ``shot`` is the job's name. ``cores`` is per task (0: the service's
    default).
    """

    show: str
    shot: str
    user: str
    uid: int
    cores: float = 0.0
    priority: int = DEFAULT_PRIORITY
    pause: bool = False


def submitter(
    show: str,
    shot: str,
    user: str,
    cores: float = 0.0,
    priority: int = DEFAULT_PRIORITY,
    pause: bool = False,
) -> Submitter:
    """Check the show, shot, user and priority here, before anything is built or sent; every
    problem found is reported at once (:class:`hotpixel.errors.Problems`)."""
    found = Gather()
    if not show:
        found.add(UsageError(NO_SHOW))
    else:
        found.check(check_name, "--show", show)
    if shot:
        found.check(check_name, "--shot", shot)
    found.check(check_priority, priority, *PRIORITY, "OpenCue")
    uid = found.check(launch_uid, user)
    found.raise_any()
    assert uid is not None  # raise_any raised otherwise
    return Submitter(show, shot, user, uid, cores, priority, pause)


NO_SHOW = (
    "no OpenCue show: pass --show NAME or set SHOW. The show must exist on the cuebot; "
    f"a stock cuebot has only {STOCK_SHOW!r} (add others with cueadmin -create-show NAME)"
)


def launch_uid(user: str) -> int:
    """The uid sent with ``user``'s job: that account's uid here, else this process's own.

    A user name this machine does not know (an account that exists only on the farm) keeps the
    process's uid, as pyoutline does. Cuebot refuses ``root`` and uid 0, so they are refused here
    with the way out; run as root, only ``--user`` naming a non-root account of this machine works.
    """
    if user == "root":
        raise UsageError(
            "OpenCue refuses jobs launched as root; submit as an ordinary user "
            "(e.g. runuser -u artist -- hotpixel submit opencue ...), or pass --user NAME "
            "with a non-root account of this machine"
        )
    uid = _account_uid(user)
    if uid is None:
        uid = _process_uid()
    if uid == 0:
        raise UsageError(
            f"OpenCue refuses jobs launched as root, and --user {user!r} would go with uid 0 "
            "(root's uid, or this process's as root when the name is no account here); submit "
            "as an ordinary user (runuser -u NAME -- hotpixel submit opencue ...), or create "
            f"the account here with the uid it has on the farm (useradd -u UID {user})"
        )
    return uid


def _account_uid(user: str) -> int | None:
    if sys.platform == "win32":
        return None
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def _process_uid() -> int:
    return 1 if sys.platform == "win32" else os.getuid()  # 1: what pyoutline sends on Windows


def _outline_modules() -> tuple[Any, Any, Any]:
    try:
        import outline
        import outline.cuerun
        import outline.modules.shell
        import outline.util
    except ImportError as exc:
        raise UsageError(
            "OpenCue submission needs opencue-pyoutline in the engine's environment: "
            "pip install 'hotpixel[farm]'"
        ) from exc
    return outline, outline.cuerun, outline.modules.shell


def check_installed() -> None:
    """Refuse, saying how to install it, when pyoutline is missing."""
    _outline_modules()


def build_outline(job: FarmJob, to: Submitter) -> Any:
    """The outline: layer ``detect`` (chunked, one task per chunk), layer ``merge`` after it."""
    outline, _, shell = _outline_modules()
    ol = outline.Outline(job.name, shot=to.shot or job.name, show=to.show, user=to.user)
    options: dict[str, Any] = {"threadable": True}
    if to.cores:
        options["cores"] = to.cores
    detect = shell.Shell(
        "detect",
        command=shlex.join(detect_args(job, FRAME_START, FRAME_END)),
        range=job.frame_range,
        chunk=job.chunk,
        **options,
    )
    merge = shell.Shell("merge", command=shlex.join(merge_args(job)), range=str(job.first))
    merge.depend_all(detect)  # the merge task waits for every detect task
    ol.add_layer(detect)
    ol.add_layer(merge)
    return ol


def job_spec(job: FarmJob, to: Submitter) -> str:
    """The OpenCue job specification (XML) that :func:`launch` sends; nothing is submitted."""
    _, cuerun, _ = _outline_modules()
    with _serializing(to.uid):
        launcher = cuerun.OutlineLauncher(
            build_outline(job, to), pause=to.pause, priority=to.priority
        )
        return indent_spec(str(launcher.serialize(use_pycuerun=False)))


def indent_spec(spec: str) -> str:
    """``spec`` (pyoutline writes it on one line) with one element per line, indented.

    Only whitespace between elements changes: the job-spec DTD gives every element with
    children element-only content, where a validating parser ignores that whitespace, and
    text (a command) is kept exactly.
    """
    head, start, body = spec.partition("<spec")
    if not start:
        return spec
    root = ET.fromstring(start + body)
    ET.indent(root, space="  ")
    return f"{head}\n{ET.tostring(root, encoding='unicode')}"


def spec_names(spec: str) -> dict[str, str]:
    """The names a spec carries, as cuebot reads them: show, shot, user, uid and job."""
    root = ET.fromstring(spec.split("?>", 1)[1])  # past the XML declaration and DOCTYPE's start
    names = {key: root.findtext(key) or "" for key in ("show", "shot", "user", "uid")}
    job = root.find("job")
    names["job"] = "" if job is None else job.get("name", "")
    return names


def launch(job: FarmJob, to: Submitter) -> list[str]:
    """Send :func:`job_spec` to the cuebot named by ``CUEBOT_HOSTS`` / OpenCue's config.

    Returns the names cuebot gave the jobs (it lowercases and prefixes ``show-shot-user_``).
    """
    spec = job_spec(job, to)
    import opencue.api

    try:
        jobs = opencue.api.launchSpecAndWait(spec)
    except Exception as exc:  # pycue raises grpc and its own errors
        raise UsageError(
            f"OpenCue did not take the job ({exc}); check CUEBOT_HOSTS and that show "
            f"{to.show!r} exists, and run with --dry-run to see the job specification"
        ) from exc
    return [str(j.name()) for j in jobs]


@contextlib.contextmanager
def _serializing(uid: int) -> Iterator[None]:
    """pyoutline's serializer with the checked uid and a scratch session folder.

    pyoutline fills the spec's uid from the process (root in a container) and writes a session
    folder (``~/.opencue/sessions``) that a job of plain commands never reads; both are set here
    for the one call and put back after.
    """
    outline, _, _ = _outline_modules()
    old_dir = outline.config.get("outline", "session_dir")
    old_uid = outline.util.get_uid
    with tempfile.TemporaryDirectory(prefix="hotpixel-opencue-") as tmp:
        outline.config.set("outline", "session_dir", tmp)
        outline.util.get_uid = lambda: uid
        try:
            yield
        finally:
            outline.util.get_uid = old_uid
            outline.config.set("outline", "session_dir", old_dir)
