"""Reference poses: similarity score, shipped references, `reference add` and `analyze --reference`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from posturecheck.cli import main
from posturecheck.reference import (JOINTS, ReferenceError, ReferencePose, compare, joint_angle, list_references,
                                    load_reference, procrustes)
from posturecheck.report import to_text

from skeleton import rotate, set_arm, upright, yaw

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
PHOTO = DEV / "img_imper_women1.jpg"


def _ref(world: np.ndarray) -> ReferencePose:
    return ReferencePose("test", "", "synthetic test", "", world, np.ones(33))


def _posed() -> np.ndarray:
    return set_arm(upright(), "left", (0.21, -0.26, -0.03), (0.03, -0.04, -0.16))


def test_identical_pose_scores_100():
    sim = compare(_posed(), np.ones(33), _ref(_posed()))
    assert sim.score == pytest.approx(100.0)
    assert len(sim.joints) == len(JOINTS)
    assert sim.aligned_rms == pytest.approx(0.0, abs=1e-9)


def test_turned_scaled_moved_copy_still_scores_100():
    body = yaw(_posed(), 35.0) * 1.3 + np.array([0.4, -0.2, 1.0])
    sim = compare(body, np.ones(33), _ref(_posed()))
    assert sim.score == pytest.approx(100.0, abs=0.5)
    assert sim.aligned_rms == pytest.approx(0.0, abs=1e-6)


def test_procrustes_recovers_a_similarity():
    src = _posed()
    dst = 0.7 * rotate(src, range(33), "z", 20.0, (0, 0, 0)) + 0.5
    s, r, t = procrustes(src, dst)
    assert s == pytest.approx(0.7)
    assert np.allclose(s * src @ r.T + t, dst, atol=1e-9)


def test_bent_elbow_is_the_worst_joint():
    ref = _ref(upright())
    body = upright()
    elbow, wrist = body[14], body[16]
    body = rotate(body, (16, 18, 20, 22), "x", 40.0, elbow)  # forearm forward by 40°
    assert np.linalg.norm(body[16] - elbow) == pytest.approx(np.linalg.norm(wrist - elbow))
    sim = compare(body, np.ones(33), ref)
    assert sim.score < 97
    assert sim.worst[0].joint == "right elbow"
    assert abs(sim.worst[0].diff_deg) == pytest.approx(40.0, abs=3.0)
    obs = sim.to_dict()
    assert obs["worst"][0]["joint"] == "right elbow" and len(obs["worst"]) == 3


def test_hidden_landmarks_leave_their_joints_out():
    vis = np.ones(33)
    vis[[15, 16]] = 0.1  # wrists hidden: no elbow angles
    sim = compare(upright(), vis, _ref(upright()))
    assert {j.joint for j in sim.joints}.isdisjoint({"left elbow", "right elbow"})
    assert compare(upright(), np.zeros(33), _ref(upright())).score is None


def test_shipped_references_load_with_provenance():
    refs = {r.name: r for r in list_references()}
    assert {"man_v_stance", "woman_v_stance", "woman_t_stance", "sitting"} <= set(refs)
    for ref in refs.values():
        assert ref.source.startswith("synthetic: built by scripts/make_reference_poses.py")
        assert ref.world.shape == (33, 3) and ref.description
    sit = load_reference("sitting")
    knee = dict(JOINTS)["left knee"]
    assert joint_angle(sit.world, knee) == pytest.approx(90.0, abs=5.0)
    assert compare(sit.world, sit.visibility, load_reference("man_v_stance")).score < 80
    with pytest.raises(ReferenceError):
        load_reference("no_such_pose")


def test_text_report_line():
    report = {"observations": {"reference": compare(upright(), np.ones(33), _ref(_posed())).to_dict()}}
    from posturecheck.report import _reference_lines

    line = _reference_lines(report["observations"], "en")[0]
    assert line.startswith("Similarity to test: ") and "left elbow" in line
    assert "左肘" in _reference_lines(report["observations"], "zh")[0]


def test_bad_file_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTURECHECK_HOME", str(tmp_path))
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert main(["reference", "add", "mine", str(bad), "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("posturecheck: ") and "\n" not in err
    assert main(["reference", "add", "bad name!", str(bad), "--lang", "en"]) == 2
    assert main(["reference", "add", "sitting", str(bad), "--lang", "en"]) == 2  # shipped name
    assert not (tmp_path / "reference_poses").exists()


@pytest.mark.skipif(not PHOTO.exists(), reason=f"dev photo {PHOTO} absent (../shared not mounted)")
def test_add_from_photo_then_analyze_against_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTURECHECK_HOME", str(tmp_path))
    assert main(["reference", "add", "trainer_a", str(PHOTO), "--description", "Ms A", "--lang", "en"]) == 0
    saved = tmp_path / "reference_poses" / "trainer_a.json"
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["source"].endswith(PHOTO.name) and len(data["world"]) == 33
    assert main(["reference", "add", "trainer_a", str(PHOTO), "--lang", "en"]) == 2  # exists: needs --force
    capsys.readouterr()
    assert main(["reference", "list", "--lang", "en"]) == 0
    assert "trainer_a" in capsys.readouterr().out
    assert main(["analyze", str(PHOTO), "--reference", "trainer_a", "--format", "json", "--no-face",
                 "--lang", "en"]) == 0
    report = json.loads(capsys.readouterr().out)
    ref = report["observations"]["reference"]
    assert ref["name"] == "trainer_a" and ref["score"] >= 95
    assert "Similarity to trainer_a" in to_text(report, "en")
    assert main(["analyze", str(PHOTO), "--reference", "nobody", "--no-face", "--lang", "en"]) == 2
