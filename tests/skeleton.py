"""Synthetic BlazePose skeletons for tests.

A body is a (33, 3) array of world coordinates in metres, laid out like MediaPipe's
world landmarks: origin between the hips, x to image right, y down, z away from the
camera. `upright()` faces the camera (the person's left is +x). Helpers return modified
copies; `to_landmarks` projects orthographically (PX_PER_M pixels per metre) into a
portrait frame and builds a `PoseLandmarks`.
"""

from __future__ import annotations

import math

import numpy as np

from posturecheck.landmarks import LM, PoseLandmarks

PX_PER_M = 600.0
FRAME = (720, 1280)  # (width, height)
ORIGIN_PX = (360.0, 700.0)
SHOULDER_WIDTH_M = 0.34
BODY_SIZE_PX = SHOULDER_WIDTH_M * PX_PER_M

UPPER_BODY = tuple(range(0, 23))  # head, shoulders, arms, hands
HEAD = tuple(range(0, 11))
LEFT_LEG_BELOW_KNEE = (LM.LEFT_ANKLE, LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX)
RIGHT_LEG_BELOW_KNEE = (LM.RIGHT_ANKLE, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX)
NEUTRAL_HEAD_DROP = math.tan(math.radians(12.0))  # nose below the ear line in a level head


def _sym(body: np.ndarray, left: int, right: int, x: float, y: float, z: float) -> None:
    body[left] = (x, y, z)
    body[right] = (-x, y, z)


def upright() -> np.ndarray:
    """Standing straight, facing the camera, arms hanging, feet hip-width and parallel."""
    b = np.zeros((33, 3))
    ear_y = -0.72
    b[LM.NOSE] = (0.0, ear_y + 0.10 * NEUTRAL_HEAD_DROP, -0.10)
    _sym(b, LM.LEFT_EYE_INNER, LM.RIGHT_EYE_INNER, 0.015, -0.735, -0.085)
    _sym(b, LM.LEFT_EYE, LM.RIGHT_EYE, 0.032, -0.735, -0.08)
    _sym(b, LM.LEFT_EYE_OUTER, LM.RIGHT_EYE_OUTER, 0.047, -0.735, -0.075)
    _sym(b, LM.LEFT_EAR, LM.RIGHT_EAR, 0.075, ear_y, 0.0)
    _sym(b, LM.MOUTH_LEFT, LM.MOUTH_RIGHT, 0.025, -0.665, -0.085)
    _sym(b, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, SHOULDER_WIDTH_M / 2, -0.50, 0.0)
    _sym(b, LM.LEFT_ELBOW, LM.RIGHT_ELBOW, 0.19, -0.22, 0.0)
    _sym(b, LM.LEFT_WRIST, LM.RIGHT_WRIST, 0.20, 0.03, 0.0)
    _sym(b, LM.LEFT_PINKY, LM.RIGHT_PINKY, 0.215, 0.11, 0.01)
    _sym(b, LM.LEFT_INDEX, LM.RIGHT_INDEX, 0.205, 0.12, -0.01)
    _sym(b, LM.LEFT_THUMB, LM.RIGHT_THUMB, 0.19, 0.09, -0.03)
    _sym(b, LM.LEFT_HIP, LM.RIGHT_HIP, 0.10, 0.0, 0.0)
    _sym(b, LM.LEFT_KNEE, LM.RIGHT_KNEE, 0.10, 0.43, 0.0)
    _sym(b, LM.LEFT_ANKLE, LM.RIGHT_ANKLE, 0.10, 0.85, 0.0)
    _sym(b, LM.LEFT_HEEL, LM.RIGHT_HEEL, 0.10, 0.90, 0.05)
    _sym(b, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX, 0.10, 0.92, -0.15)
    return b


def rotate(body: np.ndarray, idx, axis: str, deg: float, centre) -> np.ndarray:
    """Rotate the points `idx` by `deg` about an axis ('x', 'y' or 'z') through `centre`."""
    out = body.copy()
    c = np.asarray(centre, dtype=np.float64)
    a = math.radians(deg)
    ca, sa = math.cos(a), math.sin(a)
    r = {"x": np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]]),
         "y": np.array([[ca, 0, -sa], [0, 1, 0], [sa, 0, ca]]),
         "z": np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])}[axis]
    idx = list(idx)
    out[idx] = (out[idx] - c) @ r.T + c
    return out


def yaw(body: np.ndarray, deg: float) -> np.ndarray:
    """Turn the whole body about the vertical through the hips: + = to the person's left
    (the front ends up facing image right at +90), 180 = back to the camera."""
    return rotate(body, range(33), "y", deg, (0.0, 0.0, 0.0))


def lean_trunk(body: np.ndarray, deg: float) -> np.ndarray:
    """Tilt the upper body about the hips: + forward (towards -z), - backward."""
    # rotation about x maps (y, z) = (-h, 0) to (-h cos, -h sin): forward for + deg
    return rotate(body, UPPER_BODY, "x", deg, (0.0, 0.0, 0.0))


def tilt_trunk_sideways(body: np.ndarray, deg: float) -> np.ndarray:
    """Tilt the upper body about the hips in the frontal plane: + towards the person's left."""
    # rotation about z by +deg maps (x, y) = (0, -h) to (h sin, -h cos): towards +x
    return rotate(body, UPPER_BODY, "z", deg, (0.0, 0.0, 0.0))


def tilt_shoulders(body: np.ndarray, deg: float) -> np.ndarray:
    """Raise the left shoulder (and arm) by rotating the shoulder line `deg` about its middle."""
    mid = (body[LM.LEFT_SHOULDER] + body[LM.RIGHT_SHOULDER]) / 2
    return rotate(body, range(11, 23), "z", -deg, mid)


def _ear_mid(body: np.ndarray) -> np.ndarray:
    return (body[LM.LEFT_EAR] + body[LM.RIGHT_EAR]) / 2


def roll_head(body: np.ndarray, deg: float) -> np.ndarray:
    """Tilt the head sideways (ear towards shoulder) by `deg`."""
    return rotate(body, HEAD, "z", deg, _ear_mid(body))


def pitch_head(body: np.ndarray, deg: float) -> np.ndarray:
    """Raise the chin by `deg` (negative bows the head), about the ear axis."""
    # (y, z) -> rotation about x by -deg moves the nose (z < 0) up (y decreases) for deg > 0
    return rotate(body, HEAD, "x", -deg, _ear_mid(body))


def turn_head(body: np.ndarray, deg: float) -> np.ndarray:
    """Turn the head relative to the trunk: + to the person's left."""
    return rotate(body, HEAD, "y", deg, _ear_mid(body))


def bend_knee(body: np.ndarray, side: str, knee_deg: float) -> np.ndarray:
    """Bend one knee to `knee_deg` (180 = straight), the foot going backwards."""
    knee = body[LM.LEFT_KNEE if side == "left" else LM.RIGHT_KNEE]
    idx = LEFT_LEG_BELOW_KNEE if side == "left" else RIGHT_LEG_BELOW_KNEE
    # rotation about x by +a sends a point below the knee (+y) towards +z (backwards)
    return rotate(body, idx, "x", 180.0 - knee_deg, knee)


def sit(body: np.ndarray) -> np.ndarray:
    """Sit on a chair: thighs horizontal (forward), shins vertical."""
    b = body.copy()
    for side, (hip, knee, ankle, heel, toe) in {
        "left": (LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE, LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX),
        "right": (LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX),
    }.items():
        x = b[hip, 0]
        b[knee] = (x, 0.0, -0.43)
        b[ankle] = (x, 0.42, -0.43)
        b[heel] = (x, 0.47, -0.38)
        b[toe] = (x, 0.49, -0.58)
    return b


def set_feet(body: np.ndarray, heel_x: float, toe_x: float, ankle_x: float | None = None) -> np.ndarray:
    """Place both feet symmetrically: heels at ±heel_x, toes at ±toe_x (metres)."""
    b = body.copy()
    ankle_x = heel_x if ankle_x is None else ankle_x
    _sym(b, LM.LEFT_HEEL, LM.RIGHT_HEEL, heel_x, 0.90, 0.05)
    _sym(b, LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX, toe_x, 0.92, -0.13)
    _sym(b, LM.LEFT_ANKLE, LM.RIGHT_ANKLE, ankle_x, 0.85, 0.0)
    return b


def set_arm(body: np.ndarray, side: str, elbow, wrist, hand_down=(0.0, 0.09, 0.0)) -> np.ndarray:
    """Place one arm: elbow and wrist given for the LEFT arm (mirrored in x for the right);
    the hand points follow the wrist, offset by `hand_down`."""
    b = body.copy()
    m = np.array([1.0, 1.0, 1.0]) if side == "left" else np.array([-1.0, 1.0, 1.0])
    e, w, i, p, t = ((LM.LEFT_ELBOW, LM.LEFT_WRIST, LM.LEFT_INDEX, LM.LEFT_PINKY, LM.LEFT_THUMB)
                     if side == "left" else
                     (LM.RIGHT_ELBOW, LM.RIGHT_WRIST, LM.RIGHT_INDEX, LM.RIGHT_PINKY, LM.RIGHT_THUMB))
    b[e] = np.asarray(elbow) * m
    b[w] = np.asarray(wrist) * m
    h = np.asarray(hand_down)
    b[i] = (np.asarray(wrist) + h + (-0.005, 0.0, -0.01)) * m
    b[p] = (np.asarray(wrist) + h + (0.01, -0.01, 0.01)) * m
    b[t] = (np.asarray(wrist) + 0.7 * h + (-0.01, 0.0, -0.03)) * m
    return b


# hand places for the LEFT arm (elbow, wrist); mirrored for the right
ARM_RAISED = ((0.25, -0.75, 0.0), (0.27, -1.0, 0.0))
ARM_ON_HIP = ((0.40, -0.25, 0.02), (0.17, -0.12, 0.0))
ARM_IN_POCKET = ((0.21, -0.24, -0.03), (0.15, -0.10, -0.06))
ARM_CLASPED = ((0.20, -0.25, -0.03), (0.03, -0.08, -0.15))
ARM_CROSSED = ((0.16, -0.25, -0.12), (-0.12, -0.30, -0.12))
ARM_BEHIND = ((0.21, -0.24, 0.10), (0.04, -0.04, 0.16))


def to_landmarks(body: np.ndarray, *, offset_px=(0.0, 0.0), visibility: float = 0.99,
                 hidden=(), hidden_visibility: float = 0.1, world: bool = True) -> PoseLandmarks:
    """Project orthographically into a FRAME-sized image; `hidden` landmarks get low visibility."""
    w, h = FRAME
    x = ORIGIN_PX[0] + offset_px[0] + PX_PER_M * body[:, 0]
    y = ORIGIN_PX[1] + offset_px[1] + PX_PER_M * body[:, 1]
    z = PX_PER_M * body[:, 2] / w
    image = np.stack([x / w, y / h, z], axis=1)
    vis = np.full(33, visibility)
    vis[list(hidden)] = hidden_visibility
    return PoseLandmarks(image=image, visibility=vis, presence=vis.copy(),
                         world=body.copy() if world else None, image_size=FRAME)


def gait_body(phase: float, *, thigh_amp_deg: float = 25.0) -> np.ndarray:
    """Walking pose at gait `phase` (radians): thighs swing in antiphase, the swinging knee bends."""
    b = upright()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        hip = LM.LEFT_HIP if side == "left" else LM.RIGHT_HIP
        knee = LM.LEFT_KNEE if side == "left" else LM.RIGHT_KNEE
        below = LEFT_LEG_BELOW_KNEE if side == "left" else RIGHT_LEG_BELOW_KNEE
        s = sign * math.sin(phase)
        swing = max(0.0, sign * math.cos(phase))  # knee bends while this leg swings forward
        b = bend_knee(b, side, 180.0 - 40.0 * swing)
        # thigh flexion moves the knee forward (-z): rotation about x by -deg for points below
        b = rotate(b, (knee, *below), "x", -thigh_amp_deg * s, b[hip])
    return b
