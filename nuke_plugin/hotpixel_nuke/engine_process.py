"""Run the engine CLI as a subprocess and follow its JSON progress, with cancel.

The command is always an argument list (never a shell string), so paths with spaces and quotes
pass through untouched. Progress arrives as one JSON object per stdout line (``start``,
``frame``, ``message``, ``done``, ``error``). Cancelling interrupts the engine the way Ctrl-C
does (SIGINT to its process group; CTRL_BREAK on Windows): it keeps every finished frame, writes
the report of what is done and exits 130, and a rerun resumes. If it has not stopped after
``grace`` seconds it is terminated, then killed; finished frames are still kept (each frame's
outputs are written atomically).
"""

import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time

from .errors import EngineFailed, PluginError

POLL_S = 0.1


class RunResult:
    """What one engine run did: ``exit_code``, ``cancelled``, the events, the report path."""

    def __init__(self):
        self.exit_code = None
        self.cancelled = False
        self.events = []
        self.frames_done = []
        self.report_path = ""
        self.error = ""

    @property
    def ok(self):
        return self.exit_code == 0

    def check(self):
        """Raise :class:`EngineFailed` unless the run succeeded or was cancelled."""
        if self.ok or self.cancelled:
            return self
        raise EngineFailed(
            "the HotPixel engine failed (exit {}): {}".format(
                self.exit_code, self.error or "no message"
            ),
            self.exit_code,
        )


def run(cmd, listener=None, is_cancelled=None, grace=10.0, env=None):
    """Run ``cmd`` (a list) to the end; ``listener(event)`` gets every progress event.

    ``is_cancelled()`` is polled every 0.1 s; once it returns True the engine is interrupted.
    Returns a :class:`RunResult`; an engine that cannot be started raises :class:`PluginError`.
    """
    if isinstance(cmd, str):
        raise TypeError("the engine command must be an argument list, not a shell string")
    result = RunResult()
    with tempfile.TemporaryFile() as err:  # binary: Python 3.7's TemporaryFile has no errors=
        proc = _start(cmd, err, env)
        lines = queue.Queue()
        threading.Thread(
            target=_pump, args=(proc, lines), name="hotpixel-engine", daemon=True
        ).start()
        _follow(proc, lines, result, listener, is_cancelled or (lambda: False), grace)
        result.exit_code = proc.wait()
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        tail = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not result.error and result.exit_code != 0 and tail:
        result.error = tail[-1]
    if result.cancelled and result.exit_code == 0:
        result.cancelled = False  # it finished before the interrupt landed
    return result


def _start(cmd, err, env):
    kwargs = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True  # its own process group: cancel reaches workers too
    try:
        return subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            universal_newlines=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            **kwargs,
        )
    except OSError as exc:
        raise PluginError(f"cannot start the HotPixel engine {cmd[0]!r}: {exc}") from exc


def _pump(proc, lines):
    for line in proc.stdout:
        lines.put(line)
    proc.stdout.close()
    lines.put(None)


def _follow(proc, lines, result, listener, is_cancelled, grace):
    stop_at = None
    escalations = [_terminate, _kill]
    while True:
        if stop_at is None and is_cancelled():
            result.cancelled = True
            _interrupt(proc)
            stop_at = time.time() + grace
        try:
            line = lines.get(timeout=POLL_S)
        except queue.Empty:
            if stop_at is not None and time.time() > stop_at and escalations:
                escalations.pop(0)(proc)
                stop_at = time.time() + grace
            continue
        if line is None:
            return
        event = parse_event(line)
        _record(result, event)
        if listener is not None:
            listener(event)


def parse_event(line):
    """One stdout line as an event dict; a line that is not JSON becomes a ``message``."""
    text = line.strip()
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "event" not in event:
        event = {"event": "message", "text": text}
    return event


def _record(result, event):
    result.events.append(event)
    kind = event.get("event")
    if kind == "frame":
        result.frames_done.append(int(event.get("frame", 0)))
    elif kind == "done":
        result.report_path = str(event.get("report", ""))
    elif kind == "error":
        result.error = str(event.get("message", ""))


def _interrupt(proc):
    """Ctrl-C for the engine and its worker processes: they keep finished frames."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            if os.name == "nt":
                proc.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.killpg(proc.pid, signal.SIGINT)


def _terminate(proc):
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            if os.name == "nt":
                proc.terminate()
            else:
                os.killpg(proc.pid, signal.SIGTERM)


def _kill(proc):
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
