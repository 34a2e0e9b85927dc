"""Lifetime of MediaPipe Tasks objects: close now, on `with` exit, or at interpreter exit.

MediaPipe's own finaliser runs against half-destroyed modules when a landmarker
is still open at interpreter exit and prints a `TypeError`; every open task is
therefore closed by an `atexit` hook before module teardown.
"""

from __future__ import annotations

import atexit
import weakref
from typing import Any

_OPEN: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_open_tasks() -> None:
    for task in list(_OPEN):
        task.close()


class NativeTask:
    """Base for wrappers owning one MediaPipe landmarker in `self._landmarker`."""

    _landmarker: Any = None

    def _adopt(self, landmarker: Any) -> None:
        """Take ownership of a freshly created landmarker."""
        self._landmarker = landmarker
        _OPEN.add(self)

    def close(self) -> None:
        """Release the native graph now (idempotent)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
            _OPEN.discard(self)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # last resort; normal code uses `with` or close()
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
