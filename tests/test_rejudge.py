"""Judging is its own stage: stored model answers judged again give what a full analysis gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from posturecheck.analyze import AnalyzeOptions, analyze_path, rejudge
from posturecheck.report import to_json

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
CLIP = DEV / "vid_gait_normal_side.mp4"

pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason=f"dev clip {CLIP.name} not found beside the project (../shared)")


def _same(a: dict, b: dict) -> None:
    assert a["score"] == b["score"] and a["activity"] == b["activity"]
    assert [(r["id"], r["status"], r["value"], r["fail_fraction"]) for r in a["rules"]] == \
           [(r["id"], r["status"], r["value"], r["fail_fraction"]) for r in b["rules"]]
    assert a["warnings"] == b["warnings"] and a["observations"] == b["observations"]


def test_rejudge_matches_a_fresh_analysis_without_running_the_model(monkeypatch):
    full = analyze_path(CLIP, AnalyzeOptions(model="lite"), keep_detections=True)
    assert full.detections is not None and len(full.detections.frames) == full.frames_analyzed
    forced = analyze_path(CLIP, AnalyzeOptions(model="lite", activity="standing", standard="women"))

    import posturecheck.analyze as analyze

    def no_model(*a, **k):
        raise AssertionError("rejudge must not run a model")

    monkeypatch.setattr(analyze, "PoseEstimator", no_model)
    monkeypatch.setattr(analyze, "FaceEstimator", no_model)
    _same(to_json(rejudge(full.detections, AnalyzeOptions(model="lite")), "en"), to_json(full, "en"))
    again = rejudge(full.detections, AnalyzeOptions(model="lite", activity="standing", standard="women"))
    _same(to_json(again, "en", "women"), to_json(forced, "en", "women"))
    assert again.activity == "standing" != full.activity
