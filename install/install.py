"""Install (or uninstall) the hotpixel engine and its Nuke plugin for one user.

    python install/install.py                       # engine venv in ~/.hotpixel/engine + Nuke
    python install/install.py --engine-python PY    # use an interpreter that has hotpixel
    python install/install.py --uninstall

What it does, and nothing else (it never needs Nuke; it only writes files):

1. the engine: creates a virtual environment (``--venv``, default ``~/.hotpixel/engine``) with
   ``--python`` (3.10+) and pip-installs this checkout into it, or uses ``--engine-python``;
   either way it checks that ``ENGINE_PYTHON -m hotpixel --version`` runs;
2. writes ``~/.nuke/hotpixel_engine.json`` (``{"engine_python": ...}``), where the plugin looks
   for the engine (``--config`` writes it elsewhere, e.g. next to a studio-wide plugin);
3. adds ``nuke.pluginAddPath(<checkout>)`` to ``~/.nuke/init.py`` between marker lines,
   replacing an earlier block (so running it twice changes nothing, and an older block that
   named ``<checkout>/nuke_plugin`` is replaced). The checkout's own ``init.py`` then adds
   ``gizmos/`` and ``nuke_plugin/``, and its ``menu.py`` the menus;
   ``--no-init-py`` skips this, and ``--print-env`` prints the NUKE_PATH and
   HOTPIXEL_ENGINE_PYTHON lines a studio launcher or farm environment sets instead.

``--uninstall`` removes the block, the config and the venv this script created.
``--dry-run`` runs every check the install runs (the interpreters run, the engine answers, the
files can be written), prints what would be done and ends ``dry run: nothing changed``; it
reports every problem it finds. Exit codes: 0 done, 1 failed (the message says why).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The folder Nuke must have on its plugin path: the one holding init.py and menu.py.
NUKE_DIR = REPO
CONFIG_NAME = "hotpixel_engine.json"
BEGIN = "# >>> hotpixel >>> (written by hotpixel install/install.py; remove with --uninstall)"
END = "# <<< hotpixel <<<"


class InstallError(Exception):
    pass


def nuke_dir():
    return os.path.join(os.path.expanduser("~"), ".nuke")


def default_venv():
    return os.path.join(os.path.expanduser("~"), ".hotpixel", "engine")


def venv_python(venv):
    if os.name == "nt":
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def run(cmd, dry_run):
    """Run ``cmd`` (which changes something) and return its output; in a dry run only print it."""
    print("+ " + " ".join(cmd))
    if dry_run:
        return ""
    return ask(cmd)


def ask(cmd):
    """Run ``cmd``, which changes nothing (a check), dry run or not; return its output."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as exc:
        raise InstallError(f"cannot run {cmd[0]} ({exc.strerror})") from exc
    if proc.returncode != 0:
        raise InstallError(f"{cmd[0]} failed (exit {proc.returncode}):\n{proc.stdout.strip()}")
    return proc.stdout.strip()


def check_python(python):
    """``python`` runs, is 3.10 or later and has ``venv``: what the engine's venv needs."""
    if not os.path.isfile(python) and not shutil.which(python):
        raise InstallError(f"--python {python} does not exist; pass --python PATH of Python 3.10+")
    code = "import sys, venv; print('%d.%d' % sys.version_info[:2])"
    version = ask([python, "-c", code])
    major, minor = (int(n) for n in version.split(".")[:2])
    if (major, minor) < (3, 10):
        raise InstallError(
            f"--python {python} is Python {version}; the engine needs 3.10 or later: "
            "pass --python PATH of one"
        )


def make_engine(args, checks):
    """The engine's interpreter (created when needed) and the venv this run created, if any."""
    if args.engine_python:
        return os.path.abspath(args.engine_python), None
    venv = os.path.abspath(os.path.expanduser(args.venv or default_venv()))
    python = venv_python(venv)
    if not os.path.isfile(python):
        checks.run(check_python, args.python)
        checks.run(check_writable, venv, "--venv")
        run([args.python, "-m", "venv", venv], args.dry_run)
    run([python, "-m", "pip", "install", "--upgrade", "pip"], args.dry_run)
    run([python, "-m", "pip", "install", REPO, *args.pip_arg], args.dry_run)
    return python, venv


def check_engine(python, dry_run, made_here):
    """``python -m hotpixel --version`` runs; run in a dry run too, unless the engine is one
    this install would create (then it cannot exist yet)."""
    if not os.path.isfile(python):
        if dry_run and made_here:
            print(f"engine: {python} is checked once it is installed")
            return
        raise InstallError(
            f"the engine Python {python} does not exist; pass --engine-python PATH of an "
            "interpreter that has hotpixel, or leave it out to create one"
        )
    version = ask([python, "-m", "hotpixel", "--version"])
    print(f"engine: {version or 'hotpixel'} in {python}")


def check_writable(path, what):
    """``path`` can be written (or created): refused when the nearest folder that exists is not
    writable, or ``path`` exists and is not."""
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise InstallError(f"cannot write {path} ({what}); check its permissions")
        return
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise InstallError(f"cannot create {path} ({what}): {parent} is not a writable folder")


class Checks:
    """The install's checks: a real install stops at the first problem; a dry run goes on and
    reports every problem at the end."""

    def __init__(self, dry_run):
        self.dry_run = dry_run
        self.problems = []

    def run(self, check, *args):
        try:
            return check(*args)
        except InstallError as exc:
            if not self.dry_run:
                raise
            print(f"problem: {exc}")
            self.problems.append(str(exc))
            return None

    def finish(self):
        """End a dry run: raise the problems found, or say that nothing changed."""
        if self.problems:
            raise InstallError(
                f"dry run: {len(self.problems)} problem(s), nothing changed:\n  - "
                + "\n  - ".join(self.problems)
            )
        print("dry run: nothing changed")


def write_config(path, python, venv, dry_run):
    data = {"engine_python": python, "nuke_path": NUKE_DIR, "created_venv": venv}
    print(f"config: {path}")
    check_writable(path, "the engine config")
    if not dry_run:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")


def strip_block(text):
    """``text`` without our marked block (and the blank line before it)."""
    lines, out, inside = text.splitlines(), [], False
    for line in lines:
        if line.strip() == BEGIN:
            inside = True
            if out and not out[-1].strip():
                out.pop()
        elif inside and line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")


def block(folder):
    return f"{BEGIN}\nimport nuke\nnuke.pluginAddPath({folder!r})\n{END}\n"


def add_to_init_py(folder, dry_run):
    """Add (or replace) the block that puts ``folder`` on Nuke's plugin path."""
    path = os.path.join(nuke_dir(), "init.py")
    old = ""
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    kept = strip_block(old)
    new = kept + ("\n" if kept else "") + block(folder)
    print(f"nuke: {path} adds {folder} to the plugin path")
    check_writable(path, "Nuke's init.py")
    if not dry_run and new != old:
        os.makedirs(nuke_dir(), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(new)


def install(args):
    checks = Checks(args.dry_run)
    python, venv = make_engine(args, checks)
    checks.run(check_engine, python, args.dry_run, venv is not None)
    config = args.config or os.path.join(nuke_dir(), CONFIG_NAME)
    checks.run(write_config, config, python, venv, args.dry_run)
    if not args.no_init_py:
        checks.run(add_to_init_py, NUKE_DIR, args.dry_run)
    if args.print_env:
        print(f"NUKE_PATH={NUKE_DIR}")
        print(f"HOTPIXEL_ENGINE_PYTHON={python}")
    if args.dry_run:
        checks.finish()
        return
    print("installed: restart Nuke; the nodes are in the HotPixel menu")


def uninstall(args):
    config = args.config or os.path.join(nuke_dir(), CONFIG_NAME)
    venv = None
    if os.path.isfile(config):
        with open(config, encoding="utf-8") as fh:
            venv = json.load(fh).get("created_venv")
        print(f"remove {config}")
        if not args.dry_run:
            os.remove(config)
    init_py = os.path.join(nuke_dir(), "init.py")
    if os.path.isfile(init_py):
        with open(init_py, encoding="utf-8") as fh:
            old = fh.read()
        new = strip_block(old)
        if new != old:
            print(f"remove the hotpixel block from {init_py}")
            if not args.dry_run:
                with open(init_py, "w", encoding="utf-8") as fh:
                    fh.write(new)
    if venv and os.path.isdir(venv) and not args.keep_venv:
        print(f"remove {venv}")
        if not args.dry_run:
            shutil.rmtree(venv)
    print("dry run: nothing changed" if args.dry_run else "uninstalled")


def build_parser():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--engine-python", help="an interpreter that already has hotpixel installed")
    p.add_argument("--venv", help="where to create the engine's venv (~/.hotpixel/engine)")
    p.add_argument("--python", default=sys.executable, help="Python 3.10+ for the new venv")
    p.add_argument(
        "--pip-arg", action="append", default=[], help="extra pip install argument (repeatable)"
    )
    p.add_argument("--config", help="where to write the engine config (~/.nuke/...json)")
    p.add_argument("--no-init-py", action="store_true", help="leave ~/.nuke/init.py alone")
    p.add_argument("--print-env", action="store_true", help="print NUKE_PATH and engine lines")
    p.add_argument("--uninstall", action="store_true", help="undo what install did")
    p.add_argument("--keep-venv", action="store_true", help="with --uninstall: keep the venv")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="run every check, print the steps, change nothing",
    )
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.uninstall:
            uninstall(args)
        else:
            install(args)
    except (InstallError, OSError) as exc:
        print(f"install: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
