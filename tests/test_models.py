"""Checks of the bundled PoseLandmarker .task files (built by posturecheck.models.build)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mediapipe.tasks.metadata import metadata_schema_py_generated as mdschema
from mediapipe.tasks.metadata import schema_py_generated as tflschema

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "posturecheck" / "models"
DEV_DATA = REPO.parent / "shared" / "data" / "dev"
VARIANTS = ("lite", "full")
ENTRIES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
PHOTOS = ("img_imper_women1.jpg", "img_econ_coat_man.png")


def bundle(variant: str) -> Path:
    return MODELS / f"pose_landmarker_{variant}.task"


def zip_data_offsets(path: Path) -> dict[str, int]:
    """Offset of each entry's data, read from its local header."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        out = {}
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED, info.filename
            head = info.header_offset
            name_len, extra_len = (int.from_bytes(raw[head + i:head + i + 2], "little") for i in (26, 28))
            out[info.filename] = head + 30 + name_len + extra_len
    return out


def model_metadata(model: bytes) -> mdschema.ModelMetadataT | None:
    root = tflschema.Model.GetRootAs(model, 0)
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        if entry.Name() == b"TFLITE_METADATA":
            data = root.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
            assert mdschema.ModelMetadata.ModelMetadataBufferHasIdentifier(data, 0)
            return mdschema.ModelMetadataT.InitFromPackedBuf(data, 0)
    return None


def normalization(meta: mdschema.ModelMetadataT) -> tuple[list[float], list[float]]:
    tensor = meta.subgraphMetadata[0].inputTensorMetadata[0]
    (unit,) = [u for u in tensor.processUnits or []
               if u.optionsType == mdschema.ProcessUnitOptions.NormalizationOptions]
    return list(map(float, unit.options.mean)), list(map(float, unit.options.std))


@pytest.mark.parametrize("variant", VARIANTS)
def test_bundle_matches_manifest(variant: str) -> None:
    path = bundle(variant)
    assert path.is_file(), f"{path} missing: run python -m posturecheck.models.build"
    record = json.loads((MODELS / "models.json").read_text())["variants"][variant]
    data = path.read_bytes()
    assert record["file"] == path.name
    assert record["size"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("variant", VARIANTS)
def test_bundle_layout_is_aligned(variant: str) -> None:
    offsets = zip_data_offsets(bundle(variant))
    assert sorted(offsets) == sorted(ENTRIES)
    assert all(off % 64 == 0 for off in offsets.values()), offsets
    with zipfile.ZipFile(bundle(variant)) as zf:
        for name in ENTRIES:
            root = tflschema.Model.GetRootAs(zf.read(name), 0)
            for i in range(root.BuffersLength()):
                buf = root.Buffers(i)
                if buf.DataLength():
                    assert buf._tab.Vector(buf._tab.Offset(4)) % 16 == 0, (name, i)


@pytest.mark.parametrize("variant", VARIANTS)
def test_models_carry_normalization_metadata(variant: str) -> None:
    with zipfile.ZipFile(bundle(variant)) as zf:
        landmarks, detector = zf.read(ENTRIES[1]), zf.read(ENTRIES[0])
    assert tflschema.Model.ModelBufferHasIdentifier(landmarks, 0)
    meta = model_metadata(landmarks)
    assert meta is not None, "landmark model lacks TFLITE_METADATA"
    assert normalization(meta) == ([0.0], [255.0])
    props = meta.subgraphMetadata[0].inputTensorMetadata[0].content.contentProperties
    assert props.colorSpace == mdschema.ColorSpaceType.RGB
    assert len(meta.subgraphMetadata[0].outputTensorMetadata) == 5
    assert normalization(model_metadata(detector)) == ([127.5], [127.5])


@pytest.mark.parametrize("variant", VARIANTS)
def test_bundle_finds_person_on_photo(variant: str) -> None:
    if not DEV_DATA.is_dir():
        pytest.skip(f"dev photos not found at {DEV_DATA} (shared/ is not checked out beside the repo)")
    cv2 = pytest.importorskip("cv2")
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python import vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle(variant))),
        running_mode=vision.RunningMode.IMAGE, num_poses=1)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for name in PHOTOS:
            bgr = cv2.imread(str(DEV_DATA / name))
            assert bgr is not None, name
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
            assert len(result.pose_landmarks) == 1, name
            points = result.pose_landmarks[0]
            assert len(points) == 33
            xy = np.array([(p.x, p.y) for p in points])
            assert np.all((xy > -0.2) & (xy < 1.2)), name
