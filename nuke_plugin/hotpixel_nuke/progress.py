"""Engine progress events shown in a ``nuke.ProgressTask`` (GUI) or as lines (``nuke -t``)."""

import sys

import nuke


def describe(event):
    """A one-line description of an engine event, or None for events not worth showing."""
    kind = event.get("event")
    if kind == "start":
        text = "{} frame(s) to analyse".format(event.get("total", 0))
        if event.get("skipped"):
            text += " ({} already done)".format(event["skipped"])
        return text
    if kind == "frame":
        return "frame {} ({}/{}, {:.1f} fps, {} detection(s))".format(
            event.get("frame"),
            event.get("done"),
            event.get("total"),
            float(event.get("fps") or 0.0),
            event.get("detections", 0),
        )
    if kind == "message":
        return str(event.get("text", ""))
    if kind == "warning":
        return "warning: " + str(event.get("message", ""))
    if kind == "recompute":
        return str(event.get("text", "")) or "recomputing {} frame(s)".format(event.get("count"))
    if kind == "done":
        return "done: {} detection(s); report {}".format(
            event.get("detections", 0), event.get("report", "")
        )
    return None


def percent(event):
    """Progress in percent after ``event`` (None when it does not move the bar)."""
    if event.get("event") == "frame" and event.get("total"):
        return int(100 * int(event.get("done", 0)) / int(event["total"]))
    if event.get("event") == "done":
        return 100
    return None


class TaskProgress:
    """Feeds events into a ``nuke.ProgressTask``; its Cancel button cancels the engine."""

    def __init__(self, title):
        self.task = nuke.ProgressTask(title)

    def __call__(self, event):
        text = describe(event)
        if text:
            self.task.setMessage(text)
        value = percent(event)
        if value is not None:
            self.task.setProgress(value)

    def is_cancelled(self):
        return bool(self.task.isCancelled())

    def close(self):
        self.task = None  # a ProgressTask closes when it is released


class ConsoleProgress:
    """Prints events for farm logs (``nuke -t``); never cancels (the farm kills the task)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def __call__(self, event):
        text = describe(event)
        if text:
            self.stream.write(f"hotpixel: {text}\n")
            self.stream.flush()

    def is_cancelled(self):
        return False

    def close(self):
        pass
