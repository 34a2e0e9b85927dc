"""Grooming and expression: head pose and smile geometry on committed mesh fixtures, image
measurements on synthetic pictures, standards, the greeting drill, the face stage in
`analyze_path`, and (when ../shared is present) the real model on real faces.

Fixtures (tests/fixtures/face/*.json) hold face-mesh landmarks extracted from
../shared/data/grooming_dev by scripts/evaluate_grooming.py --write-fixtures: landmarks and
labels only, no pixels.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from posturecheck.analyze import AnalyzeOptions, FrameAnalyzer, analyze_path
from posturecheck.face import (FaceLandmarks, FaceResult, FaceSampler, ReplayFaceEstimator, crop_square,
                               head_box)
from posturecheck.grooming import (CANONICAL_BASIS, CANONICAL_MOUTH_WIDTH_CM, CHIN, FACE_FEATURE_NAMES,
                                   chin_polygon, shrink_polygon,
                                   HAIR_FOREHEAD_SPAN, NEUTRAL_FACE_PITCH_DEG, UPPER_LIP, FaceFeatures, applies_to_standard,
                                   collar_polygon, ear_polygon, face_body_disagree, face_flags,
                                   face_observation, fit_head_pose, forehead_polygon, gaze_yaw,
                                   greeting_observation, grooming_verdicts, hair_forehead_polygon,
                                   loose_polygon, measure_badge, measure_face, measure_hair, measure_regions,
                                   parse_color, smile_lift, smile_score)
from posturecheck.hair import HairMask
from posturecheck.landmarks import load_fixture
from posturecheck.pose import PoseResult, ReplayEstimator
from posturecheck.profile import load_profile
from posturecheck.report import to_json, to_text
from posturecheck.rules import FAIL, PASS, UNKNOWN

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "face"
DEV_FIX = HERE / "fixtures" / "dev"
SHARED = HERE.parents[1] / "shared" / "data"
GROOMING = SHARED / "grooming_dev"
DEV = SHARED / "dev"
PROFILE = load_profile()
FACE_KEYS = {"found", "yaw_deg", "pitch_deg", "roll_deg", "smile_score", "smiling", "bangs", "ears_covered", "beard"}
SKIN_RGB = (205, 160, 130)
HAIR_RGB = (50, 35, 25)
STUBBLE_RGB = (95, 92, 90)   # grey stubble: no redness


def fixture(name: str) -> tuple[FaceLandmarks, dict]:
    d = json.loads((FIX / f"{name}.json").read_text(encoding="utf-8"))
    return FaceLandmarks.from_dict(d["face"]), d["labels"]


def all_fixtures() -> list[tuple[str, FaceLandmarks, dict]]:
    return [(p.stem, *fixture(p.stem)) for p in sorted(FIX.glob("*.json"))]


def rot(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Rotation in the camera frame (x right, y up, z to camera) that turns a frontal face by these angles."""
    y, p, r = math.radians(yaw), -math.radians(pitch), math.radians(roll)  # chin up turns the normal up
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(-r), -math.sin(-r), 0], [math.sin(-r), math.cos(-r), 0], [0, 0, 1]])
    return ry @ rx @ rz


def synthetic_mesh(rotation: np.ndarray, scale: float = 12.0, centre=(320.0, 240.0)) -> np.ndarray:
    """A 478-point mesh whose Procrustes-basis points are the canonical face, posed and projected."""
    pts = np.zeros((478, 3))
    can = np.array([b[2:] for b in CANONICAL_BASIS])
    cam = scale * can @ rotation.T
    px = np.stack([cam[:, 0] + centre[0], -cam[:, 1] + centre[1], -cam[:, 2]], axis=1)
    pts[[b[0] for b in CANONICAL_BASIS]] = px
    return pts


def rotate_mesh(points: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Rotate a real mesh about its centroid in the camera frame."""
    cam = points * np.array([1.0, -1.0, -1.0])
    c = cam.mean(axis=0)
    return ((cam - c) @ rotation.T + c) * np.array([1.0, -1.0, -1.0])


# ============================================================================ head pose


@pytest.mark.parametrize("yaw, pitch, roll", [(0, 0, 0), (30, 0, 0), (-25, 0, 0), (0, 20, 0), (0, -20, 0),
                                              (0, 0, 15), (0, 0, -12), (20, -10, 8)])
def test_head_pose_recovers_known_rotations(yaw, pitch, roll):
    pose = fit_head_pose(synthetic_mesh(rot(yaw, pitch, roll) @ rot(pitch=NEUTRAL_FACE_PITCH_DEG)))
    assert pose.yaw_deg == pytest.approx(yaw, abs=0.5)
    assert pose.pitch_deg == pytest.approx(pitch, abs=0.5)
    assert pose.roll_deg == pytest.approx(roll, abs=0.5)
    assert pose.scale == pytest.approx(12.0, rel=1e-6)
    assert pose.fit_error_cm < 1e-6


def test_head_pose_sign_conventions_in_the_image():
    base = synthetic_mesh(rot(pitch=NEUTRAL_FACE_PITCH_DEG))
    turned_left = synthetic_mesh(rot(yaw=20, pitch=NEUTRAL_FACE_PITCH_DEG))
    assert turned_left[4, 0] > base[4, 0]  # own left = image right: the nose moves right
    chin_up = synthetic_mesh(rot(pitch=NEUTRAL_FACE_PITCH_DEG + 20))
    assert chin_up[4, 1] < base[4, 1]  # the nose tip moves up (y down)
    tilted = synthetic_mesh(rot(pitch=NEUTRAL_FACE_PITCH_DEG, roll=15))
    assert tilted[263, 1] > tilted[33, 1]  # towards the own left shoulder: the left eye drops


def test_head_pose_comes_from_the_outline_not_the_guessed_depth():
    """A mesh whose x, y are turned 25° but whose z is a frontal face's (the landmark model's
    depth turns less than the outline): the angles follow the x, y."""
    for yaw, pitch, roll in ((25, 0, 0), (-25, 5, 8), (0, 15, 0)):
        turned = synthetic_mesh(rot(yaw, pitch, roll) @ rot(pitch=NEUTRAL_FACE_PITCH_DEG))
        flat = synthetic_mesh(rot(roll=roll) @ rot(pitch=NEUTRAL_FACE_PITCH_DEG))
        mixed = turned.copy()
        mixed[:, 2] = flat[:, 2]
        pose, exact = fit_head_pose(mixed), fit_head_pose(turned)
        assert (pose.yaw_deg, pose.pitch_deg, pose.roll_deg) == pytest.approx(
            (exact.yaw_deg, exact.pitch_deg, exact.roll_deg), abs=1e-6)
        assert pose.yaw_deg == pytest.approx(yaw, abs=1.0) and pose.pitch_deg == pytest.approx(pitch, abs=1.0)


def test_neutral_pitch_is_a_parameter_of_the_fit():
    mesh = synthetic_mesh(rot(pitch=NEUTRAL_FACE_PITCH_DEG + 12))
    assert fit_head_pose(mesh).pitch_deg == pytest.approx(12.0, abs=0.3)
    assert fit_head_pose(mesh, neutral_pitch_deg=NEUTRAL_FACE_PITCH_DEG + 12).pitch_deg == pytest.approx(0.0, abs=0.3)


def test_real_meshes_follow_added_rotations():
    for name, face, _ in all_fixtures():
        p0 = fit_head_pose(face.points)
        if abs(p0.yaw_deg) > 15:
            continue
        for dyaw, dpitch, droll in ((15, 0, 0), (0, 12, 0), (0, 0, 10)):
            p1 = fit_head_pose(rotate_mesh(face.points, rot(dyaw, dpitch, droll)))
            assert p1.yaw_deg - p0.yaw_deg == pytest.approx(dyaw, abs=2.5), name
            assert p1.pitch_deg - p0.pitch_deg == pytest.approx(dpitch, abs=2.5), name
            assert p1.roll_deg - p0.roll_deg == pytest.approx(droll, abs=2.5), name


def test_head_pose_is_invariant_to_image_scale_and_position():
    face, _ = fixture("deepface_img29")
    p0 = fit_head_pose(face.points)
    p1 = fit_head_pose(face.points * 3.0 + np.array([100.0, -40.0, 7.0]))
    assert (p1.yaw_deg, p1.pitch_deg, p1.roll_deg) == pytest.approx((p0.yaw_deg, p0.pitch_deg, p0.roll_deg), abs=1e-6)


def test_fixture_head_pose_agrees_with_labels():
    """Faces labelled "turned" that turn > 20° are found; frontal faces stay within the limits."""
    yaws = {name: fit_head_pose(face.points).yaw_deg for name, face, _ in all_fixtures()}
    assert abs(yaws["celebahq_16364"]) > 25 and abs(yaws["celebahq_10849"]) > 20  # clearly turned
    for name, face, labels in all_fixtures():
        pose = fit_head_pose(face.points)
        if not labels["head_turned_or_tilted"]:
            assert abs(pose.yaw_deg) <= 20 and abs(pose.roll_deg) <= 10 and abs(pose.pitch_deg) <= 15, name


# ============================================================================ smile


def test_smile_score_of_the_canonical_mouth_is_one():
    pts = synthetic_mesh(rot(yaw=15, pitch=NEUTRAL_FACE_PITCH_DEG - 5))
    r = rot(yaw=15, pitch=NEUTRAL_FACE_PITCH_DEG - 5)
    corners = np.array([[-2.4562, -4.3426, 4.2839], [2.4562, -4.3426, 4.2839]])  # canonical 61, 291
    cam = 12.0 * corners @ r.T
    pts[[61, 291]] = np.stack([cam[:, 0] + 320, -cam[:, 1] + 240, -cam[:, 2]], axis=1)
    assert smile_score(pts, fit_head_pose(pts)) == pytest.approx(1.0, abs=0.002)
    assert CANONICAL_MOUTH_WIDTH_CM == pytest.approx(np.linalg.norm(corners[0] - corners[1]), abs=1e-3)


def test_smile_score_grows_with_mouth_width_and_ignores_pose_scale():
    face, _ = fixture("celebahq_25916")  # neutral mouth
    pts = face.points.copy()
    s0 = smile_score(pts, fit_head_pose(pts))
    wide = pts.copy()
    mid = (pts[61] + pts[291]) / 2
    wide[[61, 291]] = mid + (pts[[61, 291]] - mid) * 1.2
    assert smile_score(wide, fit_head_pose(wide)) == pytest.approx(1.2 * s0, rel=0.03)
    moved = rotate_mesh(pts, rot(roll=20)) * 0.5 + 30.0
    assert smile_score(moved, fit_head_pose(moved)) == pytest.approx(s0, rel=1e-6)


def test_smile_lift_is_zero_for_level_corners_and_grows_as_they_rise():
    face, _ = fixture("celebahq_25916")  # neutral mouth
    pts = face.points.copy()
    level = pts.copy()
    mid_y = (pts[13, 1] + pts[14, 1]) / 2.0
    level[[61, 291], 1] = mid_y  # a frontal face: image y is the face's vertical
    pose = fit_head_pose(level)
    assert smile_lift(level, pose) == pytest.approx(0.0, abs=0.03)
    width_px = np.linalg.norm(pts[61, :2] - pts[291, :2])
    up = level.copy()
    up[[61, 291], 1] -= 0.1 * width_px  # corners a tenth of the mouth width higher (y down)
    assert smile_lift(up, pose) - smile_lift(level, pose) == pytest.approx(
        0.1 * width_px / pose.scale / CANONICAL_MOUTH_WIDTH_CM, rel=0.1)
    # scale, position and an in-plane tilt do not change it
    moved = rotate_mesh(up, rot(roll=20)) * 0.5 + 30.0
    assert smile_lift(moved, fit_head_pose(moved)) == pytest.approx(smile_lift(up, pose), abs=1e-6)
    # an open mouth (lips apart, corners where they were) does not lift the corners
    opened = level.copy()
    opened[13, 1] -= 0.1 * width_px
    opened[14, 1] += 0.1 * width_px
    assert smile_lift(opened, pose) == pytest.approx(smile_lift(level, pose), abs=1e-6)


def test_fixture_smiles_agree_with_labels():
    """Smiling = every check of grooming.smile passes (mouth corners out and up)."""
    checks = {c.features[0]: c.min for c in PROFILE.rule("grooming.smile").checks}
    assert set(checks) == {"face_smile_score", "face_smile_lift"}

    def smiling(f: FaceLandmarks) -> bool:
        pose = fit_head_pose(f.points)
        return (smile_score(f.points, pose) >= checks["face_smile_score"]
                and smile_lift(f.points, pose) >= checks["face_smile_lift"])

    agree = [smiling(f) == lab["smiling"] for _, f, lab in all_fixtures()]
    assert sum(agree) >= 0.85 * len(agree), agree
    scores = {n: smile_score(f.points, fit_head_pose(f.points)) for n, f, _ in all_fixtures()}
    assert scores["celebahq_14761"] > scores["celebahq_25916"] + 0.2  # broad smile vs neutral


# ============================================================================ image regions


def painted_face(face: FaceLandmarks, *, forehead=False, ears=False, beard=False, noise=3.0,
                 skin=SKIN_RGB, gain=1.0) -> np.ndarray:
    """A synthetic picture: skin inside the mesh, dark hair elsewhere; optional hair regions.
    `gain` scales the whole picture (dim light)."""
    w, h = face.image_size
    img = np.zeros((h, w, 3), np.float32) + HAIR_RGB
    hull = cv2.convexHull(face.points[:468, :2].astype(np.float32)).reshape(-1, 2)
    cv2.fillPoly(img, [np.round(hull).astype(np.int32)], skin)
    pose = fit_head_pose(face.points)
    if ears:
        for side in (-1, 1):
            cv2.fillPoly(img, [np.round(ear_polygon(pose, side)).astype(np.int32)], skin)
    if forehead:
        cv2.fillPoly(img, [np.round(forehead_polygon(face.points)).astype(np.int32)], HAIR_RGB)
    if beard:
        for region in (CHIN, UPPER_LIP):
            cv2.fillPoly(img, [np.round(face.points[list(region), :2]).astype(np.int32)], STUBBLE_RGB)
    rng = np.random.default_rng(0)
    return np.clip(img * gain + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)


def test_regions_on_a_painted_face():
    face, _ = fixture("deepface_img29")
    pose = fit_head_pose(face.points)
    clean = measure_regions(painted_face(face, ears=True), face.points, pose)
    assert clean[0] < 0.05 and clean[1] > 0.9 and abs(clean[2]) <= 1.5
    groomed_badly = measure_regions(painted_face(face, forehead=True, beard=True), face.points, pose)
    assert groomed_badly[0] > 0.9 and groomed_badly[1] < 0.05 and groomed_badly[2] > 8.0
    assert abs(clean[3]) < 0.05 and groomed_badly[3] > 0.3  # grey stubble: darker than the cheeks


def test_beard_colour_is_relative_to_the_cheeks_not_the_skin_tone_or_light():
    """The a* deficit of the lower face: the same for dark and light skin, dim and bright light."""
    face, _ = fixture("deepface_img29")
    pose = fit_head_pose(face.points)
    for gain in (0.45, 1.0):                       # dim / normal light
        for skin in ((205, 160, 130), (110, 70, 50)):  # light / dark skin
            clean = measure_regions(painted_face(face, ears=True, skin=skin, gain=gain), face.points, pose)
            assert abs(clean[2]) <= 1.5 and abs(clean[3]) < 0.05, (gain, skin)
            stubbled = measure_regions(painted_face(face, ears=True, beard=True, skin=skin, gain=gain),
                                       face.points, pose)
            assert stubbled[2] > 4.0, (gain, skin)


def test_a_shadow_along_the_jaw_line_is_not_a_beard():
    """The chin region is read clear of the jaw line (REGION_SHRINK): a dark band along the
    jaw (the shadow under it, a collar) is not stubble; stubble over the chin still is."""
    face, _ = fixture("deepface_img29")
    pose = fit_head_pose(face.points)
    img = painted_face(face, ears=True, noise=0.0)
    chin = face.points[list(CHIN), :2]
    band = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(band, [np.round(chin).astype(np.int32)], 1)
    cv2.fillPoly(band, [np.round(shrink_polygon(chin, 0.7)).astype(np.int32)], 0)
    shadowed = img.copy()
    shadowed[band.astype(bool)] = STUBBLE_RGB
    _, _, beard, dark = measure_regions(shadowed, face.points, pose)
    assert abs(beard) <= 1.5 and abs(dark) < 0.05, (beard, dark)
    assert chin_polygon(face.points).shape == chin.shape
    stubbled = measure_regions(painted_face(face, ears=True, beard=True, noise=0.0), face.points, pose)
    assert stubbled[2] > 4.0 and stubbled[3] > 0.3


def painted_hair(face: FaceLandmarks, *, forehead=False, ears=False, loose=False, collar=False,
                 beard=False) -> HairMask:
    """A synthetic hair mask over the whole frame: 1 inside the chosen regions."""
    w, h = face.image_size
    prob = np.zeros((h, w), np.float32)
    pose = fit_head_pose(face.points)
    polys = []
    if forehead:
        polys.append(hair_forehead_polygon(face.points))
    for side in (-1, 1):
        polys += ([ear_polygon(pose, side)] if ears else []) + ([loose_polygon(pose, side)] if loose else []) \
            + ([collar_polygon(pose, side)] if collar else [])
    if beard:
        polys += [face.points[list(CHIN), :2], face.points[list(UPPER_LIP), :2]]
    for poly in polys:
        cv2.fillPoly(prob, [np.round(poly).astype(np.int32)], 1.0)
    return HairMask(prob, 0.0, 0.0, 1.0)


def test_hair_regions_from_a_mask():
    face, _ = fixture("deepface_img29")
    pose = fit_head_pose(face.points)
    clean = measure_hair(painted_hair(face), face.points, pose)
    assert clean == (0.0, 0.0, 0.0, 0.0, 0.0)
    bad = measure_hair(painted_hair(face, forehead=True, ears=True, loose=True, collar=True, beard=True),
                       face.points, pose)
    assert all(v is not None and v > 0.9 for v in bad), bad
    # each region on its own
    assert measure_hair(painted_hair(face, ears=True), face.points, pose)[1] > 0.9
    assert measure_hair(painted_hair(face, ears=True), face.points, pose)[0] < 0.05
    assert measure_hair(painted_hair(face, beard=True), face.points, pose)[4] > 0.9
    # a band outside the frame is not judged ("where the view allows")
    w, h = face.image_size
    low = FaceLandmarks(face.points + np.array([0.0, h - 5.0 - face.points[152, 1], 0.0]), (w, h))
    hair = painted_hair(low, loose=True, collar=True)
    judged = measure_hair(hair, low.points, fit_head_pose(low.points))
    assert judged[2] is None and judged[3] is None


def test_bangs_region_is_the_upper_forehead():
    """A short fringe (the top third of the brow→mesh-top span) fails the bangs limit; hair
    beginning above the mesh top (a hairline) and hair only at the brows do not count."""
    face, _ = fixture("deepface_img29")
    pose = fit_head_pose(face.points)
    limit = PROFILE.rule("grooming.hair_forehead").checks[0].max
    lo, hi = HAIR_FOREHEAD_SPAN
    assert 0.0 < lo < hi <= 1.0

    def band(a: float, b: float) -> np.ndarray:
        from posturecheck.grooming import FOREHEAD_COLUMNS, _lerp
        low = [_lerp(face.points, i, j, a) for i, j in FOREHEAD_COLUMNS]
        high = [_lerp(face.points, i, j, b) for i, j in reversed(FOREHEAD_COLUMNS)]
        return np.array(low + high)

    def forehead_with(poly: np.ndarray) -> float:
        w, h = face.image_size
        prob = np.zeros((h, w), np.float32)
        cv2.fillPoly(prob, [np.round(poly).astype(np.int32)], 1.0)
        return measure_hair(HairMask(prob, 0.0, 0.0, 1.0), face.points, pose)[0]

    assert forehead_with(band(0.67, 1.3)) > limit          # short fringe from the hairline down
    assert forehead_with(band(1.02, 1.5)) < 0.05           # hairline above the mesh top
    assert forehead_with(band(0.0, 0.3)) < 0.05            # brows, glasses, shadow just above them


def test_gaze_follows_the_irises():
    face, _ = fixture("deepface_img29")
    pts = face.points.copy()
    pose = fit_head_pose(pts)
    ahead = gaze_yaw(pts, pose)
    assert abs(ahead - pose.yaw_deg) < 12
    eye_w = np.linalg.norm(pts[133, :2] - pts[33, :2])
    for sign in (1.0, -1.0):  # irises moved towards image right = the person's own left
        moved = pts.copy()
        moved[468:478, 0] += sign * 0.25 * eye_w
        assert sign * (gaze_yaw(moved, pose) - ahead) > 15


def test_measure_face_needs_the_image_and_a_large_enough_face():
    face, _ = fixture("deepface_img29")
    mesh_only = measure_face(face)
    assert mesh_only.smile_score is not None and mesh_only.forehead_hair is None and mesh_only.beard is None
    assert mesh_only.gaze_yaw_deg is not None
    small = FaceLandmarks(face.points * 0.1, face.image_size, face.source)
    assert measure_face(small, painted_face(face), painted_hair(face)).forehead_hair is None
    assert measure_face(small, painted_face(face)).beard is None
    no_mask = measure_face(face, painted_face(face, ears=True))
    assert no_mask.forehead_hair is None and no_mask.ear_hair is None and no_mask.ear_skin is not None
    full = measure_face(face, painted_face(face, ears=True), painted_hair(face, forehead=True))
    assert full.found and full.forehead_hair > 0.9 and full.ear_hair == 0.0 and full.ear_skin is not None
    assert set(full.rule_inputs()) == set(FACE_FEATURE_NAMES) | {"view"}


def test_badge_on_the_left_chest():
    fx = load_fixture(DEV_FIX / "img_imper_women1.json")
    lm = fx["landmarks"]
    w, h = lm.image_size
    img = np.full((h, w, 3), 90, np.uint8)
    assert measure_badge(img, lm, (200, 0, 0)) == 0.0
    px = lm.px
    ls, rs = px[11], px[12]
    hip = (px[23] + px[24]) / 2
    centre = ls + 0.3 * (rs - ls) + 0.25 * (hip - (ls + rs) / 2)
    cv2.circle(img, tuple(int(v) for v in centre), 6, (200, 0, 0), -1)
    assert measure_badge(img, lm, (200, 0, 0)) > 0.1
    assert parse_color("#c80000") == (200, 0, 0) and parse_color("1, 2,3") == (1, 2, 3)
    with pytest.raises(ValueError, match="colour"):
        parse_color("red")


# ============================================================================ rules and standards


def features(**changes) -> FaceFeatures:
    base = dict(found=True, yaw_deg=2.0, pitch_deg=1.0, roll_deg=-1.0, smile_score=1.3, forehead_hair=0.05,
                ear_skin=0.4, beard=0.1, face_width_px=180.0, source="frame", gaze_yaw_deg=3.0, ear_hair=0.1,
                loose_hair=0.0, collar_hair=0.0, beard_hair=0.0, beard_dark=0.1, smile_lift=0.1)
    base.update(changes)
    return FaceFeatures(**base)


def statuses(face, standard=None, **kw):
    return {v.rule_id: (v.status, v.reason) for v in grooming_verdicts(PROFILE, face, standard=standard, **kw)}


def test_grooming_rules_exist_with_standard_variants():
    ids = {"grooming.smile", "grooming.eyes_forward", "grooming.hair_forehead", "grooming.hair_ears",
           "grooming.no_beard", "grooming.badge", "grooming.hair_collar", "grooming.hair_tied"}
    assert ids <= set(PROFILE.ids)
    for rid in ids:
        rule = PROFILE.rule(rid)
        assert rule.activities == () and rule.scope == "frame"
    assert not applies_to_standard(PROFILE.rule("grooming.no_beard"), "women")
    assert applies_to_standard(PROFILE.rule("grooming.no_beard"), "men")
    assert applies_to_standard(PROFILE.rule("grooming.hair_ears"), None)
    assert applies_to_standard(PROFILE.rule("grooming.hair_collar"), "men")
    assert not applies_to_standard(PROFILE.rule("grooming.hair_collar"), "women")
    assert applies_to_standard(PROFILE.rule("grooming.hair_tied"), "women")
    assert not applies_to_standard(PROFILE.rule("grooming.hair_tied"), "men")
    for rid in ("grooming.hair_collar", "grooming.hair_tied"):
        rule = PROFILE.rule(rid)
        assert set(rule.title) == set(rule.messages) == {"en", "zh"}
        assert rule.checks and all(c.max is not None for c in rule.checks)  # limits live in the profile

def test_well_groomed_passes_and_each_fault_fails():
    for std in ("men", "women"):
        st = statuses(features(), std)
        assert all(st[r][0] == PASS for r in st if r != "grooming.badge" and st[r][1] != "not_for_standard"), st
    for change, rid, std in [
            ({"smile_score": 1.0}, "grooming.smile", "men"), ({"smile_lift": 0.0}, "grooming.smile", "men"),
            ({"yaw_deg": 35.0}, "grooming.eyes_forward", "men"),
            ({"pitch_deg": -25.0}, "grooming.eyes_forward", "men"), ({"roll_deg": -14.0}, "grooming.eyes_forward", "men"),
            ({"gaze_yaw_deg": 40.0}, "grooming.eyes_forward", "men"),
            ({"forehead_hair": 0.6}, "grooming.hair_forehead", "men"), ({"ear_hair": 0.9}, "grooming.hair_ears", "men"),
            ({"beard": 12.0}, "grooming.no_beard", "men"), ({"beard_hair": 0.6}, "grooming.no_beard", "men"),
            ({"beard_dark": 0.6}, "grooming.no_beard", "men"),
            ({"collar_hair": 0.6}, "grooming.hair_collar", "men"), ({"loose_hair": 0.6}, "grooming.hair_tied", "women")]:
        assert statuses(features(**change), std)[rid][0] == FAIL, (change, rid)
    # a band the camera cannot see: unknown, never pass or fail
    assert statuses(features(loose_hair=None), "women")["grooming.hair_tied"][0] == UNKNOWN
    assert statuses(features(collar_hair=None), "men")["grooming.hair_collar"][0] == UNKNOWN


def test_face_and_body_disagreeing_on_yaw_give_unknown_not_fail():
    turned = features(yaw_deg=35.0, gaze_yaw_deg=35.0)
    assert statuses(turned, "men", body_head_yaw_deg=33.0)["grooming.eyes_forward"][0] == FAIL
    st = statuses(turned, "men", body_head_yaw_deg=-5.0)
    assert st["grooming.eyes_forward"] == (UNKNOWN, "face_body_disagree")
    assert st["grooming.smile"][0] == PASS  # rules without head angles are still judged
    # a close-up found away from the pose head: the skeleton is not this face's body
    from posturecheck.face import SOURCE_OFF_POSE
    close_up = features(yaw_deg=35.0, gaze_yaw_deg=35.0, source=SOURCE_OFF_POSE)
    assert statuses(close_up, "men", body_head_yaw_deg=-5.0, body_view="side")["grooming.eyes_forward"][0] == FAIL
    assert statuses(features(source=SOURCE_OFF_POSE), "men", body_view="side")["grooming.eyes_forward"][0] == PASS
    limit = PROFILE.face_body_max_yaw_diff_deg
    assert not face_body_disagree(PROFILE, turned, 35.0 - limit + 1.0)
    assert face_body_disagree(PROFILE, turned, 35.0 - limit - 1.0)
    assert not face_body_disagree(PROFILE, turned, None)


def test_standard_decides_which_rules_apply():
    bearded = features(beard=12.0, forehead_hair=0.8, ear_hair=0.9)
    men, women, none = statuses(bearded, "men"), statuses(bearded, "women"), statuses(bearded, None)
    assert men["grooming.no_beard"][0] == FAIL and men["grooming.hair_forehead"][0] == FAIL
    assert women["grooming.no_beard"] == (UNKNOWN, "not_for_standard")
    assert women["grooming.hair_forehead"] == (UNKNOWN, "not_for_standard")
    assert none["grooming.no_beard"] == (UNKNOWN, "no_standard")
    for st in (men, women, none):  # common to both standards
        assert st["grooming.hair_ears"][0] == FAIL and st["grooming.smile"][0] == PASS
    # observations are reported whatever the standard
    assert face_flags(PROFILE, bearded) == {"smiling": True, "bangs": True, "ears_covered": True, "beard": True}


def test_badge_unknown_unless_configured_and_no_face_unknown():
    assert statuses(features())["grooming.badge"] == (UNKNOWN, "badge_not_configured")
    assert statuses(features(), badge=0.1, badge_configured=True, body_view="front")["grooming.badge"][0] == PASS
    assert statuses(features(), badge=0.0, badge_configured=True, body_view="front")["grooming.badge"][0] == FAIL
    assert statuses(features(), badge=0.1, badge_configured=True, body_view="side")["grooming.badge"] == (UNKNOWN, "view")
    st = statuses(None, "men")
    assert st["grooming.smile"] == (UNKNOWN, "no_face")
    small = statuses(features(forehead_hair=None, face_width_px=30.0), "men")
    assert small["grooming.hair_forehead"] == (UNKNOWN, "face_too_small")


def test_face_observation_contract():
    obs = face_observation(PROFILE, [features(), None, features(smile_score=1.0), features(smile_score=1.25)])
    assert set(obs) == FACE_KEYS
    assert obs["found"] and obs["smiling"] is True and obs["smile_score"] == pytest.approx(1.25)
    assert face_observation(PROFILE, [None]) == {k: (False if k == "found" else None) for k in FACE_KEYS}


# ============================================================================ greeting drill


def timeline(acts: str, fps: float = 10.0) -> tuple[list[int], list[str]]:
    names = {"s": "sitting", "t": "standing", "u": "unknown", "w": "walking"}
    return [int(i * 1000 / fps) for i in range(len(acts))], [names[c] for c in acts]


def test_greeting_stands_in_time_faces_and_smiles():
    times, acts = timeline("s" * 12 + "t" * 20)
    n = len(times)
    g = greeting_observation(times, acts, [features()] * n, [True] * n, [False] * 12 + [True] * 20, limit_s=2.0)
    assert g == {"stood_up_s": 1.2, "limit_s": 2.0, "within_limit": True, "faced_camera": True, "smiled": True}


def test_greeting_late_no_smile_and_not_seated():
    times, acts = timeline("s" * 30 + "t" * 15)
    n = len(times)
    g = greeting_observation(times, acts, [features()] * n, [False] * n, [False] * n, limit_s=2.0)
    assert g["stood_up_s"] == 3.0 and not g["within_limit"] and not g["faced_camera"] and not g["smiled"]
    times, acts = timeline("t" * 20)
    assert greeting_observation(times, acts, [None] * 20, [None] * 20, [None] * 20) is None
    times, acts = timeline("s" * 20)
    assert greeting_observation(times, acts, [None] * 20, [None] * 20, [None] * 20) is None


# ============================================================================ face stage plumbing


def test_face_sampler_rate_and_hold():
    face, _ = fixture("deepface_img29")
    replay = ReplayFaceEstimator([face, None], loop=False)
    sampler = FaceSampler(replay, interval_ms=100, hold_ms=150)
    rgb = np.zeros((8, 8, 3), np.uint8)
    seen = []
    for ts in (0, 33, 66, 100, 133, 166):
        res, value = sampler.step(rgb, ts, measure=lambda r, img: "m")
        seen.append((res.face is not None, res.age_ms, value))
    assert sampler.runs == 2  # at 0 and 100 ms
    assert seen[:3] == [(True, 0, "m"), (True, 33, "m"), (True, 66, "m")]
    assert seen[3][0] is False and seen[4][0] is False  # the second run found nothing: nothing held
    slow = FaceSampler(ReplayFaceEstimator([face]), interval_ms=1000, hold_ms=500)
    slow.step(rgb, 0)
    assert slow.step(rgb, 400)[0].face is not None and slow.step(rgb, 600)[0].face is None


def test_head_box_and_crop_mapping():
    lm = load_fixture(DEV_FIX / "img_econ_coat_man.json")["landmarks"]
    box = head_box(lm)
    assert box is not None
    cx, cy, side = box
    nose = lm.px[0]
    assert abs(cx - nose[0]) < side / 3 and abs(cy - nose[1]) < side / 3
    w, h = lm.image_size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[int(nose[1]), int(nose[0])] = 255
    crop, x0, y0, scale = crop_square(rgb, cx, cy, side, 256)
    assert crop.shape == (256, 256, 3)
    iy, ix = np.unravel_index(np.argmax(crop.sum(axis=2)), crop.shape[:2])
    assert x0 + ix * scale == pytest.approx(nose[0], abs=2 * scale + 1)
    assert y0 + iy * scale == pytest.approx(nose[1], abs=2 * scale + 1)


def test_trainee_face_is_chosen_in_head_sizes():
    """A close-up face is the trainee's even when the pose model put a small, misplaced skeleton
    head beside it (headshots); a small face far from the pose head (a bystander) is not."""
    from posturecheck.face import HEAD_CROP_SCALE, _choose

    face, _ = fixture("deepface_img29")
    pts = face.points
    width = float(np.ptp(pts[:468, 0]))
    cx, cy = pts[:468, :2].mean(axis=0)
    pose_span = 0.25 * width                      # a pose "head" a quarter of the face's width...
    off = 0.8 * width                             # ...whose centre is 3 of its spans off the face's
    target = (cx + off, cy, HEAD_CROP_SCALE * pose_span)
    assert _choose([pts], target) == 0
    bystander = (pts - np.array([cx, cy, 0.0])) * 0.2 + np.array([cx + 6 * width, cy, 0.0])
    near_head = (cx + 6 * width + 0.5 * width, cy, HEAD_CROP_SCALE * width)
    assert _choose([bystander], (cx, cy, HEAD_CROP_SCALE * width)) is None   # small and far
    assert _choose([pts, bystander], near_head) == 1                          # the one at the head
    assert _choose([pts], (cx + 3 * width, cy, HEAD_CROP_SCALE * pose_span)) is None  # too far even so


def _write_image(path: Path, rgb: np.ndarray) -> Path:
    ok, buf = cv2.imencode(path.suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def test_face_only_photo_gets_grooming_verdicts(tmp_path):
    face, _ = fixture("celebahq_14761")  # a smiling face
    img = _write_image(tmp_path / "face.png", painted_face(face, ears=True))
    analysis = analyze_path(img, AnalyzeOptions(standard="women"), estimator=ReplayEstimator([None]),
                            face_estimator=ReplayFaceEstimator([face], hairs=[painted_hair(face)]))
    rep = to_json(analysis, "en", "women")
    assert rep["person_found"] is False and rep["observations"]["face"]["found"] is True
    assert set(rep["observations"]["face"]) == FACE_KEYS
    st = {r["id"]: r for r in rep["rules"]}
    assert st["grooming.smile"]["status"] == PASS and st["grooming.eyes_forward"]["status"] == PASS
    assert st["grooming.hair_ears"]["status"] == PASS and st["grooming.hair_tied"]["status"] == PASS
    assert st["grooming.no_beard"]["status"] == UNKNOWN and "standard" in st["grooming.no_beard"]["message"]
    assert st["grooming.hair_collar"]["status"] == UNKNOWN  # a men's rule
    assert rep["score"] is None  # no body rule judged: not scored (posturecheck.scoring), face verdicts stay
    assert any("Only the face" in w for w in rep["warnings"])
    text = to_text(rep, "zh")
    assert "面部" in text and "微笑" in text


def test_no_face_stage_lists_no_grooming_rules(tmp_path):
    face, _ = fixture("celebahq_14761")
    img = _write_image(tmp_path / "face.png", painted_face(face))
    analysis = analyze_path(img, AnalyzeOptions(face=False), estimator=ReplayEstimator([None]))
    rep = to_json(analysis)
    assert not any(r["id"].startswith("grooming.") for r in rep["rules"])
    assert "face" not in rep["observations"]


def test_greeting_clip_through_analyze(tmp_path):
    sit = load_fixture(DEV_FIX / "img_tfpose_bench_hands_clasped.json")["landmarks"]
    stand = load_fixture(DEV_FIX / "img_imper_women1.json")["landmarks"]
    face, _ = fixture("celebahq_14761")
    path = tmp_path / "greet.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for _ in range(40):
        writer.write(np.full((120, 160, 3), 128, np.uint8))
    writer.release()
    poses = ReplayEstimator([sit] * 12 + [stand] * 28, loop=False)
    analysis = analyze_path(path, AnalyzeOptions(smooth=False), estimator=poses,
                            face_estimator=ReplayFaceEstimator([face]))
    g = analysis.extra_observations.get("greeting")
    assert g is not None, analysis.extra_observations
    assert 1.0 <= g["stood_up_s"] <= 1.6 and g["within_limit"] and g["smiled"] and g["faced_camera"]
    assert "greeting" in to_json(analysis)["observations"]


def test_frame_analyzer_grooming_for_live_use():
    face = features(smile_score=1.0)
    analyzer = FrameAnalyzer(PROFILE, grooming=True)
    rec = analyzer.process(PoseResult(0, None, 0), 0, face=face)
    assert rec.verdict("grooming.smile").status == FAIL
    assert rec.verdict("standing.trunk_upright") is None or rec.verdict("standing.trunk_upright").status == UNKNOWN
    plain = FrameAnalyzer(PROFILE).process(PoseResult(0, None, 0), 0, face=face)
    assert plain.verdict("grooming.smile") is None


# ============================================================================ real model, real faces

needs_faces = pytest.mark.skipif(not (GROOMING / "labels.json").is_file(),
                                 reason="../shared/data/grooming_dev is not beside the project")
needs_dev = pytest.mark.skipif(not (DEV / "labels.json").is_file(),
                               reason="../shared/data/dev is not beside the project")


@pytest.fixture(scope="module")
def dev_faces():
    from posturecheck.face import FaceEstimator
    from posturecheck.sources import read_image

    items = json.loads((GROOMING / "labels.json").read_text(encoding="utf-8"))
    out = {}
    with FaceEstimator() as est:
        for item in items:
            rgb = read_image(GROOMING / item["file"])
            res = est.detect(rgb)
            out[item["id"]] = (item, measure_face(res.face, rgb, res.hair) if res.face is not None else None)
    return out


@needs_faces
def test_real_faces_found_and_observations_agree_with_labels(dev_faces):
    assert all(f is not None for _, f in dev_faces.values())
    agree: dict[str, list[bool]] = {}
    for item, f in dev_faces.values():
        flags = face_flags(PROFILE, f)
        eyes = next(v.status for v in grooming_verdicts(PROFILE, f) if v.rule_id == "grooming.eyes_forward")
        preds = {**flags, "head_turned": eyes == FAIL}
        for name, label in (("smiling", "smiling"), ("bangs", "bangs"), ("ears_covered", "ears_covered"),
                            ("beard", "beard"), ("head_turned", "head_turned_or_tilted")):
            if item[label] is not None and preds[name] is not None:
                agree.setdefault(name, []).append(preds[name] == item[label])
    rate = {k: sum(v) / len(v) for k, v in agree.items()}
    print(rate)
    floors = {"smiling": 0.8, "bangs": 0.85, "ears_covered": 0.7, "beard": 0.8, "head_turned": 0.75}
    for name, floor in floors.items():
        assert rate[name] >= floor, (name, rate)


@needs_faces
def test_video_mode_needs_increasing_timestamps():
    from posturecheck.face import FaceEstimator, FaceEstimatorOptions
    from posturecheck.sources import read_image

    rgb = read_image(GROOMING / "deepface_img29.jpg")
    with FaceEstimator(FaceEstimatorOptions(running_mode="video")) as est:
        assert est.detect(rgb, 0).face is not None
        assert est.detect(rgb, 40).face is not None
        with pytest.raises(ValueError, match="increase"):
            est.detect(rgb, 40)


@needs_dev
def test_head_crop_finds_small_faces_in_full_body_photos():
    from posturecheck.face import FaceEstimator, FaceEstimatorOptions
    from posturecheck.sources import read_image

    rgb = read_image(DEV / "img_econ_coat_man.png")  # native size, as the fixture
    lm = load_fixture(DEV_FIX / "img_econ_coat_man.json")["landmarks"]
    assert lm.image_size == (rgb.shape[1], rgb.shape[0])
    with FaceEstimator(FaceEstimatorOptions(head_crop=False)) as whole, FaceEstimator() as cropped:
        assert whole.detect(rgb).face is None  # too small for the short-range detector
        res = cropped.detect(rgb, 0, lm)
    assert res.face is not None and res.face.source == "head_crop"
    nose = lm.px[0]
    assert np.linalg.norm(res.face.points[4, :2] - nose) < 0.5 * res.face.width_px
    f = measure_face(res.face, rgb)
    assert abs(f.yaw_deg) < 30


def test_face_features_fields_are_plain():
    names = [f.name for f in dataclasses.fields(FaceFeatures)]
    assert names[:4] == ["found", "yaw_deg", "pitch_deg", "roll_deg"]
    assert FaceResult(0, None).faces_seen == 0
