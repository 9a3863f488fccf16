"""Farm and batch runs in ``nuke -t``: detection for a HotPixelDetect node or a plate pattern.

Usage (run by ``nuke -t /path/to/nuke_plugin/hotpixel_farm.py ...``)::

    --script COMP.nk --node HotPixelDetect1 [--frames A-B]      a node of a saved script
    --pattern PLATE.####.exr --out QC_DIR [--frames A-B] [detection flags]
    --merge --out QC_DIR --frames FIRST-LAST                    the merge task after the chunks

The frame range is ``--frames A-B`` or Nuke's own ``-F A-B`` (``nuke -F 1001-1010 -t ...``), a
single frame, or a step range ``A-BxN`` as Nuke writes it (refused: the engine analyses every
frame of a range, see :func:`jobs.frames_text`); without either the node's (or plate's) whole
range is used. Nuke removes a trailing number or range from ``sys.argv``; it is recovered from
``nuke.rawArgs``. The detection flags are those of ``hotpixel detect``, one for each of
:data:`jobs.PARAMS`. Chunks run into the same output folder; each chunk leaves ``report.html``
to the merge. Failures print ``ERROR: ...`` lines and the exit code is the engine's (2 usage,
3 input, 4 output, 5 model, 130 interrupted) or 1.
"""

import argparse
import os

from . import config, engine_process, frame_ranges, graph, jobs, nodes
from .errors import PluginError
from .progress import ConsoleProgress


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise PluginError("hotpixel_farm: " + message)


def build_parser():
    p = _Parser(prog="nuke -t hotpixel_farm.py", description=__doc__.split("\n")[0])
    p.add_argument("--script", help="the .nk holding the HotPixelDetect node")
    p.add_argument("--node", help="name of the HotPixelDetect node (e.g. HotPixelDetect1)")
    p.add_argument("--pattern", help="plate pattern, e.g. /show/sh010/plate/sh010.####.exr")
    p.add_argument("--out", help="output folder (pattern and merge modes)")
    p.add_argument("--frames", help="frames to analyse: A-B (a farm chunk), one frame, or A-BxSTEP")
    p.add_argument("--merge", action="store_true", help="merge the chunks' report (last task)")
    add_param_flags(p)
    p.add_argument("--workers", type=int, default=1, help="engine processes on this machine")
    p.add_argument("--force", action="store_true", help="redo frames already done")
    return p


def add_param_flags(parser):
    """One flag per detection parameter (:data:`jobs.PARAMS`), ``--motion-tolerance`` style;
    an unset flag is None, so the engine's default applies. The engine checks the values."""
    for name, kind, text in jobs.PARAMS:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)


def job_params(args):
    """The detection parameters ``args`` sets, by name (unset ones left out)."""
    values = {name: getattr(args, name) for name in jobs.PARAM_NAMES}
    return {name: value for name, value in values.items() if value is not None}


def parse_range(text):
    """``"1001-1010"``, ``"1005"``, ``"1001-1100x2"`` as a :class:`frame_ranges.FrameRange`."""
    return frame_ranges.parse(text)


def recover_argv(argv, raw_args):
    """``argv`` with the trailing number/range Nuke stripped put back (taken from rawArgs)."""
    raw = [str(a) for a in (raw_args or [])]
    if raw and frame_ranges.looks_like_range(raw[-1]) and raw[-len(argv) - 1 : -1] == list(argv):
        return [*argv, raw[-1]]
    return list(argv)


def nuke_frames(raw_args):
    """The ``-F A-B`` range given to Nuke itself, or None."""
    raw = [str(a) for a in (raw_args or [])]
    for i, arg in enumerate(raw[:-1]):
        if arg == "-F":
            return raw[i + 1]
    return None


def main(argv, raw_args=None, stream=None):
    """Run one farm task; return the exit code (0 success)."""
    try:
        args = build_parser().parse_args(recover_argv(argv, raw_args))
        frames = args.frames or nuke_frames(raw_args)
        chunk = parse_range(frames) if frames else None
        if args.merge:
            return _merge(args, chunk)
        if args.node or args.script:
            return _node(args, chunk, stream)
        return _pattern(args, chunk, stream)
    except PluginError as exc:
        print(f"ERROR: {exc}")
        return exc.exit_code


def _run(cmd, stream):
    result = engine_process.run(cmd, ConsoleProgress(stream))
    if not result.ok:
        print(
            "ERROR: the HotPixel engine failed (exit {}): {}".format(
                result.exit_code, result.error or "no message"
            )
        )
    return result.exit_code


def _node(args, chunk, stream):
    import nuke

    if not (args.script and args.node):
        raise PluginError("--script and --node go together (the .nk and the node's name)")
    if not os.path.isfile(args.script):
        raise PluginError(f"cannot open {args.script}: no such file")
    try:
        nuke.scriptOpen(args.script)
    except RuntimeError as exc:  # Nuke reports a script it cannot load this way
        raise PluginError(f"cannot open {args.script}: {exc}") from exc
    node = graph.node_named(args.node)
    if node is None:
        raise PluginError(f"no node {args.node!r} in {args.script}")
    nodes.check(node)
    return _run(nodes.command(nodes.prepare(node, chunk), html=chunk is None), stream)


def _pattern(args, chunk, stream):
    if not (args.pattern and args.out):
        raise PluginError("give --script and --node, or --pattern and --out")
    frames = jobs.frames_text(chunk)
    job = jobs.build_job(
        args.pattern, args.out, frames, job_params(args), force=args.force, workers=args.workers
    )
    return _run(
        nodes.command(jobs.write_job(job, jobs.job_path(job["out"], chunk)), html=chunk is None),
        stream,
    )


def _merge(args, chunk):
    if not (args.out and chunk):
        raise PluginError("--merge needs --out and --frames FIRST-LAST (the whole shot)")
    cmd = config.engine_command("merge", args.out, "--expect", jobs.frames_text(chunk))
    return _run(cmd, None)
