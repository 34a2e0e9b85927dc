"""Build the hair segmentation model ``hair_segmenter.tflite`` offline, for MediaPipe Tasks.

Source: MediaPipe's hair segmentation model, ``mediapipe/models/hair_segmentation.tflite``
in the google/mediapipe GitHub repository at commit
d68f5e416903e3d756ebe07d08c4a3b911741a91 (Apache-2.0; 780,588 bytes, sha256 pinned below;
removed from the repository later). It is not in any registry package, so the build reads
a local copy: ``--source`` is either that file or a bare git directory of google/mediapipe
holding the commit (``git show COMMIT:PATH``). Nothing is downloaded, ever.

The upstream model takes a 512x512x4 float image: RGB in 0..1 plus, as alpha, the mask the
model produced on the previous video frame (0 on the first frame), and outputs 512x512x2
logits (background, hair). MediaPipe Tasks' ImageSegmenter feeds 3 channels, so:

* the first layer (CONV_2D, 2x2 kernel, stride 2, VALID padding) loses the alpha input
  channel of its kernel: exactly the upstream model fed an empty previous mask (alpha = 0),
  which is how its graph starts every clip (the bias is unchanged);
* the input is declared at ``INPUT_SIZE`` x ``INPUT_SIZE`` (the network is fully
  convolutional; TFLite re-derives every other tensor's shape), 4x less work than 512;
* TFLite metadata is added (input normalization mean 0, std 255; names; licence), which
  the Tasks API requires.

The custom ops MaxPoolingWithArgmax2D, MaxUnpooling2D and Convolution2DTransposeBias are
registered by the Tasks runtime of the installed ``mediapipe``. Run
``python -m posturecheck.models.build_hair --source PATH``; it also updates ``models.json``
(key ``hair``) and regenerates ``MODELS.md``. The build is deterministic.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import flatbuffers
import numpy as np

from posturecheck.models.build import (
    MODELS_DIR,
    add_metadata,
    default_cache_dir,
    load_model,
    mdschema,
    rgb_input_metadata,
    serialize_model,
    sha256,
    tflschema,
    write_manifest,
)

logger = logging.getLogger("posturecheck.models.build_hair")

HAIR_FILE = "hair_segmenter.tflite"
UPSTREAM_REPO = "google/mediapipe"
UPSTREAM_COMMIT = "d68f5e416903e3d756ebe07d08c4a3b911741a91"
UPSTREAM_PATH = "mediapipe/models/hair_segmentation.tflite"
UPSTREAM_SHA256 = "d2c940c4fd80edeaf38f5d7387d1b4235ee320ed120080df67c663e749e77633"
UPSTREAM_SIZE = 780588
UPSTREAM_INPUT = [1, 512, 512, 4]
INPUT_SIZE = 256          # the shipped model's input side (fully convolutional network)
FIRST_KERNEL = [8, 2, 2, 4]
HAIR_CHANNEL = 1          # output channel order: background, hair

CHANGES = (
    f"Input 0 `input_1` was {UPSTREAM_INPUT} (RGB + the previous frame's mask as alpha): the "
    "first CONV_2D kernel (2x2, stride 2, VALID) keeps its 3 RGB input channels and drops the "
    "alpha one, i.e. exactly the upstream model fed an empty previous mask (alpha 0), as its "
    "graph does on the first frame of every clip. Bias and all other weights unchanged.",
    f"Input declared as [1,{INPUT_SIZE},{INPUT_SIZE},3] (the network is fully convolutional; "
    "TFLite re-derives the other tensor shapes): output [1,{0},{0},2] logits (background, "
    "hair); 4x less work than 512x512.".format(INPUT_SIZE),
    "TFLite metadata added (identifier M001): input `image`, RGB, NormalizationOptions mean "
    "[0.0], std [255.0] (float input 0..1); output `segmentation` (2 logits: background, "
    "hair; hair probability = sigmoid(hair - background)); author Google (MediaPipe), "
    "licence Apache-2.0.",
    "Re-serialized with 16-byte aligned buffers (as the pose bundles).",
)
LIMITS = (
    "Custom ops MaxPoolingWithArgmax2D, MaxUnpooling2D, Convolution2DTransposeBias: needs "
    "the MediaPipe Tasks runtime (ImageSegmenter), which registers them.",
    "Trained for selfie-style video (head and shoulders); posturecheck feeds it a square "
    "crop around the face mesh. Bald scalps are sometimes marked as hair at the top.",
)


def read_source(path: Path) -> bytes:
    """The upstream model from a file or a bare git dir of google/mediapipe; sha256 checked."""
    path = Path(path)
    if path.is_dir():
        data = subprocess.run(["git", f"--git-dir={path}", "show", f"{UPSTREAM_COMMIT}:{UPSTREAM_PATH}"],
                              check=True, capture_output=True).stdout
    else:
        data = path.read_bytes()
    if sha256(data) != UPSTREAM_SHA256 or len(data) != UPSTREAM_SIZE:
        raise ValueError(f"{path}: sha256 {sha256(data)} ({len(data)} bytes) is not the pinned "
                         f"{UPSTREAM_PATH}@{UPSTREAM_COMMIT[:12]} ({UPSTREAM_SHA256})")
    return data


def hair_metadata() -> bytes:
    """TFLite ModelMetadata flatbuffer (identifier M001) for the hair segmenter."""
    image = rgb_input_metadata(INPUT_SIZE)
    oprops = mdschema.ImagePropertiesT()
    oprops.colorSpace = mdschema.ColorSpaceType.GRAYSCALE
    ocontent = mdschema.ContentT()
    ocontent.contentPropertiesType = mdschema.ContentProperties.ImageProperties
    ocontent.contentProperties = oprops
    out = mdschema.TensorMetadataT()
    out.name = "segmentation"
    out.description = "2 logits per pixel: background, hair (hair probability = sigmoid(hair - background))."
    out.content = ocontent
    subgraph = mdschema.SubGraphMetadataT()
    subgraph.name = "hair_segmenter"
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [image], [out]
    meta = mdschema.ModelMetadataT()
    meta.name = "Hair segmentation"
    meta.description = ("MediaPipe hair segmentation (2019). Changed by posturecheck: RGB input only "
                        f"(empty previous mask), input {INPUT_SIZE}x{INPUT_SIZE}.")
    meta.version = f"{UPSTREAM_REPO}@{UPSTREAM_COMMIT}:{UPSTREAM_PATH}"
    meta.author, meta.license = "Google (MediaPipe)", "Apache-2.0"
    meta.minParserVersion = "1.0.0"
    meta.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=b"M001")
    return bytes(builder.Output())


def prepare_hair(data: bytes, input_size: int = INPUT_SIZE) -> bytes:
    """The shipped model (see module doc) from the upstream bytes."""
    model = load_model(data)
    sg = model.subgraphs[0]
    inp = int(sg.inputs[0])
    if list(sg.tensors[inp].shape) != UPSTREAM_INPUT:
        raise ValueError(f"unexpected input shape {list(sg.tensors[inp].shape)}")
    first = sg.operators[0]
    if (model.operatorCodes[first.opcodeIndex].deprecatedBuiltinCode != tflschema.BuiltinOperator.CONV_2D
            or int(first.inputs[0]) != inp):
        raise ValueError("the first operator is not the CONV_2D reading the input")
    if sum(inp in list(op.inputs) for op in sg.operators) != 1:
        raise ValueError("the input feeds more than one operator")
    opts = first.builtinOptions
    if opts.padding != tflschema.Padding.VALID:
        raise ValueError("the first CONV_2D is expected to use VALID padding")
    kernel = sg.tensors[int(first.inputs[1])]
    if list(kernel.shape) != FIRST_KERNEL or kernel.type != tflschema.TensorType.FLOAT32:
        raise ValueError(f"unexpected first kernel {list(kernel.shape)}")
    weights = np.frombuffer(bytes(np.asarray(model.buffers[kernel.buffer].data, np.uint8)), "<f4")
    rgb = np.ascontiguousarray(weights.reshape(FIRST_KERNEL)[..., :3]).astype("<f4")
    model.buffers[kernel.buffer].data = np.frombuffer(rgb.tobytes(), np.uint8)
    kernel.shape = np.asarray(FIRST_KERNEL[:3] + [3], np.int32)
    sg.tensors[inp].shape = np.asarray([1, input_size, input_size, 3], np.int32)
    add_metadata(model, hair_metadata())
    return serialize_model(model)


def _build_hair(out_dir: Path, src: Path) -> tuple[Path, dict]:
    raw = read_source(src)
    data = prepare_hair(raw)
    path = Path(out_dir) / HAIR_FILE
    path.write_bytes(data)
    logger.info("wrote %s (%d bytes, sha256 %s)", path, len(data), sha256(data))
    record = {
        "file": HAIR_FILE,
        "builder": "posturecheck.models.build_hair",
        "sha256": sha256(data),
        "size": len(data),
        "input_size": INPUT_SIZE,
        "hair_channel": HAIR_CHANNEL,
        "sources": [{"repository": f"github {UPSTREAM_REPO}", "commit": UPSTREAM_COMMIT,
                     "path": UPSTREAM_PATH, "sha256": UPSTREAM_SHA256, "size": UPSTREAM_SIZE,
                     "license": "Apache-2.0 (LICENSE of the repository at that commit)"}],
        "changes": list(CHANGES),
        "limits": list(LIMITS),
    }
    return path, record


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source", type=Path, required=True,
                        help=f"{UPSTREAM_PATH} (file) or a bare git dir of {UPSTREAM_REPO}")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output folder")
    parser.add_argument("--no-manifest", action="store_true",
                        help="only write the model; leave models.json and MODELS.md alone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path, record = _build_hair(args.out, args.source)
    print(f"{path}  {record['sha256']}  {record['size']}")
    if not args.no_manifest:
        write_manifest(args.out, {}, default_cache_dir(), hair=record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
