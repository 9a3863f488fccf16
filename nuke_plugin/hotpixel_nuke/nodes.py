"""The HotPixelDetect node: its knobs, its plate, Analyze, and the results read back.

The node's source is the upstream Read (through Dots): its files (``nuke.filename``) and its
frame range. Anything else upstream (a Read that remaps frames, a grade, a Group...) is rendered
first to ``OUTPUT/precomp/<node>.####.exr`` (scene-linear EXR) and that precomp is analysed; a
precomp is analysed afresh each time (``force``), since the engine cannot see that upstream
changed. After a run the node's hidden knobs point its MaskRead at the engine's masks, so the
node's output is its input plus ``hotpixel.mask`` on every analysed frame (black elsewhere).
The plate's colour space and OCIO config come from the node's knobs, else from the Read and the
script (:mod:`.colour`).
"""

import os
import threading

import nuke

from . import colour, config, engine_process, feedback, frame_ranges, graph, jobs
from . import nuke_facts as facts
from . import report as report_mod
from .errors import PluginError
from .progress import ConsoleProgress, TaskProgress

CONTEXT = 2  # frames each side the engine reads for its 5-frame window
_running = {}  # node full name -> analysis thread


class Source:
    """The plate to analyse: ``pattern`` (None until a precomp is rendered), frame range,
    ``precomp_from``, the node to render when upstream is not a plain Read, and ``read``, the
    Read the files come from (None for a precomp)."""

    def __init__(self, pattern, first, last, precomp_from=None, label="", read=None):
        self.pattern = pattern
        self.first, self.last = int(first), int(last)
        self.precomp_from = precomp_from
        self.label = label
        self.read = read


def check(node):
    """``node`` must be a HotPixelDetect node."""
    if node is None or node.knob("mask_pattern") is None:
        name = node.name() if node is not None else "nothing"
        raise PluginError(f"{name} is not a HotPixelDetect node")
    return node


def upstream(node):
    """The node feeding ``node``'s input, looking through Dots (None when unconnected)."""
    up = node.input(0)
    while up is not None and up.Class() == "Dot":
        up = up.input(0)
    return up


def find_source(node):
    """The plate behind ``node``'s input and its frame range (:class:`Source`)."""
    up = upstream(node)
    if up is None:
        raise PluginError(f"{node.name()} has no input: connect the plate (a Read node)")
    if up.Class() == "Read" and not str(up[facts.READ_FRAME_EXPR].value()).strip():
        first, last = up[facts.READ_FIRST].value(), up[facts.READ_LAST].value()
        return Source(nuke.filename(up), first, last, label=up.name(), read=up)
    root = nuke.root()
    label = "precomp of " + up.name()
    return Source(None, root.firstFrame(), root.lastFrame(), precomp_from=up, label=label)


def frame_range(node, source):
    """The :class:`frame_ranges.FrameRange` to analyse: the source's range or the node's
    first/last knobs, every ``every``-th frame of it."""
    step = int(node["frame_step"].value())
    if node["use_input_range"].value():
        return frame_ranges.make(source.first, source.last, step)
    return frame_ranges.make(node["first_frame"].value(), node["last_frame"].value(), step)


def output_dir(node):
    """The node's output folder (default: ``hotpixel/<node>`` next to the saved script)."""
    out = str(node["output"].value()).strip()
    if out:
        return os.path.abspath(os.path.expanduser(out))
    script = nuke.root().name()
    if not script or script == facts.UNSAVED_ROOT_NAME:
        raise PluginError(
            f"{node.name()}: set 'output folder' or save the script first (the default output is "
            f"hotpixel/{node.name()} next to the script)"
        )
    return os.path.join(os.path.dirname(os.path.abspath(script)), "hotpixel", node.name())


def params(node):
    """The detection parameters from the knobs (names of :data:`jobs.PARAM_NAMES`)."""
    threshold = None
    if not node["use_detector_threshold"].value():
        threshold = float(node["threshold"].value())
    return {
        "threshold": threshold,
        "detector": str(node["detector"].value()),
        "model": os.path.expanduser(str(node["model"].value()).strip()),
        "device": str(node["device"].value()),
        "motion_tolerance": int(node["motion_tolerance"].value()),
        "flow_scale": str(node["flow_scale"].value()),
        "max_area": int(node["max_area"].value()),
        "colorspace": str(node["colorspace"].value()).strip(),
        "ocio": os.path.expanduser(str(node["ocio"].value()).strip()),
        "part": str(node["part"].value()).strip(),
        "layer": str(node["layer"].value()).strip(),
    }


def prepare(node, frames=None):
    """Write the job for ``node`` (rendering a precomp first if needed); return its path.

    ``frames`` (a FrameRange) analyses a chunk of the node's range (farm tasks); without its
    own step it takes the node's. A step the engine cannot take is refused before anything runs.
    """
    check(node)
    source = find_source(node)
    whole = frame_range(node, source)
    wanted = frame_ranges.within(frames, whole) if frames else whole
    spec = jobs.frames_text(wanted)
    out = output_dir(node)
    force = bool(node["force"].value())
    if source.precomp_from is not None:
        source.pattern = render_precomp(node, source.precomp_from, out, wanted, whole)
        force = True
    settings, note = colour.fill_in(params(node), source.read)
    info = f"{source.label}: {source.pattern}"
    node["source_info"].setValue(f"{info} ({note})" if note else info)
    job = jobs.build_job(
        source.pattern,
        out,
        spec,
        settings,
        force=force,
        workers=int(node["workers"].value()),
    )
    return jobs.write_job(job, jobs.job_path(out, frames))


def render_precomp(node, upstream_node, out, wanted, whole):
    """Render ``upstream_node`` to EXRs over ``wanted``'s span (every frame: the ones a step
    skips are neighbours) plus the window's context frames inside ``whole``."""
    pattern = os.path.join(out, "precomp", f"{node.name()}.####.exr")
    first, last = wanted.span()
    start, end = max(whole.first, first - CONTEXT), min(whole.last, last + CONTEXT)
    start, end = min(start, first), max(end, last)
    os.makedirs(os.path.dirname(pattern), exist_ok=True)
    with graph.inside(graph.parent_of(node)):
        write = nuke.nodes.Write()
        try:
            write.setInput(0, upstream_node)
            write[facts.READ_FILE].setValue(pattern.replace(os.sep, "/"))
            for knob, value in (facts.WRITE_FILE_TYPE, facts.WRITE_CHANNELS, facts.WRITE_RAW):
                write[knob].setValue(value)
            nuke.execute(write, start, end, 1)
        finally:
            nuke.delete(write)
    return pattern


def command(job_path, html=True):
    """The engine command that runs ``job_path`` with JSON progress."""
    return config.engine_command(
        "job", job_path, "--progress", "json", *(() if html else ("--no-html",))
    )


def analyze(node, frames=None, background=None, progress=None, html=True):
    """Analyse ``node``'s plate.

    ``background`` (default: in the GUI) runs the engine in a thread with a ProgressTask and
    returns the thread; the node is updated on the main thread when it ends. Otherwise it runs
    here and returns the report (None if cancelled before a frame finished).
    """
    if background is None:
        background = graph.gui()
    running = _running.get(node.fullName())
    if background and running is not None and running.is_alive():
        raise PluginError(f"{node.name()} is already analysing; cancel it first")
    job_path = prepare(node, frames)
    cmd = command(job_path, html)
    out = os.path.dirname(job_path)
    node["status"].setValue("analysing (Cancel in the progress bar keeps finished frames)")
    if not background:
        progress = progress or (TaskProgress(title(node)) if graph.gui() else ConsoleProgress())
        try:
            result = engine_process.run(cmd, progress, progress.is_cancelled)
        finally:
            progress.close()
        return finish(node, out, result)
    return _start_thread(node, cmd, out)


def title(node):
    return f"HotPixel {node.name()}"


def _start_thread(node, cmd, out):
    name = node.fullName()
    thread = threading.Thread(
        target=_work, args=(name, title(node), cmd, out), name="hotpixel-analyze", daemon=True
    )
    _running[name] = thread
    thread.start()
    return thread


def _work(name, task_title, cmd, out):
    """The analysis thread. Whatever happens here (the engine failing, a bug, the progress bar
    refusing) ends in :func:`_finish_in_main`, which updates the node and tells the user."""
    result = None
    try:
        result = _run_in_task(task_title, cmd)
    except BaseException as exc:  # every outcome must reach the main thread
        if isinstance(exc, Exception):
            result = exc
        else:
            result = PluginError(f"the analysis stopped ({type(exc).__name__}); run Analyze again")
    finally:
        nuke.executeInMainThread(_finish_in_main, args=(name, out, result))


def _run_in_task(task_title, cmd):
    progress = TaskProgress(task_title)
    try:
        return engine_process.run(cmd, progress, progress.is_cancelled)
    finally:
        progress.close()


def _finish_in_main(name, out, result):
    """Back on the main thread: update the node (found from the top, whatever group is
    current) and show any failure; the node may have been deleted while the engine ran."""
    try:
        node = graph.node_named(name)
        if node is None:
            if isinstance(result, Exception):
                feedback.tell_failure(result)
            return  # deleted while it ran; the results stay on disk
        feedback.guard(lambda n: finish(n, out, result), node)
    finally:
        _running.pop(name, None)


def finish(node, out, result):
    """Read the run's report into ``node``; raise if the engine failed (the status knob then
    says so, and the node keeps its last good masks)."""
    try:
        if isinstance(result, Exception):
            raise result
        result.check()
    except Exception as exc:
        node["status"].setValue("failed: " + feedback.describe(exc))
        raise
    path = result.report_path or os.path.join(out, "report.json")
    if not os.path.isfile(path):
        node["status"].setValue("cancelled before any frame finished")
        return None
    rep = report_mod.load(path)
    apply_report(node, rep, cancelled=result.cancelled)
    return rep


def apply_report(node, rep, cancelled=False):
    """Point the node's mask reader at ``rep``'s masks and show its summary."""
    source = rep["source"]
    node["mask_pattern"].setValue(report_mod.mask_pattern(rep).replace(os.sep, "/"))
    node["mask_first"].setValue(int(source["first_frame"]))
    node["mask_last"].setValue(int(source["last_frame"]))
    node["report_file"].setValue(rep["_path"])
    node["has_mask"].setValue(True)
    node["status"].setValue(report_mod.summary_text(rep, cancelled))
    read = node.node(facts.MASK_READ)
    if read is not None:
        read[facts.MASK_RELOAD_KNOB].execute()


def report_of(node):
    """The node's last report (after Analyze)."""
    check(node)
    path = str(node["report_file"].value()) or os.path.join(output_dir(node), "report.json")
    return report_mod.load(path)
