"""Build a MediaPipe HandLandmarker ``.task`` bundle offline from the mediapipe wheel.

Sources (from the PyPI wheel ``mediapipe==0.10.21``, fetched into the same cache as the
pose bundles by :mod:`posturecheck.models.build`, sha256-pinned below):

* hand detector: ``mediapipe/modules/palm_detection/palm_detection_full.tflite`` (BlazePalm,
  input 192x192 RGB, outputs [1,2016,18] boxes + 7 keypoints and [1,2016,1] score logits);
* hand landmarks: ``mediapipe/modules/hand_landmark/hand_landmark_full.tflite`` (input
  224x224 RGB; outputs, in order, 21 landmarks x (x, y, z) in input pixels, hand presence,
  handedness, 21 world landmarks in metres).

Both files already carry TFLite metadata with the input normalisation the Tasks graphs read
(``NormalizationOptions`` mean 0, std 255: float input in 0..1, the same range MediaPipe's
legacy ``palm_detection_cpu`` / ``hand_landmark_cpu`` graphs use). The Tasks graphs
(``hand_detector_graph.cc``, ``hand_landmarks_detector_graph.cc``) hard-code the rest: SSD
anchors for a 192 px input and 2016 boxes x 18 coordinates; output tensors split by index as
(landmarks, presence, handedness, world landmarks), the order of these models' outputs;
handedness labels 0 = Left, 1 = Right. The bundle holds them under the entry names the
HandLandmarker graph looks up: ``hand_detector.tflite`` and ``hand_landmarks_detector.tflite``.

The only change to the landmark model's metadata: upstream lists its four output
descriptions in the order (handedness, presence, landmarks, world landmarks) while the
tensors are (landmarks [1,63], presence [1,1], handedness [1,1], world landmarks [1,63]);
the descriptions are put in tensor order (the Tasks graph does not read them). Weights and
graphs are unchanged.

Run ``python -m posturecheck.models.build_hand``; it also updates ``models.json`` (key
``hand``) and regenerates ``MODELS.md``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import flatbuffers
import numpy as np

from posturecheck.models.build import (
    BUFFER_ALIGN,
    MODELS_DIR,
    WHEEL_SPEC,
    ZIP_ALIGN,
    default_cache_dir,
    fetch_wheel,
    input_normalization,
    load_model,
    read_member,
    read_metadata,
    serialize_model,
    sha256,
    source,
    tflschema,
    write_manifest,
    write_task,
)

logger = logging.getLogger("posturecheck.models.build_hand")

HAND_TASK = "hand_landmarker.task"
# Entry names the Tasks HandLandmarkerGraph looks up in the bundle (hand_landmarker_graph.cc).
DETECTOR_ENTRY = "hand_detector.tflite"
LANDMARKS_ENTRY = "hand_landmarks_detector.tflite"

DETECTOR_MEMBER = "mediapipe/modules/palm_detection/palm_detection_full.tflite"
LANDMARKS_MEMBER = "mediapipe/modules/hand_landmark/hand_landmark_full.tflite"
HANDEDNESS_MEMBER = "mediapipe/modules/hand_landmark/handedness.txt"
# Pinned sha256 of the upstream files: a changed upstream file fails the build.
PINNED_SHA256 = {
    DETECTOR_MEMBER: "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    LANDMARKS_MEMBER: "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
}

NUM_POINTS = 21
DIMS = 3
DETECTOR_INPUT = [1, 192, 192, 3]
# What HandDetectorGraph's TensorsToDetections is configured for: 2016 boxes x 18 coords.
DETECTOR_OUTPUTS = [[1, 2016, 18], [1, 2016, 1]]
LANDMARKS_INPUT = [1, 224, 224, 3]
LANDMARK_OUTPUTS = [[1, NUM_POINTS * DIMS], [1, 1], [1, 1], [1, NUM_POINTS * DIMS]]
# Upstream output descriptions (by name) in the order of the output tensors.
LANDMARK_OUTPUT_NAMES = ("landmarks", "presense score", "handedness", "world landmarks")
# The handedness labels HandLandmarksDetectorGraph hard-codes (index 0, 1).
HANDEDNESS_LABELS = ("Left", "Right")
UNIT_RANGE = ([0.0], [255.0])  # NormalizationOptions (mean, std): input in 0..1

CHANGES = (
    f"`{DETECTOR_ENTRY}`: `{DETECTOR_MEMBER}` (BlazePalm full, input 192x192) with its "
    "upstream TFLite metadata kept as is (\"Multi Hand Detection\", input normalization "
    "mean 0, std 255: float input in 0..1). Weights and graph unchanged.",
    f"`{LANDMARKS_ENTRY}`: `{LANDMARKS_MEMBER}` (input 224x224; outputs 21 landmarks x "
    "(x, y, z) in input pixels, hand presence, handedness, 21 world landmarks in metres) with "
    "its upstream TFLite metadata kept (\"HandLandmarkDetector\", input normalization mean 0, "
    "std 255 per channel) except that the four output descriptions, listed upstream as "
    "(handedness, presense score, landmarks, world landmarks), are put in the order of the "
    "output tensors (landmarks, presense score, handedness, world landmarks). The Tasks "
    "graph splits the outputs by index in that tensor order and does not read these "
    "descriptions. Weights and graph unchanged.",
    f"Both models re-serialized with {BUFFER_ALIGN}-byte aligned buffers and stored in the "
    f"ZIP at {ZIP_ALIGN}-byte aligned offsets, fixed timestamps, as the pose bundles.",
)
LIMITS = (
    "Handedness labels as the Tasks graph hard-codes them (0 = Left, 1 = Right); MediaPipe "
    "documents them as assuming a mirrored image, and they can be wrong: posturecheck.hands "
    "assigns hands to the pose's wrists by position instead.",
    "The palm detector wants a hand that fills a fair part of its 192 px input: in "
    "full-body frames run it on a crop around the pose's wrist (posturecheck.hands).",
)


def _check_shapes(model_name: str, model: tflschema.ModelT, inputs: list[int],
                  outputs: list[list[int]]) -> None:
    """Fail unless the model has exactly these input and output shapes."""
    sg = model.subgraphs[0]
    got_in = [list(map(int, sg.tensors[i].shape)) for i in sg.inputs]
    got_out = [list(map(int, sg.tensors[i].shape)) for i in sg.outputs]
    if got_in != [inputs] or got_out != outputs:
        raise ValueError(f"{model_name}: inputs {got_in}, outputs {got_out}; "
                         f"expected {[inputs]}, {outputs}")


def prepare_hand_detector(data: bytes) -> bytes:
    """Check the palm detector's shapes and metadata (input 0..1) and re-pack it aligned."""
    model = load_model(data)
    if len(model.subgraphs) != 1:
        raise ValueError(f"palm detector: expected 1 subgraph, got {len(model.subgraphs)}")
    _check_shapes("palm detector", model, DETECTOR_INPUT, DETECTOR_OUTPUTS)
    meta = read_metadata(model)
    if meta is None:
        raise ValueError("palm detector has no TFLITE_METADATA")
    if input_normalization(meta) != UNIT_RANGE:
        raise ValueError(f"unexpected palm detector normalization {input_normalization(meta)}")
    return serialize_model(model)


def prepare_hand_landmarks(data: bytes) -> bytes:
    """Check the landmark model, put its output descriptions in tensor order, re-pack it."""
    model = load_model(data)
    if len(model.subgraphs) != 1:
        raise ValueError(f"hand landmarks: expected 1 subgraph, got {len(model.subgraphs)}")
    _check_shapes("hand landmarks", model, LANDMARKS_INPUT, LANDMARK_OUTPUTS)
    meta = read_metadata(model)
    if meta is None:
        raise ValueError("hand landmark model has no TFLITE_METADATA")
    mean, std = input_normalization(meta)
    if set(mean) != set(UNIT_RANGE[0]) or set(std) != set(UNIT_RANGE[1]):
        raise ValueError(f"unexpected hand landmark normalization mean={mean} std={std}")
    described = meta.subgraphMetadata[0].outputTensorMetadata
    by_name = {t.name.decode() if isinstance(t.name, bytes) else t.name: t for t in described}
    if sorted(by_name) != sorted(LANDMARK_OUTPUT_NAMES):
        raise ValueError(f"hand landmark metadata describes outputs {sorted(by_name)}")
    meta.subgraphMetadata[0].outputTensorMetadata = [by_name[n] for n in LANDMARK_OUTPUT_NAMES]
    meta.version = f"{WHEEL_SPEC[0]}=={WHEEL_SPEC[1]} (output descriptions in tensor order)"
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=b"M001")
    for entry in model.metadata:
        if entry.name == b"TFLITE_METADATA":
            model.buffers[entry.buffer].data = np.frombuffer(bytes(builder.Output()), np.uint8)
    return serialize_model(model)


def _build_hand(out_dir: Path, cache_dir: Path | None) -> tuple[Path, dict]:
    """Build the hand bundle; return its path and its models.json record."""
    wheel = fetch_wheel(cache_dir or default_cache_dir())
    raw = {m: read_member(wheel, m, PINNED_SHA256[m]) for m in (DETECTOR_MEMBER, LANDMARKS_MEMBER)}
    labels = tuple(read_member(wheel, HANDEDNESS_MEMBER).decode().split())
    if labels != HANDEDNESS_LABELS:
        raise ValueError(f"{HANDEDNESS_MEMBER} lists {labels}, expected {HANDEDNESS_LABELS}")
    entries = [(DETECTOR_ENTRY, prepare_hand_detector(raw[DETECTOR_MEMBER])),
               (LANDMARKS_ENTRY, prepare_hand_landmarks(raw[LANDMARKS_MEMBER]))]
    path = Path(out_dir) / HAND_TASK
    write_task(path, entries)
    bundle = path.read_bytes()
    logger.info("wrote %s (%d bytes, sha256 %s)", path, len(bundle), sha256(bundle))
    members = {DETECTOR_ENTRY: DETECTOR_MEMBER, LANDMARKS_ENTRY: LANDMARKS_MEMBER}
    record = {
        "file": path.name,
        "builder": "posturecheck.models.build_hand",
        "sha256": sha256(bundle),
        "size": len(bundle),
        "entries": {
            name: {"sha256": sha256(data), "size": len(data),
                   "sources": [asdict(source(wheel, members[name], raw[members[name]]))]}
            for name, data in entries
        },
        "num_landmarks": NUM_POINTS,
        "input_size": {"detector": DETECTOR_INPUT[1], "landmarks": LANDMARKS_INPUT[1]},
        "handedness_labels": list(HANDEDNESS_LABELS),
        "changes": list(CHANGES),
        "limits": list(LIMITS),
    }
    return path, record


def build_hand_bundle(out_dir: Path, cache_dir: Path | None = None) -> Path:
    """Build ``hand_landmarker.task`` in ``out_dir`` and return its path."""
    return _build_hand(Path(out_dir), cache_dir)[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output folder")
    parser.add_argument("--cache", type=Path, default=None,
                        help=f"source package cache (default {default_cache_dir()})")
    parser.add_argument("--no-manifest", action="store_true",
                        help="only write the bundle; leave models.json and MODELS.md alone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cache = args.cache or default_cache_dir()
    path, record = _build_hand(args.out, cache)
    print(f"{path}  {record['sha256']}  {record['size']}")
    if not args.no_manifest:
        write_manifest(args.out, {}, cache, hand=record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
