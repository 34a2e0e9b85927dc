"""Pose landmark containers shared by every stage (no MediaPipe import here).

`PoseLandmarks` holds one person's 33 BlazePose landmarks for one frame: image
landmarks (x, y normalised to the frame, z relative), visibility, presence, the
metric hip-centred world landmarks, and the frame size so that geometry can be
done in square pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

NUM_LANDMARKS = 33


class LM(IntEnum):
    """BlazePose landmark indices (same numbering as MediaPipe's PoseLandmark)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


# Skeleton edges used for drawing (pairs of landmark indices).
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
    (0, 7), (0, 8), (15, 19), (16, 20),
)


@dataclass(frozen=True)
class PoseLandmarks:
    """One person's landmarks in one frame.

    image: (33, 3) normalised x, y in [0, 1] of the frame and relative z.
    visibility, presence: (33,) in [0, 1].
    world: (33, 3) metres, origin between the hips, or None.
    image_size: (width, height) in pixels of the analysed frame.
    """

    image: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray | None
    image_size: tuple[int, int]

    def __post_init__(self) -> None:
        if self.image.shape != (NUM_LANDMARKS, 3):
            raise ValueError(f"image landmarks must be (33, 3), got {self.image.shape}")
        if self.visibility.shape != (NUM_LANDMARKS,) or self.presence.shape != (NUM_LANDMARKS,):
            raise ValueError("visibility and presence must be (33,)")
        if self.world is not None and self.world.shape != (NUM_LANDMARKS, 3):
            raise ValueError(f"world landmarks must be (33, 3), got {self.world.shape}")

    @cached_property
    def px(self) -> np.ndarray:
        """(33, 2) image coordinates in pixels (square units, y down); computed once, read-only."""
        w, h = self.image_size
        p = self.image[:, :2] * np.array([w, h], dtype=np.float64)
        p.flags.writeable = False
        return p

    def visible(self, *idx: int, threshold: float = 0.5) -> bool:
        """True when every listed landmark has visibility >= threshold."""
        return bool(np.all(self.visibility[list(idx)] >= threshold))

    def bbox_px(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the landmarks in pixels."""
        p = self.px
        return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (rounded) used for fixtures and replay."""
        return {
            "image_size": list(self.image_size),
            "image": np.round(self.image, 5).tolist(),
            "visibility": np.round(self.visibility, 4).tolist(),
            "presence": np.round(self.presence, 4).tolist(),
            "world": None if self.world is None else np.round(self.world, 5).tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PoseLandmarks:
        world = d.get("world")
        return cls(
            image=np.asarray(d["image"], dtype=np.float64),
            visibility=np.asarray(d["visibility"], dtype=np.float64),
            presence=np.asarray(d.get("presence", d["visibility"]), dtype=np.float64),
            world=None if world is None else np.asarray(world, dtype=np.float64),
            image_size=(int(d["image_size"][0]), int(d["image_size"][1])),
        )

    def replace_image(self, image: np.ndarray, world: np.ndarray | None = None) -> PoseLandmarks:
        """Copy with new image (and optionally world) coordinates, e.g. after smoothing."""
        return PoseLandmarks(image, self.visibility, self.presence,
                             self.world if world is None else world, self.image_size)


def load_fixture(path: str | Path) -> dict[str, Any]:
    """Load a landmark fixture JSON written by `scripts/extract_fixtures.py`."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("landmarks") is not None:
        data["landmarks"] = PoseLandmarks.from_dict(data["landmarks"])
    return data
