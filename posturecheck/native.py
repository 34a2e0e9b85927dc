"""Lifetime of MediaPipe Tasks objects, and MediaPipe's usage telemetry kept from starting.

MediaPipe's own finaliser runs against half-destroyed modules when a landmarker
is still open at interpreter exit and prints a `TypeError`; every open task is
therefore closed by an `atexit` hook before module teardown.

Telemetry: the PyPI build of MediaPipe Tasks (libmediapipe.so) posts usage logs
(`HttpLoggingClient` → `https://play.googleapis.com/log`, through a bundled libcurl)
for every task created; the open-source factory returns a dummy logger, and there is
no option or environment switch for it (host environment, app id and CA bundle were
tried: the name is still resolved). libcurl honours the proxy environment
variables, so `block_telemetry()` points them at a proxy URL with a scheme curl does
not support: curl gives up before resolving any name or opening any socket
(checked with a DNS probe and strace; see tests/test_offline.py). It is called
before every landmarker is created and by the CLI before `analyze`, `app` and
`kiosk` start, never by `models --build` (which really downloads).
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import weakref
from typing import Any, MutableMapping

logger = logging.getLogger(__name__)

# A proxy URL libcurl refuses before any name lookup or connection (unsupported scheme).
TELEMETRY_SINK = "offline://mediapipe-telemetry-disabled.invalid"
PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
NO_PROXY_VARS = ("no_proxy", "NO_PROXY")
LOOPBACK_ONLY = "localhost,127.0.0.1,::1"  # the only hosts exempt from the sink (the app's own server)


def block_telemetry(env: MutableMapping[str, str] | None = None) -> None:
    """Keep MediaPipe's usage logger from resolving or reaching any host (idempotent).

    Sets every proxy variable to `TELEMETRY_SINK` and `no_proxy` to loopback only
    (a user's `no_proxy` could exempt Google's hosts; loopback stays reachable for
    local clients such as a health check of the app server) in `env` (default:
    this process, inherited by children such as the app server).
    """
    target = os.environ if env is None else env
    changed = any(target.get(k) != TELEMETRY_SINK for k in PROXY_VARS) or any(
        target.get(k) != LOOPBACK_ONLY for k in NO_PROXY_VARS)
    for key in PROXY_VARS:
        target[key] = TELEMETRY_SINK
    for key in NO_PROXY_VARS:
        target[key] = LOOPBACK_ONLY
    if changed:
        logger.debug("MediaPipe usage telemetry blocked (proxy variables -> %s)", TELEMETRY_SINK)


@functools.lru_cache(maxsize=1)
def limit_blas_threads() -> None:
    """One BLAS thread for this process's NumPy (idempotent).

    Everything NumPy multiplies here is tiny (a frame's 33 landmarks, the posture networks
    on two rows), and OpenBLAS's own threads only fight the pose model for the cores: on
    two busy cores a (2, 124) x (124, 3200) product took 7 ms with its default threads and
    0.7 ms with one. Applies to the whole process (OpenBLAS has one
    setting), so it is called where analysis starts (analyze, live), not on import.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    logger.debug("NumPy BLAS limited to one thread")


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
