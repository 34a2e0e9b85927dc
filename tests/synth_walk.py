"""Synthetic BlazePose landmark sequences with exact truth, for the temporal tests.

A stick figure is posed in 3-D body coordinates (forward f, left l, up u; metres,
origin between the hips), moved through the scene and projected orthographically
by a camera at yaw `yaw_deg` (0 = in front of the person, 90 = on their left,
-90 = on their right). Image landmarks, world landmarks (hip-centred, camera
axes), image z and visibility (far arm occluded in side views) are filled in the
way MediaPipe does, so the same code paths run as on real clips.

Waveforms go through given extrema with a half-cosine between them, so peak
values and times are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posturecheck.landmarks import LM, PoseLandmarks

F = np.array([1.0, 0.0, 0.0])
L = np.array([0.0, 1.0, 0.0])
U = np.array([0.0, 0.0, 1.0])

# Body dimensions (metres).
SHOULDER_W = 0.34
HIP_W = 0.22
TORSO = 0.50
UPPER_ARM = 0.30
FOREARM = 0.26
THIGH = 0.44
SHANK = 0.42


def through_extrema(t: np.ndarray, times: list[float], values: list[float]) -> np.ndarray:
    """Signal passing through (times[i], values[i]) with half-cosines in between (flat beyond)."""
    times_a, values_a = np.asarray(times, float), np.asarray(values, float)
    out = np.empty_like(t, dtype=float)
    for k, tk in enumerate(t):
        j = int(np.searchsorted(times_a, tk)) - 1
        if j < 0:
            out[k] = values_a[0]
        elif j >= len(times_a) - 1:
            out[k] = values_a[-1]
        else:
            u = (tk - times_a[j]) / (times_a[j + 1] - times_a[j])
            out[k] = values_a[j] + (values_a[j + 1] - values_a[j]) * (1 - np.cos(np.pi * u)) / 2
    return out


@dataclass
class WalkSpec:
    """A walk: stride period, per-stride arm peaks of the left arm (right is in anti-phase)."""

    duration_s: float = 6.0
    stride_s: float = 1.1
    forward_deg: list[float] = field(default_factory=lambda: [32.0])  # cycled per stride
    backward_deg: list[float] = field(default_factory=lambda: [18.0])  # magnitudes, cycled
    right_scale: float = 1.0  # right arm peaks = left peaks x this
    leg_swing_deg: float = 22.0
    speed_m_s: float = 1.0
    lean_deg: float = 3.0
    elbow_flex_deg: float = 20.0
    phase_s: float = 0.15  # time of the first left-arm backward peak
    abduction_deg: float = 0.0  # both arms tilted out of the sagittal plane (sagittal angles unchanged)


@dataclass
class Truth:
    """Exact per-stride arm peaks (time, value) and step (heel-strike) times."""

    left_forward: list[tuple[float, float]]
    left_backward: list[tuple[float, float]]
    right_forward: list[tuple[float, float]]
    right_backward: list[tuple[float, float]]
    step_times: list[float]


def arm_schedule(spec: WalkSpec, scale: float = 1.0, shift: float = 0.0
                 ) -> tuple[list[float], list[float], list[tuple[float, float]], list[tuple[float, float]]]:
    """Extrema (times, signed values) of one arm: backward peak, then forward peak half a stride later."""
    times, vals, fwd, bwd = [], [], [], []
    t0 = spec.phase_s + shift - spec.stride_s  # start one stride early so the clip begins mid-cycle
    k = 0
    while t0 + k * spec.stride_s < spec.duration_s + spec.stride_s:
        tb = t0 + k * spec.stride_s
        tf = tb + spec.stride_s / 2
        b = spec.backward_deg[k % len(spec.backward_deg)] * scale
        f = spec.forward_deg[k % len(spec.forward_deg)] * scale
        times += [tb, tf]
        vals += [-b, f]
        bwd.append((tb, b))
        fwd.append((tf, f))
        k += 1
    return times, vals, fwd, bwd


@dataclass
class Camera:
    yaw_deg: float = 90.0
    px_per_m: float = 300.0
    size: tuple[int, int] = (960, 720)
    centre_px: tuple[float, float] = (480.0, 380.0)

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image x, image y (down) and depth axes in body/scene coordinates."""
        psi = np.radians(self.yaw_deg)
        c = np.cos(psi) * F + np.sin(psi) * L  # toward the camera
        depth = -c
        y = -U
        x = np.cross(y, depth)
        return x, y, depth


def _skeleton(hip_centre: np.ndarray, lean_deg: float, arm_l: float, arm_r: float, leg_l: float, leg_r: float,
              elbow_flex_deg: float, abduction_deg: float = 0.0) -> np.ndarray:
    """(33, 3) scene positions of the landmarks."""
    p = np.zeros((33, 3))
    lean = np.radians(lean_deg)
    up = np.cos(lean) * U + np.sin(lean) * F
    down = -up
    fwd_perp = np.cos(lean) * F - np.sin(lean) * U
    mid_sh = hip_centre + TORSO * up
    p[LM.LEFT_HIP] = hip_centre + L * HIP_W / 2
    p[LM.RIGHT_HIP] = hip_centre - L * HIP_W / 2
    p[LM.LEFT_SHOULDER] = mid_sh + L * SHOULDER_W / 2
    p[LM.RIGHT_SHOULDER] = mid_sh - L * SHOULDER_W / 2
    abd = np.radians(abduction_deg)
    for side, ang, out in (("LEFT", arm_l, L), ("RIGHT", arm_r, -L)):
        th = np.radians(ang)
        el = p[LM[f"{side}_SHOULDER"]] + UPPER_ARM * (
            np.cos(abd) * (np.cos(th) * down + np.sin(th) * fwd_perp) + np.sin(abd) * out)
        th2 = th + np.radians(elbow_flex_deg)
        wr = el + FOREARM * (np.cos(abd) * (np.cos(th2) * down + np.sin(th2) * fwd_perp) + np.sin(abd) * out)
        p[LM[f"{side}_ELBOW"]] = el
        p[LM[f"{side}_WRIST"]] = wr
        hand = (wr - el) / FOREARM
        for name, off in (("PINKY", 0.08), ("INDEX", 0.09), ("THUMB", 0.05)):
            p[LM[f"{side}_{name}"]] = wr + off * hand
    for side, ang, sgn in (("LEFT", leg_l, 1), ("RIGHT", leg_r, -1)):
        ph = np.radians(ang)
        hip = p[LM[f"{side}_HIP"]]
        knee = hip + THIGH * (-np.cos(ph) * U + np.sin(ph) * F)
        ankle = knee + SHANK * (-np.cos(ph) * U + np.sin(ph) * F)
        p[LM[f"{side}_KNEE"]] = knee
        p[LM[f"{side}_ANKLE"]] = ankle
        p[LM[f"{side}_HEEL"]] = ankle - 0.05 * F - 0.05 * U
        p[LM[f"{side}_FOOT_INDEX"]] = ankle + 0.15 * F - 0.07 * U
    head = mid_sh + 0.22 * up
    p[LM.NOSE] = head + 0.10 * fwd_perp
    p[LM.LEFT_EAR] = head + 0.07 * L
    p[LM.RIGHT_EAR] = head - 0.07 * L
    for side, s in (("LEFT", 1), ("RIGHT", -1)):
        p[LM[f"{side}_EYE"]] = head + 0.08 * fwd_perp + 0.035 * s * L + 0.03 * up
        p[LM[f"{side}_EYE_INNER"]] = head + 0.09 * fwd_perp + 0.015 * s * L + 0.03 * up
        p[LM[f"{side}_EYE_OUTER"]] = head + 0.07 * fwd_perp + 0.05 * s * L + 0.03 * up
    p[LM.MOUTH_LEFT] = head + 0.09 * fwd_perp + 0.025 * L - 0.05 * up
    p[LM.MOUTH_RIGHT] = head + 0.09 * fwd_perp - 0.025 * L - 0.05 * up
    return p


_LEFT_ARM = [LM.LEFT_ELBOW, LM.LEFT_WRIST, LM.LEFT_PINKY, LM.LEFT_INDEX, LM.LEFT_THUMB]
_RIGHT_ARM = [LM.RIGHT_ELBOW, LM.RIGHT_WRIST, LM.RIGHT_PINKY, LM.RIGHT_INDEX, LM.RIGHT_THUMB]


def _project(p: np.ndarray, cam: Camera, rng: np.random.Generator, noise_px: float) -> PoseLandmarks:
    x, y, depth = cam.axes()
    w, h = cam.size
    hip_c = (p[LM.LEFT_HIP] + p[LM.RIGHT_HIP]) / 2
    px = np.stack([cam.centre_px[0] + cam.px_per_m * (p @ x), cam.centre_px[1] + cam.px_per_m * (p @ y)], axis=1)
    if noise_px > 0:
        px = px + rng.normal(0.0, noise_px, px.shape)
    z = cam.px_per_m * ((p - hip_c) @ depth) / w
    image = np.column_stack([px[:, 0] / w, px[:, 1] / h, z])
    world = np.column_stack([(p - hip_c) @ x, (p - hip_c) @ y, (p - hip_c) @ depth])
    vis = np.full(33, 0.98)
    side_on = abs(np.sin(np.radians(cam.yaw_deg))) > 0.7
    if side_on:
        far_arm = _RIGHT_ARM if np.sin(np.radians(cam.yaw_deg)) > 0 else _LEFT_ARM
        vis[far_arm] = 0.1
        far_leg = ([LM.RIGHT_KNEE, LM.RIGHT_ANKLE, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX]
                   if np.sin(np.radians(cam.yaw_deg)) > 0 else
                   [LM.LEFT_KNEE, LM.LEFT_ANKLE, LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX])
        vis[far_leg] = 0.7
    return PoseLandmarks(image, vis, np.ones(33), world, cam.size)


def timestamps(duration_s: float, fps: float = 30.0, drop: float = 0.0, jitter_ms: float = 0.0,
               seed: int = 0) -> np.ndarray:
    """Frame times in ms: uniform at fps, a share `drop` of frames removed, +/- jitter."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / fps) * 1000.0
    if jitter_ms > 0:
        t = t + rng.uniform(-jitter_ms, jitter_ms, t.shape)
        t[0] = max(t[0], 0.0)
    if drop > 0:
        keep = rng.random(t.shape) >= drop
        keep[0] = keep[-1] = True
        t = t[keep]
    return np.round(np.sort(t)).astype(np.int64)


def walk(spec: WalkSpec, times_ms: np.ndarray, cam: Camera | None = None, noise_px: float = 0.0,
         seed: int = 0) -> tuple[list[PoseLandmarks], Truth]:
    """Landmarks of a walk at the given frame times, with the exact truth.

    The person walks along their forward axis; the camera's yaw decides the image
    direction (yaw 90: camera on their left, walking toward image-left).
    """
    cam = cam or Camera()
    rng = np.random.default_rng(seed)
    t = np.asarray(times_ms, float) / 1000.0
    lt, lv, lf, lb = arm_schedule(spec)
    rt, rv, rf, rb = arm_schedule(spec, spec.right_scale, spec.stride_s / 2)
    arm_l = through_extrema(t, lt, lv)
    arm_r = through_extrema(t, rt, rv)
    # The left leg is forward when the left arm is back (contralateral), and vice versa.
    leg_l = spec.leg_swing_deg * np.cos(2 * np.pi * (t - spec.phase_s) / spec.stride_s)
    leg_r = -leg_l
    # Heel strikes (widest foot separation): a leg's angle at its extreme, every half stride.
    half = spec.stride_s / 2
    first = spec.phase_s + np.ceil((t[0] - spec.phase_s) / half) * half
    steps = [round(float(x), 6) for x in np.arange(first, t[-1] + 1e-9, half)]
    out = []
    for i, ti in enumerate(t):
        hip_c = F * spec.speed_m_s * ti + U * (THIGH + SHANK)
        p = _skeleton(hip_c, spec.lean_deg, arm_l[i], arm_r[i], leg_l[i], leg_r[i], spec.elbow_flex_deg,
                      spec.abduction_deg)
        out.append(_project(p, cam, rng, noise_px))
    in_clip = lambda pts: [(a, b) for a, b in pts if t[0] <= a <= t[-1]]  # noqa: E731
    truth = Truth(in_clip(lf), in_clip(lb), in_clip(rf), in_clip(rb), steps)
    return out, truth


def standing(times_ms: np.ndarray, cam: Camera | None = None, noise_px: float = 0.0, seed: int = 0,
             lean_deg: np.ndarray | float = 0.0, knee_osc: tuple[float, float] | None = None,
             hip_sway: tuple[float, float] | None = None) -> list[PoseLandmarks]:
    """A person standing still: optional trunk lean per frame (bows), knee oscillation
    (freq_hz, amplitude in shoulder widths, lateral in the scene) and hip sway (freq_hz,
    amplitude in shoulder widths, lateral)."""
    cam = cam or Camera(yaw_deg=0.0)
    rng = np.random.default_rng(seed)
    t = np.asarray(times_ms, float) / 1000.0
    leans = np.broadcast_to(np.asarray(lean_deg, float), t.shape)
    out = []
    for i, ti in enumerate(t):
        hip_c = U * (THIGH + SHANK)
        if hip_sway is not None:
            hip_c = hip_c + L * SHOULDER_W * hip_sway[1] * np.sin(2 * np.pi * hip_sway[0] * ti)
        p = _skeleton(hip_c, float(leans[i]), 0.0, 0.0, 0.0, 0.0, 5.0)
        if hip_sway is not None:  # feet stay planted
            shift = L * SHOULDER_W * hip_sway[1] * np.sin(2 * np.pi * hip_sway[0] * ti)
            for idx in (LM.LEFT_ANKLE, LM.RIGHT_ANKLE, LM.LEFT_HEEL, LM.RIGHT_HEEL,
                        LM.LEFT_FOOT_INDEX, LM.RIGHT_FOOT_INDEX):
                p[idx] -= shift
        if knee_osc is not None:
            d = L * SHOULDER_W * knee_osc[1] * np.sin(2 * np.pi * knee_osc[0] * ti)
            p[LM.LEFT_KNEE] += d
            p[LM.RIGHT_KNEE] += d
        out.append(_project(p, cam, rng, noise_px))
    return out


def ramp_hold(t: np.ndarray, start: float, ramp: float, hold: float, peak: float) -> np.ndarray:
    """0 -> peak over `ramp` s (half-cosine), hold, back to 0 over `ramp` s."""
    return through_extrema(t, [start, start + ramp, start + ramp + hold, start + 2 * ramp + hold],
                           [0.0, peak, peak, 0.0])
