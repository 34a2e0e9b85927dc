"""Hair stage: MediaPipe hair segmentation on a square crop around the face mesh → `HairMask`.

The shipped model (`models/hair_segmenter.tflite`, built by `models/build_hair.py`) runs
with MediaPipe Tasks' ImageSegmenter, which registers the model's custom ops. The crop is
placed from the face mesh (width and centre) so that it holds the whole head, the ears and
the neck down to the collar; it is resized to the model's input size, so the cost does not
depend on the frame size. Only the hair probability of the crop is kept, never the pixels.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .face import FaceLandmarks
from .models import MODELS_DIR, ModelNotFoundError
from .native import NativeTask

logger = logging.getLogger(__name__)

HAIR_MODEL_PATH = MODELS_DIR / "hair_segmenter.tflite"
HAIR_INPUT_SIZE = 256      # the shipped model's input side (models.json "hair.input_size")
HAIR_CHANNEL = 1           # output logits: background, hair
# Crop around the face: side = this × the mesh width, centre moved down by this × the width
# (the head above, the neck and collar below the chin).
# The model was trained on selfie video: the face fills about half the crop's width.
HAIR_CROP_SCALE = 2.2
HAIR_CROP_DOWN = 0.1
# The model's answer on one crop is noisy at the edges of the hair; the mean of the crop and
# its mirror image is steadier (two model runs).
HAIR_FLIP_AVERAGE = True
# A pixel is hair when its probability is at least this.
HAIR_MIN_PROBABILITY = 0.5
MIN_MASK_PIXELS = 6        # fewer crop pixels in a region: no measurement


@dataclass(frozen=True)
class HairMask:
    """Hair probability (0–1) of a square crop; frame = (x0, y0) + crop_px × scale."""

    prob: np.ndarray
    x0: float
    y0: float
    scale: float
    valid: np.ndarray | None = None   # crop pixels inside the frame (None: all)

    def to_crop(self, poly_px: np.ndarray) -> np.ndarray:
        """Frame-pixel points → crop-pixel points."""
        return (np.asarray(poly_px, dtype=np.float64)[:, :2] - (self.x0, self.y0)) / self.scale

    def _window(self, poly_px: np.ndarray) -> tuple[np.ndarray, tuple[slice, slice]] | None:
        """The polygon rasterised inside its bounding box within the crop, and that box."""
        pts = np.round(self.to_crop(poly_px)).astype(np.int32)
        if len(pts) < 3:
            return None
        h, w = self.prob.shape
        x0, y0 = np.clip(pts.min(0), 0, [w, h])
        x1, y1 = np.clip(pts.max(0) + 1, 0, [w, h])
        if x1 <= x0 or y1 <= y0:
            return None
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [pts - np.array([x0, y0], np.int32)], 1)
        return mask.astype(bool), (slice(y0, y1), slice(x0, x1))

    def region(self, poly_px: np.ndarray) -> np.ndarray:
        """Hair probabilities of the crop pixels inside a frame-pixel polygon (empty when outside)."""
        win = self._window(poly_px)
        if win is None:
            return np.empty(0, np.float32)
        inside, box = win
        if self.valid is not None:
            inside = inside & self.valid[box]  # crop pixels outside the frame are left out
        return self.prob[box][inside]

    def fraction(self, poly_px: np.ndarray) -> float | None:
        """Share of the polygon's (in-frame) pixels that are hair, or None if too few pixels."""
        p = self.region(poly_px)
        if p.size < MIN_MASK_PIXELS:
            return None
        return float((p >= HAIR_MIN_PROBABILITY).mean())

    def inside_fraction(self, poly_px: np.ndarray) -> float:
        """Share of the polygon's area that lies inside the frame (0 when entirely outside)."""
        pts = np.round(self.to_crop(poly_px)).astype(np.float32)
        area = float(cv2.contourArea(pts.reshape(-1, 1, 2))) if len(pts) >= 3 else 0.0
        win = self._window(poly_px)
        if win is None:
            return 0.0
        inside, box = win
        n_in = int((inside & self.valid[box]).sum()) if self.valid is not None else int(inside.sum())
        area = max(area, float(inside.sum()))
        return n_in / area if area > 0 else 0.0


def hair_model_path(path: str | None = None) -> str:
    """The bundled hair segmentation model (or `path`), checked to exist."""
    p = HAIR_MODEL_PATH if path is None else Path(path).expanduser()
    if not p.is_file():
        raise ModelNotFoundError(f"hair model file not found: {p}")
    return str(p)


def model_input_size(path: str | None = None) -> int:
    """Input side of the hair model (from models.json for the shipped one)."""
    if path is None:
        try:
            rec = json.loads((MODELS_DIR / "models.json").read_text(encoding="utf-8")).get("hair", {})
            return int(rec.get("input_size", HAIR_INPUT_SIZE))
        except (OSError, ValueError):
            logger.debug("models.json unreadable; hair input size %d", HAIR_INPUT_SIZE)
    return HAIR_INPUT_SIZE


def hair_crop_box(face: FaceLandmarks) -> tuple[float, float, float]:
    """(centre x, centre y, side) in frame pixels of the square the hair model looks at."""
    width = max(face.width_px, 1.0)
    cx, cy = face.center_px
    return float(cx), float(cy + HAIR_CROP_DOWN * width), HAIR_CROP_SCALE * width


def crop_replicate(rgb: np.ndarray, cx: float, cy: float, side: float, out_size: int
                   ) -> tuple[np.ndarray, float, float, float]:
    """Square crop resized to out_size, the frame's border pixels repeated outside it.

    (A black surround makes the model miss hair.) Returns the crop and (x0, y0, scale)
    so that frame = (x0, y0) + crop_px × scale.
    """
    scale = side / float(out_size)
    x0, y0 = cx - side / 2.0, cy - side / 2.0
    # crop pixel centre (i + 0.5) ↔ frame pixel centre x0 + (i + 0.5) * scale
    m = np.float32([[scale, 0, x0 + 0.5 * scale - 0.5], [0, scale, y0 + 0.5 * scale - 0.5]])
    interp = cv2.INTER_LINEAR if scale <= 1.0 else cv2.INTER_AREA
    if scale > 2.0:  # shrink first so that linear sampling does not alias
        f = 1.0 / scale
        small = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        m = np.float32([[1.0, 0, (x0 + 0.5 * scale) * f - 0.5], [0, 1.0, (y0 + 0.5 * scale) * f - 0.5]])
        rgb, interp = small, cv2.INTER_LINEAR
    crop = cv2.warpAffine(rgb, m, (out_size, out_size), flags=interp | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(crop), float(x0), float(y0), float(scale)


class HairSegmenter(NativeTask):
    """MediaPipe ImageSegmenter with the shipped hair model; use as a context manager or `close()`."""

    def __init__(self, model_path: str | None = None, flip_average: bool = HAIR_FLIP_AVERAGE) -> None:
        import mediapipe as mp  # imported here so the pure stages never need it

        self.flip_average = flip_average
        self.model_path = hair_model_path(model_path)
        self.input_size = model_input_size(model_path)
        vision = mp.tasks.vision
        options = vision.ImageSegmenterOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=self.model_path),
            running_mode=vision.RunningMode.IMAGE,
            output_confidence_masks=True, output_category_mask=False)
        self._mp = mp
        self._adopt(vision.ImageSegmenter.create_from_options(options))
        logger.debug("hair segmenter ready: %s (%d px)", self.model_path, self.input_size)

    def probability(self, rgb_square: np.ndarray) -> np.ndarray:
        """Hair probability (float32, same size) of a square RGB uint8 image of the model's input size."""
        if self._landmarker is None:
            raise RuntimeError("HairSegmenter is closed")
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb_square))
        masks = self._landmarker.segment(image).confidence_masks
        logits = [np.asarray(m.numpy_view(), dtype=np.float32).reshape(rgb_square.shape[:2]) for m in masks]
        return (1.0 / (1.0 + np.exp(logits[1 - HAIR_CHANNEL] - logits[HAIR_CHANNEL]))).astype(np.float32)

    def segment(self, rgb: np.ndarray, face: FaceLandmarks) -> HairMask:
        """Hair mask of the square crop around `face` in one RGB uint8 frame."""
        cx, cy, side = hair_crop_box(face)
        crop, x0, y0, scale = crop_replicate(rgb, cx, cy, side, self.input_size)
        prob = self.probability(crop)
        if self.flip_average:
            prob = 0.5 * (prob + self.probability(np.ascontiguousarray(crop[:, ::-1]))[:, ::-1])
        h, w = rgb.shape[:2]
        idx = (np.arange(self.input_size) + 0.5) * scale
        valid = ((y0 + idx >= 0) & (y0 + idx < h))[:, None] & ((x0 + idx >= 0) & (x0 + idx < w))[None, :]
        return HairMask(prob, x0, y0, scale, valid)
