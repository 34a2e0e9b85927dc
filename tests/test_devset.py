"""The real model on the real dev media (../shared/data/dev) compared with labels.json.

Skipped with a reason when ../shared is not beside the project. The media are
read in place, never copied into the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posturecheck.analyze import AnalyzeOptions, analyze_path
from posturecheck.evaluation import LABELS, PREDICTORS, detector_metrics, truth
from posturecheck.report import to_json

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
pytestmark = pytest.mark.skipif(not (DEV / "labels.json").is_file(),
                                reason="../shared/data/dev with labels.json is not beside the project")


@pytest.fixture(scope="module")
def results():
    labels = json.loads((DEV / "labels.json").read_text(encoding="utf-8"))
    out = {}
    for item in labels:
        rep = to_json(analyze_path(DEV / item["file"], AnalyzeOptions(model="full")))
        out[item["id"]] = (item, rep)
    return out


def test_every_dev_file_is_analysed(results):
    for item, rep in results.values():
        assert rep["person_found"], item["id"]
        assert rep["kind"] == item["kind"]
        if item["kind"] == "video":
            assert rep["frames_analyzed"] > 30 and rep["duration_s"] > 3


# Per-label floors: precision/recall/F1 and coverage measured once with the shipped models
# (out-of-sample: the posture classifiers were trained on renders only, nothing was fitted to
# these items), kept with a margin so that a regression fails. Overall agreement is not
# asserted: it hides misses of rare postures behind easy negatives.
FLOORS = {  # label: (min F1 or accuracy, min coverage); measured with model 2.8b65dd17, minus a margin
    "activity": (0.8, 0.9),
    "arms_crossed": (0.7, 0.9),
    "arms_hanging": (0.75, 0.9),
    "hands_clasped_front": (0.5, 0.9),
    "hands_on_hips": (0.5, 0.9),
    "hands_in_pockets": (0.55, 0.8),
    "feet_v_or_together": (0.7, 0.9),
    "leaning_or_slouching": (0.3, 0.75),
}


def test_per_label_agreement_with_labels(results):
    pairs = {name: [(truth(item, name), None if "error" in rep else PREDICTORS[name](rep))
                    for item, rep in results.values()] for name in LABELS}
    metrics = {name: detector_metrics(p, name) for name, p in pairs.items()}
    print("\n".join(f"{m.label:22s} n={m.n:3d} cover={m.coverage:.2f} P={m.precision:.2f} R={m.recall:.2f} "
                    f"F1={m.f1:.2f} acc={m.accuracy:.2f}" for m in metrics.values()))
    for name, (score_floor, cover_floor) in FLOORS.items():
        m = metrics[name]
        score = m.accuracy if name == "activity" else m.f1
        assert score >= score_floor and m.coverage >= cover_floor, (name, m)


def test_walking_clips(results):
    for vid in ("vid_gait_normal_side", "vid_gait_slouch_side_a"):
        _, rep = results[vid]
        assert rep["activity"] == "walking" and rep["view"] == "side"
        assert any(s["activity"] == "walking" for s in rep["segments"])
    status = {vid: {r["id"]: r["status"] for r in results[vid][1]["rules"]}
              for vid in ("vid_gait_normal_side", "vid_gait_slouch_side_a")}
    assert status["vid_gait_normal_side"]["walking.trunk_upright"] == "pass"
    assert status["vid_gait_slouch_side_a"]["walking.trunk_upright"] == "fail"


def test_squats_are_never_read_as_walking(results):
    """Squats (labelled activity "other") are neither standing, sitting nor walking. The old
    thigh-angle rule called the lowered phases "sitting"; the learned posture classifier has
    no crouch class (the corpus has no squats) and reads the clip as standing throughout,
    which is a known gap. What must hold: the clip is analysed over its whole length and
    its up-and-down motion is never taken for walking."""
    _, rep = results["vid_tfjs_squats_front"]
    assert rep["segments"] and rep["segments"][-1]["end_s"] >= 12.0
    assert all(s["activity"] != "walking" for s in rep["segments"])


def test_several_people_warned(results):
    _, rep = results["img_openpose_wii_standing"]
    assert rep["people_seen"] >= 2 and rep["warnings"]
