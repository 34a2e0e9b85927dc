"""Hand stage logic without the model: crops around the pose's wrists, mapping crop points
to the frame, merging duplicate finds and assigning hands to wrists by distance.

Fixtures (tests/fixtures/hands/*.json, from scripts/record_hand_fixtures.py) hold a dev
photo's pose landmarks and what the hand model returned on each wrist crop (landmarks
only, no pixels); the tests replay those answers. The model itself is checked in
tests/test_hand_model.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from posturecheck.face import crop_square
from posturecheck.hands import (SIDES, CropHand, HandCrop, HandEstimatorOptions, HandsResult,
                                assign_sides, crop_overlap, hand_length_px, locate_hands, wrist_crop)
from posturecheck.landmarks import LM, PoseLandmarks

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hands"
IDS = sorted(p.stem for p in FIXTURES.glob("*.json"))
OPTIONS = HandEstimatorOptions()


def load(photo_id: str) -> dict:
    return json.loads((FIXTURES / f"{photo_id}.json").read_text())


def pose_of(rec: dict) -> PoseLandmarks:
    return PoseLandmarks.from_dict(rec["pose"])


def replay(rec: dict):
    """run_crop that answers each crop with what the model returned on it when recorded."""
    answers = {c["crop"]["side"]: (HandCrop.from_dict(c["crop"]), [CropHand.from_dict(h) for h in c["hands"]])
               for c in rec["crops"]}

    def run(crop: HandCrop) -> list[CropHand]:
        recorded, hands = answers[crop.side]
        for name in ("cx", "cy", "size"):
            assert getattr(crop, name) == pytest.approx(getattr(recorded, name), abs=1e-2), (crop, recorded)
        return hands
    return run


def options_of(rec: dict) -> HandEstimatorOptions:
    return dataclasses.replace(OPTIONS, **rec.get("options", {}))


def locate(rec: dict) -> HandsResult:
    pose = pose_of(rec)
    return locate_hands(pose.image_size, pose, replay(rec), options_of(rec))


def mirrored(rec: dict) -> dict:
    """The same scene flipped left-right: pose x -> 1 - x (its left wrist stays its left),
    crop points x -> 1 - x, and MediaPipe's handedness labels swapped, as the model would."""
    out = json.loads(json.dumps(rec))
    out["pose"]["image"] = [[1.0 - x, y, z] for x, y, z in rec["pose"]["image"]]
    swap = {"Left": "Right", "Right": "Left"}
    w = rec["pose"]["image_size"][0]
    for c in out["crops"]:
        c["crop"]["cx"] = w - c["crop"]["cx"]
        for h in c["hands"]:
            h["points"] = [[1.0 - x, y, z] for x, y, z in h["points"]]
            h["handedness"] = swap[h["handedness"]]
    return out


def test_fixtures_present() -> None:
    assert len(IDS) >= 4, f"hand fixtures missing in {FIXTURES}: run scripts/record_hand_fixtures.py"


@pytest.mark.parametrize("photo_id", IDS)
def test_replay_gives_the_recorded_hands(photo_id: str) -> None:
    """Same crops (checked in replay), same sides, same frame pixels as when recorded."""
    rec = load(photo_id)
    result = locate(rec)
    assert result.hands_seen == rec["hands_seen"]
    for side in SIDES:
        hand, want = result.side(side), rec[side]
        assert (hand is None) == (want is None), side
        if hand is not None:
            assert hand.points == pytest.approx(np.array(want["points"]), abs=0.01)
            assert hand.crop.side == want["crop_side"]


@pytest.mark.parametrize("photo_id", IDS)
def test_assigned_hand_starts_at_its_wrist(photo_id: str) -> None:
    """Independent of the recording: a hand's wrist point lies within the allowed offset of
    the pose wrist it was given to, and nearer that wrist than the other one when both are seen."""
    rec = load(photo_id)
    pose = pose_of(rec)
    result = locate(rec)
    assert result.left is not None or result.right is not None
    for side in SIDES:
        hand = result.side(side)
        if hand is None:
            continue
        own = LM.LEFT_WRIST if side == "left" else LM.RIGHT_WRIST
        other = LM.RIGHT_WRIST if side == "left" else LM.LEFT_WRIST
        d_own = float(np.linalg.norm(hand.wrist_px - pose.px[own]))
        assert d_own <= OPTIONS.max_wrist_offset * hand.crop.hand_px
        if pose.visibility[other] >= OPTIONS.min_wrist_visibility:
            assert d_own < float(np.linalg.norm(hand.wrist_px - pose.px[other]))
        # The hand's points lie inside its crop (mapped back to the right place).
        x0, y0 = hand.crop.origin
        assert np.all(hand.points[:, 0] >= x0 - 1) and np.all(hand.points[:, 0] <= x0 + hand.crop.side_px + 1)
        assert np.all(hand.points[:, 1] >= y0 - 1) and np.all(hand.points[:, 1] <= y0 + hand.crop.side_px + 1)


def test_clasped_hands_seen_by_both_crops_count_once() -> None:
    rec = load("img_tfpose_bench_hands_clasped_separate_crops")
    assert [c["crop"]["side"] for c in rec["crops"]] == ["left", "right"]
    assert sum(len(c["hands"]) for c in rec["crops"]) == 4  # each crop holds both hands
    result = locate(rec)
    assert result.hands_seen == 2
    assert result.left is not None and result.right is not None
    assert float(np.linalg.norm(result.left.wrist_px - result.right.wrist_px)) > result.left.palm_px


def test_close_wrists_share_one_crop_and_get_the_same_hands() -> None:
    merged, separate = load("img_tfpose_bench_hands_clasped"), load("img_tfpose_bench_hands_clasped_separate_crops")
    one, two = locate(merged), locate(separate)
    assert [c.side for c in one.crops] == ["both"] and len(two.crops) == 2
    a, b = two.crops
    assert crop_overlap(a, b) >= OPTIONS.merge_crop_overlap
    box = one.crops[0]
    for c in (a, b):  # the merged crop holds both wrist crops
        assert box.cx - box.size / 2 <= c.cx - c.size / 2 + 1e-9 and c.cx + c.size / 2 <= box.cx + box.size / 2 + 1e-9
        assert box.cy - box.size / 2 <= c.cy - c.size / 2 + 1e-9 and c.cy + c.size / 2 <= box.cy + box.size / 2 + 1e-9
    for side in SIDES:  # same physical hand on each side, whichever way it was cropped
        p, q = one.side(side), two.side(side)
        assert p is not None and q is not None
        assert np.linalg.norm(p.points[:, :2] - q.points[:, :2], axis=1).mean() < OPTIONS.same_hand_max_offset * p.palm_px


@pytest.mark.parametrize("photo_id", IDS)
def test_sides_follow_position_not_handedness_labels(photo_id: str) -> None:
    """Mirroring the scene swaps MediaPipe's labels; the pose's left hand stays its left."""
    rec = load(photo_id)
    direct, flipped = locate(rec), locate(mirrored(rec))
    w = rec["pose"]["image_size"][0]
    for side in SIDES:
        a, b = direct.side(side), flipped.side(side)
        assert (a is None) == (b is None), side
        if a is not None and b is not None:
            assert a.handedness != b.handedness
            # x mirrored up to the crop origin's rounding to whole pixels
            assert np.abs((w - b.points[:, 0]) - a.points[:, 0]).max() <= 1.01
            assert np.abs(b.points[:, 1] - a.points[:, 1]).max() <= 1e-6


def test_order_of_finds_does_not_matter() -> None:
    rec = load("img_tfpose_bench_hands_clasped_separate_crops")
    for c in rec["crops"]:
        c["hands"].reverse()
    rec["crops"].reverse()
    result = locate(rec)
    want = locate(load("img_tfpose_bench_hands_clasped_separate_crops"))
    for side in SIDES:
        assert result.side(side).points == pytest.approx(want.side(side).points, abs=1e-9)


def test_a_bystanders_hand_is_not_the_trainees() -> None:
    """A hand far from both wrists (a neighbour's, in the corner of a crop) is counted, not assigned."""
    rec = load("img_openpose_wii_standing")
    crop = HandCrop.from_dict(rec["crops"][0]["crop"])
    real = CropHand.from_dict(rec["crops"][0]["hands"][0])
    far = dataclasses.replace(real, points=real.points * 0.2 + np.array([0.0, 0.78, 0.0]))
    run = lambda c: [far, real] if c.side == crop.side else []  # noqa: E731
    pose = pose_of(rec)
    result = locate_hands(pose.image_size, pose, run, OPTIONS)
    assert result.hands_seen == 2
    assert result.left is not None and result.left.points == pytest.approx(crop.to_frame(real.points))
    assert result.right is None
    only_far = locate_hands(pose.image_size, pose, lambda c: [far], OPTIONS)
    assert only_far.left is None and only_far.right is None and only_far.hands_seen == 1


def test_one_hand_near_both_wrists_takes_only_the_nearer() -> None:
    rec = load("img_moore_man_red_jacket")
    pose = pose_of(rec)
    left_find = CropHand.from_dict(rec["crops"][0]["hands"][0])
    assert rec["crops"][0]["crop"]["side"] == "left"
    left_crop = HandCrop.from_dict(rec["crops"][0]["crop"])
    pts = left_crop.to_frame(left_find.points)
    wide = dataclasses.replace(OPTIONS, max_wrist_offset=100.0)  # every wrist may take it
    hand_px = {s: hand_length_px(pose, s, OPTIONS) for s in SIDES}
    assert assign_sides([pts], pose, hand_px, wide) == {"left": 0}


def test_unseen_or_outside_wrist_gets_no_crop() -> None:
    rec = load("img_moore_man_red_jacket")
    pose = pose_of(rec)
    assert wrist_crop(pose, "left", OPTIONS) is not None
    vis = pose.visibility.copy()
    vis[LM.LEFT_WRIST] = OPTIONS.min_wrist_visibility - 0.01
    hidden = dataclasses.replace(pose, visibility=vis)
    assert wrist_crop(hidden, "left", OPTIONS) is None and wrist_crop(hidden, "right", OPTIONS) is not None
    img = pose.image.copy()
    img[LM.RIGHT_WRIST, 0] = 1.02
    outside = dataclasses.replace(pose, image=img)
    assert wrist_crop(outside, "right", OPTIONS) is None
    result = locate_hands(pose.image_size, hidden, replay(rec), OPTIONS)
    assert [c.side for c in result.crops] == ["right"] and result.left is None
    assert result.right is not None


def test_no_hand_size_or_tiny_hand_gets_no_crop() -> None:
    pose = pose_of(load("img_moore_man_red_jacket"))
    vis = np.zeros_like(pose.visibility)
    vis[LM.LEFT_WRIST] = 1.0
    alone = dataclasses.replace(pose, visibility=vis)  # only the wrist: nothing to size the hand by
    assert hand_length_px(alone, "left", OPTIONS) is None and wrist_crop(alone, "left", OPTIONS) is None
    hand = hand_length_px(pose, "left", OPTIONS)
    assert hand is not None
    picky = dataclasses.replace(OPTIONS, min_crop_px=OPTIONS.crop_hands * hand + 1)
    assert wrist_crop(pose, "left", picky) is None


def test_crop_is_sized_by_the_largest_body_cue_and_leans_towards_the_hand() -> None:
    pose = pose_of(load("img_moore_man_red_jacket"))
    px = pose.px
    forearm = OPTIONS.hand_per_forearm * np.linalg.norm(px[LM.LEFT_ELBOW] - px[LM.LEFT_WRIST])
    knuckles = OPTIONS.hand_per_knuckles * max(np.linalg.norm(px[i] - px[LM.LEFT_WRIST])
                                                for i in (LM.LEFT_PINKY, LM.LEFT_INDEX, LM.LEFT_THUMB))
    shoulders = OPTIONS.hand_per_shoulders * np.linalg.norm(px[LM.LEFT_SHOULDER] - px[LM.RIGHT_SHOULDER])
    crop = wrist_crop(pose, "left", OPTIONS)
    assert crop is not None
    assert crop.hand_px == pytest.approx(max(forearm, knuckles, shoulders))
    assert crop.size == pytest.approx(OPTIONS.crop_hands * crop.hand_px)
    # Arms hang down in this photo: the crop centre sits below the wrist, by crop_shift hands.
    assert crop.cy > px[LM.LEFT_WRIST, 1]
    shift = np.hypot(crop.cx - px[LM.LEFT_WRIST, 0], crop.cy - px[LM.LEFT_WRIST, 1])
    assert shift == pytest.approx(OPTIONS.crop_shift * crop.hand_px)


@pytest.mark.parametrize("centre", [(40.3, 55.8), (3.0, 4.0), (70.5, 60.2)])
def test_crop_points_map_back_to_frame_pixels(centre: tuple[float, float]) -> None:
    """A marked pixel found in the resized crop maps back to where it is in the frame,
    also when the crop hangs over the frame's edge."""
    h, w = 80, 100
    rgb = np.zeros((h, w, 3), np.uint8)
    mx, my = 47, 33
    rgb[my, mx] = 255
    crop = HandCrop("left", centre[0] + 10.0, centre[1] - 5.0, 90.0, 37.5)
    image, x0, y0, scale = crop_square(rgb, crop.cx, crop.cy, crop.size, 256)
    assert (x0, y0) == crop.origin and scale * 256 == pytest.approx(crop.side_px)
    ys, xs = np.nonzero(image[..., 0] > 0)
    assert xs.size > 0, "the marker must lie inside every crop of this test"
    norm = np.array([[xs.mean() / 256 + 0.5 / 256, ys.mean() / 256 + 0.5 / 256, 0.0]])
    back = crop.to_frame(norm)[0]
    assert abs(back[0] - (mx + 0.5)) <= 0.6 and abs(back[1] - (my + 0.5)) <= 0.6


def test_pose_for_another_frame_size_is_refused() -> None:
    rec = load("img_moore_man_red_jacket")
    pose = pose_of(rec)
    with pytest.raises(ValueError, match="frame"):
        locate_hands((pose.image_size[0] + 1, pose.image_size[1]), pose, replay(rec), OPTIONS)


@pytest.mark.parametrize("bad", [dict(running_mode="live"), dict(num_hands_per_crop=0), dict(crop_size=32),
                                 dict(crop_hands=0.0), dict(max_wrist_offset=-1.0),
                                 dict(merge_crop_overlap=0.0)])
def test_bad_options_fail_fast(bad: dict) -> None:
    with pytest.raises(ValueError):
        HandEstimatorOptions(**bad)


def test_result_sides_are_checked() -> None:
    result = locate(load("img_cnet_walk_front"))
    with pytest.raises(ValueError, match="side"):
        result.side("middle")
    assert result.left is not None
    with pytest.raises(ValueError, match="21"):
        dataclasses.replace(result.left, points=np.zeros((20, 3)))
