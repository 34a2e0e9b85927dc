"""Profiles and settings.json are checked against their schema (issue 14): one clear message naming
the file and the field, never a traceback; a bad settings field falls back to its default."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from posturecheck.cli import main
from posturecheck.profile import ProfileError, load_profile
from posturecheck.ui.settings import AppSettings, load_settings, load_settings_checked

DEFAULT = resources.files("posturecheck.profiles").joinpath("default.toml").read_text(encoding="utf-8")
TRUNK = 'feature = "ankle_gap_sw"\nmax = 1.0\n'


def profile_file(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "bad.toml"
    path.write_bytes(text.encode(encoding))
    return path


HEAD = 'schema = "posturecheck.profile/1"\n'
CASES = {
    "rules = 5": (HEAD + "rules = 5\n", "rules: expected a list of tables"),
    'defaults = "x"': (HEAD + 'defaults = "x"\n', "defaults: expected a table"),
    "checks = [1]": (HEAD + '[[rules]]\nid = "standing.trunk_upright"\nchecks = [1]\n'
                     'title = { en = "a", zh = "b" }\nmessage = { en = "a", zh = "b" }\n',
                     "rule standing.trunk_upright.checks[0]: expected a table"),
    "standard = 5": (DEFAULT.replace('id = "standing.feet"\n', 'id = "standing.feet"\nstandard = 5\n', 1),
                     "rule standing.feet.standard: expected a table"),
    "max = -5": (DEFAULT.replace(TRUNK, 'feature = "ankle_gap_sw"\nmax = -5\n', 1),
                 "checks[1].max: -5 can never be met"),
    "abs max = -5": (DEFAULT.replace("abs = true\nmax = 10", "abs = true\nmax = -5", 1), "can never be met"),
    "max = nan": (DEFAULT.replace(TRUNK, 'feature = "ankle_gap_sw"\nmax = nan\n', 1), "expected a finite number"),
    "min = -inf": (DEFAULT.replace(TRUNK, 'feature = "ankle_gap_sw"\nmin = -inf\nmax = 1.0\n', 1),
                   "expected a finite number"),
    "negative duration": (DEFAULT.replace('id = "standing.feet"\n', 'id = "standing.feet"\nmin_duration_s = -1\n', 1),
                          "min_duration_s: a duration cannot be negative"),
    "negative default duration": (DEFAULT.replace("min_duration_s = 1.0\n", "min_duration_s = -2.0\n", 1),
                                  "defaults.min_duration_s: a duration cannot be negative"),
    'activities = ["flying"]': (DEFAULT.replace('activities = ["standing"]', 'activities = ["flying"]', 1),
                                "activities: unknown ['flying']"),
    'equals = "yes"': (DEFAULT.replace('feature = "arms_crossed_p"\nfail_above = 0.6\npass_below = 0.4',
                                          'feature = "arms_crossed"\nequals = "yes"', 1),
                          "equals: expected true or false"),
    "unknown rule id": (DEFAULT.replace('id = "standing.feet"', 'id = "standing.flying"', 1),
                        "unknown rule id 'standing.flying'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_profiles_are_refused_naming_file_and_field(tmp_path, capsys, case):
    text, words = CASES[case]
    path = profile_file(tmp_path, text)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert str(err.value).startswith(str(path)) and words in str(err.value), str(err.value)
    assert err.value.message_zh and "\n" not in str(err.value)
    code = main(["rules", "--profile", str(path), "--lang", "en"])
    out, errout = capsys.readouterr()
    assert code == 2 and words in errout and "Traceback" not in errout


def test_equals_yes_no_longer_changes_a_score(tmp_path):
    """`equals = "yes"` was truthy and flipped a rule's meaning; now it is refused outright."""
    with pytest.raises(ProfileError, match="equals"):
        load_profile(profile_file(tmp_path, DEFAULT.replace("equals = false", 'equals = "yes"')))


def test_gbk_profile_is_one_clear_line(tmp_path, capsys):
    path = profile_file(tmp_path, DEFAULT, encoding="gbk")
    with pytest.raises(ProfileError, match="not UTF-8 text") as err:
        load_profile(path)
    assert "UTF-8" in err.value.message_zh and str(path) in str(err.value)
    code = main(["analyze", str(path), "--profile", str(path), "--lang", "zh"])
    _, errout = capsys.readouterr()
    assert code == 2 and "不是 UTF-8 编码" in errout and "Traceback" not in errout


def test_default_profile_still_loads():
    profile = load_profile()
    assert {"standing.trunk_upright", "grooming.hair_collar", "grooming.hair_tied"} <= set(profile.ids)


def write_settings(home: Path, data: object) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")


@pytest.mark.parametrize("field,value,words_en,words_zh", [
    ("max_upload_mb", "abc", "expected a whole number from 1 to 4096", "整数"),
    ("keep_video", "no", "expected true or false", "true 或 false"),
    ("keep_video", 1, "expected true or false", "true 或 false"),
    ("kiosk_idle_s", "x", "expected a number from 5 to 3600", "数字"),
    ("kiosk_idle_s", float("nan"), "expected a number", "数字"),
    ("lang", "fr", "expected one of zh, en", "应为以下之一"),
    ("ice_servers", [{"urls": "http://x"}], "urls must start with", "ICE"),
])
def test_bad_settings_field_gets_its_default_and_one_clear_message(tmp_path, field, value, words_en, words_zh):
    home = tmp_path / "home"
    write_settings(home, {"lang": "en", "max_upload_mb": 300, field: value} if field != "lang" else {field: value})
    settings, problems = load_settings_checked(home)
    assert getattr(settings, field) == getattr(AppSettings(), field)  # that field's default
    if field not in ("max_upload_mb", "lang"):
        assert settings.max_upload_mb == 300  # the good fields are kept
    assert len(problems) == 1 and problems[0].field == field
    assert str(home / "settings.json") in problems[0].en and f"`{field}`" in problems[0].en
    assert words_en in problems[0].en and words_zh in problems[0].zh


def test_keep_video_no_does_not_turn_recording_on(tmp_path):
    write_settings(tmp_path, {"keep_video": "no"})
    assert load_settings(tmp_path).keep_video is False


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\xff\xfe garbage"])
def test_unreadable_settings_file_gives_defaults(tmp_path, text):
    write_settings(tmp_path, text)
    settings, problems = load_settings_checked(tmp_path)
    assert settings == AppSettings() and len(problems) == 1 and "settings.json" in problems[0].en


def test_app_shows_the_settings_problem_and_still_runs(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    home = tmp_path / "home"
    monkeypatch.setenv("POSTURECHECK_HOME", str(home))
    write_settings(home, {"lang": "en", "max_upload_mb": "abc", "kiosk_idle_s": "x"})
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.session_state["pc_webrtc_streamer"] = lambda **kw: None
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "`max_upload_mb`" in warnings and "`kiosk_idle_s`" in warnings
