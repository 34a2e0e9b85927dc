"""Build a MediaPipe FaceLandmarker ``.task`` bundle offline from the mediapipe wheel.

Sources (from the PyPI wheel ``mediapipe==0.10.21``, fetched into the same cache as the
pose bundles by :mod:`posturecheck.models.build`, sha256-pinned below):

* face detector: ``mediapipe/modules/face_detection/face_detection_short_range.tflite``
  (carries TFLite metadata, kept as is; finds faces within about 2 m of the camera);
* face landmarks: ``mediapipe/modules/face_landmark/face_landmark_with_attention.tflite``
  (FaceMesh with attention: 468 mesh points plus refined lips, eyes and **irises**, with
  metadata; its custom ops TransformTensorBilinear, TransformLandmarks and
  Landmarks2TransformMatrix are registered by the Tasks runtime).

The Tasks FaceLandmarker graph reads 478 points (468 mesh + 10 iris, x y z) from the
landmark model's first output and the face flag from the second. The attention model has
seven outputs (mesh, lips, left eye, right eye, left iris, right iris, face flag; irises as
5 x (x, y)). Four standard TFLite ops are appended: CONCATENATION of the mesh and both iris
outputs -> [1,1,1,1424], FULLY_CONNECTED with a constant 30x1424 matrix (iris x and y copied;
each iris point's z = the mean z of its eye's 16-point contour, as MediaPipe's own
refinement does), RESHAPE, and CONCATENATION after the mesh -> [1,1,1,1434]. The outputs
become (landmarks, face flag). The 468 mesh points are passed through unchanged (bit for
bit); the lips and eye refinements are not applied. The bundle has no blendshapes model and no face-geometry
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
LANDMARKS_MEMBER = "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite"
# Pinned sha256 of the upstream model files: a changed upstream file fails the build.
PINNED_SHA256 = {
    DETECTOR_MEMBER: "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    LANDMARKS_MEMBER: "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
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
# The attention model's outputs, by name; its "left" iris is the one on the image's left
# (the subject's right eye: points 468-472), as in MediaPipe's landmark refinement config.
ATTENTION_OUTPUTS = ("output_mesh_identity", "output_lips", "output_left_eye", "output_right_eye",
                     "output_left_iris", "output_right_iris", "conv_faceflag")
IRIS_OUTPUTS = ("output_left_iris", "output_right_iris")  # -> points 468-472, 473-477
IRIS_POINTS_PER_EYE = 5

CHANGES = (
    f"`{DETECTOR_ENTRY}`: `{DETECTOR_MEMBER}` with its upstream TFLite metadata kept as is "
    "(\"Short Range Face Detection\", input normalization mean 127.5, std 127.5). "
    "Weights unchanged.",
    f"`{LANDMARKS_ENTRY}`: `{LANDMARKS_MEMBER}` (FaceMesh with attention: 468 mesh points "
    "and refined lips, eyes and irises; input 192x192 normalised to 0..1) with four standard "
    f"TFLite ops appended so that it outputs the {N_POINTS} points the Tasks FaceLandmarker "
    f"graph expects: CONCATENATION of `output_mesh_identity` [1,1,1,{N_MESH * DIMS}], "
    "`output_left_iris` and `output_right_iris` [1,1,1,10] on axis 3 -> "
    f"[1,1,1,{N_MESH * DIMS + 20}], FULLY_CONNECTED (a constant float32 "
    f"{N_IRIS * DIMS}x{N_MESH * DIMS + 20} matrix, no bias) -> [1,{N_IRIS * DIMS}], RESHAPE -> "
    f"[1,1,1,{N_IRIS * DIMS}], CONCATENATION after the mesh -> [1,1,1,{N_POINTS * DIMS}]. "
    "Model outputs: (landmarks, `conv_faceflag`); the lips and eye outputs are left unused. "
    "Weights of the original graph unchanged.",
    "The 468 mesh points pass through unchanged. The 10 iris points are the model's own "
    "(x, y) iris landmarks: points 468-472 from `output_left_iris` (the iris on the image's "
    "left, i.e. the subject's right eye: centre + 4 boundary points), 473-477 from "
    "`output_right_iris`; each one's z is the mean z of its eye's contour "
    f"({list(RIGHT_EYE_CONTOUR)} / {list(LEFT_EYE_CONTOUR)}), as MediaPipe's refinement "
    "does.",
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
    "Eye and lip contours are the mesh's own (the attention model's refined eye and lip "
    "points are not merged in).",
)


def iris_matrix() -> np.ndarray:
    """float32 [30, 1424] weights on (mesh 1404, left iris 10, right iris 10): iris point p's
    x and y copied from the iris outputs, its z the mean z of its eye's contour."""
    n_in = N_MESH * DIMS + N_IRIS * 2
    weights = np.zeros((N_IRIS * DIMS, n_in), dtype=np.float32)
    for p, contour in enumerate(IRIS_CONTOURS):
        for c in range(2):
            weights[DIMS * p + c, N_MESH * DIMS + 2 * p + c] = 1.0
        weights[DIMS * p + 2, [DIMS * i + 2 for i in contour]] = 1.0 / len(contour)
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
    """Make the attention model output ([1,1,1,1434] mesh + real irises, face flag)."""
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected 1 subgraph, got {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    names = [sg.tensors[i].name.decode() for i in sg.outputs]
    if names != list(ATTENTION_OUTPUTS):
        raise ValueError(f"unexpected outputs {names}")
    out = dict(zip(names, (int(i) for i in sg.outputs)))
    mesh, flag = out["output_mesh_identity"], out["conv_faceflag"]
    iris_in = [out[n] for n in IRIS_OUTPUTS]
    if (list(sg.tensors[mesh].shape) != [1, 1, 1, N_MESH * DIMS]
            or any(list(sg.tensors[i].shape) != [1, 1, 1, IRIS_POINTS_PER_EYE * 2] for i in iris_in)):
        raise ValueError("unexpected mesh or iris output shapes")
    ops = tflschema.BuiltinOperator
    opts = tflschema.BuiltinOptions
    f32, i32 = tflschema.TensorType.FLOAT32, tflschema.TensorType.INT32
    iris_shape = [1, 1, 1, N_IRIS * DIMS]
    n_in = N_MESH * DIMS + N_IRIS * 2

    joined = _add_tensor(model, "iris_from_attention/inputs", [1, 1, 1, n_in], f32)
    cat = tflschema.ConcatenationOptionsT()
    cat.axis, cat.fusedActivationFunction = 3, tflschema.ActivationFunctionType.NONE
    _add_op(model, ops.CONCATENATION, [mesh, *iris_in], [joined], opts.ConcatenationOptions, cat)

    weights = _add_tensor(model, "iris_from_attention/weights", [N_IRIS * DIMS, n_in],
                          f32, iris_matrix().tobytes())
    iris_flat = _add_tensor(model, "iris_from_attention/flat", [1, N_IRIS * DIMS], f32)
    fc = tflschema.FullyConnectedOptionsT()
    fc.fusedActivationFunction = tflschema.ActivationFunctionType.NONE
    _add_op(model, ops.FULLY_CONNECTED, [joined, weights, -1], [iris_flat],
            opts.FullyConnectedOptions, fc)

    shape = _add_tensor(model, "iris_from_attention/shape", [4], i32,
                        np.asarray(iris_shape, dtype="<i4").tobytes())
    iris = _add_tensor(model, "iris_from_attention", iris_shape, f32)
    reshape = tflschema.ReshapeOptionsT()
    reshape.newShape = np.asarray(iris_shape, dtype=np.int32)
    _add_op(model, ops.RESHAPE, [iris_flat, shape], [iris], opts.ReshapeOptions, reshape)

    landmarks = _add_tensor(model, "landmarks", [1, 1, 1, N_POINTS * DIMS], f32)
    concat = tflschema.ConcatenationOptionsT()
    concat.axis = 3
    concat.fusedActivationFunction = tflschema.ActivationFunctionType.NONE
    _add_op(model, ops.CONCATENATION, [mesh, iris], [landmarks], opts.ConcatenationOptions,
            concat)
    sg.outputs = np.asarray([landmarks, flag], dtype=np.int32)


def update_metadata(model: tflschema.ModelT) -> None:
    """Describe the new outputs in the model's TFLITE_METADATA (kept otherwise)."""
    meta = read_metadata(model)
    if meta is None:
        raise ValueError("face landmark model has no TFLITE_METADATA")
    mean, std = input_normalization(meta)
    if (mean, std) != ([0.0], [255.0]):
        raise ValueError(f"unexpected landmark normalization mean={mean} std={std}")
    sg = model.subgraphs[0]
    described = meta.subgraphMetadata[0].outputTensorMetadata
    by_name = {t.name.decode() if isinstance(t.name, bytes) else t.name: t for t in described}
    if sorted(by_name) != sorted(ATTENTION_OUTPUTS):
        raise ValueError(f"metadata describes outputs {sorted(by_name)}")
    outputs = [by_name["output_mesh_identity"], by_name["conv_faceflag"]]
    meta.subgraphMetadata[0].outputTensorMetadata = outputs
    outputs[0].name = sg.tensors[sg.outputs[0]].name
    outputs[0].description = (
        f"{N_POINTS} landmarks x (x, y, z) in 192x192 input pixels, shape "
        f"[1,1,1,{N_POINTS * DIMS}]: 468 face mesh points, then the model's 10 iris points "
        "(468-472 the subject's right eye, 473-477 the left; z from the eye contour).")
    outputs[1].description = "Face presence score (logit; apply sigmoid)."
    meta.description = (
        "Detects 468 human face landmarks and irises (FaceMesh with attention). Appended by "
        "posturecheck: mesh + 10 iris points in one output, for the Tasks FaceLandmarker.")
    meta.version = f"{WHEEL_SPEC[0]}=={WHEEL_SPEC[1]} + posturecheck output merge"
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
        "iris": {"points_468_472": "output_left_iris (x, y); z = mean z of "
                                   f"{list(RIGHT_EYE_CONTOUR)}",
                 "points_473_477": "output_right_iris (x, y); z = mean z of "
                                   f"{list(LEFT_EYE_CONTOUR)}",
                 "method": "model iris landmarks (FaceMesh with attention)"},
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
