"""OpenCue: the shot as an outline with a chunked detect layer and a merge layer after it.

Built with ``opencue-pyoutline`` (the ``farm`` extra). Commands are shell strings quoted with
:func:`shlex.join`, because pyoutline joins a command list with bare spaces (a path with a space
would split). Cuebot replaces the chunk tokens in the command before a host runs it.
"""

from __future__ import annotations

import contextlib
import shlex
import tempfile
from collections.abc import Iterator
from typing import Any

from hotpixel.errors import UsageError
from hotpixel.farm.job import FarmJob, detect_args, merge_args

# Tokens cuebot substitutes per task (OpenCue cuesubmit Constants.py; ../shared/reference/nuke.md
# 5.2, verified). FRAME_END of the last, shorter chunk is the range's end [unverified].
FRAME_START = "#FRAME_START#"
FRAME_END = "#FRAME_END#"


def _outline_modules() -> tuple[Any, Any, Any]:
    try:
        import outline
        import outline.cuerun
        import outline.modules.shell
    except ImportError as exc:
        raise UsageError(
            "OpenCue submission needs opencue-pyoutline in the engine's environment: "
            "pip install 'hotpixel[farm]'"
        ) from exc
    return outline, outline.cuerun, outline.modules.shell


def build_outline(job: FarmJob, show: str, shot: str, user: str, cores: float = 0.0) -> Any:
    """The outline: layer ``detect`` (chunked, one task per chunk), layer ``merge`` after it."""
    outline, _, shell = _outline_modules()
    ol = outline.Outline(job.name, shot=shot, show=show, user=user)
    options: dict[str, Any] = {"threadable": True}
    if cores:
        options["cores"] = cores
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


def job_spec(job: FarmJob, show: str, shot: str, user: str, cores: float = 0.0) -> str:
    """The OpenCue job specification (XML) the launch would send; nothing is submitted."""
    _, cuerun, _ = _outline_modules()
    with _scratch_sessions():
        launcher = cuerun.OutlineLauncher(build_outline(job, show, shot, user, cores), pause=True)
        return str(launcher.serialize(use_pycuerun=False))


def launch(
    job: FarmJob, show: str, shot: str, user: str, cores: float = 0.0, pause: bool = False
) -> list[str]:
    """Submit to the cuebot named by ``CUEBOT_HOSTS`` / OpenCue's config; return job names."""
    _, cuerun, _ = _outline_modules()
    ol = build_outline(job, show, shot, user, cores)
    try:
        jobs = cuerun.launch(ol, use_pycuerun=False, pause=pause)
    except Exception as exc:  # pycue raises grpc and its own errors
        raise UsageError(
            f"OpenCue did not take the job ({exc}); check CUEBOT_HOSTS or run with --dry-run"
        ) from exc
    return [str(j.name()) for j in jobs]


@contextlib.contextmanager
def _scratch_sessions() -> Iterator[None]:
    """pyoutline writes a session folder (``~/.opencue/sessions``); a dry run uses a temp one."""
    outline, _, _ = _outline_modules()
    old = outline.config.get("outline", "session_dir")
    with tempfile.TemporaryDirectory(prefix="hotpixel-opencue-") as tmp:
        outline.config.set("outline", "session_dir", tmp)
        try:
            yield
        finally:
            outline.config.set("outline", "session_dir", old)
