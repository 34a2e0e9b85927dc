"""One language setting for the CLI and the app; every table in words of that language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from posturecheck.cli import main
from posturecheck.language import ENV, default_lang, locale_lang
from posturecheck.profile import load_profile
from posturecheck.report import REASONS, to_text
from posturecheck.ui.settings import load_settings

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
PHOTO = DEV / "img_dresscode_051482_pocket.jpg"
CLIP = DEV / "vid_gait_slouch_side_a.mp4"


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTURECHECK_HOME", str(tmp_path))
    for name in (ENV, "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_one_setting_env_then_settings_file_then_locale_then_chinese(home, monkeypatch):
    assert default_lang() == "zh"  # nothing says: the trainees' language
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert default_lang() == "zh" and locale_lang() is None
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert default_lang() == "en"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert default_lang() == "en"  # a language we do not have: English
    (home / "settings.json").write_text(json.dumps({"lang": "zh"}), encoding="utf-8")
    assert default_lang() == "zh" and load_settings().lang == "zh"  # the Settings page's choice
    monkeypatch.setenv(ENV, "en")
    assert default_lang() == "en" and load_settings().lang == "en"  # the env var wins, app and CLI alike
    (home / "settings.json").unlink()
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert load_settings().lang == "zh" and default_lang() == "zh"


def test_cli_and_app_share_the_default(home, monkeypatch, capsys):
    (home / "settings.json").write_text(json.dumps({"lang": "en"}), encoding="utf-8")
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == ["id", "severity"] and load_settings().lang == "en"
    (home / "settings.json").write_text(json.dumps({"lang": "zh"}), encoding="utf-8")
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[1]
    assert "规则编号" in header and "名称" in header  # `rules --lang zh` has a header
    assert "重要" in out and "秒" in out and "major" not in out and "站姿" in out


def test_chinese_messages_explain_flags_in_chinese():
    for code in ("no_standard", "badge_not_configured"):
        text = REASONS["zh"][code]
        assert "命令行" in text  # a flag is named only as the command line's, after the words saying what to do
    assert "男士" in REASONS["zh"]["no_standard"] and "女士" in REASONS["zh"]["no_standard"]


def _report(rules, kind="video", segments=()):
    return {"source": "x", "activity": "walking", "view": "side", "score": 50.0, "frames_analyzed": 10,
            "duration_s": 3.2 if kind == "video" else None, "kind": kind,
            "observations": {"hands": {"left": "in_pocket", "right": "hanging"}, "feet": "v", "legs_crossed": False,
                             "trunk_tilt_deg": 3.0},
            "rules": rules, "segments": list(segments), "warnings": []}


def test_text_table_titles_values_in_words_units_in_the_language():
    prof = load_profile()
    rules = [{"id": "posture.hands_in_pockets", "title": "手不插兜", "status": "fail", "value": 0.9, "limit": None,
              "fail_fraction": 1.0, "message": "双手不要插入衣袋。", "reason": "hands_in_pockets_p"},
             {"id": "standing.feet", "title": "脚位", "status": "pass", "value": None, "observed": "v", "limit": "≤ 1倍肩宽",
              "fail_fraction": 0.0, "message": "", "reason": None}]
    segs = [{"start_s": 0.0, "end_s": 1.8, "activity": "unknown"}, {"start_s": 1.8, "end_s": 3.2, "activity": "walking"}]
    text = to_text(_report(rules, segments=segs), "zh", prof)
    assert "手不插兜" in text and "posture.hands_in_pockets" not in text
    assert "可能性 90%" in text and "V字步" in text and "插兜" in text and "in_pocket" not in text
    assert "1.8秒" in text and not re.search(r"\ds 未知", text) and "3.2秒" in text
    with_ids = to_text(_report(rules), "zh", prof, ids=True)
    assert "posture.hands_in_pockets" in with_ids and "规则编号" in with_ids
    photo = to_text(_report(rules, kind="image"), "zh", prof)
    assert "100%" not in photo  # a photo has no share of time


@pytest.mark.skipif(not PHOTO.is_file(), reason=f"{PHOTO.name} not found beside the project (../shared)")
def test_cli_photo_table_in_the_shared_language(home, monkeypatch, capsys):
    monkeypatch.setenv(ENV, "zh")
    assert main(["analyze", str(PHOTO), "--model", "lite", "--no-face"]) == 0
    out = capsys.readouterr().out
    assert "规则" in out and "手不插兜" in out and "posture.hands_in_pockets" not in out
    for raw in ("in_pocket", "hanging", "ankle_gap_sw", "knee_angle_min_deg", "major", "minor"):
        assert raw not in out
    assert main(["analyze", str(PHOTO), "--model", "lite", "--no-face", "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["schema"] == "posturecheck.analysis/1" and all("id" in r for r in rep["rules"])
    assert rep["score"] is None or 0 <= rep["score"] <= 100
