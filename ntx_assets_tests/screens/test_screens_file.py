"""The saved-screens file: the sample loads, and a bad file fails naming every bad screen and its problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntx_assets.screens.file import SAMPLE_FILE, SavedScreen, ScreensError, load_screens, parse_screens

GOOD = """
[[screens]]
name = "cheap"
description = "P/E under 15"
where = "pe < 15"
sort = "-turnover"
limit = 5
"""


def test_the_sample_has_three_screens_one_of_them_on_commercial_banks() -> None:
    screens = load_screens(SAMPLE_FILE)
    assert SAMPLE_FILE.name == "screens.sample.toml" and SAMPLE_FILE.parent == Path(__file__).parents[2]
    assert len(screens) >= 3
    assert len({screen.name for screen in screens}) == len(screens)
    banks = [screen for screen in screens if 'sector == "Commercial Banks"' in screen.where]
    assert banks and all(screen.description for screen in screens)


def test_a_screen_has_defaults_for_sort_and_limit() -> None:
    (screen,) = parse_screens('[[screens]]\nname = "rsi"\nwhere = "rsi_14 < 30"\n')
    assert screen == SavedScreen("rsi", "", "rsi_14 < 30", "-turnover", 20)
    assert screen.asset_name == "screen_rsi"


def test_a_bad_expression_fails_naming_the_screen_and_the_problem() -> None:
    text = GOOD + '\n[[screens]]\nname = "typo"\nwhere = "pee < 15"\n'
    with pytest.raises(ScreensError) as info:
        parse_screens(text, source="my.toml")
    message = str(info.value)
    assert "my.toml" in message
    assert "screen #2 'typo'" in message and "no column 'pee'" in message
    assert "--where" not in message  # the screen's field, not the command's option
    assert "'cheap'" not in message  # the good screen is not blamed


def test_every_bad_screen_is_named_at_once() -> None:
    text = (
        GOOD
        + '[[screens]]\nname = "syntax"\nwhere = "pe <"\n'
        + '[[screens]]\nname = "call"\nwhere = "abs(pe) < 3"\n'
        + '[[screens]]\nname = "sorted_badly"\nwhere = "pe < 3"\nsort = "-nothing"\n'
        + '[[screens]]\nname = "too_many"\nwhere = "pe < 3"\nlimit = -1\n'
        + '[[screens]]\nname = "Bad Name"\nwhere = "pe < 3"\n'
        + '[[screens]]\nname = "extra"\nwhere = "pe < 3"\nsorting = "pe"\n'
        + '[[screens]]\nname = "nowhere"\n'
        + '[[screens]]\nname = "cheap"\nwhere = "pe < 9"\n'
    )
    with pytest.raises(ScreensError) as info:
        parse_screens(text)
    message = str(info.value)
    expected = {
        "screen #2 'syntax'": "is not a valid expression",
        "screen #3 'call'": "'abs(pe)'",
        "screen #4 'sorted_badly'": "no column 'nothing'",
        "screen #5 'too_many'": "limit -1",
        "screen #6 'Bad Name'": "lower-case letters",
        "screen #7 'extra'": "unknown field(s) sorting",
        "screen #8 'nowhere'": "where is required",
        "screen #9 'cheap'": "already used by screen #1",
    }
    lines = message.splitlines()
    for label, problem in expected.items():
        assert any(label in line and problem in line for line in lines), (label, message)
    assert "8 problem(s)" in message


def test_a_file_that_is_not_toml_or_not_there_is_refused_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "screens.toml"
    broken.write_text('[[screens]]\nname = "x\n')
    with pytest.raises(ScreensError, match=r"screens\.toml: not valid TOML"):
        load_screens(broken)
    with pytest.raises(ScreensError, match="cannot be read"):
        load_screens(tmp_path / "absent.toml")
    with pytest.raises(ScreensError, match=r"\[\[screens\]\]"):
        parse_screens('screens = "pe < 3"\n')


def test_a_long_where_may_span_lines() -> None:
    (screen,) = parse_screens(
        '[[screens]]\nname = "banks"\nwhere = """sector == "Commercial Banks"\n   and npl_pct < 5"""\n'
    )
    assert screen.where == 'sector == "Commercial Banks" and npl_pct < 5'
