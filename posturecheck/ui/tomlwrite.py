"""A small TOML writer for rule profiles (the standard library only reads TOML).

Handles what profiles use: strings, numbers, booleans, lists of scalars, small
tables written inline (`title = { en = "...", zh = "..." }`), nested tables and
arrays of tables (`[[rules]]`, `[[rules.checks]]`, `[[rules.standard.men]]`).
"""

from __future__ import annotations

import json
import math
from typing import Any

_INLINE_MAX_KEYS = 6


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("TOML profiles cannot hold NaN or infinity")
        return repr(v) if v != int(v) or abs(v) >= 1e15 else f"{v:.1f}"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k, ensure_ascii=False)


def _is_inline_table(v: Any) -> bool:
    return (isinstance(v, dict) and len(v) <= _INLINE_MAX_KEYS
            and all(not isinstance(x, (dict, list)) or (isinstance(x, list) and not any(isinstance(y, dict) for y in x))
                    for x in v.values()))


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _emit(table: dict[str, Any], prefix: str, out: list[str]) -> None:
    nested: list[tuple[str, Any]] = []
    for k, v in table.items():
        if _is_table_array(v) or (isinstance(v, dict) and not _is_inline_table(v)):
            nested.append((k, v))
        else:
            out.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in nested:
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, dict):
            out.append("")
            out.append(f"[{name}]")
            _emit(v, name, out)
        else:
            for item in v:
                out.append("")
                out.append(f"[[{name}]]")
                _emit(item, name, out)


def dumps(data: dict[str, Any], header: str = "") -> str:
    """TOML text of a parsed-TOML-like dict."""
    out: list[str] = [f"# {line}" if line else "#" for line in header.splitlines()]
    _emit(data, "", out)
    return "\n".join(out).strip("\n") + "\n"
