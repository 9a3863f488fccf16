"""Sequences: pattern parsing, discovery on disk, frame ranges, gaps and mirrored windows."""

from __future__ import annotations

import os
import threading

import pytest

from hotpixel.detect.windows import ReadAhead, plan_windows, window_frames
from hotpixel.errors import InputError, SequenceError
from hotpixel.io.sequence import (
    FramePattern,
    discover,
    parse_frame_range,
    parse_pattern,
    select_frames,
)


def _touch(folder, *names: str) -> str:
    """Create empty files (discovery reads names only, never pixels); return the folder."""
    os.makedirs(folder, exist_ok=True)
    for name in names:
        with open(os.path.join(folder, name), "wb"):
            pass
    return str(folder)


def _frames(folder, template: str, frames) -> str:
    return _touch(folder, *(template.format(f) for f in frames))


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prefix", "suffix", "padding", "embedded"),
    [
        ("shot.####.exr", "shot.", ".exr", 4, None),
        ("shot.@@@@.exr", "shot.", ".exr", 4, None),
        ("shot.#.exr", "shot.", ".exr", 1, None),
        ("shot.%04d.exr", "shot.", ".exr", 4, None),
        ("shot.%06d.dpx", "shot.", ".dpx", 6, None),
        ("shot.%d.exr", "shot.", ".exr", 0, None),
        ("shot.$F4.exr", "shot.", ".exr", 4, None),
        ("shot.$F.exr", "shot.", ".exr", 0, None),
        ("shot.1001-1100#.exr", "shot.", ".exr", 4, (1001, 1100)),
        ("shot.1001-1100####.exr", "shot.", ".exr", 4, (1001, 1100)),
        ("shot.1-50@@@.exr", "shot.", ".exr", 3, (1, 50)),
        ("shot_v002_####.tif", "shot_v002_", ".tif", 4, None),
    ],
)
def test_parse_pattern_forms(text, prefix, suffix, padding, embedded):
    pattern = parse_pattern(os.path.join("plates", text))
    assert pattern.directory == "plates"
    assert (pattern.prefix, pattern.suffix, pattern.padding) == (prefix, suffix, padding)
    assert pattern.embedded_range == embedded


def test_parse_pattern_without_token_names_the_forms():
    with pytest.raises(SequenceError, match=r"'plates/shot\.exr' has no frame token; use shot"):
        parse_pattern("plates/shot.exr")


def test_pattern_path_and_display():
    pattern = parse_pattern("plates/shot.####.exr")
    assert pattern.path(1001) == os.path.join("plates", "shot.1001.exr")
    assert pattern.path(7) == os.path.join("plates", "shot.0007.exr")
    assert pattern.path(10000) == os.path.join("plates", "shot.10000.exr")
    assert pattern.path(-12) == os.path.join("plates", "shot.-0012.exr")
    assert pattern.display() == os.path.join("plates", "shot.####.exr")
    assert parse_pattern("plates/shot.%d.exr").display() == os.path.join("plates", "shot.%d.exr")


@pytest.mark.parametrize(
    ("padding", "name", "frame"),
    [
        (4, "shot.1001.exr", 1001),
        (4, "shot.0007.exr", 7),
        (4, "shot.10000.exr", 10000),  # above the padding: more digits, no leading zero
        (4, "shot.-0003.exr", -3),
        (4, "shot.007.exr", None),  # too few digits for ####
        (4, "shot.01001.exr", None),  # padded to 5: another sequence
        (4, "shot.1001.exr.bak", None),
        (4, "shot.1001.tif", None),
        (4, "shot.abcd.exr", None),
        (0, "shot.7.exr", 7),
        (0, "shot.1001.exr", 1001),
        (0, "shot.007.exr", None),  # unpadded sequences have no leading zeros
    ],
)
def test_pattern_match(padding, name, frame):
    assert FramePattern("", "shot.", ".exr", padding).match(name) == frame


# --- discovery ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "template"),
    [
        ("####", "shot.{:04d}.exr"),
        ("%04d", "shot.{:04d}.exr"),
        ("$F4", "shot.{:04d}.exr"),
        ("@@@@", "shot.{:04d}.exr"),
        ("%d", "shot.{}.exr"),
        ("$F", "shot.{}.exr"),
    ],
)
def test_discover_each_pattern_form(tmp_path, token, template):
    folder = _frames(tmp_path / "plate", template, range(1001, 1006))
    _touch(folder, "shot.1001.exr.bak", "other.1001.exr", "shot.1001.tif", "notes.txt")
    seq = discover(os.path.join(folder, f"shot.{token}.exr"))
    assert seq.frames == (1001, 1002, 1003, 1004, 1005)
    assert seq.path(1003) == os.path.join(folder, template.format(1003))
    assert (seq.first, seq.last, seq.missing()) == (1001, 1005, [])


def test_unpadded_pattern_finds_every_width(tmp_path):
    folder = _frames(tmp_path / "p", "shot.{}.exr", [1, 2, 9, 10, 11, 100])
    _touch(folder, "shot.03.exr")  # zero-padded: not part of an unpadded sequence
    seq = discover(os.path.join(folder, "shot.%d.exr"))
    assert seq.frames == (1, 2, 9, 10, 11, 100)
    assert seq.segments() == [(1, 2), (9, 11), (100, 100)]


def test_embedded_range_limits_the_frames(tmp_path):
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", range(998, 1010))
    seq = discover(os.path.join(folder, "shot.1001-1005#.exr"))
    assert seq.frames == (1001, 1002, 1003, 1004, 1005)
    assert seq.pattern.embedded_range == (1001, 1005)


def test_embedded_range_with_no_frames_inside_is_an_error(tmp_path):
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", range(1001, 1004))
    with pytest.raises(SequenceError, match=r"no frames match .*shot\.####\.exr; check the path"):
        discover(os.path.join(folder, "shot.2001-2010#.exr"))


def test_frames_above_the_padding_belong_to_the_sequence(tmp_path):
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", [9998, 9999, 10000, 10001])
    seq = discover(os.path.join(folder, "shot.####.exr"))
    assert seq.frames == (9998, 9999, 10000, 10001)
    assert seq.path(10000) == os.path.join(folder, "shot.10000.exr")
    assert seq.missing() == []


def test_directory_sequence_crossing_ten_thousand_is_one_sequence(tmp_path):
    """Regression (fixed): directory discovery keys groups by digit count: 9999 (####) and 10000
    (#####) become two sequences (sequence.py _discover_directory padding heuristic)
    """
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", [9998, 9999, 10000, 10001])
    seq = discover(folder)
    assert seq.frames == (9998, 9999, 10000, 10001)
    assert seq.pattern.padding == 4


def test_directory_unpadded_sequence_crossing_a_thousand_is_one_sequence(tmp_path):
    """Regression (fixed): directory discovery splits an unpadded 998..1001 into %d and ####
    sequences (sequence.py _discover_directory padding heuristic)
    """
    folder = _frames(tmp_path / "p", "shot.{}.exr", [998, 999, 1000, 1001])
    assert discover(folder).frames == (998, 999, 1000, 1001)


def test_negative_frames(tmp_path):
    names = ["shot.-0002.exr", "shot.-0001.exr", "shot.0000.exr", "shot.0001.exr", "shot.0002.exr"]
    folder = _touch(tmp_path / "p", *names)
    seq = discover(os.path.join(folder, "shot.####.exr"))
    assert seq.frames == (-2, -1, 0, 1, 2)
    assert seq.path(-2) == os.path.join(folder, "shot.-0002.exr")
    assert seq.pattern.path(-2) == seq.path(-2)
    assert discover(folder).frames == (-2, -1, 0, 1, 2)
    assert dict(plan_windows(seq.frames, [-2]))[-2] == (0, -1, -2, -1, 0)


def test_dash_separated_frames_in_a_directory_are_positive(tmp_path):
    """Regression (fixed): _FILE_FRAME takes the '-' of a 'shot-1001.exr' separator as a minus
    sign: the directory is read as frames -1003..-1001 with prefix 'shot' (sequence.py
    _FILE_FRAME)
    """
    folder = _frames(tmp_path / "p", "shot-{:04d}.exr", range(1001, 1004))
    seq = discover(folder)
    assert seq.frames == (1001, 1002, 1003)
    assert seq.pattern.prefix == "shot-"


def test_dash_separated_frames_with_a_pattern(tmp_path):
    folder = _frames(tmp_path / "p", "shot-{:04d}.exr", range(1001, 1004))
    assert discover(os.path.join(folder, "shot-####.exr")).frames == (1001, 1002, 1003)


def test_directory_holding_one_sequence(tmp_path):
    folder = _frames(tmp_path / "p", "plate_v001.{:04d}.exr", range(1001, 1011))
    _touch(folder, "notes.txt", "contact.pdf", "thumbs.db")  # not images: ignored
    seq = discover(folder)
    assert seq.frames == tuple(range(1001, 1011))
    assert (seq.pattern.prefix, seq.pattern.suffix, seq.pattern.padding) == (
        "plate_v001.",
        ".exr",
        4,
    )
    assert seq.pattern.display() == os.path.join(folder, "plate_v001.####.exr")


def test_directory_holding_two_sequences_lists_both(tmp_path):
    folder = _frames(tmp_path / "p", "bg.{:04d}.exr", range(1001, 1004))
    _frames(folder, "fg.{:04d}.exr", range(1001, 1004))
    with pytest.raises(SequenceError) as info:
        discover(folder)
    message = str(info.value)
    assert "holds 2 sequences" in message
    assert os.path.join(folder, "bg.####.exr") in message
    assert os.path.join(folder, "fg.####.exr") in message
    assert "pass one pattern" in message


def test_empty_directory_is_an_error(tmp_path):
    folder = _touch(tmp_path / "empty", "readme.txt")
    with pytest.raises(SequenceError, match=r"holds no image sequence \(looked for \.exr"):
        discover(folder)


def test_missing_folder_and_no_match_are_errors(tmp_path):
    with pytest.raises(SequenceError, match="does not exist"):
        discover(str(tmp_path / "nowhere" / "shot.####.exr"))
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", [1, 2])
    with pytest.raises(SequenceError, match=r"no frames match .*shot\.###\.exr"):
        discover(os.path.join(folder, "shot.###.exr"))  # 0001 is not a ### frame
    with pytest.raises(SequenceError, match=r"no frames match .*shot\.####\.dpx"):
        discover(os.path.join(folder, "shot.####.dpx"))


def test_sequence_errors_are_input_errors():
    assert issubclass(SequenceError, InputError) and SequenceError.exit_code == 3


def test_single_image_file(tmp_path):
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", range(1001, 1006))
    seq = discover(os.path.join(folder, "shot.1003.exr"))
    assert seq.frames == (1003,)  # one frame, not its whole sequence
    assert seq.path(1003) == os.path.join(folder, "shot.1003.exr")
    assert seq.pattern.padding == 4
    _touch(folder, "still.exr")
    still = discover(os.path.join(folder, "still.exr"))
    assert still.frames == (1,)
    assert still.path(1) == os.path.join(folder, "still.exr")


# --- frame ranges and gaps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ("1001-1100", list(range(1001, 1101))),
        ("1001", [1001]),
        ("1001-1005,1010-1012", [1001, 1002, 1003, 1004, 1005, 1010, 1011, 1012]),
        ("1001-1003, 1002-1004", [1001, 1002, 1003, 1004]),
        (" 1005 ,1001", [1001, 1005]),
        ("-3--1", [-3, -2, -1]),
        ("-2-1", [-2, -1, 0, 1]),
    ],
)
def test_parse_frame_range(text, frames):
    assert parse_frame_range(text) == frames


@pytest.mark.parametrize("text", ["", "abc", "1001-", "1001:1100", "1001-1100y2", "1001,,1002"])
def test_parse_frame_range_rejects_bad_text(text):
    with pytest.raises(SequenceError, match="is not understood; write it as FIRST-LAST"):
        parse_frame_range(text)


def test_parse_frame_range_rejects_reversed_range():
    with pytest.raises(SequenceError, match=r"'1100-1001' ends before it starts"):
        parse_frame_range("1100-1001")


def test_gap_error_names_frame_ranges_and_fix(tmp_path):
    folder = _frames(tmp_path / "p", "shot.{:04d}.exr", [1001, 1002, 1004, 1005])
    seq = discover(os.path.join(folder, "shot.####.exr"))
    assert seq.missing() == [1003]
    with pytest.raises(SequenceError) as info:
        select_frames(seq, None, allow_gaps=False)
    assert str(info.value) == (
        f"frame 1003 is missing from {os.path.join(folder, 'shot.####.exr')} "
        "(found 1001-1002, 1004-1005); pass --frames or --allow-gaps"
    )


def test_several_gaps_are_all_named(tmp_path):
    frames = [1001, 1002, 1004, 1005, 1008, 1009]
    seq = discover(
        os.path.join(_frames(tmp_path / "p", "shot.{:04d}.exr", frames), "shot.####.exr")
    )
    with pytest.raises(SequenceError) as info:
        select_frames(seq, None, allow_gaps=False)
    message = str(info.value)
    assert message.startswith("frames 1003, 1006-1007 are missing from ")
    assert "(found 1001-1002, 1004-1005, 1008-1009)" in message
    assert message.endswith("pass --frames or --allow-gaps")


def test_gaps_allowed_or_avoided(tmp_path):
    frames = [1001, 1002, 1004, 1005]
    seq = discover(
        os.path.join(_frames(tmp_path / "p", "shot.{:04d}.exr", frames), "shot.####.exr")
    )
    assert select_frames(seq, None, allow_gaps=True) == [1001, 1002, 1004, 1005]
    assert select_frames(seq, parse_frame_range("1004-1005"), allow_gaps=False) == [1004, 1005]
    with pytest.raises(SequenceError, match=r"frames 1006-1010 are missing"):
        select_frames(seq, parse_frame_range("1001-1002,1006-1010"), allow_gaps=False)
    with pytest.raises(SequenceError, match=r"none of the requested frames 2001-2002 exist"):
        select_frames(seq, [2001, 2002], allow_gaps=True)


# --- mirrored windows -----------------------------------------------------------------------


def test_window_at_the_start_and_end_mirrors_without_repeating_the_edge():
    assert window_frames(1001, (1001, 1100)) == (1003, 1002, 1001, 1002, 1003)
    assert window_frames(1050, (1001, 1100)) == (1048, 1049, 1050, 1051, 1052)
    assert window_frames(1100, (1001, 1100)) == (1098, 1099, 1100, 1099, 1098)


@pytest.mark.parametrize(
    ("count", "windows"),
    [
        (1, [(1, 1, 1, 1, 1)]),
        (2, [(2, 2, 1, 2, 2), (1, 1, 2, 1, 1)]),
        (3, [(3, 2, 1, 2, 3), (1, 1, 2, 3, 3), (1, 2, 3, 2, 1)]),
        (4, [(3, 2, 1, 2, 3), (4, 1, 2, 3, 4), (1, 2, 3, 4, 1), (2, 3, 4, 3, 2)]),
    ],
)
def test_short_sequences(count, windows):
    frames = list(range(1, count + 1))
    assert [window_frames(f, (1, count)) for f in frames] == windows
    assert [numbers for _, numbers in plan_windows(frames, frames)] == windows


@pytest.mark.parametrize("frame", [1002, 1099])
def test_centre_is_not_its_own_neighbour_in_a_long_run(frame):
    """Regression: reflect-101 about the run's edge gave frame 1002 the window
    (1002, 1001, 1002, 1003, 1004), repeating a one-frame defect in slot 0."""
    numbers = window_frames(frame, (1001, 1100))
    assert numbers[2] == frame
    assert frame not in numbers[:2] + numbers[3:]


def test_no_window_repeats_its_centre_unless_the_run_is_one_frame():
    for count in range(2, 9):
        for f in range(1, count + 1):
            numbers = window_frames(f, (1, count))
            assert f not in numbers[:2] + numbers[3:], (count, f, numbers)
            assert all(1 <= n <= count for n in numbers)


def test_window_of_other_lengths():
    assert window_frames(1, (1, 10), length=3) == (2, 1, 2)
    assert window_frames(10, (1, 10), length=7) == (7, 8, 9, 10, 9, 8, 7)


def test_windows_mirror_around_a_gap():
    available = [*range(1001, 1006), *range(1008, 1013)]  # 1006, 1007 missing
    plan = dict(plan_windows(available, available))
    assert plan[1004] == (1002, 1003, 1004, 1005, 1002)
    assert plan[1005] == (1003, 1004, 1005, 1004, 1003)
    assert plan[1008] == (1010, 1009, 1008, 1009, 1010)
    assert plan[1009] == (1011, 1008, 1009, 1010, 1011)
    assert all(n not in (1006, 1007) for numbers in plan.values() for n in numbers)


def test_lone_frame_between_gaps_is_its_own_window():
    available = [1001, 1002, 1003, 1005, 1007, 1008, 1009]
    assert dict(plan_windows(available, [1005]))[1005] == (1005,) * 5


def test_chunk_reads_real_neighbours_outside_its_targets():
    available = list(range(1001, 1101))
    targets = [1050, 1051, 1052]
    plan = plan_windows(available, targets)
    assert [f for f, _ in plan] == targets
    assert plan[0][1] == (1048, 1049, 1050, 1051, 1052)
    assert plan[2][1] == (1050, 1051, 1052, 1053, 1054)
    # the same windows as when the whole shot is planned
    whole = dict(plan_windows(available, available))
    assert all(whole[f] == numbers for f, numbers in plan)

    loaded: list[int] = []
    lock = threading.Lock()

    def load(n: int) -> int:
        with lock:
            loaded.append(n)
        return n * 10

    got = [(f, items) for f, _, items in ReadAhead(plan, load).windows()]
    assert sorted(loaded) == list(range(1048, 1055))  # each frame decoded once
    assert got[1] == (1051, (10490, 10500, 10510, 10520, 10530))


def test_chunk_at_the_shot_start_mirrors_into_the_shot_not_the_chunk():
    plan = dict(plan_windows(range(1001, 1011), [1001, 1002]))
    assert plan[1001] == (1003, 1002, 1001, 1002, 1003)
    assert plan[1002] == (1004, 1001, 1002, 1003, 1004)


def test_a_step_range_is_refused_naming_the_step_and_the_plain_range():
    """Nuke users write 1001-1100x2; the engine says it takes FIRST-LAST only."""
    with pytest.raises(SequenceError, match=r"has a step \(2\).*give FIRST-LAST, e\.g\. 1001-1100"):
        parse_frame_range("1001-1100x2")
