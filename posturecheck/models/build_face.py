"""Build a MediaPipe FaceLandmarker ``.task`` bundle offline from the mediapipe wheel.

Sources (from the PyPI wheel ``mediapipe==0.10.21``, fetched into the same cache as the
pose bundles by :mod:`posturecheck.models.build`, sha256-pinned below):

* face detector: ``mediapipe/modules/face_detection/face_detection_short_range.tflite``
  (carries TFLite metadata, kept as is; finds faces within about 2 m of the camera);
* face landmarks: ``mediapipe/modules/face_landmark/face_landmark.tflite`` (the legacy
  FaceMesh model, 468 points, with metadata).

The Tasks FaceLandmarker graph reads 478 points (468 mesh + 10 iris) from the landmark
model's first output; fed the 468-point model as is it runs but returns garbage. So three
standard TFLite ops are appended to the landmark model (FULLY_CONNECTED with a constant
30x1404 matrix, RESHAPE, CONCATENATION) that append 10 *approximated* iris points: each
eye's 5 iris points (centre + 4 on the iris boundary) are all set to the mean of that eye's
16-point contour. The 468 mesh points are passed through unchanged (bit for bit); the face
flag output stays second. The bundle has no blendshapes model and no face-geometry
pipeline (not in any registry package): create the FaceLandmarker with
``output_face_blendshapes=False`` and ``output_facial_transformation_matrixes=False``.

Run ``python -m posturecheck.models.build_face``; it also updates ``models.json`` (key
``face``) and regenerates ``MODELS.md``.
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
    mdschema,
    prepare_detector,
    read_member,
    read_metadata,
    serialize_model,
    sha256,
    source,
    tflschema,
    write_manifest,
    write_task,
)

logger = logging.getLogger("posturecheck.models.build_face")

FACE_TASK = "face_landmarker.task"
DETECTOR_ENTRY = "face_detector.tflite"
LANDMARKS_ENTRY = "face_landmarks_detector.tflite"

DETECTOR_MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
LANDMARKS_MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
# Pinned sha256 of the upstream model files: a changed upstream file fails the build.
PINNED_SHA256 = {
    DETECTOR_MEMBER: "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    LANDMARKS_MEMBER: "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
}

N_MESH = 468
N_IRIS = 10
N_POINTS = N_MESH + N_IRIS  # what the Tasks FaceLandmarker graph expects
DIMS = 3  # x, y, z in 192x192 input pixels
# The 16-point eye contours of the face mesh (MediaPipe FACEMESH_RIGHT_EYE / _LEFT_EYE; the
# subject's right eye is on the image's left). Iris points 468-472 belong to the right eye,
# 473-477 to the left, each as centre, then 4 boundary points.
RIGHT_EYE_CONTOUR = (7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246)
LEFT_EYE_CONTOUR = (249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398,
                    466)
IRIS_CONTOURS = (RIGHT_EYE_CONTOUR,) * 5 + (LEFT_EYE_CONTOUR,) * 5  # points 468..477

CHANGES = (
    f"`{DETECTOR_ENTRY}`: `{DETECTOR_MEMBER}` with its upstream TFLite metadata kept as is "
    "(\"Short Range Face Detection\", input normalization mean 127.5, std 127.5). "
    "Weights unchanged.",
    f"`{LANDMARKS_ENTRY}`: `{LANDMARKS_MEMBER}` (the legacy FaceMesh model, 468 points, "
    "input 192x192 normalised to 0..1) with three standard TFLite ops appended so that it "
    f"outputs the {N_POINTS} points the Tasks FaceLandmarker graph expects: FULLY_CONNECTED "
    f"(the [1,1,1,{N_MESH * DIMS}] landmark tensor times a constant float32 "
    f"{N_IRIS * DIMS}x{N_MESH * DIMS} matrix, no bias) -> [1,{N_IRIS * DIMS}], RESHAPE -> "
    f"[1,1,1,{N_IRIS * DIMS}], CONCATENATION on axis 3 after the original tensor -> "
    f"[1,1,1,{N_POINTS * DIMS}], which replaces the first model output; the face flag "
    "output stays second. Operator codes FULLY_CONNECTED, RESHAPE and CONCATENATION added. "
    "Weights of the original graph unchanged.",
    "The 468 mesh points pass through unchanged. The 10 iris points are **approximated**, "
    "not predicted: points 468-472 (right iris: centre + 4 boundary points) are all the mean "
    f"(x, y, z) of the right-eye contour {list(RIGHT_EYE_CONTOUR)}, points 473-477 (left "
    f"iris) all the mean of the left-eye contour {list(LEFT_EYE_CONTOUR)}. So the iris has "
    "zero radius, and its centre is only roughly where the pupil is (eye-contour centre, "
    "not gaze-aware; a few pixels off on 256 px faces).",
    f"`{LANDMARKS_ENTRY}` TFLite metadata: upstream input metadata kept; the first output "
    "renamed `landmarks` and both outputs described; model description notes the change.",
    f"Both models re-serialized with {BUFFER_ALIGN}-byte aligned buffers and stored in the "
    f"ZIP at {ZIP_ALIGN}-byte aligned offsets, fixed timestamps, as the pose bundles.",
)
LIMITS = (
    "No blendshapes model and no face-geometry pipeline (neither is in a registry package): "
    "create the FaceLandmarker with output_face_blendshapes=False and "
    "output_facial_transformation_matrixes=False.",
    "The short-range detector finds faces within about 2 m of the camera.",
    "Iris points are approximations (see above): do not use them for gaze or iris size.",
)


def iris_matrix() -> np.ndarray:
    """float32 [30, 1404] weights: row 3p+c averages coordinate c over iris point p's contour."""
    weights = np.zeros((N_IRIS * DIMS, N_MESH * DIMS), dtype=np.float32)
    for p, contour in enumerate(IRIS_CONTOURS):
        for c in range(DIMS):
            weights[DIMS * p + c, [DIMS * i + c for i in contour]] = 1.0 / len(contour)
    return weights


def _add_buffer(model: tflschema.ModelT, data: bytes) -> int:
    buf = tflschema.BufferT()
    buf.data = np.frombuffer(data, dtype=np.uint8)
    model.buffers.append(buf)
    return len(model.buffers) - 1


def _add_tensor(model: tflschema.ModelT, name: str, shape: Sequence[int], ttype: int,
                data: bytes | None = None) -> int:
    tensor = tflschema.TensorT()
    tensor.name, tensor.type = name, ttype
    tensor.shape = np.asarray(shape, dtype=np.int32)
    tensor.buffer = _add_buffer(model, data) if data is not None else 0  # 0: the empty buffer
    sg = model.subgraphs[0]
    sg.tensors.append(tensor)
    return len(sg.tensors) - 1


def _opcode_index(model: tflschema.ModelT, op: int) -> int:
    for i, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == op:
            return i
    code = tflschema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = op, min(op, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _add_op(model: tflschema.ModelT, op: int, inputs: Sequence[int], outputs: Sequence[int],
            options_type: int, options: object) -> None:
    operator = tflschema.OperatorT()
    operator.opcodeIndex = _opcode_index(model, op)
    operator.inputs = np.asarray(inputs, dtype=np.int32)
    operator.outputs = np.asarray(outputs, dtype=np.int32)
    operator.builtinOptionsType, operator.builtinOptions = options_type, options
    model.subgraphs[0].operators.append(operator)


def append_iris_points(model: tflschema.ModelT) -> None:
    """Make the 468-point model output [1,1,1,1434]: mesh + 10 approximated iris points."""
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected 1 subgraph, got {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    if len(sg.outputs) != 2:
        raise ValueError(f"expected 2 outputs (landmarks, face flag), got {len(sg.outputs)}")
    mesh = int(sg.outputs[0])
    mesh_tensor = sg.tensors[mesh]
    if (list(mesh_tensor.shape) != [1, 1, 1, N_MESH * DIMS]
            or mesh_tensor.type != tflschema.TensorType.FLOAT32):
        raise ValueError(f"unexpected landmark output {list(mesh_tensor.shape)} "
                         f"type {mesh_tensor.type}")
    ops = tflschema.BuiltinOperator
    opts = tflschema.BuiltinOptions
    f32, i32 = tflschema.TensorType.FLOAT32, tflschema.TensorType.INT32
    iris_shape = [1, 1, 1, N_IRIS * DIMS]

    weights = _add_tensor(model, "iris_from_eye_contours/weights", [N_IRIS * DIMS, N_MESH * DIMS],
                          f32, iris_matrix().tobytes())
    iris_flat = _add_tensor(model, "iris_from_eye_contours/flat", [1, N_IRIS * DIMS], f32)
    fc = tflschema.FullyConnectedOptionsT()
    fc.fusedActivationFunction = tflschema.ActivationFunctionType.NONE
    _add_op(model, ops.FULLY_CONNECTED, [mesh, weights, -1], [iris_flat],
            opts.FullyConnectedOptions, fc)

    shape = _add_tensor(model, "iris_from_eye_contours/shape", [4], i32,
                        np.asarray(iris_shape, dtype="<i4").tobytes())
    iris = _add_tensor(model, "iris_from_eye_contours", iris_shape, f32)
    reshape = tflschema.ReshapeOptionsT()
    reshape.newShape = np.asarray(iris_shape, dtype=np.int32)
    _add_op(model, ops.RESHAPE, [iris_flat, shape], [iris], opts.ReshapeOptions, reshape)

    landmarks = _add_tensor(model, "landmarks", [1, 1, 1, N_POINTS * DIMS], f32)
    concat = tflschema.ConcatenationOptionsT()
    concat.axis = 3
    concat.fusedActivationFunction = tflschema.ActivationFunctionType.NONE
    _add_op(model, ops.CONCATENATION, [mesh, iris], [landmarks], opts.ConcatenationOptions,
            concat)
    sg.outputs = np.asarray([landmarks, *sg.outputs[1:]], dtype=np.int32)


def update_metadata(model: tflschema.ModelT) -> None:
    """Describe the new outputs in the model's TFLITE_METADATA (kept otherwise)."""
    meta = read_metadata(model)
    if meta is None:
        raise ValueError("face landmark model has no TFLITE_METADATA")
    mean, std = input_normalization(meta)
    if (mean, std) != ([0.0], [255.0]):
        raise ValueError(f"unexpected landmark normalization mean={mean} std={std}")
    sg = model.subgraphs[0]
    outputs = meta.subgraphMetadata[0].outputTensorMetadata
    if len(outputs) != len(sg.outputs):
        raise ValueError(f"metadata describes {len(outputs)} outputs, model has {len(sg.outputs)}")
    outputs[0].name = sg.tensors[sg.outputs[0]].name
    outputs[0].description = (
        f"{N_POINTS} landmarks x (x, y, z) in 192x192 input pixels, shape "
        f"[1,1,1,{N_POINTS * DIMS}]: 468 face mesh points, then 10 iris points approximated "
        "as the mean of each eye contour (468-472 right eye, 473-477 left eye).")
    outputs[1].description = "Face presence score (logit; apply sigmoid)."
    meta.description = (
        "Detects 468 human face landmarks (legacy FaceMesh model). Appended by posturecheck: "
        "10 iris points approximated as eye-contour means, for the Tasks FaceLandmarker.")
    meta.version = f"{WHEEL_SPEC[0]}=={WHEEL_SPEC[1]} + posturecheck iris approximation"
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=b"M001")
    for entry in model.metadata:
        if entry.name == b"TFLITE_METADATA":
            model.buffers[entry.buffer].data = np.frombuffer(bytes(builder.Output()), np.uint8)


def prepare_face_landmarks(data: bytes) -> bytes:
    """The 478-point landmark model (see module doc), re-packed with aligned buffers."""
    model = load_model(data)
    append_iris_points(model)
    update_metadata(model)
    return serialize_model(model)


def _build_face(out_dir: Path, cache_dir: Path | None) -> tuple[Path, dict]:
    """Build the face bundle; return its path and its models.json record."""
    wheel = fetch_wheel(cache_dir or default_cache_dir())
    raw = {m: read_member(wheel, m, PINNED_SHA256[m]) for m in (DETECTOR_MEMBER, LANDMARKS_MEMBER)}
    entries = [(DETECTOR_ENTRY, prepare_detector(raw[DETECTOR_MEMBER])),
               (LANDMARKS_ENTRY, prepare_face_landmarks(raw[LANDMARKS_MEMBER]))]
    path = Path(out_dir) / FACE_TASK
    write_task(path, entries)
    bundle = path.read_bytes()
    logger.info("wrote %s (%d bytes, sha256 %s)", path, len(bundle), sha256(bundle))
    members = {DETECTOR_ENTRY: DETECTOR_MEMBER, LANDMARKS_ENTRY: LANDMARKS_MEMBER}
    record = {
        "file": path.name,
        "builder": "posturecheck.models.build_face",
        "sha256": sha256(bundle),
        "size": len(bundle),
        "entries": {
            name: {"sha256": sha256(data), "size": len(data),
                   "sources": [asdict(source(wheel, members[name], raw[members[name]]))]}
            for name, data in entries
        },
        "num_landmarks": N_POINTS,
        "approximated_iris": {"points_468_472": list(RIGHT_EYE_CONTOUR),
                              "points_473_477": list(LEFT_EYE_CONTOUR),
                              "method": "mean of the eye contour points (x, y, z)"},
        "changes": list(CHANGES),
        "limits": list(LIMITS),
    }
    return path, record


def build_face_bundle(out_dir: Path, cache_dir: Path | None = None) -> Path:
    """Build ``face_landmarker.task`` in ``out_dir`` and return its path."""
    return _build_face(Path(out_dir), cache_dir)[0]


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
    path, record = _build_face(args.out, cache)
    print(f"{path}  {record['sha256']}  {record['size']}")
    if not args.no_manifest:
        write_manifest(args.out, {}, cache, face=record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
