"""Bundled MediaPipe model files and how to find them (no downloads, ever)."""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
POSE_VARIANTS = ("lite", "full", "heavy")


class ModelNotFoundError(FileNotFoundError):
    """The requested model bundle is not installed; the message says how to get it."""


def user_models_dir() -> Path:
    """Where `posturecheck models --build heavy` puts bundles that are not shipped."""
    base = os.environ.get("POSTURECHECK_HOME") or os.path.join(Path.home(), ".posturecheck")
    return Path(base) / "models"


def pose_model_path(model: str) -> Path:
    """Resolve `lite|full|heavy|PATH` to an existing `.task` file."""
    if model in POSE_VARIANTS:
        name = f"pose_landmarker_{model}.task"
        for folder in (MODELS_DIR, user_models_dir()):
            if (folder / name).is_file():
                return folder / name
        hint = " Build it with `posturecheck models --build heavy`." if model == "heavy" else ""
        raise ModelNotFoundError(f"pose model '{model}' is not installed ({name}).{hint}")
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(f"model file not found: {model} (use lite, full, heavy or a .task path)")
    return path
