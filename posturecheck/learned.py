"""Learned posture classifiers: calibrated probabilities from one person's landmarks.

The rules of the standard name postures (hands clasped in front, on the hips, in
pockets, arms crossed, legs crossed, trunk leaning or slouched, the feet's stance,
standing/sitting/walking). Hand-written geometry for these broke on footage it
had not seen, so they are learned from thousands of rendered characters with
exact labels (`corpus/`, `scripts/train_classifiers.py`) and shipped as one
small `models/posture_classifiers.npz`: per task a standardiser, a one-hidden-
layer network and a calibration temperature. Inference is NumPy only (no
training stack at run time).

Input is `pose_vector(lm)`: the world landmarks turned into the body's own frame
(x to the person's left, y up, z forward, in shoulder widths), the image
landmarks in torso units, the body yaw, and a few angles and distances. Mirroring the body (left ↔ right) gives the right hand's view as a
"left hand", so one hand model serves both hands and the two agree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .landmarks import LM, PoseLandmarks

MODEL_FILE = "posture_classifiers.npz"
MODEL_SCHEMA = "posturecheck.posture_classifiers/1"

# Joints the vector uses (hands' finger points are noisy; index tip is enough).
JOINTS: tuple[int, ...] = (
    LM.NOSE, LM.LEFT_EAR, LM.RIGHT_EAR, LM.LEFT_SHOULDER, LM.RIGHT_SHOULDER, LM.LEFT_ELBOW, LM.RIGHT_ELBOW,
    LM.LEFT_WRIST, LM.RIGHT_WRIST, LM.LEFT_INDEX, LM.RIGHT_INDEX, LM.LEFT_HIP, LM.RIGHT_HIP, LM.LEFT_KNEE,
    LM.RIGHT_KNEE, LM.LEFT_ANKLE, LM.RIGHT_ANKLE, LM.LEFT_HEEL, LM.RIGHT_HEEL, LM.LEFT_FOOT_INDEX,
    LM.RIGHT_FOOT_INDEX,
)
# Landmark index of each landmark's mirror image (left ↔ right).
_MIRROR_33 = np.arange(33)
for _a, _b in ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20),
               (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)):
    _MIRROR_33[_a], _MIRROR_33[_b] = _b, _a


def mirror(lm: PoseLandmarks) -> PoseLandmarks:
    """The same person mirrored left-right: landmarks swapped and image/world x flipped.

    The mirrored body's LEFT hand is the original's right hand, seen as a left hand.
    """
    idx = _MIRROR_33
    image = lm.image[idx].copy()
    image[:, 0] = 1.0 - image[:, 0]
    world = None
    if lm.world is not None:
        world = lm.world[idx].copy()
        world[:, 0] = -world[:, 0]
    return PoseLandmarks(image, lm.visibility[idx].copy(), lm.presence[idx].copy(), world, lm.image_size)


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return None if n < 1e-9 else v / n


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    u, v = a - b, c - b
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu < 1e-9 or nv < 1e-9:
        return 0.0
    return float(math.acos(float(np.clip(u @ v / (nu * nv), -1.0, 1.0))))


def body_frame(world: np.ndarray) -> np.ndarray | None:
    """World landmarks in the body's frame: origin mid-hip, x = own left, y = up, z = forward.

    Units are shoulder widths; None when the shoulders/hips give no direction.
    """
    lat = (world[LM.LEFT_SHOULDER] - world[LM.RIGHT_SHOULDER]) + (world[LM.LEFT_HIP] - world[LM.RIGHT_HIP])
    x = _unit(np.array([lat[0], 0.0, lat[2]]))
    sw = float(np.linalg.norm(world[LM.LEFT_SHOULDER] - world[LM.RIGHT_SHOULDER]))
    if x is None or sw < 1e-6:
        return None
    up = np.array([0.0, -1.0, 0.0])  # MediaPipe world y points down
    fwd = np.cross(x, up)
    origin = (world[LM.LEFT_HIP] + world[LM.RIGHT_HIP]) / 2
    q = world - origin
    return np.stack([q @ x, q @ up, q @ fwd], axis=1) / sw


def body_yaw_rad(world: np.ndarray) -> float | None:
    """Body yaw from the world shoulder/hip lines (0 facing the camera, + turned to own left)."""
    lat = (world[LM.LEFT_SHOULDER] - world[LM.RIGHT_SHOULDER]) + (world[LM.LEFT_HIP] - world[LM.RIGHT_HIP])
    if abs(lat[0]) + abs(lat[2]) < 1e-9:
        return None
    return float(math.atan2(lat[2], lat[0]))


def pose_vector(lm: PoseLandmarks) -> np.ndarray | None:
    """The classifiers' input for one person (float32), or None without world landmarks."""
    if lm.world is None or not np.all(np.isfinite(lm.world)):
        return None
    b = body_frame(lm.world)
    yaw = body_yaw_rad(lm.world)
    if b is None or yaw is None:
        return None
    px = lm.px
    hip_px = (px[LM.LEFT_HIP] + px[LM.RIGHT_HIP]) / 2
    sh_px = (px[LM.LEFT_SHOULDER] + px[LM.RIGHT_SHOULDER]) / 2
    torso_px = max(float(np.linalg.norm(sh_px - hip_px)),
                   float(np.linalg.norm(px[LM.LEFT_SHOULDER] - px[LM.RIGHT_SHOULDER])), 1.0)
    img = (px[list(JOINTS)] - hip_px) / torso_px
    j = b[list(JOINTS)]
    w = b
    sh = (w[LM.LEFT_SHOULDER] + w[LM.RIGHT_SHOULDER]) / 2
    derived = [
        _angle(w[LM.LEFT_SHOULDER], w[LM.LEFT_ELBOW], w[LM.LEFT_WRIST]),
        _angle(w[LM.RIGHT_SHOULDER], w[LM.RIGHT_ELBOW], w[LM.RIGHT_WRIST]),
        _angle(w[LM.LEFT_HIP], w[LM.LEFT_KNEE], w[LM.LEFT_ANKLE]),
        _angle(w[LM.RIGHT_HIP], w[LM.RIGHT_KNEE], w[LM.RIGHT_ANKLE]),
        _angle(w[LM.LEFT_SHOULDER], w[LM.LEFT_HIP], w[LM.LEFT_KNEE]),
        _angle(w[LM.RIGHT_SHOULDER], w[LM.RIGHT_HIP], w[LM.RIGHT_KNEE]),
        float(np.linalg.norm(w[LM.LEFT_WRIST] - w[LM.RIGHT_WRIST])),
        float(np.linalg.norm(w[LM.LEFT_WRIST] - w[LM.LEFT_HIP])),
        float(np.linalg.norm(w[LM.RIGHT_WRIST] - w[LM.RIGHT_HIP])),
        float(np.linalg.norm(w[LM.LEFT_WRIST] - w[LM.RIGHT_ELBOW])),
        float(np.linalg.norm(w[LM.RIGHT_WRIST] - w[LM.LEFT_ELBOW])),
        float(np.linalg.norm(w[LM.LEFT_KNEE] - w[LM.RIGHT_KNEE])),
        float(np.linalg.norm(w[LM.LEFT_ANKLE] - w[LM.RIGHT_ANKLE])),
        float(math.atan2(sh[2], sh[1])),  # trunk lean forward (sagittal)
        float(math.atan2(sh[0], sh[1])),  # trunk lean to own left (lateral)
        float(math.atan2(w[LM.NOSE, 2] - sh[2], w[LM.NOSE, 1] - sh[1])),  # head forward of the shoulders
        float(math.atan2(float(sh_px[0] - hip_px[0]), float(hip_px[1] - sh_px[1]))),  # image trunk tilt
    ]
    # Visibility is deliberately not an input: its pattern differs between renders and photos
    # (a model given it learned render-specific cues); it only gates what can be judged.
    vec = np.concatenate([j.ravel(), img.ravel(), [math.sin(yaw), math.cos(yaw)], derived])
    return np.nan_to_num(vec.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)


VECTOR_SIZE = len(JOINTS) * 3 + len(JOINTS) * 2 + 2 + 17


Layers = tuple[tuple[np.ndarray, np.ndarray], ...]


@dataclass(frozen=True)
class Classifier:
    """One task: standardise → an ensemble of ReLU networks (mean logits) → softmax(logits / T).

    Several networks trained from different seeds are averaged: a single one changed its
    answers on real photos noticeably from seed to seed.
    """

    name: str
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    members: tuple[Layers, ...]
    temperature: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        h0 = (np.atleast_2d(x).astype(np.float64) - self.mean) / self.scale
        out = []
        for layers in self.members:
            h = h0
            for i, (w, b) in enumerate(layers):
                h = h @ w + b
                if i < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            out.append(h)
        return np.mean(out, axis=0)

    def proba(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) calibrated probabilities (binary tasks: classes ("no", "yes"))."""
        z = self.logits(x)
        if z.shape[1] == 1:  # binary network with one logit
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0] / self.temperature))
            return np.stack([1.0 - p1, p1], axis=1)
        z = z / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class ClassifierSet:
    """Every shipped task, with the file's version and where it came from."""

    version: str
    tasks: dict[str, Classifier]
    meta: dict

    def __getitem__(self, name: str) -> Classifier:
        return self.tasks[name]


def save_classifiers(path: str | Path, tasks: dict[str, Classifier], meta: dict) -> None:
    """Write a ClassifierSet file (used by scripts/train_classifiers.py)."""
    arrays: dict[str, np.ndarray] = {}
    index = {}
    for name, c in tasks.items():
        arrays[f"{name}.mean"] = c.mean.astype(np.float32)
        arrays[f"{name}.scale"] = c.scale.astype(np.float32)
        for m, layers in enumerate(c.members):
            for i, (w, b) in enumerate(layers):
                arrays[f"{name}.m{m}.w{i}"] = w.astype(np.float32)
                arrays[f"{name}.m{m}.b{i}"] = b.astype(np.float32)
        index[name] = {"classes": list(c.classes), "members": len(c.members), "layers": len(c.members[0]),
                       "temperature": c.temperature}
    header = {"schema": MODEL_SCHEMA, "vector_size": VECTOR_SIZE, "tasks": index, **meta}
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    np.savez_compressed(path, **arrays)


def load_classifiers(path: str | Path | None = None) -> ClassifierSet:
    """Load the shipped classifiers (or a file), checking schema and input size."""
    if path is None:
        with resources.as_file(resources.files("posturecheck.models").joinpath(MODEL_FILE)) as p:
            return _load(Path(p))
    return _load(Path(path))


def _load(path: Path) -> ClassifierSet:
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(bytes(z["header"]).decode("utf-8"))
        if header.get("schema") != MODEL_SCHEMA or header.get("vector_size") != VECTOR_SIZE:
            raise ValueError(f"{path}: not a {MODEL_SCHEMA} file for input size {VECTOR_SIZE}")
        tasks = {}
        for name, info in header["tasks"].items():
            members = tuple(tuple((z[f"{name}.m{m}.w{i}"].astype(np.float64), z[f"{name}.m{m}.b{i}"].astype(np.float64))
                                  for i in range(info["layers"])) for m in range(info["members"]))
            tasks[name] = Classifier(name, tuple(info["classes"]), z[f"{name}.mean"].astype(np.float64),
                                     z[f"{name}.scale"].astype(np.float64), members, float(info["temperature"]))
    meta = {k: v for k, v in header.items() if k not in ("tasks",)}
    return ClassifierSet(str(header.get("version", "")), tasks, meta)


@lru_cache(maxsize=1)
def shipped() -> ClassifierSet:
    """The package's classifiers, loaded once (read-only)."""
    return load_classifiers()


@dataclass(frozen=True)
class PostureProbabilities:
    """Every task's probabilities for one person in one frame."""

    hand_left: dict[str, float]
    hand_right: dict[str, float]
    legs_crossed: float
    trunk_lean: float
    activity: dict[str, float]
    feet: dict[str, float]


class StackedClassifiers:
    """Every task's ensemble folded into three batched matrix products (same outputs as
    `Classifier.proba` to float rounding; tests/test_learned.py checks 1e-9).

    Per frame `predict` ran 5 tasks x 5 networks x 3 layers as 75 small products (about
    3 ms); here the standardiser is folded into the first layer, all 25 first layers are one
    (124, 3200) product, the second and third layers one batched product each (outputs padded
    to the widest task), then each task's members are averaged.
    """

    def __init__(self, models: ClassifierSet) -> None:
        self.names = tuple(models.tasks)
        self.classes = {n: models[n].classes for n in self.names}
        self.temperature = {n: models[n].temperature for n in self.names}
        members = [(n, layers) for n in self.names for layers in models[n].members]
        if any(len(layers) != 3 for _, layers in members) or len({layers[0][0].shape[1] for _, layers in members}) != 1 \
                or len({layers[1][0].shape[1] for _, layers in members}) != 1:
            raise ValueError("stacking needs every network to have the same three-layer shape")
        w1 = [layers[0][0] / models[n].scale[:, None] for n, layers in members]
        b1 = [layers[0][1] - (models[n].mean / models[n].scale) @ layers[0][0] for n, layers in members]
        self.w1 = np.concatenate(w1, axis=1)            # (in, members * h1)
        self.b1 = np.concatenate(b1)
        self.h1 = members[0][1][0][0].shape[1]
        self.w2 = np.stack([layers[1][0] for _, layers in members])  # (members, h1, h2)
        self.b2 = np.stack([layers[1][1] for _, layers in members])[:, None, :]
        width = max(layers[2][0].shape[1] for _, layers in members)
        self.w3 = np.zeros((len(members), self.w2.shape[2], width))
        self.b3 = np.zeros((len(members), 1, width))
        for i, (_, layers) in enumerate(members):
            k = layers[2][0].shape[1]
            self.w3[i, :, :k], self.b3[i, 0, :k] = layers[2][0], layers[2][1]
        self.slices: dict[str, tuple[slice, int]] = {}
        start = 0
        for n in self.names:
            m = len(models[n].members)
            self.slices[n] = (slice(start, start + m), models[n].members[0][2][0].shape[1])
            start += m

    def proba(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Each task's (n, classes) calibrated probabilities for the rows of `x`."""
        x = np.atleast_2d(x).astype(np.float64)
        h = np.maximum(x @ self.w1 + self.b1, 0.0)                          # (n, members * h1)
        h = h.reshape(len(x), -1, self.h1).transpose(1, 0, 2)               # (members, n, h1)
        h = np.maximum(np.matmul(h, self.w2) + self.b2, 0.0)
        z_all = np.matmul(h, self.w3) + self.b3                             # (members, n, width)
        out = {}
        for n in self.names:
            sl, k = self.slices[n]
            z = z_all[sl, :, :k].mean(axis=0)
            t = self.temperature[n]
            if k == 1:
                p1 = 1.0 / (1.0 + np.exp(-z[:, 0] / t))
                out[n] = np.stack([1.0 - p1, p1], axis=1)
            else:
                z = z / t
                z = z - z.max(axis=1, keepdims=True)
                e = np.exp(z)
                out[n] = e / e.sum(axis=1, keepdims=True)
        return out


@lru_cache(maxsize=1)
def _shipped_stacked() -> StackedClassifiers:
    return StackedClassifiers(shipped())


def predict(lm: PoseLandmarks, models: ClassifierSet | None = None) -> PostureProbabilities | None:
    """Probabilities of every posture task for one person (None without world landmarks)."""
    x = pose_vector(lm)
    if x is None:
        return None
    xm = pose_vector(mirror(lm))
    assert xm is not None
    both = np.stack([x, xm])
    if models is None:  # the shipped set: one batched pass (see StackedClassifiers)
        stacked = _shipped_stacked()
        p, classes = stacked.proba(both), stacked.classes
    else:  # any other set: each network on its own (the reference the stacked pass is tested against)
        p = {name: c.proba(both) for name, c in models.tasks.items()}
        classes = {name: c.classes for name, c in models.tasks.items()}

    def named(task: str, row: np.ndarray) -> dict[str, float]:
        return {c: float(v) for c, v in zip(classes[task], row)}

    hands = p["hand"]
    # symmetric tasks: average the person and their mirror image (the label does not change)
    legs = p["legs_crossed"].mean(axis=0)
    lean = p["trunk_lean"].mean(axis=0)
    act = p["activity"].mean(axis=0)
    feet = p["feet"].mean(axis=0)
    return PostureProbabilities(named("hand", hands[0]), named("hand", hands[1]), float(legs[1]), float(lean[1]),
                                named("activity", act), named("feet", feet))
