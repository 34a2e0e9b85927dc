"""Measurements over time for one clip: arm swing per stride, steps and rhythm,
leg jiggle, lateral sway (standing/sitting and walking) and bows.

Every function takes `times_ms` (one timestamp per frame, strictly increasing,
any spacing: live frames can be dropped) and, except `detect_oscillation`,
`landmarks` (one `PoseLandmarks` or None per frame). Nothing here counts
frames: windows, spacings and periods are in seconds; periodic signals are put
on a uniform time grid (linear interpolation over gaps up to MAX_INTERP_GAP_S)
for period estimation and segmentation, while peak values are fitted on the
original samples, and oscillations are fitted directly on the irregular samples.
Missing people and landmarks below `VIS_MIN` become gaps (NaN), never zeros.
Result times are `timestamp_ms / 1000` (same clock as the input).

Distances are in shoulder widths ("sw"). From a side view the shoulders
overlap on screen, so the shoulder width is estimated as the world landmarks'
shoulder-width / torso-length ratio times the image torso length (see
`shoulder_width_px`). Angles are in degrees.

Arm swing is measured in the image from a side view only (the body turned at
most ARM_SWING_MAX_SIN_YAW from side-on; further is `unknown`, "oblique"), the
arm's sideways hang taken out with the sign of the body's turn and the
detector's left/right bias on the elbow undone (see `_arm_angle`). On rendered
walks with exact truth (two characters, seen from their left and right) the
near arm's forward peak came within about 2.5 degrees per stride; world
landmarks alone overestimated the forward swing by up to 15 degrees, the far
(occluded) arm was unreliable and a front view read about 10 degrees whatever
the true swing. Rule limits (pass bands, minimum amplitudes) are not applied
here; they live in the rule profile.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .landmarks import LM, PoseLandmarks

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- constants

# A landmark below this visibility is treated as missing.
VIS_MIN = 0.5
# Feet of the far leg in a side view score lower but are still placed well enough for step timing.
VIS_MIN_FEET = 0.3
# Shoulder width / torso length (mid-shoulder to mid-hip) when no world landmarks are available.
DEFAULT_SW_TORSO_RATIO = 0.70
# Visible shoulder width / expected shoulder width (= |cos| of the body's yaw to the camera):
# at most this is a side view (yaw >= 60 deg), at least FRONT_VIEW_MIN_WIDTH_RATIO a front/back view.
SIDE_VIEW_MAX_WIDTH_RATIO = 0.5
FRONT_VIEW_MIN_WIDTH_RATIO = 0.7

# Uniform grid used for period estimation and half-cycle segmentation.
GRID_DT_S = 0.01
# Gaps up to this long are interpolated on the grid; longer ones split the signal.
MAX_INTERP_GAP_S = 0.25
# Plausible stride (one full arm cycle) and step periods: about 50-200 steps/min.
STRIDE_PERIOD_RANGE_S = (0.6, 2.4)
STEP_PERIOD_RANGE_S = (0.3, 1.2)
# Normalised autocorrelation a period estimate must reach to count as a rhythm.
MIN_PERIODICITY = 0.3
# Among autocorrelation peaks, the shortest lag within this fraction of the best one wins
# (so a limp's double period does not replace the step period).
PERIOD_PEAK_TOLERANCE = 0.8
# Half-cycle segmentation, as fractions of the period: smoothing of the centred signal,
# shortest half-cycle kept, half-width of the quadratic fit around a peak and the
# distance a peak must keep from an open (clip or gap) edge.
LOBE_SMOOTH_FRACTION = 0.15
MIN_LOBE_FRACTION = 0.25
PEAK_FIT_FRACTION = 0.12
EDGE_MARGIN_FRACTION = 0.05
# A half-cycle cut by the clip edge or a gap counts only when this share of a typical
# complete half-cycle of the same sign was seen (and its extremum keeps the edge margin).
OPEN_LOBE_MIN_SHARE = 0.6

# Walking frames whose trunk is further than this from the image vertical are detector glitches.
MAX_WALK_TRUNK_TILT_DEG = 45.0
# Upper-arm angles beyond this from the trunk line are not walking arm swing (glitches).
MAX_ARM_ANGLE_DEG = 110.0
# MediaPipe (pose_landmarker_full) draws a side-on elbow back when the person faces
# image-right (the camera on their right side): forward upper-arm angles then read 16-20 %
# low, backward ones are unaffected (see _arm_angle). Forward angles of a person facing
# image-right are multiplied by this. Measured with scripts/evaluate_armswing.py on three
# right-side clips of two rendered characters (forward peaks read 0.82-0.85 of the same
# walk seen from the left); set 1.0 to measure the raw landmarks, re-measure for another model.
FACING_RIGHT_FORWARD_GAIN = 1.2
# Arm swing from a camera this far from side-on (sine of the body's turn) answers `unknown`
# ("oblique"), even when the view counts as a side view for the other measurements: the
# sideways hang of the arm, taken out with world landmarks, is too uncertain beyond it.
ARM_SWING_MAX_SIN_YAW = 0.35
# Outlier (Hampel) filter: half window, MAD multiplier and minimum deviation (angles).
HAMPEL_HALF_WINDOW_S = 0.1
HAMPEL_K = 3.0
HAMPEL_MIN_DEV_DEG = 10.0
# A step is timed at the middle of the separation peak's crossings of this fraction of its height.
STEP_LEVEL_FRACTION = 0.7
# Foot-separation samples further than this (sw) from their running median are glitches.
STEP_OUTLIER_SW = 0.3
# Fewest strides for a reliable arm swing, fewest steps for a rhythm.
MIN_STRIDES = 2
MIN_STEPS = 3
# The fraction of measurable frames the near-side cue must win to name the near arm.
NEAR_SIDE_MIN_AGREEMENT = 0.6
# Direction cues: hip travel speed and nose-ahead-of-ears / toe-ahead-of-heel offsets (in sw).
MIN_TRAVEL_SPEED_SW_S = 0.5
MIN_FACING_OFFSET_SW = 0.05
# Facing per frame (walking back and forth): cues pass a running median over this window,
# and a facing must hold this long to start a new stretch (the turn in between is absorbed).
FACING_MEDIAN_S = 0.5
MIN_FACING_RUN_S = 1.0

# Oscillation: the best in-band sinusoid must explain this share of the detrended variance
# (noise: ~0.1-0.3); frequency scan step; windows with more time in gaps than
# OSC_MAX_MISSING are skipped.
OSC_MIN_CONCENTRATION = 0.5
OSC_FREQ_STEP_HZ = 0.02
OSC_MAX_MISSING = 0.2
# Detrended variance below this (signal units squared) counts as no motion at all.
OSC_MIN_VARIANCE = 1e-12
# Sliding windows for leg jiggle advance by this fraction of the window; windows merge
# into one interval only while their frequencies agree within JIGGLE_MAX_FREQ_CHANGE_HZ.
JIGGLE_HOP_FRACTION = 0.25
JIGGLE_MAX_FREQ_CHANGE_HZ = 1.0

# Sway: short running median against single-frame glitches; a window needs this much data.
SWAY_MEDIAN_S = 0.2
SWAY_MIN_COVERAGE = 0.8

# Bows: flexion above the standing baseline that makes a bow; bow edges at this fraction
# of the peak; "near the maximum" band for the hold; return tolerance; shortest bow.
BOW_DETECT_DEG = 10.0
# From the front flexion comes from foreshortening (arccos, steep near upright): noisier,
# so a bow must rise further.
BOW_DETECT_DEG_FRONT = 12.0
BOW_EDGE_FRACTION = 0.2
BOW_HOLD_TOLERANCE_DEG = 5.0
BOW_RETURN_TOLERANCE_DEG = 5.0
BOW_MIN_DURATION_S = 0.3
BOW_MEDIAN_S = 0.1
# Flexion percentile taken as the standing baseline of a clip; from the front, the
# trunk-height / shoulder-width percentile taken as upright.
BOW_BASELINE_PERCENTILE = 20.0
BOW_UPRIGHT_PERCENTILE = 90.0
# From the front arccos is steep near upright, so the height ratio is median-filtered longer.
BOW_FRONT_MEDIAN_S = 0.5

VIEWS = ("side", "front", "oblique", "unknown")
FRONT_VIEW_REASON = "front view: film from the side"
OBLIQUE_VIEW_REASON = "oblique view: film from the side"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ArmMeasure:
    """One arm's swing per stride: the upper arm's (shoulder -> elbow) angle from the
    trunk line (mid-shoulder -> mid-hip) in the sagittal plane, seen from the side.

    forward_deg[i]: forward peak of stride i (degrees in front of the trunk line).
    backward_deg[i]: backward peak magnitude of stride i (degrees behind the trunk
        line, positive; negative if the arm never got behind it).
    forward_t_s / backward_t_s: when those peaks happened (a stride = one forward and
        the adjacent backward peak). reliable False comes with a `reason`; near tells
        whether this is the arm nearer the camera.
    forward_arm_deg / backward_arm_deg (and their times): the same peaks of the whole
        arm (shoulder -> wrist), segmented independently with the same stride period.
        On real walks the forearm does much of the forward swing (upper arm ~0-8 deg,
        whole arm ~20-26 deg forward), so a trainer may want to see both.
    """

    forward_deg: list[float] = field(default_factory=list)
    backward_deg: list[float] = field(default_factory=list)
    forward_t_s: list[float] = field(default_factory=list)
    backward_t_s: list[float] = field(default_factory=list)
    reliable: bool = False
    reason: str | None = None
    near: bool | None = None
    forward_arm_deg: list[float] = field(default_factory=list)
    backward_arm_deg: list[float] = field(default_factory=list)
    forward_arm_t_s: list[float] = field(default_factory=list)
    backward_arm_t_s: list[float] = field(default_factory=list)

    @property
    def strides(self) -> int:
        return len(self.forward_deg)

    @property
    def median_forward_deg(self) -> float | None:
        return float(np.median(self.forward_deg)) if self.forward_deg else None

    @property
    def median_backward_deg(self) -> float | None:
        return float(np.median(self.backward_deg)) if self.backward_deg else None


@dataclass(frozen=True)
class ArmSwing:
    """Arm swing of both arms; `view`, `near_side` ("left"/"right"), `facing` ("left"/"right"
    of the image) and `stride_period_s` tell how it was measured."""

    left: ArmMeasure
    right: ArmMeasure
    view: str
    near_side: str | None = None
    facing: str | None = None
    stride_period_s: float | None = None


@dataclass(frozen=True)
class Steps:
    """Step events (heel strikes at the widest foot separation).

    times_s: event times; lead_foot: the foot in front at each event ("left"/"right",
    None when the labels cannot be trusted); step_times_cv: std/mean (sample std) of
    the step intervals; cadence_spm: steps per minute from the mean interval.
    """

    times_s: list[float] = field(default_factory=list)
    lead_foot: list[str | None] = field(default_factory=list)
    intervals_s: list[float] = field(default_factory=list)
    step_times_cv: float | None = None
    cadence_spm: float | None = None
    reliable: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class Oscillation:
    """Dominant oscillation of a signal in a band.

    amplitude: amplitude of the best-fitting sinusoid (= half its peak-to-peak), in the
    signal's units. concentration: share of the detrended variance it explains (about 1
    for a clean oscillation, small for noise). present: concentration at least
    OSC_MIN_CONCENTRATION and amplitude at least the caller's `min_amplitude`.
    """

    present: bool
    freq_hz: float | None
    amplitude: float
    concentration: float
    band_hz: tuple[float, float]


@dataclass(frozen=True)
class JiggleInterval:
    """A stretch with a knee/ankle oscillation: median frequency and amplitude (half
    peak-to-peak, shoulder widths) of its windows; part e.g. "left_knee"."""

    start_s: float
    end_s: float
    freq_hz: float
    amplitude_sw: float
    part: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class SwaySample(NamedTuple):
    """Hip-centre lateral peak-to-peak over the window ending at t_s (shoulder widths)."""

    t_s: float
    peak_to_peak_sw: float


@dataclass(frozen=True)
class Bow:
    """One bow: trunk flexion in degrees from upright; `view` it was measured from
    ("side" best; "front" from foreshortening, unsigned and rougher)."""

    start_s: float
    end_s: float
    peak_s: float
    max_flexion_deg: float
    hold_s: float
    returned_upright: bool
    baseline_deg: float
    view: str


@dataclass(frozen=True)
class ViewEstimate:
    """Camera view of the body: "side", "front" (or back), "oblique" or "unknown".

    width_ratio: visible / expected shoulder width (|cos| of the body's yaw to the camera).
    """

    view: str
    width_ratio: float | None


# --------------------------------------------------------------------------- clip arrays


@dataclass(frozen=True)
class _Clip:
    t: np.ndarray  # (N,) seconds
    px: np.ndarray  # (N, 33, 2) pixels, NaN when no person
    z: np.ndarray  # (N, 33) image-landmark relative depth (smaller = nearer), NaN when no person
    vis: np.ndarray  # (N, 33), 0 when no person
    world: np.ndarray  # (N, 33, 3), NaN when missing


def _clip(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]) -> _Clip:
    t = np.asarray(times_ms, dtype=np.float64) / 1000.0
    if t.ndim != 1 or len(t) != len(landmarks):
        raise ValueError(f"need one timestamp per frame: {t.shape} timestamps, {len(landmarks)} frames")
    if len(t) > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("timestamps must increase strictly")
    n = len(t)
    px = np.full((n, 33, 2), np.nan)
    z = np.full((n, 33), np.nan)
    vis = np.zeros((n, 33))
    world = np.full((n, 33, 3), np.nan)
    for i, lm in enumerate(landmarks):
        if lm is None:
            continue
        px[i] = lm.px
        z[i] = lm.image[:, 2]
        vis[i] = lm.visibility
        if lm.world is not None:
            world[i] = lm.world
    return _Clip(t, px, z, vis, world)


def _points(clip: _Clip, idx: int, vis_min: float = VIS_MIN) -> np.ndarray:
    """(N, 2) pixel positions of one landmark, NaN where missing or not visible enough."""
    p = clip.px[:, idx].copy()
    p[clip.vis[:, idx] < vis_min] = np.nan
    return p


def _trunk(clip: _Clip) -> tuple[np.ndarray, np.ndarray]:
    """Mid-shoulder and mid-hip pixel positions (N, 2), NaN when any of the four is missing."""
    sh = (_points(clip, LM.LEFT_SHOULDER) + _points(clip, LM.RIGHT_SHOULDER)) / 2
    hip = (_points(clip, LM.LEFT_HIP) + _points(clip, LM.RIGHT_HIP)) / 2
    return sh, hip


def _sw_torso_ratio(clip: _Clip) -> float:
    """Median world shoulder width / torso length of the clip (DEFAULT_SW_TORSO_RATIO without world)."""
    w = clip.world
    sw = np.linalg.norm(w[:, LM.LEFT_SHOULDER] - w[:, LM.RIGHT_SHOULDER], axis=1)
    torso = np.linalg.norm((w[:, LM.LEFT_SHOULDER] + w[:, LM.RIGHT_SHOULDER]) / 2
                           - (w[:, LM.LEFT_HIP] + w[:, LM.RIGHT_HIP]) / 2, axis=1)
    ok = np.isfinite(sw) & np.isfinite(torso) & (torso > 1e-6)
    if not ok.any():
        return DEFAULT_SW_TORSO_RATIO
    return float(np.median(sw[ok] / torso[ok]))


def shoulder_width_px(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]) -> np.ndarray:
    """Per-frame shoulder width in pixels: max(visible width, world ratio x image torso length).

    The visible width shrinks when the body turns sideways, the torso length when it
    leans toward the camera; the larger of the two is the better body size. NaN = missing.
    """
    return _shoulder_width(_clip(times_ms, landmarks))


def _shoulder_width(clip: _Clip) -> np.ndarray:
    sh, hip = _trunk(clip)
    torso = np.linalg.norm(sh - hip, axis=1)
    visible = np.linalg.norm(_points(clip, LM.LEFT_SHOULDER) - _points(clip, LM.RIGHT_SHOULDER), axis=1)
    est = np.fmax(visible, _sw_torso_ratio(clip) * torso)
    est[~np.isfinite(torso)] = np.nan
    return est


def _width_ratio(clip: _Clip) -> np.ndarray:
    """Per-frame visible / expected shoulder width (NaN when missing)."""
    sh, hip = _trunk(clip)
    torso = np.linalg.norm(sh - hip, axis=1)
    visible = np.linalg.norm(_points(clip, LM.LEFT_SHOULDER) - _points(clip, LM.RIGHT_SHOULDER), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return visible / (_sw_torso_ratio(clip) * torso)


def _view(clip: _Clip) -> ViewEstimate:
    r = _width_ratio(clip)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return ViewEstimate("unknown", None)
    m = float(np.median(r))
    if m <= SIDE_VIEW_MAX_WIDTH_RATIO:
        view = "side"
    elif m >= FRONT_VIEW_MIN_WIDTH_RATIO:
        view = "front"
    else:
        view = "oblique"
    return ViewEstimate(view, m)


def estimate_view(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]) -> ViewEstimate:
    """Side, front (or back) or oblique view of the clip from the visible shoulder width."""
    return _view(_clip(times_ms, landmarks))


# --------------------------------------------------------------------------- signal helpers


def _to_grid(t: np.ndarray, x: np.ndarray, dt: float = GRID_DT_S,
             max_gap_s: float = MAX_INTERP_GAP_S) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of a NaN-gapped series onto a uniform grid; long gaps stay NaN."""
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return np.array([]), np.array([])
    tv, xv = t[ok], x[ok]
    grid = np.arange(tv[0], tv[-1] + dt / 2, dt)
    xg = np.interp(grid, tv, xv)
    # Blank grid points that fall inside a gap longer than max_gap_s.
    gaps = np.flatnonzero(np.diff(tv) > max_gap_s)
    for g in gaps:
        xg[(grid > tv[g]) & (grid < tv[g + 1])] = np.nan
    return grid, xg


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred NaN-aware moving average over `width` samples (shrinks at the ends; NaN where no data)."""
    half = max(0, int(width) // 2)
    ok = np.isfinite(x)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
    m = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(len(x))
    lo = np.clip(idx - half, 0, len(x))
    hi = np.clip(idx + half + 1, 0, len(x))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[hi] - c[lo]) / (m[hi] - m[lo])
    out[~ok] = np.nan
    return out


def _running_median(t: np.ndarray, x: np.ndarray, half_window_s: float) -> np.ndarray:
    """Median of the valid samples within +/- half_window_s of each sample (NaN stays NaN)."""
    out = np.full_like(x, np.nan)
    ok = np.isfinite(x)
    lo = np.searchsorted(t, t - half_window_s, side="left")
    hi = np.searchsorted(t, t + half_window_s, side="right")
    for i in np.flatnonzero(ok):
        seg = x[lo[i]:hi[i]]
        vals = np.sort(seg[np.isfinite(seg)])  # np.median's overhead dominates on these short windows
        n = vals.size
        out[i] = 0.5 * (vals[(n - 1) // 2] + vals[n // 2])
    return out


def _hampel(t: np.ndarray, x: np.ndarray, half_window_s: float = HAMPEL_HALF_WINDOW_S,
            k: float = HAMPEL_K, min_dev: float = HAMPEL_MIN_DEV_DEG) -> np.ndarray:
    """Replace samples far from their running median by NaN (single-frame detector glitches)."""
    out = x.copy()
    ok = np.isfinite(x)
    lo = np.searchsorted(t, t - half_window_s, side="left")
    hi = np.searchsorted(t, t + half_window_s, side="right")
    for i in np.flatnonzero(ok):
        seg = x[lo[i]:hi[i]]
        seg = seg[np.isfinite(seg)]
        if seg.size < 3:
            continue
        med = np.median(seg)
        mad = 1.4826 * np.median(np.abs(seg - med))
        if abs(x[i] - med) > max(k * mad, min_dev):
            out[i] = np.nan
    return out


def _autocorr_period(xg: np.ndarray, dt: float, lo_s: float, hi_s: float) -> tuple[float | None, float]:
    """Period (s) of a gridded NaN-gapped signal from its normalised autocorrelation.

    Returns (period or None, correlation at that lag). Among local maxima in
    [lo_s, hi_s] the shortest lag within PERIOD_PEAK_TOLERANCE of the best wins.
    """
    ok = np.isfinite(xg)
    if ok.sum() * dt < 1.5 * lo_s:
        return None, 0.0
    x = np.where(ok, xg - np.nanmean(xg), 0.0)
    m = ok.astype(float)
    n = len(x)
    lags = np.arange(max(1, int(lo_s / dt) - 1), min(n - 1, int(math.ceil(hi_s / dt)) + 2))
    if lags.size < 3:
        return None, 0.0
    r = np.full(lags.size, np.nan)
    for j, lag in enumerate(lags):
        a, b = x[:-lag], x[lag:]
        mm = m[:-lag] * m[lag:]
        if mm.sum() * dt < lo_s:  # too little overlap to trust
            continue
        den = math.sqrt(float(np.sum(a * a * mm) * np.sum(b * b * mm)))
        if den > 0:
            r[j] = float(np.sum(a * b * mm)) / den
    peaks = [j for j in range(1, lags.size - 1)
             if np.isfinite(r[j]) and r[j] >= np.nan_to_num(r[j - 1], nan=-2) and r[j] > np.nan_to_num(r[j + 1], nan=-2)]
    peaks = [j for j in peaks if lo_s <= lags[j] * dt <= hi_s]
    if not peaks:
        return None, 0.0
    best = max(r[j] for j in peaks)
    if best <= 0:
        return None, float(best)
    j = min(j for j in peaks if r[j] >= PERIOD_PEAK_TOLERANCE * best)
    # Parabolic refinement of the lag.
    y0, y1, y2 = r[j - 1], r[j], r[j + 1]
    den = y0 - 2 * y1 + y2
    frac = 0.5 * (y0 - y2) / den if np.isfinite(den) and den < 0 else 0.0
    return float((lags[j] + np.clip(frac, -0.5, 0.5)) * dt), float(r[j])


class _Lobe(NamedTuple):
    t0: float
    t1: float
    sign: int
    open0: bool
    open1: bool


def _lobes(grid: np.ndarray, xg: np.ndarray, period: float) -> list[_Lobe]:
    """Half-cycles of an oscillation: runs where the centred, smoothed signal keeps its sign.

    The signal is centred by a one-period moving average and smoothed over
    LOBE_SMOOTH_FRACTION of a period; runs shorter than MIN_LOBE_FRACTION of a period
    are merged into their neighbours. Runs touching a gap or the clip edge are "open".
    """
    if grid.size == 0:
        return []
    dt = grid[1] - grid[0] if grid.size > 1 else GRID_DT_S
    c = xg - _moving_average(xg, round(period / dt))
    s = _moving_average(c, round(LOBE_SMOOTH_FRACTION * period / dt))
    sign = np.sign(s)
    runs: list[list] = []  # [i0, i1, sign, open0, open1]
    i, n = 0, len(s)
    while i < n:
        if not np.isfinite(s[i]) or sign[i] == 0:
            i += 1
            continue
        j = i
        while j + 1 < n and np.isfinite(s[j + 1]) and sign[j + 1] == sign[i]:
            j += 1
        open0 = i == 0 or not np.isfinite(s[i - 1])
        open1 = j == n - 1 or not np.isfinite(s[j + 1])
        runs.append([i, j, int(sign[i]), open0, open1])
        i = j + 1
    # Merge short closed runs (noise wiggles around a crossing) into their neighbours.
    min_len = MIN_LOBE_FRACTION * period / dt
    while True:
        short = [k for k, r in enumerate(runs) if r[1] - r[0] + 1 < min_len and not (r[3] or r[4])
                 and 0 < k < len(runs) - 1 and runs[k - 1][2] == runs[k + 1][2]
                 and runs[k - 1][1] + 1 == r[0] and r[1] + 1 == runs[k + 1][0]]
        if not short:
            break
        k = min(short, key=lambda q: runs[q][1] - runs[q][0])
        a, b = runs[k - 1], runs[k + 1]
        runs[k - 1:k + 2] = [[a[0], b[1], a[2], a[3], b[4]]]
    return [_Lobe(float(grid[r[0]]), float(grid[r[1]]), r[2], r[3], r[4]) for r in runs]


def _refine_peak(t: np.ndarray, x: np.ndarray, i: int, half_s: float) -> tuple[float, float]:
    """(time, value) of an extremum at sample i, refined by a least-squares parabola over
    +/- half_s; falls back to the sample itself when the fit is not a clean extremum."""
    sel = np.flatnonzero((np.abs(t - t[i]) <= half_s) & np.isfinite(x))
    if sel.size < 3 or not (np.any(t[sel] < t[i]) and np.any(t[sel] > t[i])):
        return float(t[i]), float(x[i])
    tt = t[sel] - t[i]
    a, b, c = np.polyfit(tt, x[sel], 2)
    is_max = x[i] >= np.median(x[sel])
    if a == 0 or (is_max and a > 0) or (not is_max and a < 0):
        return float(t[i]), float(x[i])
    tv = -b / (2 * a)
    if abs(tv) > half_s:
        return float(t[i]), float(x[i])
    return float(t[i] + tv), float(c - b * b / (4 * a))


class _Peak(NamedTuple):
    t: float
    value: float
    sign: int


def _lobe_peaks(t: np.ndarray, x: np.ndarray, lobes: list[_Lobe], period: float) -> list[_Peak]:
    """The extremum of each half-cycle, taken from the original samples and refined.

    Half-cycles cut by the clip edge or a gap count only when most of one was seen
    (OPEN_LOBE_MIN_SHARE of a typical complete one) and the extremum is not at the cut.
    """
    peaks: list[_Peak] = []
    margin = EDGE_MARGIN_FRACTION * period
    typical = {}
    for sign in (-1, 1):
        closed = [lb.t1 - lb.t0 for lb in lobes if lb.sign == sign and not (lb.open0 or lb.open1)]
        typical[sign] = float(np.median(closed)) if closed else period / 2
    for lb in lobes:
        sel = np.flatnonzero((t >= lb.t0) & (t <= lb.t1) & np.isfinite(x))
        if sel.size == 0:
            continue
        i = sel[np.argmax(x[sel] * lb.sign)]
        if lb.open0 or lb.open1:
            if lb.t1 - lb.t0 < OPEN_LOBE_MIN_SHARE * typical[lb.sign]:
                continue
            if (lb.open0 and t[i] - lb.t0 < margin) or (lb.open1 and lb.t1 - t[i] < margin):
                continue
        tp, v = _refine_peak(t, x, int(i), PEAK_FIT_FRACTION * period)
        peaks.append(_Peak(tp, v, lb.sign))
    return peaks


# --------------------------------------------------------------------------- direction and near side


def _facing_sign(clip: _Clip, scale: float) -> tuple[int | None, str]:
    """+1 when the body faces/travels toward +x of the image, -1 toward -x; with the cue used.

    Cues, by majority: hip travel (when faster than MIN_TRAVEL_SPEED_SW_S), toes ahead of
    heels, nose ahead of the ears. Ties go to travel, then feet, then nose.
    """
    votes: list[tuple[int, str]] = []
    _, hip = _trunk(clip)
    ok = np.isfinite(hip[:, 0])
    if ok.sum() >= 3 and np.isfinite(scale) and scale > 0:
        tt, xx = clip.t[ok], hip[ok, 0]
        if tt[-1] - tt[0] > 0.5:
            speed = np.polyfit(tt - tt[0], xx, 1)[0] / scale
            if abs(speed) >= MIN_TRAVEL_SPEED_SW_S:
                votes.append((int(np.sign(speed)), "travel"))
    feet = []
    for heel, toe in ((LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX), (LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX)):
        d = _points(clip, toe, VIS_MIN_FEET)[:, 0] - _points(clip, heel, VIS_MIN_FEET)[:, 0]
        feet.append(d)
    f = np.nanmedian(np.concatenate(feet)) / scale if np.any(np.isfinite(np.concatenate(feet))) else np.nan
    if np.isfinite(f) and abs(f) >= MIN_FACING_OFFSET_SW:
        votes.append((int(np.sign(f)), "feet"))
    ears = (_points(clip, LM.LEFT_EAR) + _points(clip, LM.RIGHT_EAR)) / 2
    ears = np.where(np.isfinite(ears), ears, np.fmax(_points(clip, LM.LEFT_EAR), _points(clip, LM.RIGHT_EAR)))
    nose = _points(clip, LM.NOSE)[:, 0] - ears[:, 0]
    nz = np.nanmedian(nose) / scale if np.any(np.isfinite(nose)) else np.nan
    if np.isfinite(nz) and abs(nz) >= MIN_FACING_OFFSET_SW:
        votes.append((int(np.sign(nz)), "nose"))
    if not votes:
        return None, "none"
    total = sum(v for v, _ in votes)
    if total != 0:
        sign = int(np.sign(total))
    else:
        sign = votes[0][0]
    cues = "+".join(name for v, name in votes if v == sign)
    if any(v != sign for v, _ in votes):
        logger.debug("direction cues disagree: %s", votes)
    return sign, cues


def _near_side(clip: _Clip) -> tuple[str | None, float]:
    """Which arm is nearer the camera ("left"/"right") and the share of frames agreeing.

    Per frame a side wins on (elbow + wrist visibility) and on image z of shoulder and
    elbow (smaller z is nearer); both cues vote.
    """
    v = clip.vis
    vis_l = v[:, LM.LEFT_ELBOW] + v[:, LM.LEFT_WRIST]
    vis_r = v[:, LM.RIGHT_ELBOW] + v[:, LM.RIGHT_WRIST]
    present = np.isfinite(clip.px[:, LM.LEFT_SHOULDER, 0])
    score = np.sign(vis_l - vis_r)
    zl = clip.z[:, LM.LEFT_SHOULDER] + clip.z[:, LM.LEFT_ELBOW]
    zr = clip.z[:, LM.RIGHT_SHOULDER] + clip.z[:, LM.RIGHT_ELBOW]
    score += np.where(np.isfinite(zl - zr), np.sign(zr - zl), 0.0)
    score = score[present]
    decided = score[score != 0]
    if decided.size == 0:
        return None, 0.0
    left_share = float(np.mean(decided > 0))
    if left_share >= 0.5:
        return "left", left_share
    return "right", 1.0 - left_share


def facing_segments(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]
                    ) -> list[tuple[float, float, int]]:
    """Stretches (start_s, end_s, facing) of one facing direction: +1 toward image right,
    -1 toward image left, 0 undecided (front/back view, nobody seen).

    For a trainee who walks past a side camera, turns and walks back: each pass shows the
    other arm and must be measured on its own. Per frame, the nose ahead of the ears and
    the hip's travel vote (a tie is undecided); votes pass a FACING_MEDIAN_S running median;
    stretches shorter than MIN_FACING_RUN_S (the turn) join a neighbour. end_s is the last
    frame's time plus one frame interval.
    """
    clip = _clip(times_ms, landmarks)
    n = len(clip.t)
    if n == 0:
        return []
    sw = _shoulder_width(clip)
    scale = float(np.nanmedian(sw)) if np.any(np.isfinite(sw)) else float("nan")
    vote = np.zeros(n)
    if np.isfinite(scale) and scale > 0:
        ears = (_points(clip, LM.LEFT_EAR) + _points(clip, LM.RIGHT_EAR)) / 2
        ears = np.where(np.isfinite(ears), ears, np.fmax(_points(clip, LM.LEFT_EAR), _points(clip, LM.RIGHT_EAR)))
        nose = (_points(clip, LM.NOSE)[:, 0] - ears[:, 0]) / scale
        vote += np.where(np.abs(np.nan_to_num(nose)) >= MIN_FACING_OFFSET_SW, np.sign(np.nan_to_num(nose)), 0.0)
        _, hip = _trunk(clip)
        # Travel over a stride-long mean: the body's side-to-side motion within a stride cancels.
        x = _time_moving_average(clip.t, _running_median(clip.t, hip[:, 0], FACING_MEDIAN_S / 2), 2 * FACING_MEDIAN_S)
        ok = np.isfinite(x)
        if ok.sum() >= 3:
            v = np.full(n, np.nan)
            v[ok] = np.gradient(x[ok], clip.t[ok]) / scale
            vote += np.where(np.abs(np.nan_to_num(v)) >= MIN_TRAVEL_SPEED_SW_S, np.sign(np.nan_to_num(v)), 0.0)
    present = np.isfinite(clip.px[:, LM.NOSE, 0]) | np.isfinite(clip.px[:, LM.LEFT_HIP, 0])
    # Facing the camera (or away) shows no left/right facing: side-to-side sway is not travel.
    frontal = np.nan_to_num(_width_ratio(clip), nan=0.0) >= FRONT_VIEW_MIN_WIDTH_RATIO
    raw = np.where(present, np.where(frontal, 0.0, np.sign(vote)), np.nan)
    label = np.sign(np.nan_to_num(_running_median(clip.t, raw, FACING_MEDIAN_S / 2))).astype(int)
    step = float(np.median(np.diff(clip.t))) if n > 1 else 0.0
    ends = np.append(clip.t[1:], clip.t[-1] + step)
    runs: list[list] = []
    for i in range(n):
        if runs and runs[-1][2] == label[i]:
            runs[-1][1] = float(ends[i])
        else:
            runs.append([float(clip.t[i]), float(ends[i]), int(label[i])])
    # Short decided stretches (a glance, the turn) count as undecided, unless nothing else is decided.
    if any(r[2] != 0 and r[1] - r[0] >= MIN_FACING_RUN_S for r in runs):
        for r in runs:
            if r[2] != 0 and r[1] - r[0] < MIN_FACING_RUN_S:
                r[2] = 0
    merged: list[list] = []
    for r in runs:
        if merged and merged[-1][2] == r[2]:
            merged[-1][1] = r[1]
        else:
            merged.append(list(r))
    # Undecided stretches join their decided neighbours; between two facings, split in the middle.
    out: list[list] = []
    for k, r in enumerate(merged):
        if r[2] != 0 or len(merged) == 1:
            if out and out[-1][2] == r[2]:
                out[-1][1] = r[1]
            else:
                out.append(list(r))
            continue
        prev = out[-1] if out else None
        nxt = merged[k + 1] if k + 1 < len(merged) else None
        if prev is not None and nxt is not None and prev[2] != nxt[2]:
            mid = (r[0] + r[1]) / 2
            prev[1] = mid
            nxt[0] = mid
        elif prev is not None:
            prev[1] = r[1]
        elif nxt is not None:
            nxt[0] = r[0]
    runs = out
    return [(round(a, 3), round(b, 3), c) for a, b, c in runs]


# --------------------------------------------------------------------------- arm swing


# Shoulder, elbow and wrist of each arm.
_ARM_LANDMARKS = {"left": (LM.LEFT_SHOULDER, LM.LEFT_ELBOW, LM.LEFT_WRIST),
                  "right": (LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW, LM.RIGHT_WRIST)}


class _BodyYaw(NamedTuple):
    """How far the body is turned from side-on, for the arm angles.

    sin_yaw: signed sine of the turn: the image offset of the left shoulder from the right
    along the image forward direction, over the expected shoulder width (clip median;
    the shoulder girdle's rotation within a stride cancels). Negative when the far
    shoulder shows ahead, i.e. the chest turned toward the camera if the near arm is the
    left one. px_per_m: image pixels per world metre (trunk length ratio; NaN without
    world landmarks).
    """

    sin_yaw: float
    px_per_m: float


def _trunk_axes(clip: _Clip, forward: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: unit trunk direction (mid-shoulder -> mid-hip), unit image normal to it
    pointing forward, and the trunk's tilt from the image vertical (degrees)."""
    sh, hip = _trunk(clip)
    down = hip - sh
    length = np.linalg.norm(down, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        down = down / length
    tilt = np.degrees(np.arctan2(np.abs(down[:, 0]), down[:, 1]))  # down = +y
    normal = np.stack([-down[:, 1], down[:, 0]], axis=1)  # down rotated by -90 deg
    normal *= np.sign(normal[:, :1] * forward + 1e-12)  # point it toward the front
    return down, normal, tilt


def _turn_per_frame(clip: _Clip, forward: int) -> np.ndarray:
    """Per frame: the left shoulder's image offset from the right along the image forward
    direction, over the expected shoulder width (about the signed sine of the body's turn
    from side-on; NaN when missing)."""
    _, normal, _ = _trunk_axes(clip, forward)
    offset = np.sum((_points(clip, LM.LEFT_SHOULDER) - _points(clip, LM.RIGHT_SHOULDER)) * normal, axis=1)
    sh, hip = _trunk(clip)
    with np.errstate(invalid="ignore", divide="ignore"):
        return offset / (_sw_torso_ratio(clip) * np.linalg.norm(sh - hip, axis=1))


def _body_yaw(clip: _Clip, forward: int) -> _BodyYaw:
    """The body's signed turn from side-on and the image scale (see _BodyYaw)."""
    ratio = _turn_per_frame(clip, forward)
    ratio = ratio[np.isfinite(ratio)]
    sin_yaw = float(np.clip(np.median(ratio), -1.0, 1.0)) if ratio.size else 0.0
    sh, hip = _trunk(clip)
    torso_px = np.linalg.norm(sh - hip, axis=1)
    w = clip.world
    torso_m = np.linalg.norm((w[:, LM.LEFT_SHOULDER] + w[:, LM.RIGHT_SHOULDER]) / 2
                             - (w[:, LM.LEFT_HIP] + w[:, LM.RIGHT_HIP]) / 2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = torso_px / torso_m
    scale = scale[np.isfinite(scale) & (scale > 0)]
    return _BodyYaw(sin_yaw, float(np.median(scale)) if scale.size else float("nan"))


def _lateral_m(clip: _Clip, s_idx: int, tip_idx: int) -> np.ndarray:
    """Per frame: the arm's (shoulder -> tip) component toward the person's left, in world
    metres (left = the shoulders' and hips' left-minus-right, square to the trunk). NaN
    without world landmarks."""
    w = clip.world
    up = (w[:, LM.LEFT_SHOULDER] + w[:, LM.RIGHT_SHOULDER]) / 2 - (w[:, LM.LEFT_HIP] + w[:, LM.RIGHT_HIP]) / 2
    left = (w[:, LM.LEFT_SHOULDER] - w[:, LM.RIGHT_SHOULDER]) + (w[:, LM.LEFT_HIP] - w[:, LM.RIGHT_HIP])
    with np.errstate(invalid="ignore", divide="ignore"):
        up = up / np.linalg.norm(up, axis=1, keepdims=True)
        left = left - up * np.sum(left * up, axis=1, keepdims=True)
        left = left / np.linalg.norm(left, axis=1, keepdims=True)
    return np.sum((w[:, tip_idx] - w[:, s_idx]) * left, axis=1)


def _arm_angle(clip: _Clip, side: str, forward: int, yaw: _BodyYaw, segment: str = "upper") -> np.ndarray:
    """Signed arm angle from the trunk line in the body's sagittal plane (+ forward), per frame.

    segment "upper": shoulder -> elbow (the standard's definition); "whole": shoulder -> wrist.

    Left/right: the arithmetic is mirror-symmetric (a mirrored landmark sequence gives the
    same numbers, see the tests), but the detector is not. On rendered walks with exact
    truth (two characters; a clip and its mirror image, and a camera on either side) the
    upper arm's forward peak read within 1 deg of truth from the person's left and 4-7 deg
    low from their right, while the whole arm and the backward peaks agreed within about
    2 deg: MediaPipe places the elbow further back along the arm when a person facing
    image-right swings it forward. FACING_RIGHT_FORWARD_GAIN undoes that on the upper arm's
    forward angles (the facing direction, not the arm's label, decides: a person facing
    image-right shows the camera their right side).

    From the image, the component across the trunk line mixes the arm's forward swing
    (foreshortened by cos yaw) with its sideways hang (abduction, times the signed sin
    yaw): turned toward the camera, a near arm hanging away from the body reads as swung
    back; turned away, as swung forward. The sideways part (world landmarks) is taken out
    with the sign of the turn, then the foreshortening undone.
    """
    if segment not in ("upper", "whole"):
        raise ValueError(f"segment must be 'upper' or 'whole', got {segment!r}")
    s_idx, e_idx, w_idx = _ARM_LANDMARKS[side]
    tip = e_idx if segment == "upper" else w_idx
    down, normal, tilt = _trunk_axes(clip, forward)
    sin_yaw = float(np.clip(yaw.sin_yaw, -SIDE_VIEW_MAX_WIDTH_RATIO, SIDE_VIEW_MAX_WIDTH_RATIO))
    cos_yaw = math.sqrt(1.0 - sin_yaw ** 2)
    arm = _points(clip, tip) - _points(clip, s_idx)
    along = np.sum(arm * down, axis=1)
    across = np.sum(arm * normal, axis=1)
    sideways = yaw.px_per_m * _lateral_m(clip, s_idx, tip) * sin_yaw
    across = (across - np.where(np.isfinite(sideways), sideways, 0.0)) / cos_yaw
    ang = np.degrees(np.arctan2(across, along))
    if segment == "upper" and forward > 0:
        ang = np.where(ang > 0, ang * FACING_RIGHT_FORWARD_GAIN, ang)
    # Frames turned far from side-on (e.g. facing the camera after the walk) show no swing.
    turned = np.abs(np.nan_to_num(_turn_per_frame(clip, forward), nan=0.0)) > SIDE_VIEW_MAX_WIDTH_RATIO
    ang[(tilt > MAX_WALK_TRUNK_TILT_DEG) | (np.abs(ang) > MAX_ARM_ANGLE_DEG) | turned] = np.nan
    return _hampel(clip.t, ang)


def _strides(t: np.ndarray, ang: np.ndarray, period: float) -> ArmMeasure:
    """Forward/backward peaks per stride of one arm's angle series."""
    grid, xg = _to_grid(t, ang)
    peaks = _lobe_peaks(t, ang, _lobes(grid, xg, period), period)
    fwd, bwd, tf, tb = [], [], [], []
    k = 0
    while k + 1 < len(peaks):
        a, b = peaks[k], peaks[k + 1]
        # A stride is one forward and one backward peak, adjacent and within one period.
        if a.sign != b.sign and b.t - a.t <= period:
            f, bk = (a, b) if a.sign > 0 else (b, a)
            fwd.append(round(f.value, 2))
            bwd.append(round(-bk.value, 2))
            tf.append(round(f.t, 3))
            tb.append(round(bk.t, 3))
            k += 2
        else:
            k += 1
    return ArmMeasure(fwd, bwd, tf, tb)


def measure_arm_swing(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None],
                      view_hint: str | None = None) -> ArmSwing:
    """Arm swing per stride for each arm, from a side view (see `_arm_angle`).

    view_hint: "side", "front" or "oblique" to override the automatic view estimate.
    Forward is the way the person travels/faces (hip travel, toes, nose: majority); the
    near arm is picked by visibility and depth (falling back on the side the facing
    direction shows). Strides are the near arm's half-cycles, segmented at its own
    oscillation period (or twice the step period when that is weak). The near arm is
    reliable with at least MIN_STRIDES strides; the far arm is always unreliable
    (occluded; its numbers, if any, are kept); a front or oblique view gives no numbers,
    and so does a side view with the body turned further than ARM_SWING_MAX_SIN_YAW from
    side-on (view "oblique"; a `view_hint` skips that limit).
    """
    if view_hint not in (None, "side", "front", "oblique"):
        raise ValueError(f"view_hint must be 'side', 'front', 'oblique' or None, got {view_hint!r}")
    clip = _clip(times_ms, landmarks)
    view_est = _view(clip)
    view = view_hint or view_est.view

    def unreliable(reason: str, near_side: str | None = None, facing: str | None = None) -> ArmSwing:
        return ArmSwing(ArmMeasure(reason=reason), ArmMeasure(reason=reason), view, near_side, facing)

    if view == "front":
        return unreliable(FRONT_VIEW_REASON)
    if view == "oblique":
        return unreliable(OBLIQUE_VIEW_REASON)
    if view == "unknown":
        return unreliable("no person found")
    scale = float(np.nanmedian(_shoulder_width(clip)))
    forward, cues = _facing_sign(clip, scale)
    if forward is None:
        return unreliable("cannot tell which way the person faces")
    facing = "right" if forward > 0 else "left"
    # Geometry: facing image-left (-x) with the head up shows the body's left side.
    geometric_near = "left" if forward < 0 else "right"
    near, agreement = _near_side(clip)
    if near is None or agreement < NEAR_SIDE_MIN_AGREEMENT:
        near = geometric_near
    elif near != geometric_near:
        logger.warning("near arm by visibility/depth (%s) disagrees with facing %s (%s); using %s",
                       near, facing, cues, near)
    far = "right" if near == "left" else "left"
    ratio = view_est.width_ratio if view_est.width_ratio is not None else 0.0
    yaw = _body_yaw(clip, forward)
    if view_hint is None and abs(yaw.sin_yaw) > ARM_SWING_MAX_SIN_YAW:
        return ArmSwing(ArmMeasure(reason=OBLIQUE_VIEW_REASON), ArmMeasure(reason=OBLIQUE_VIEW_REASON),
                        "oblique", near, facing)

    angles = {side: _arm_angle(clip, side, forward, yaw) for side in ("left", "right")}
    period = _stride_period(clip, angles[near])
    if period is None:
        return unreliable("no regular arm swing or steps found", near_side=near, facing=facing)
    result: dict[str, ArmMeasure] = {}
    for side in ("left", "right"):
        m = _strides(clip.t, angles[side], period)
        w = _strides(clip.t, _arm_angle(clip, side, forward, yaw, "whole"), period)
        if side == far:
            reliable, reason = False, "far arm is hidden from a side view: film the other side to measure it"
        elif m.strides < MIN_STRIDES:
            reliable, reason = False, f"only {m.strides} stride(s) measured: film at least {MIN_STRIDES} full strides"
        else:
            reliable, reason = True, None
        result[side] = ArmMeasure(m.forward_deg, m.backward_deg, m.forward_t_s, m.backward_t_s, reliable, reason,
                                  side != far, w.forward_deg, w.backward_deg, w.forward_t_s, w.backward_t_s)
    logger.debug("arm swing: view %s (ratio %.2f, sin yaw %.2f), facing %s by %s, near %s, stride %.2f s",
                 view, ratio, yaw.sin_yaw, facing, cues, near, period)
    return ArmSwing(result["left"], result["right"], view, near, facing, round(period, 3))


def _stride_period(clip: _Clip, near_angle: np.ndarray) -> float | None:
    """Stride period from the near arm's own oscillation, else twice the step period."""
    grid, xg = _to_grid(clip.t, near_angle)
    period, corr = _autocorr_period(xg, GRID_DT_S, *STRIDE_PERIOD_RANGE_S) if grid.size else (None, 0.0)
    if period is not None and corr >= MIN_PERIODICITY:
        return period
    step_period, step_corr = _step_period(clip)
    if step_period is not None and step_corr >= MIN_PERIODICITY:
        logger.debug("arm swing weakly periodic (r=%.2f); stride period from steps", corr)
        return 2.0 * step_period
    return None


# --------------------------------------------------------------------------- steps


def _foot_separation(clip: _Clip) -> tuple[np.ndarray, np.ndarray]:
    """(signed ankle separation in sw along the feet's main axis, unit axis in the image).

    The left-minus-right ankle difference is centred on its median (a constant offset,
    e.g. the hip width seen from an oblique camera, is not a step) and projected on its
    axis of largest variance: the line of travel from the side, mostly vertical from the
    front. Signed + when the left ankle is further along the axis (axis x >= 0); a
    left/right label swap only flips the sign when the offset is small (side view).
    """
    n = len(clip.t)
    diff = _points(clip, LM.LEFT_ANKLE, VIS_MIN_FEET) - _points(clip, LM.RIGHT_ANKLE, VIS_MIN_FEET)
    sw = _shoulder_width(clip)
    ok = np.all(np.isfinite(diff), axis=1)
    if ok.sum() < 3 or not np.any(np.isfinite(sw)):
        return np.full(n, np.nan), np.array([1.0, 0.0])
    scale = float(np.nanmedian(sw))
    d = diff[ok] - np.median(diff[ok], axis=0)
    _, _, vt = np.linalg.svd(d, full_matrices=False)
    axis = vt[0] if vt[0][0] >= 0 else -vt[0]
    sep = np.full(n, np.nan)
    sep[ok] = d @ axis / scale
    return sep, axis


def _time_moving_average(t: np.ndarray, x: np.ndarray, width_s: float) -> np.ndarray:
    """Mean of the valid samples within +/- width_s / 2 of each sample (NaN stays NaN)."""
    ok = np.isfinite(x)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
    m = np.concatenate([[0], np.cumsum(ok)])
    lo = np.searchsorted(t, t - width_s / 2, side="left")
    hi = np.searchsorted(t, t + width_s / 2, side="right")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[hi] - c[lo]) / (m[hi] - m[lo])
    out[~ok] = np.nan
    return out


def _level_midpoint(grid: np.ndarray, xg: np.ndarray, t_peak: float, level: float) -> float:
    """Midpoint of the times around t_peak where a gridded peak crosses `level` going out.

    The top of a separation peak is flat, so its argmax wanders with noise; the flanks are
    steep, so the middle of the two level crossings times the peak better. Falls back to
    t_peak when a crossing is missing (clip edge or gap).
    """
    i = int(np.clip(np.searchsorted(grid, t_peak), 0, len(grid) - 1))
    if not np.isfinite(xg[i]) or xg[i] < level:
        return t_peak
    a = i
    while a > 0 and np.isfinite(xg[a - 1]) and xg[a - 1] >= level:
        a -= 1
    b = i
    while b + 1 < len(xg) and np.isfinite(xg[b + 1]) and xg[b + 1] >= level:
        b += 1
    if a == 0 or b == len(xg) - 1 or not (np.isfinite(xg[a - 1]) and np.isfinite(xg[b + 1])):
        return t_peak
    t0 = float(np.interp(level, [xg[a - 1], xg[a]], [grid[a - 1], grid[a]]))
    t1 = float(np.interp(level, [xg[b + 1], xg[b]], [grid[b + 1], grid[b]]))
    return (t0 + t1) / 2


def _max_gap(t: np.ndarray, a: float, b: float) -> float:
    """Longest stretch without a sample between times a and b (t sorted)."""
    inside = t[np.searchsorted(t, a, side="right"):np.searchsorted(t, b, side="left")]
    return float(np.max(np.diff(np.concatenate([[a], inside, [b]]))))


class _StepSignal(NamedTuple):
    sep: np.ndarray  # signed separation, centred per stride (sw)
    axis: np.ndarray
    step_period: float | None
    periodicity: float


def _step_signal(clip: _Clip) -> _StepSignal:
    """Foot separation centred per stride, and the step period.

    The stride period comes from the separation's own autocorrelation (one stride =
    one full left-right cycle), else from that of its magnitude (one step). From an
    oblique or front camera the separation is centred by a one-stride moving average
    (the step width shows as an offset); from the side that offset is negligible while
    left/right leg label swaps are common and would corrupt such an average, so the
    separation is used as it is.
    """
    sep, axis = _foot_separation(clip)
    # Single-frame foot glitches (one ankle misplaced or the legs' labels swapped) go.
    sep = _hampel(clip.t, sep, min_dev=STEP_OUTLIER_SW)
    grid, xg = _to_grid(clip.t, sep)
    if grid.size == 0:
        return _StepSignal(sep, axis, None, 0.0)
    stride, corr = _autocorr_period(xg, GRID_DT_S, *STRIDE_PERIOD_RANGE_S)
    if stride is None or corr < MIN_PERIODICITY:
        step, corr = _autocorr_period(np.abs(xg), GRID_DT_S, *STEP_PERIOD_RANGE_S)
        if step is None:
            return _StepSignal(sep, axis, None, corr)
        stride = 2 * step
    if _view(clip).view != "side":
        sep = sep - _time_moving_average(clip.t, sep, stride)
    return _StepSignal(sep, axis, stride / 2, corr)


def _step_period(clip: _Clip) -> tuple[float | None, float]:
    sig = _step_signal(clip)
    return sig.step_period, sig.periodicity


def detect_steps(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]) -> Steps:
    """Step events at the widest ankle-to-ankle separation (heel strike), with rhythm CV and cadence.

    The separation is measured along the feet's main axis, normalised by shoulder
    width and centred per stride; its magnitude has one peak per step, so a side-view
    left/right label swap does not add or lose steps.
    """
    clip = _clip(times_ms, landmarks)
    sig = _step_signal(clip)
    sep, axis = sig.sep, sig.axis
    mag = np.abs(sep)
    grid, xg = _to_grid(clip.t, mag)
    if grid.size == 0:
        return Steps(reason="feet not visible")
    period, corr = sig.step_period, sig.periodicity
    if period is None or corr < MIN_PERIODICITY:
        return Steps(reason="no regular steps found")
    peaks = [p for p in _lobe_peaks(clip.t, mag, _lobes(grid, xg, period), period) if p.sign > 0]
    times = [round(_level_midpoint(grid, xg, p.t, STEP_LEVEL_FRACTION * p.value), 3) for p in peaks]
    forward, _ = _facing_sign(clip, float(np.nanmedian(_shoulder_width(clip))))
    lead: list[str | None] = []
    for p in peaks:
        i = int(np.argmin(np.abs(clip.t - p.t)))
        s = sep[i]
        if forward is None or not np.isfinite(s) or abs(axis[0]) < abs(axis[1]):
            lead.append(None)
        else:
            lead.append("left" if np.sign(s) * np.sign(axis[0]) * forward > 0 else "right")
    # Intervals spanning a gap in the data (a step may be missing) are not rhythm.
    valid_t = clip.t[np.isfinite(mag)]
    iv = np.array([b - a for a, b in zip(times[:-1], times[1:])
                   if _max_gap(valid_t, a, b) <= MAX_INTERP_GAP_S])
    cv = float(np.std(iv, ddof=1) / np.mean(iv)) if iv.size >= 2 else None
    cadence = float(60.0 / np.mean(iv)) if iv.size else None
    reliable = len(times) >= MIN_STEPS and cv is not None
    reason = None if reliable else f"only {len(times)} step(s) found"
    return Steps(times, lead, [round(float(x), 3) for x in iv],
                 None if cv is None else round(cv, 4), None if cadence is None else round(cadence, 1),
                 reliable, reason)


# --------------------------------------------------------------------------- oscillation / jiggle


def _sine_scan(t: np.ndarray, x: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fit of x ~ quadratic trend + a cos(2 pi f t) + b sin(2 pi f t) at each f.

    Works on irregular samples directly (no interpolation). Returns the share of the
    detrended variance each sinusoid explains and its amplitude sqrt(a^2 + b^2).
    """
    tc = t - t.mean()
    q, _ = np.linalg.qr(np.column_stack([np.ones_like(tc), tc, tc ** 2]))
    r = x - q @ (q.T @ x)
    rss0 = float(r @ r)
    if rss0 <= OSC_MIN_VARIANCE * len(x):  # a constant signal: nothing oscillates
        return np.zeros_like(freqs), np.zeros_like(freqs)
    w = 2 * np.pi * freqs[:, None] * tc[None, :]
    c, s = np.cos(w), np.sin(w)
    c = c - (c @ q) @ q.T  # remove the trend part of each basis function
    s = s - (s @ q) @ q.T
    g11, g12, g22 = np.sum(c * c, 1), np.sum(c * s, 1), np.sum(s * s, 1)
    h1, h2 = c @ r, s @ r
    det = g11 * g22 - g12 ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        a = (g22 * h1 - g12 * h2) / det
        b = (g11 * h2 - g12 * h1) / det
    explained = np.nan_to_num((a * h1 + b * h2) / rss0) if rss0 > 0 else np.zeros_like(freqs)
    return np.clip(explained, 0.0, 1.0), np.nan_to_num(np.hypot(a, b))


def detect_oscillation(times_ms: Sequence[float], signal: Sequence[float], band_hz: tuple[float, float] = (2.0, 8.0),
                       min_amplitude: float = 0.0) -> Oscillation:
    """Dominant oscillation of `signal` within `band_hz`.

    A sinusoid plus a quadratic trend is least-squares fitted on the actual (possibly
    irregular) samples at every frequency of the band (step OSC_FREQ_STEP_HZ, capped
    at the sampling's Nyquist frequency), so dropped frames need no interpolation.
    amplitude: the best sinusoid's amplitude = half its peak-to-peak, in the signal's
    units. concentration: the share of the detrended variance that sinusoid explains
    (about 1 for a clean oscillation, small for noise). present: concentration >=
    OSC_MIN_CONCENTRATION and amplitude >= min_amplitude (> 0). Windows with more than
    OSC_MAX_MISSING of their time in gaps, or shorter than two cycles of the lowest
    band frequency, give present=False.
    """
    t = np.asarray(times_ms, dtype=np.float64) / 1000.0
    x = np.asarray(signal, dtype=np.float64)
    none = Oscillation(False, None, 0.0, 0.0, band_hz)
    ok = np.isfinite(x)
    if ok.sum() < 8:
        return none
    t, x = t[ok], x[ok]
    span = t[-1] - t[0]
    dt = float(np.median(np.diff(t)))
    steps = np.diff(t)
    missing = float(np.sum(steps[steps > MAX_INTERP_GAP_S])) / span if span > 0 else 1.0
    if span < 2.0 / band_hz[0] or missing > OSC_MAX_MISSING or dt <= 0:
        return none
    hi = min(band_hz[1], 0.5 / dt)
    if hi <= band_hz[0]:
        return none
    freqs = np.arange(band_hz[0], hi + 1e-9, OSC_FREQ_STEP_HZ)
    explained, amp = _sine_scan(t, x, freqs)
    k = int(np.argmax(explained))
    conc, amplitude = float(explained[k]), float(amp[k])
    present = conc >= OSC_MIN_CONCENTRATION and amplitude > 0 and amplitude >= min_amplitude
    return Oscillation(present, round(float(freqs[k]), 3), amplitude, round(conc, 3), band_hz)


_JIGGLE_PARTS = {
    "left_knee": LM.LEFT_KNEE, "right_knee": LM.RIGHT_KNEE,
    "left_ankle": LM.LEFT_ANKLE, "right_ankle": LM.RIGHT_ANKLE,
}


def leg_jiggle(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None], window_s: float = 2.0,
               band_hz: tuple[float, float] = (2.0, 8.0), min_amplitude_sw: float = 0.0) -> list[JiggleInterval]:
    """Intervals where a knee or ankle oscillates in `band_hz` (amplitude in shoulder widths).

    Windows of `window_s` slide by JIGGLE_HOP_FRACTION of a window (the last one ends at
    the last frame); in each, the image x and y of each knee and ankle, divided by the
    window's median shoulder width, go through `detect_oscillation` and the stronger
    axis is kept. Consecutive overlapping windows of one part whose frequencies agree
    within JIGGLE_MAX_FREQ_CHANGE_HZ merge into one interval (freq and amplitude =
    medians over its windows). A window is flagged once about half of it oscillates
    (the sinusoid then explains about half its variance), so the interval runs from the
    centre of its first window to the centre of its last, widened by half a hop (the
    flagged windows' centres fall on a grid), or to the clip's edge when a window
    touches it: that matches the oscillating stretch within about half a hop. Pass
    the profile's amplitude limit as `min_amplitude_sw`; compare `duration_s` with its
    duration limit.
    """
    clip = _clip(times_ms, landmarks)
    if len(clip.t) < 2 or clip.t[-1] - clip.t[0] < window_s:
        return []
    sw = _shoulder_width(clip)
    hop = window_s * JIGGLE_HOP_FRACTION
    starts = list(np.arange(clip.t[0], clip.t[-1] - window_s + 1e-9, hop))
    if clip.t[-1] - window_s - starts[-1] > 1e-6:
        starts.append(clip.t[-1] - window_s)
    found: dict[str, list[tuple[float, float, float, float]]] = {p: [] for p in _JIGGLE_PARTS}
    for t0 in starts:
        sel = (clip.t >= t0 - 1e-9) & (clip.t <= t0 + window_s + 1e-9)
        if not np.any(np.isfinite(sw[sel])):
            continue
        scale = float(np.nanmedian(sw[sel]))
        for part, idx in _JIGGLE_PARTS.items():
            pos = _points(clip, idx)[sel] / scale
            best: Oscillation | None = None
            for axis in (0, 1):
                osc = detect_oscillation(clip.t[sel] * 1000.0, pos[:, axis], band_hz, min_amplitude_sw)
                if osc.present and (best is None or osc.amplitude > best.amplitude):
                    best = osc
            if best is not None and best.freq_hz is not None:
                found[part].append((float(t0), float(t0 + window_s), best.freq_hz, best.amplitude))
    out: list[JiggleInterval] = []
    for part, wins in found.items():
        runs: list[list[tuple[float, float, float, float]]] = []
        for w in wins:
            last = runs[-1][-1] if runs else None
            if last is not None and w[0] <= last[1] and abs(w[2] - last[2]) <= JIGGLE_MAX_FREQ_CHANGE_HZ:
                runs[-1].append(w)
            else:
                runs.append([w])
        for run in runs:
            first, last = run[0], run[-1]
            start = first[0] if first[0] <= clip.t[0] + 1e-6 else (first[0] + first[1] - hop) / 2
            end = last[1] if last[1] >= clip.t[-1] - 1e-6 else (last[0] + last[1] + hop) / 2
            out.append(JiggleInterval(round(start, 3), round(end, 3),
                                      round(float(np.median([w[2] for w in run])), 3),
                                      round(float(np.median([w[3] for w in run])), 4), part))
    return sorted(out, key=lambda j: (j.start_s, j.part))


# --------------------------------------------------------------------------- sway


def lateral_sway(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None],
                 window_s: float = 3.0) -> list[SwaySample]:
    """Hip-centre lateral (image x) peak-to-peak over the `window_s` ending at each frame.

    Meant for a front view. Positions pass a SWAY_MEDIAN_S running median (single-frame
    glitches) and are normalised by the window's median shoulder width; windows with
    less than SWAY_MIN_COVERAGE of their time covered by frames are skipped.
    """
    clip = _clip(times_ms, landmarks)
    _, hip = _trunk(clip)
    return _window_p2p(clip, hip[:, 0], window_s, detrend=False)


def walking_sway(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None],
                 window_s: float = 2.0) -> list[SwaySample]:
    """Lateral trunk sway while walking: trunk-centre image x, drift removed, peak-to-peak
    over the `window_s` ending at each frame (shoulder widths).

    Meant for a front (or back) view, walking toward or away from the camera: the
    trunk centre (mean of shoulders and hips) passes a SWAY_MEDIAN_S running median, a
    straight line fitted over each window removes the walking path's drift, and what is
    left is the side-to-side movement (扭来扭去) plus the natural weight shift.
    """
    clip = _clip(times_ms, landmarks)
    sh, hip = _trunk(clip)
    return _window_p2p(clip, (sh[:, 0] + hip[:, 0]) / 2, window_s, detrend=True)


def _window_p2p(clip: _Clip, x_px: np.ndarray, window_s: float, detrend: bool) -> list[SwaySample]:
    """Peak-to-peak of x over the window ending at each frame, in window-median shoulder widths."""
    x = _running_median(clip.t, x_px, SWAY_MEDIAN_S / 2)
    sw = _shoulder_width(clip)
    ok = np.isfinite(x) & np.isfinite(sw)
    tv, xv, swv = clip.t[ok], x[ok], sw[ok]
    out: list[SwaySample] = []
    if tv.size < 2:
        return out
    starts = np.searchsorted(tv, tv - window_s - 1e-9, side="left")
    for i in range(tv.size):
        te = tv[i]
        if te - clip.t[0] < window_s - 1e-9 or i - starts[i] < 1:
            continue
        ts = tv[starts[i]:i + 1]
        # Coverage: window time not inside gaps longer than MAX_INTERP_GAP_S.
        gaps = np.diff(np.concatenate([[te - window_s], ts]))
        uncovered = float(np.sum(gaps[gaps > MAX_INTERP_GAP_S]))
        if window_s - uncovered < SWAY_MIN_COVERAGE * window_s:
            continue
        xs = xv[starts[i]:i + 1]
        if detrend and xs.size >= 3:
            xs = xs - np.polyval(np.polyfit(ts - te, xs, 1), ts - te)
        p2p = (xs.max() - xs.min()) / float(np.median(swv[starts[i]:i + 1]))
        out.append(SwaySample(round(float(te), 3), round(float(p2p), 4)))
    return out


# --------------------------------------------------------------------------- bows


def trunk_flexion_deg(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]) -> np.ndarray:
    """Per-frame trunk flexion in degrees from upright (NaN when missing); see `detect_bows`."""
    return _flexion(_clip(times_ms, landmarks))[0]


def _flexion(clip: _Clip) -> tuple[np.ndarray, str]:
    """Trunk flexion per frame and the view it was measured from.

    Side (or oblique) view: angle of mid-hip -> mid-shoulder from the image vertical,
    signed + toward the face. Front view: the trunk leans toward the camera, so its
    on-screen height shrinks as cos(flexion) while the shoulder width does not; flexion
    = arccos of (trunk height / shoulder width) over its upright value (the clip's
    BOW_UPRIGHT_PERCENTILE), unsigned.
    """
    sh, hip = _trunk(clip)
    up = sh - hip
    view = _view(clip).view
    if view != "front":
        sw = _shoulder_width(clip)
        forward = _facing_sign(clip, float(np.nanmedian(sw)))[0] if np.any(np.isfinite(sw)) else None
        return np.degrees(np.arctan2(up[:, 0] * (forward or 1), -up[:, 1])), view
    visible_sw = np.linalg.norm(_points(clip, LM.LEFT_SHOULDER) - _points(clip, LM.RIGHT_SHOULDER), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        height = _running_median(clip.t, -up[:, 1] / visible_sw, BOW_FRONT_MEDIAN_S / 2)
    if not np.any(np.isfinite(height)):
        return np.full(len(clip.t), np.nan), view
    upright = float(np.nanpercentile(height, BOW_UPRIGHT_PERCENTILE))
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arccos(np.clip(height / upright, -1.0, 1.0))), view


def detect_bows(times_ms: Sequence[float], landmarks: Sequence[PoseLandmarks | None]) -> list[Bow]:
    """Bows: runs where trunk flexion rises BOW_DETECT_DEG above the clip's standing baseline.

    Flexion (see `_flexion`; side view best) passes a BOW_MEDIAN_S running median. The
    baseline is its BOW_BASELINE_PERCENTILE over the clip. A bow starts/ends where its
    excess over the baseline falls under BOW_EDGE_FRACTION of the peak excess;
    max_flexion_deg is from upright (not from the baseline); hold_s is the time within
    BOW_HOLD_TOLERANCE_DEG of the maximum; returned_upright when flexion comes back within
    BOW_RETURN_TOLERANCE_DEG of the baseline before the next bow or the clip's end.
    """
    clip = _clip(times_ms, landmarks)
    raw, view = _flexion(clip)
    flex = _running_median(clip.t, raw, BOW_MEDIAN_S / 2)
    ok = np.isfinite(flex)
    if ok.sum() < 3:
        return []
    t, f = clip.t[ok], flex[ok]
    baseline = float(np.percentile(f, BOW_BASELINE_PERCENTILE))
    excess = f - baseline
    above = excess >= (BOW_DETECT_DEG_FRONT if view == "front" else BOW_DETECT_DEG)
    bows: list[Bow] = []
    i, n = 0, len(f)
    while i < n:
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and above[j + 1] and t[j + 1] - t[j] <= MAX_INTERP_GAP_S:
            j += 1
        k = i + int(np.argmax(excess[i:j + 1]))
        edge = BOW_EDGE_FRACTION * excess[k]
        a = i
        while a > 0 and excess[a - 1] > edge and t[a] - t[a - 1] <= MAX_INTERP_GAP_S:
            a -= 1
        b = j
        while b + 1 < n and excess[b + 1] > edge and t[b + 1] - t[b] <= MAX_INTERP_GAP_S:
            b += 1
        start = float(np.interp(edge, [excess[a - 1], excess[a]], [t[a - 1], t[a]])) if a > 0 else float(t[a])
        end = float(np.interp(edge, [excess[b + 1], excess[b]], [t[b + 1], t[b]])) if b + 1 < n else float(t[b])
        nxt = b + 1 + int(np.argmax(above[b + 1:])) if b + 1 < n and above[b + 1:].any() else n
        if end - start >= BOW_MIN_DURATION_S:
            peak = float(f[k])
            hold = _hold_time(t[a:b + 1], f[a:b + 1], peak - BOW_HOLD_TOLERANCE_DEG, k - a)
            returned = bool(np.any(excess[b + 1:nxt] <= BOW_RETURN_TOLERANCE_DEG))
            bows.append(Bow(round(start, 3), round(end, 3), round(float(t[k]), 3), round(peak, 2),
                            round(hold, 3), returned, round(baseline, 2), view))
        i = b + 1
    return bows


def _hold_time(t: np.ndarray, f: np.ndarray, level: float, k: int) -> float:
    """Time around sample k that flexion stays at or above `level` (edges interpolated)."""
    a = k
    while a > 0 and f[a - 1] >= level:
        a -= 1
    b = k
    while b + 1 < len(f) and f[b + 1] >= level:
        b += 1
    t0 = float(np.interp(level, [f[a - 1], f[a]], [t[a - 1], t[a]])) if a > 0 else float(t[a])
    t1 = float(np.interp(level, [f[b + 1], f[b]], [t[b + 1], t[b]])) if b + 1 < len(f) else float(t[b])
    return t1 - t0
