"""Tables for spreadsheets and scripts: per-frame measurements and violations as CSV and JSON.

Numbers only (no pixels). CSV files are UTF-8 with a byte-order mark so that
Excel opens Chinese text correctly; JSON files are plain UTF-8.

frames: one row per analysed frame — frame, t_s, person_found, people_seen,
activity, view, every `FrameFeatures` field, then one column per rule of the
report (named by rule id) with its status on that frame. Frame-scope rules
give their own verdict; clip-scope rules are `fail` inside their violation
intervals and otherwise their clip status (`pass` when the clip failed
elsewhere).
violations: rule, title, severity, start_s, end_s, duration_s, peak_value.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .features import FrameFeatures
from .rules import FAIL, PASS, UNKNOWN
from .session import FrameRecord

FRAME_BASE_COLUMNS = ("frame", "t_s", "person_found", "people_seen", "activity", "view")
VIOLATION_COLUMNS = ("rule", "title", "severity", "start_s", "end_s", "duration_s", "peak_value")
SUMMARY_COLUMNS = ("file", "activity", "score", "failed_rules", "duration_s", "report", "error")
CSV_ENCODING = "utf-8-sig"
DECIMALS = 4


def feature_names() -> tuple[str, ...]:
    """Every FrameFeatures field, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(FrameFeatures))


def _clean(v: Any) -> Any:
    """JSON-safe scalar: rounded floats, NaN/inf as None, numpy scalars as Python ones."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float):
        return None if not math.isfinite(v) else round(v, DECIMALS)
    return v


def _cell(v: Any) -> str:
    v = _clean(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _clip_status(rule: Mapping[str, Any], t_s: float) -> str:
    ivs = rule.get("intervals") or []
    if any(float(i["start_s"]) <= t_s < float(i["end_s"]) for i in ivs):
        return FAIL
    status = rule.get("status", UNKNOWN)
    if status == FAIL:
        return PASS if ivs else FAIL
    return status


def frame_rows(records: Sequence[FrameRecord], report: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """One dict per frame: base columns, features, and `rules` {id: {status, value}}."""
    names = feature_names()
    rules = list(report.get("rules", []))
    frame_ids = {v.rule_id for rec in records for v in rec.verdicts}
    for rec in records:
        t_s = rec.timestamp_ms / 1000.0
        feats = rec.features
        row: dict[str, Any] = {
            "frame": rec.index, "t_s": round(t_s, 3), "person_found": rec.person_found,
            "people_seen": rec.people_seen, "activity": rec.activity, "view": rec.view,
        }
        for n in names:
            row[n] = _clean(getattr(feats, n, None)) if feats is not None else None
        statuses: dict[str, dict[str, Any]] = {}
        for r in rules:
            rid = r["id"]
            if rid in frame_ids:
                v = rec.verdict(rid)
                statuses[rid] = {"status": v.status if v else UNKNOWN, "value": _clean(v.value) if v else None}
            else:
                statuses[rid] = {"status": _clip_status(r, t_s), "value": None}
        row["rules"] = statuses
        yield row


def frame_columns(report: Mapping[str, Any]) -> list[str]:
    return list(FRAME_BASE_COLUMNS) + list(feature_names()) + [r["id"] for r in report.get("rules", [])]


def write_frames_csv(path: str | Path, records: Sequence[FrameRecord], report: Mapping[str, Any]) -> Path:
    """frames.csv: one row per frame (see module docstring)."""
    path = Path(path)
    cols = frame_columns(report)
    with open(path, "w", encoding=CSV_ENCODING, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in frame_rows(records, report):
            rules = row.pop("rules")
            w.writerow([_cell(row.get(c)) if c in row else rules[c]["status"] for c in cols])
    return path


def write_frames_json(path: str | Path, records: Sequence[FrameRecord], report: Mapping[str, Any]) -> Path:
    """frames.json: {"source", "columns", "frames": [...]} with rule statuses and values per frame."""
    path = Path(path)
    data = {"schema": "posturecheck.frames/1", "source": report.get("source"),
            "feature_names": list(feature_names()), "frames": list(frame_rows(records, report))}
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def violation_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every violation interval of the report, in time order."""
    rows = []
    for r in report.get("rules", []):
        for i in r.get("intervals") or []:
            if "start_s" not in i or "end_s" not in i:
                continue
            start, end = float(i["start_s"]), float(i["end_s"])
            rows.append({"rule": r["id"], "title": r.get("title"), "severity": r.get("severity"),
                         "start_s": round(start, 3), "end_s": round(end, 3), "duration_s": round(end - start, 3),
                         "peak_value": _clean(i.get("peak_value"))})
    rows.sort(key=lambda x: (x["start_s"], x["rule"]))
    return rows


def write_violations_csv(path: str | Path, report: Mapping[str, Any]) -> Path:
    path = Path(path)
    with open(path, "w", encoding=CSV_ENCODING, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(VIOLATION_COLUMNS)
        for row in violation_rows(report):
            w.writerow([_cell(row[c]) for c in VIOLATION_COLUMNS])
    return path


def write_violations_json(path: str | Path, report: Mapping[str, Any]) -> Path:
    path = Path(path)
    data = {"schema": "posturecheck.violations/1", "source": report.get("source"), "violations": violation_rows(report)}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_summary_csv(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """summary.csv of a folder review: file, activity, score, failed_rules (ids, `;`), duration_s, report, error."""
    path = Path(path)
    with open(path, "w", encoding=CSV_ENCODING, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(SUMMARY_COLUMNS)
        for row in rows:
            w.writerow([_cell(";".join(row[c]) if c == "failed_rules" else row.get(c)) for c in SUMMARY_COLUMNS])
    return path
