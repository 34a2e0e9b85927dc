"""A fake DNS resolver that logs every query name and answers NXDOMAIN (test helper).

Run inside a network namespace on its loopback: `python dnsprobe.py LOGFILE [ADDR] [PORT]`.
Each query's name is appended to LOGFILE, one per line. Used by tests/test_offline.py.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

NXDOMAIN = 3


def qname(packet: bytes) -> str:
    """The first question's name of a DNS query packet."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels)


def answer(packet: bytes) -> bytes:
    """An NXDOMAIN reply echoing the question."""
    flags = 0x8180 | NXDOMAIN  # response, recursion desired + available
    end = 12
    while end < len(packet) and packet[end]:
        end += 1 + packet[end]
    question = packet[12:end + 5]
    return packet[:2] + flags.to_bytes(2, "big") + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question


def main(log: Path, addr: str = "127.0.0.1", port: int = 53) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    with log.open("a", encoding="utf-8", buffering=1) as out:
        out.write("#ready\n")
        while True:
            packet, peer = sock.recvfrom(4096)
            if len(packet) < 12:
                continue
            out.write(qname(packet) + "\n")
            sock.sendto(answer(packet), peer)


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(sys.argv[2:3] or ["127.0.0.1"]), *([int(sys.argv[3])] if len(sys.argv) > 3 else []))
