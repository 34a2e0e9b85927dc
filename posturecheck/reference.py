"""Reference poses and a trainee's similarity to one (no Streamlit, no MediaPipe at import).

A reference is a set of 33 metric world landmarks (hip-centred, MediaPipe layout: y down)
with visibility and a provenance text. Shipped ones live in `posturecheck/reference_poses/`;
a trainer's own (`posturecheck reference add`) go to `$POSTURECHECK_HOME/reference_poses/`
(default `~/.posturecheck/`). Only landmarks are stored, never pictures.

Similarity: the trainee is aligned to the reference by a similarity Procrustes fit (scale,
rotation, translation) on the well-visible torso and limb landmarks (reported as
`aligned_rms`, in reference metres); then the named joint angles of JOINTS are compared.
Angles between body segments do not change with scale or orientation; trunk tilt is measured
against the vertical of each pose's own world frame (a lean is a lean whichever way the
person faces). score = 100 × mean(max(0, 1 − |diff| / SCORE_ZERO_DEG)) over the joints
visible in both poses: 0° off counts fully, 45° or more off counts nothing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .features import angle_deg
from .landmarks import LM, NUM_LANDMARKS

logger = logging.getLogger(__name__)

SCHEMA = "posturecheck.reference/1"
SHIPPED_DIR = Path(__file__).resolve().parent / "reference_poses"
SCORE_ZERO_DEG = 45.0      # a joint this far (or more) off the reference scores 0
VISIBLE = 0.5              # landmark visibility needed to use it
WORST_COUNT = 3
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ALIGN_POINTS = tuple(range(11, 17)) + tuple(range(23, 33))  # shoulders, arms, hips, legs, feet

_MID = {"hip_mid": (LM.LEFT_HIP, LM.RIGHT_HIP), "shoulder_mid": (LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER),
        "ear_mid": (LM.LEFT_EAR, LM.RIGHT_EAR)}
# Named joint angles, as data: ("angle", a, b, c) = angle a-b-c at b; ("vertical", low, high) =
# angle of low→high from straight up; ("between", a1, a2, b1, b2) = angle between a1→a2 and b1→b2.
JOINTS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("left elbow", ("angle", LM.LEFT_SHOULDER, LM.LEFT_ELBOW, LM.LEFT_WRIST)),
    ("right elbow", ("angle", LM.RIGHT_SHOULDER, LM.RIGHT_ELBOW, LM.RIGHT_WRIST)),
    ("left shoulder", ("angle", LM.LEFT_ELBOW, LM.LEFT_SHOULDER, LM.LEFT_HIP)),
    ("right shoulder", ("angle", LM.RIGHT_ELBOW, LM.RIGHT_SHOULDER, LM.RIGHT_HIP)),
    ("left hip", ("angle", LM.LEFT_SHOULDER, LM.LEFT_HIP, LM.LEFT_KNEE)),
    ("right hip", ("angle", LM.RIGHT_SHOULDER, LM.RIGHT_HIP, LM.RIGHT_KNEE)),
    ("left knee", ("angle", LM.LEFT_HIP, LM.LEFT_KNEE, LM.LEFT_ANKLE)),
    ("right knee", ("angle", LM.RIGHT_HIP, LM.RIGHT_KNEE, LM.RIGHT_ANKLE)),
    ("left ankle", ("angle", LM.LEFT_KNEE, LM.LEFT_ANKLE, LM.LEFT_FOOT_INDEX)),
    ("right ankle", ("angle", LM.RIGHT_KNEE, LM.RIGHT_ANKLE, LM.RIGHT_FOOT_INDEX)),
    ("feet opening", ("between", LM.LEFT_HEEL, LM.LEFT_FOOT_INDEX, LM.RIGHT_HEEL, LM.RIGHT_FOOT_INDEX)),
    ("trunk tilt", ("vertical", "hip_mid", "shoulder_mid")),
    ("head tilt", ("between", "hip_mid", "shoulder_mid", "shoulder_mid", "ear_mid")),
)
JOINT_NAMES_ZH = {"left elbow": "左肘", "right elbow": "右肘", "left shoulder": "左肩", "right shoulder": "右肩",
                  "left hip": "左髋", "right hip": "右髋", "left knee": "左膝", "right knee": "右膝",
                  "left ankle": "左踝", "right ankle": "右踝", "feet opening": "两脚夹角",
                  "trunk tilt": "躯干倾斜", "head tilt": "头部倾斜"}


class ReferenceError(ValueError):
    """A reference that cannot be found, named or recorded; one line in en (str) and zh."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


@dataclass(frozen=True)
class ReferencePose:
    """One reference: world (33, 3) metres hip-centred (y down), visibility (33,), provenance."""

    name: str
    description: str
    source: str
    created: str
    world: np.ndarray
    visibility: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "name": self.name, "description": self.description, "source": self.source,
                "created": self.created, "world": np.round(self.world, 5).tolist(),
                "visibility": np.round(self.visibility, 4).tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferencePose:
        world = np.asarray(d["world"], dtype=np.float64)
        vis = np.asarray(d.get("visibility") or [1.0] * NUM_LANDMARKS, dtype=np.float64)
        if world.shape != (NUM_LANDMARKS, 3) or vis.shape != (NUM_LANDMARKS,):
            raise ValueError("a reference needs 33 world landmarks (x, y, z) and 33 visibilities")
        return cls(str(d["name"]), str(d.get("description", "")), str(d.get("source", "")),
                   str(d.get("created", "")), world, vis)


@dataclass(frozen=True)
class JointDiff:
    joint: str
    trainee_deg: float
    reference_deg: float
    diff_deg: float  # trainee − reference

    def to_dict(self) -> dict[str, Any]:
        return {"joint": self.joint, "trainee_deg": round(self.trainee_deg, 1),
                "reference_deg": round(self.reference_deg, 1), "diff_deg": round(self.diff_deg, 1)}


@dataclass(frozen=True)
class Similarity:
    """score 0..100 (None when no joint is visible in both), joints sorted by |diff|, worst = top 3."""

    reference: str
    score: float | None
    joints: tuple[JointDiff, ...]
    aligned_rms: float | None  # RMS landmark distance after the Procrustes fit, reference metres

    @property
    def worst(self) -> tuple[JointDiff, ...]:
        return self.joints[:WORST_COUNT]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.reference, "score": None if self.score is None else round(self.score, 1),
                "worst": [j.to_dict() for j in self.worst], "joints": [j.to_dict() for j in self.joints],
                "aligned_rms_m": None if self.aligned_rms is None else round(self.aligned_rms, 4)}


def user_dir() -> Path:
    """Where a trainer's own references are written."""
    from .history import default_home

    return default_home() / "reference_poses"


def _read(path: Path) -> ReferencePose:
    try:
        return ReferencePose.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReferenceError(f"{path.name}: not a readable reference pose file ({exc})",
                             f"{path.name}：不是可读取的参考姿势文件（{exc}）") from exc


def list_references() -> list[ReferencePose]:
    """Shipped references, then the trainer's own (a user file never replaces a shipped name)."""
    found: dict[str, ReferencePose] = {}
    for folder in (SHIPPED_DIR, user_dir()):
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                ref = _read(path)
            except ReferenceError:
                logger.warning("skipping unreadable reference %s", path)
                continue
            found.setdefault(ref.name, ref)
    return list(found.values())


def load_reference(name_or_path: str | Path) -> ReferencePose:
    """A reference by name (shipped, then user) or by the path of its JSON file."""
    p = Path(name_or_path)
    if p.suffix == ".json" and p.is_file():
        return _read(p)
    for folder in (SHIPPED_DIR, user_dir()):
        if NAME_RE.match(str(name_or_path)) and (folder / f"{name_or_path}.json").is_file():
            return _read(folder / f"{name_or_path}.json")
    names = ", ".join(r.name for r in list_references()) or "-"
    raise ReferenceError(f"no reference pose named {name_or_path!r} (known: {names})",
                         f"没有名为 {name_or_path!r} 的参考姿势（现有：{names}）")


def _point(world: np.ndarray, key: Any) -> np.ndarray:
    if isinstance(key, str):
        a, b = _MID[key]
        return (world[a] + world[b]) / 2
    return world[int(key)]


def _indices(spec: tuple[Any, ...]) -> list[int]:
    out: list[int] = []
    for k in spec[1:]:
        out += list(_MID[k]) if isinstance(k, str) else [int(k)]
    return out


def joint_angle(world: np.ndarray, spec: tuple[Any, ...]) -> float:
    """One JOINTS angle in degrees (NaN when degenerate)."""
    kind, *keys = spec
    pts = [_point(world, k) for k in keys]
    if kind == "angle":
        return angle_deg(pts[0], pts[1], pts[2])
    if kind == "vertical":
        return angle_deg(pts[1], pts[0], pts[0] + np.array([0.0, -1.0, 0.0]))
    if kind == "between":
        return angle_deg(pts[1] - pts[0], np.zeros(3), pts[3] - pts[2])
    raise ValueError(f"unknown joint kind {kind!r}")


def procrustes(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity fit (Umeyama): scale s, rotation R, translation t with dst ≈ s·R·src + t."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    r = u @ d @ vt
    var = float((a ** 2).sum() / len(src))
    s = float(np.trace(np.diag(sig) @ d) / var) if var > 1e-12 else 1.0
    return s, r, mu_d - s * r @ mu_s


def compare(world: np.ndarray, visibility: np.ndarray, ref: ReferencePose) -> Similarity:
    """How close the trainee's world landmarks are to `ref` (see the module docstring)."""
    world = np.asarray(world, dtype=np.float64)
    ok = (np.asarray(visibility) >= VISIBLE) & (ref.visibility >= VISIBLE)
    rms = None
    pts = [i for i in ALIGN_POINTS if ok[i]]
    if len(pts) >= 4:
        s, r, t = procrustes(world[pts], ref.world[pts])
        aligned = s * world @ r.T + t
        rms = float(np.sqrt(((aligned[pts] - ref.world[pts]) ** 2).sum(axis=1).mean()))
    diffs = []
    for name, spec in JOINTS:
        if not ok[_indices(spec)].all():
            continue
        mine, theirs = joint_angle(world, spec), joint_angle(ref.world, spec)
        if np.isfinite(mine) and np.isfinite(theirs):
            diffs.append(JointDiff(name, mine, theirs, mine - theirs))
    diffs.sort(key=lambda j: -abs(j.diff_deg))
    score = (100.0 * float(np.mean([max(0.0, 1.0 - abs(j.diff_deg) / SCORE_ZERO_DEG) for j in diffs]))
             if diffs else None)
    return Similarity(ref.name, score, tuple(diffs), rms)


def median_pose(poses: Iterable[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-landmark median of the world landmarks (and visibility) of PoseLandmarks with world."""
    got = [p for p in poses if p is not None and p.world is not None]
    if not got:
        return None
    return (np.median(np.stack([p.world for p in got]), axis=0),
            np.median(np.stack([p.visibility for p in got]), axis=0))


def reference_observation(ref: ReferencePose, records: Sequence[Any], activity: str) -> dict[str, Any]:
    """observations.reference for a clip: the median pose of the frames of its dominant activity."""
    frames = [r.landmarks for r in records if r.landmarks is not None and r.activity == activity]
    pose = median_pose(frames) or median_pose(r.landmarks for r in records)
    if pose is None:
        return {"name": ref.name, "score": None, "worst": [], "joints": [], "aligned_rms_m": None}
    return compare(pose[0], pose[1], ref).to_dict()


def _measure(path: Path, model: str) -> tuple[np.ndarray, np.ndarray]:
    from .pose import PoseEstimator, PoseEstimatorOptions
    from .sources import media_kind, open_source

    kind = media_kind(path)
    found = []
    with open_source(path, max_side=1280) as source, PoseEstimator(PoseEstimatorOptions(
            model=model, running_mode="image" if kind == "image" else "video", num_poses=1,
            count_people_in_tiles=False)) as est:
        for frame in source:
            found.append(est.detect(frame.rgb, frame.timestamp_ms).person)
    pose = median_pose(found)
    if pose is None:
        raise ReferenceError(f"{path.name}: no person found, so no reference pose can be taken from it",
                             f"{path.name}：未检测到人物，无法从中提取参考姿势")
    return pose


def record_reference(name: str, file: str | Path, description: str = "", *, model: str = "full",
                     overwrite: bool = False) -> Path:
    """Measure a photo (or the per-landmark median of a clip) and save it as reference `name`.

    Raises sources.MediaError for unreadable media, ReferenceError for a bad name or no person.
    """
    if not NAME_RE.match(name):
        raise ReferenceError(f"{name!r}: a reference name uses letters, digits, '-', '_' or '.' (max 64)",
                             f"{name!r}：参考名称只能使用字母、数字、“-”“_”“.”（最多 64 个）")
    if (SHIPPED_DIR / f"{name}.json").is_file():
        raise ReferenceError(f"{name!r} is a shipped reference; choose another name",
                             f"{name!r} 是内置参考姿势，请换一个名称")
    out = user_dir() / f"{name}.json"
    if out.exists() and not overwrite:
        raise ReferenceError(f"reference {name!r} already exists ({out}); use --force to replace it",
                             f"参考姿势 {name!r} 已存在（{out}）；用 --force 覆盖")
    path = Path(file)
    world, vis = _measure(path, model)
    ref = ReferencePose(name, description, f"recorded with posturecheck from {path.name}",
                        datetime.now(timezone.utc).isoformat(timespec="seconds"), world, vis)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(ref.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return out
