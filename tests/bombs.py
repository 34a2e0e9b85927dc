"""Decompression bombs made at test time (issue 14): tiny files that decode to gigabytes.

All pixels are zero, so the deflate stream is one full-flushed block repeated (byte-identical
after a full flush) and its Adler-32 is known in closed form: a 30000×30000 PNG takes a
second to write, not a minute.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ADLER_MOD = 65521


def _zero_deflate(total: int, block: int) -> bytes:
    """A zlib stream of `total` zero bytes (total % block == 0), built from one repeated block."""
    assert total % block == 0
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(b"\x00" * block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(b"\x00" * block) + comp.flush(zlib.Z_FULL_FLUSH)
    assert body == again  # nothing depends on what came before a full flush
    tail = comp.flush()  # final empty block
    adler = ((total % ADLER_MOD) << 16) | 1  # A stays 1 over zeros, B grows by 1 per byte
    return b"\x78\xda" + body * (total // block - 1) + again + tail + struct.pack(">I", adler)


def png_bomb(path: Path, width: int = 30000, height: int = 30000, rows_per_block: int = 100) -> Path:
    """An RGB PNG of width×height black pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = 1 + 3 * width  # filter byte + RGB
    data = _zero_deflate(row * height, row * rows_per_block)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def tiff_bomb(path: Path, width: int = 20000, height: int = 20000, rows_per_block: int = 100) -> Path:
    """A grayscale, deflate-compressed, single-strip TIFF of width×height black pixels."""
    data = _zero_deflate(width * height, width * rows_per_block)
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 8), (262, 3, 1),
               (273, 4, 8), (277, 3, 1), (278, 4, height), (279, 4, len(data))]
    ifd_at = 8 + len(data)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at)) + data
    out += struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        out += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    out += struct.pack("<I", 0)
    path.write_bytes(bytes(out))
    return path


def video_bomb(path: Path, side: int = 8192, frames: int = 3) -> Path:
    """An H.264 MP4 of side×side black frames (tiny on disk, ~100 MB per decoded frame)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=5)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "51"}
        frame = av.VideoFrame(side, side, "yuv420p")
        for plane in frame.planes:
            np.frombuffer(plane, np.uint8)[:] = 0 if plane is frame.planes[0] else 128
        for i in range(frames):
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def fast_clip(path: Path, fps: int = 1000, seconds: float = 4.0, size: tuple[int, int] = (160, 120)) -> Path:
    """A clip whose container claims `fps` (e.g. 1000): MJPEG in AVI, timestamps 1 ms apart."""
    import cv2
    import numpy as np

    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (w, h))
    for i in range(int(fps * seconds)):
        writer.write(np.full((h, w, 3), (i * 7) % 255, np.uint8))
    writer.release()
    return path
