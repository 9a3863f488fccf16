"""Farm jobs a stock OpenCue and Deadline accept: names, pause, root, show, priority.

What a stock cuebot checks is taken from its sources (OpenCue ``JobSpec.java``, seed data and
``cjsl-1.15.dtd``): names match ``^[\\w.-]{3,}$``, the spec is valid against the DTD, the user is
not root and the uid not 0, and the show exists (a stock install has only ``testing``). The DTD's
content models are written below as patterns over child tags; no DTD file is read.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import opencue.api
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import UsageError
from hotpixel.farm import deadline
from hotpixel.farm.job import fit_name, plan_job
from imagegen import dark_plate, write_sequence

CUEBOT_NAME = re.compile(r"^[\w.-]{3,}$", re.ASCII)  # JobSpec.NAME_REGEX; Java's \w is ASCII
DTD_URL = "http://localhost:8080/spcue/dtd/cjsl-1.15.dtd"  # cuebot redirects it to its copy

# cjsl-1.15.dtd's content models for every element it declares with children, as regular
# expressions over the child tags (each followed by a space).
CONTENT = {
    "spec": r"(facility )?(dept )?show shot user (email )?(uid )?(job )*(depends )*",
    "job": r"(paused )?(priority )?(maxretries )?(maxcores )?(maxgpus )?(autoeat )?"
    r"(localbook )?(os )?(env )*(layers )?",
    "layers": r"(layer )+",
    "layer": r"cmd range chunk (cores )?(threadable )?(memory )?(gpus )?(gpu )?(gpu_memory )?"
    r"(timeout )?(timeout_llu )?(tags )?(limits )?(env )*(services )?(outputs )*",
    "limits": r"(limit )+",
    "services": r"(service )+",
    "outputs": r"(output )*",
    "env": r"(key )*",
    "depends": r"(depend )*",
    "depend": r"depjob (deplayer )?(depframe )?onjob (onlayer )?(onframe )?",
}
TEXT_ONLY = {
    *("facility", "dept", "show", "shot", "user", "email", "uid", "paused", "priority"),
    *("maxretries", "maxcores", "maxgpus", "autoeat", "os", "localbook", "cmd", "range"),
    *("chunk", "cores", "threadable", "memory", "gpus", "gpu", "gpu_memory", "timeout"),
    *("timeout_llu", "tags", "service", "output", "limit", "key", "depjob", "onjob"),
    *("deplayer", "onlayer", "depframe", "onframe"),
}
# An ASCII subset of XML's NMTOKEN: a value that matches is a valid name token.
NMTOKEN = r"[A-Za-z0-9._:-]+"
DEPEND_TYPES = (
    "LAYER_ON_SIM_FRAME|PREVIOUS_FRAME|JOB_ON_JOB|JOB_ON_LAYER|JOB_ON_FRAME|LAYER_ON_JOB|"
    "LAYER_ON_FRAME|LAYER_ON_LAYER|FRAME_ON_JOB|FRAME_ON_LAYER|FRAME_ON_FRAME|FRAME_BY_FRAME"
)
# element -> {attribute: (required, pattern of its value)}
ATTRIBUTES = {
    "job": {"name": (True, NMTOKEN)},
    "layer": {"name": (True, NMTOKEN), "type": (True, "Render|Util|Post")},
    "depend": {"type": (True, DEPEND_TYPES), "anyframe": (False, NMTOKEN)},
    "key": {"name": (True, NMTOKEN)},
    "output": {"name": (True, NMTOKEN)},
}

PLATES = ["my shot+v2", "plate (final) & v3", "é-clair"]


def assert_valid_cjsl(spec: str) -> ET.Element:
    """Check ``spec`` against the structure cjsl-1.15.dtd requires; return its root."""
    declaration, _, rest = spec.partition("?>")
    assert declaration.startswith("<?xml")
    doctype = re.match(r'<!DOCTYPE spec PUBLIC "[^"]*" "([^"]*)">', rest)
    assert doctype is not None and doctype.group(1) == DTD_URL, rest[:200]
    root = ET.fromstring(rest)
    assert root.tag == "spec"
    for element in root.iter():
        children = "".join(f"{child.tag} " for child in element)
        if element.tag in CONTENT:
            assert re.fullmatch(CONTENT[element.tag], children), (element.tag, children)
            assert not (element.text or "").strip(), element.tag  # no text beside children
        else:
            assert element.tag in TEXT_ONLY and not children, (element.tag, children)
        rules = ATTRIBUTES.get(element.tag, {})
        assert set(element.attrib) <= set(rules), (element.tag, element.attrib)
        for name, (required, pattern) in rules.items():
            value = element.get(name)
            assert value is not None or not required, (element.tag, name)
            assert value is None or re.fullmatch(pattern, value), (element.tag, name, value)
    return root


def cuebot_names(root: ET.Element) -> list[str]:
    """Every name cuebot holds to its rule: job, shot, layers and the depends' jobs and layers."""
    job = root.find("job")
    assert job is not None
    names = [job.get("name", ""), root.findtext("shot") or ""]
    names += [layer.get("name", "") for layer in root.iter("layer")]
    for tag in ("depjob", "onjob", "deplayer", "onlayer"):
        names += [e.text or "" for e in root.iter(tag)]
    return names


def _accounts(table: dict[str, int]):
    def getpwnam(name: str):
        if name not in table:
            raise KeyError(name)
        return pwd.struct_passwd((name, "x", table[name], table[name], "", "/", "/bin/sh"))

    return getpwnam


@pytest.fixture
def process_uid(monkeypatch):
    """Set this process's uid and the accounts this machine knows (the tests may run as root)."""

    def as_uid(uid: int) -> None:
        monkeypatch.setattr(os, "getuid", lambda: uid)
        monkeypatch.setattr(pwd, "getpwnam", _accounts({"root": 0, "artist": 1000}))

    return as_uid


@pytest.fixture
def artist(process_uid):
    process_uid(1000)


@pytest.fixture(scope="module")
def plates(tmp_path_factory):
    rng = np.random.default_rng(23)
    frames = [dark_plate(rng, 32, 24) for _ in range(12)]
    folder = tmp_path_factory.mktemp("names")
    stems = [*PLATES, "sh010"]  # sh010: a plain name, for the checks that are not about names
    return {stem: write_sequence(str(folder / stem), frames, name=stem) for stem in stems}


def _submit(pattern, out, *extra):
    return ["submit", "opencue", pattern, "--out", str(out), "--chunk", "5", *extra]


def _dry_run(capsys, pattern, out, *extra):
    args = _submit(pattern, out, "--show", "testing", "--user", "artist", "--dry-run", *extra)
    assert main(args) == 0
    captured = capsys.readouterr()
    return captured.out.rstrip("\n"), captured.err


# --- names


@pytest.mark.parametrize("stem", PLATES)
def test_plate_names_with_spaces_and_punctuation_give_names_cuebot_accepts(
    stem, plates, tmp_path, capsys, artist
):
    spec, err = _dry_run(capsys, plates[stem], tmp_path / "qc")
    root = assert_valid_cjsl(spec)
    names = cuebot_names(root)
    assert all(CUEBOT_NAME.match(name) for name in names), names
    job = names[0]
    assert job.startswith("hotpixel_") and job.endswith("_1001-1012")
    assert f"OpenCue job {job}: show testing, shot {job}, user artist (uid 1000)" in err
    layers = {layer.get("name"): layer for layer in root.iter("layer")}
    cmd = shlex.split(layers["detect"].findtext("cmd") or "")
    assert cmd[cmd.index("detect") + 1] == plates[stem]  # the path itself is untouched


def test_derived_names_stay_readable_and_distinct():
    assert fit_name("sh010") == "sh010"
    assert fit_name("my shot+v2").startswith("my_shot_v2_")
    assert fit_name("a b") != fit_name("a+b")  # both would be a_b without the hash
    assert fit_name("a b") == fit_name("a b")  # stable between runs
    assert CUEBOT_NAME.match(fit_name("日本"))


@pytest.mark.parametrize(
    ("flag", "value", "suggestion"),
    [("--name", "my job", "my_job"), ("--name", "ab", "ab_"), ("--shot", "sh 010", "sh_010")],
)
def test_user_given_names_that_cuebot_refuses_are_usage_errors(
    flag, value, suggestion, plates, tmp_path, capsys, artist
):
    args = _submit(plates["my shot+v2"], tmp_path, "--show", "testing", "--dry-run")
    assert main([*args, flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {value!r} is not a name OpenCue accepts" in err
    assert repr(suggestion) in err


def test_deadline_names_match_opencue_for_the_same_plate(plates, tmp_path, capsys, artist):
    pattern = plates["my shot+v2"]
    spec, _ = _dry_run(capsys, pattern, tmp_path / "qc")
    job = assert_valid_cjsl(spec).find("job")
    assert job is not None
    name = job.get("name", "")
    jobs = tmp_path / "jobs"
    args = ["submit", "deadline", pattern, "--out", str(tmp_path / "qc"), "--job-dir", str(jobs)]
    assert main(args) == 0
    for stem in ("detect", "merge"):
        text = (jobs / f"{stem}.job").read_text(encoding="utf-8")
        lines = text.splitlines()
        assert all(re.fullmatch(r"[A-Za-z]+=[^\n]*", line) for line in lines), lines
        info = dict(line.split("=", 1) for line in lines)
        assert info["BatchName"] == name
        assert info["Name"] == f"{name} {stem}"
    plugin = dict(line.split("=", 1) for line in (jobs / "detect.plugin").read_text().splitlines())
    arguments = shlex.split(plugin["Arguments"])
    assert arguments[arguments.index("detect") + 1] == pattern  # quoted: the space survives


# --- pause: the dry run prints what is sent


@pytest.mark.parametrize(("extra", "paused"), [((), "False"), (("--pause",), "True")])
def test_dry_run_shows_paused_only_with_pause(extra, paused, plates, tmp_path, capsys, artist):
    spec, _ = _dry_run(capsys, plates["sh010"], tmp_path, *extra)
    assert assert_valid_cjsl(spec).findtext("job/paused") == paused


@pytest.mark.parametrize("extra", [(), ("--pause",)])
def test_launch_sends_exactly_what_the_dry_run_prints(
    extra, plates, tmp_path, capsys, artist, monkeypatch
):
    dry, _ = _dry_run(capsys, plates["sh010"], tmp_path, *extra)
    sent = []

    class Job:
        def name(self):
            return "testing-sh-artist_job"

    def launch_spec_and_wait(spec):
        sent.append(spec)
        return [Job()]

    monkeypatch.setattr(opencue.api, "launchSpecAndWait", launch_spec_and_wait)
    args = _submit(plates["sh010"], tmp_path, "--show", "testing", "--user", "artist")
    assert main([*args, *extra]) == 0
    assert sent == [dry]
    assert "submitted to OpenCue: testing-sh-artist_job" in capsys.readouterr().err


# --- root


def test_submitting_as_root_is_refused_with_the_way_out(plates, tmp_path, capsys, process_uid):
    process_uid(0)
    args = _submit(plates["sh010"], tmp_path, "--show", "testing", "--dry-run")
    assert main([*args, "--user", "root"]) == 2
    err = capsys.readouterr().err
    assert "OpenCue refuses jobs launched as root" in err and "runuser -u" in err
    assert main([*args, "--user", "farmonly"]) == 2  # no account here: its uid would be 0
    err = capsys.readouterr().err
    assert "--user 'farmonly' would go with uid 0" in err and "useradd -u UID farmonly" in err


def test_root_submits_with_the_user_and_uid_of_user(plates, tmp_path, capsys, process_uid):
    process_uid(0)
    spec, _ = _dry_run(capsys, plates["sh010"], tmp_path)
    root = assert_valid_cjsl(spec)
    assert (root.findtext("user"), root.findtext("uid")) == ("artist", "1000")


def test_a_farm_only_user_keeps_the_process_uid(plates, tmp_path, capsys, process_uid):
    process_uid(1234)
    args = _submit(plates["sh010"], tmp_path, "--show", "testing", "--dry-run")
    assert main([*args, "--user", "farmonly"]) == 0
    root = assert_valid_cjsl(capsys.readouterr().out.rstrip("\n"))
    assert (root.findtext("user"), root.findtext("uid")) == ("farmonly", "1234")


def test_root_is_refused_in_a_real_process(plates, tmp_path):
    args = _submit(plates["sh010"], tmp_path, "--show", "testing", "--user", "root")
    done = subprocess.run(
        [sys.executable, "-m", "hotpixel", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "refuses jobs launched as root" in done.stderr


# --- show


def test_a_missing_show_says_how_to_give_one(plates, tmp_path, capsys, artist, monkeypatch):
    monkeypatch.delenv("SHOW", raising=False)
    args = _submit(plates["sh010"], tmp_path, "--user", "artist", "--dry-run")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "pass --show NAME or set SHOW" in err and "only 'testing'" in err
    monkeypatch.setenv("SHOW", "film")
    assert main(args) == 0
    assert assert_valid_cjsl(capsys.readouterr().out.rstrip("\n")).findtext("show") == "film"


def test_a_show_cuebot_could_not_have_is_refused(plates, tmp_path, capsys, artist):
    args = _submit(plates["sh010"], tmp_path, "--user", "artist", "--dry-run")
    assert main([*args, "--show", "my show"]) == 2
    assert "--show 'my show' is not a name OpenCue accepts" in capsys.readouterr().err


# --- priority


def test_opencue_priority_is_sent_and_range_checked(plates, tmp_path, capsys, artist):
    spec, _ = _dry_run(capsys, plates["sh010"], tmp_path, "--priority", "75")
    assert assert_valid_cjsl(spec).findtext("job/priority") == "75"
    args = _submit(plates["sh010"], tmp_path, "--show", "testing", "--dry-run")
    assert main([*args, "--priority", "1000001"]) == 2
    assert "--priority 1000001 is out of range: OpenCue takes 0-1000000" in capsys.readouterr().err


def test_deadline_priority_is_range_checked(plates, tmp_path, capsys):
    args = ["submit", "deadline", plates["sh010"], "--out", str(tmp_path)]
    args += ["--job-dir", str(tmp_path / "jobs")]
    assert main([*args, "--priority", "101"]) == 2
    assert "--priority 101 is out of range: Deadline takes 0-100" in capsys.readouterr().err
    assert not (tmp_path / "jobs").exists()
    assert main([*args, "--priority", "100"]) == 0
    assert "Priority=100\n" in (tmp_path / "jobs" / "detect.job").read_text()


def test_plan_job_refuses_a_name_cuebot_would_not_take(plates, tmp_path):
    with pytest.raises(UsageError, match="--name 'a/b' is not a name"):
        plan_job(plates["sh010"], str(tmp_path), name="a/b")
    with pytest.raises(UsageError, match="Deadline takes 0-100"):
        deadline.job_files(plan_job(plates["sh010"], str(tmp_path)), priority=-1)
