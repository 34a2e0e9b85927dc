"""Command line: `posturecheck analyze|rules|models|app|kiosk ...`. The only place (with the app) that configures logging."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__

logger = logging.getLogger("posturecheck.cli")

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR = 0, 1, 2
LOOPBACK = "127.0.0.1"


def _default_lang() -> str:
    """The one language setting (posturecheck.language): POSTURECHECK_LANG, settings.json, locale, zh."""
    from .language import default_lang

    return default_lang()


def _error_text(exc: BaseException, lang: str) -> str:
    zh = getattr(exc, "message_zh", None)
    return zh if lang == "zh" and zh else str(exc)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="posturecheck", description="Posture and grooming coach for service-etiquette training.")
    p.add_argument("--version", action="version", version=f"posturecheck {__version__}")
    p.add_argument("--debug", action="store_true", help="verbose logging and tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse photos, videos or folders of them")
    a.add_argument("paths", nargs="+", metavar="PATH", help="photo, video or folder")
    a.add_argument("--activity", choices=("auto", "standing", "sitting", "walking"), default="auto")
    a.add_argument("--model", default="full", help="lite, full, heavy or a .task path (default: full)")
    a.add_argument("--profile", type=Path, help="rule profile TOML (default: the shipped profile)")
    a.add_argument("--standard", choices=("men", "women"),
                   help="the trainee's standard (chosen, never guessed from the image): hand/feet variants and "
                        "grooming rules (men: hair off forehead and ears, no beard; women: hair off the ears). "
                        "Without it only the rules common to both are judged")
    a.add_argument("--no-face", action="store_true",
                   help="skip the face stage (grooming.* rules, observations.face, the greeting drill)")
    a.add_argument("--badge-color", metavar="COLOR",
                   help="the organisation's name-badge colour (#RRGGBB or R,G,B): judges grooming.badge "
                        "(left chest); without it grooming.badge is unknown")
    a.add_argument("--lang", choices=("zh", "en"), default=_default_lang())
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--ids", action="store_true",
                   help="text table: add a column with the rule ids (JSON always has them in rules[].id)")
    a.add_argument("--out", type=Path, help="also write one <name>.json (and .txt) per input into this folder")
    a.add_argument("--report", type=Path, metavar="DIR",
                   help="write the trainer's review into DIR: annotated video (annotated.mp4, H.264), report.html "
                        "(self-contained, with a few stills of the trainee), frames/violations CSV+JSON; several "
                        "inputs get one subfolder each plus summary.html/summary.csv")
    a.add_argument("--workers", type=int, metavar="N",
                   help="with --report and several files: processes to use (default: min(2, number of files)); "
                        "with --engine ray: drills sent to the cluster at once (default: its CPUs)")
    a.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where several drills run: local (default: processes on this computer) or ray "
                        "(one task per drill on an existing Ray cluster; needs posturecheck[ray])")
    a.add_argument("--address", metavar="HOST:PORT",
                   help="with --engine ray: the cluster's head node (default: $RAY_ADDRESS, else a cluster "
                        "started on this computer with `ray start --head`)")
    a.add_argument("--no-smooth", action="store_true", help="disable One-Euro landmark smoothing for videos")
    a.add_argument("--max-side", type=int, default=1280, help="downscale frames so the long side is at most this (0 = native)")
    a.add_argument("--bow-angle", type=int, choices=(15, 30, 45),
                   help="bow drill: the asked bow angle; adds observations.bow_check (measured vs asked ±5°)")
    a.add_argument("--reference", metavar="NAME",
                   help="reference pose (see `posturecheck reference list`, or a .json path): adds "
                        "observations.reference, a 0-100 similarity and the joints that differ most")

    lu = sub.add_parser("lineup", help="line-up inspection: judge every person in a photo (or a clip's best frame), "
                                       "left to right")
    lu.add_argument("path", metavar="PHOTO|CLIP", type=Path)
    lu.add_argument("--standard", choices=("men", "women"),
                    help="the standard everyone in the line is judged to (hand/feet variants, grooming)")
    lu.add_argument("--model", default="full", help="lite, full, heavy or a .task path (default: full)")
    lu.add_argument("--profile", type=Path, help="rule profile TOML (default: the shipped profile)")
    lu.add_argument("--no-face", action="store_true", help="skip the face stage (grooming.* rules)")
    lu.add_argument("--lang", choices=("zh", "en"), default=_default_lang())
    lu.add_argument("--format", choices=("text", "json"), default="text")
    lu.add_argument("--html", type=Path, metavar="FILE",
                    help="also write a self-contained HTML page with each person's crop and verdicts (the crops "
                         "show the people: this file is the only place they are kept)")

    ref = sub.add_parser("reference", help="list reference poses or record a trainer's own")
    ref_sub = ref.add_subparsers(dest="ref_command", required=True)
    ref_sub.add_parser("list", help="list the shipped and your own reference poses")
    ra = ref_sub.add_parser("add", help="record a reference pose from a photo or clip (landmarks only are kept)")
    ra.add_argument("name", metavar="NAME", help="letters, digits, '-', '_' or '.'")
    ra.add_argument("file", metavar="FILE", type=Path, help="photo, or clip (the median pose of its frames)")
    ra.add_argument("--description", default="", metavar="TEXT")
    ra.add_argument("--model", default="full", help="lite, full, heavy or a .task path (default: full)")
    ra.add_argument("--force", action="store_true", help="replace your own reference of that name")
    for rp in ref_sub.choices.values():
        rp.add_argument("--lang", choices=("zh", "en"), default=_default_lang())

    r = sub.add_parser("rules", help="print the rule table of a profile")
    r.add_argument("--profile", type=Path, help="rule profile TOML (default: the shipped profile)")
    r.add_argument("--lang", choices=("zh", "en"), default=_default_lang())

    sub.add_parser("features", help="list every measurement a profile check may name (kind, unit, source)")

    m = sub.add_parser("models", help="list the pose models or build one (heavy is built on demand)")
    m.add_argument("--build", choices=("lite", "full", "heavy"), action="append", help="build this bundle from registry packages")
    m.add_argument("--out", type=Path, help="where to write built bundles (default: ~/.posturecheck/models)")

    for name, text in (("app", "run the training app in the browser (Practice, Review, History, Settings)"),
                       ("kiosk", "run the full-screen self-practice kiosk (camera starts by itself)")):
        ap = sub.add_parser(name, help=text)
        ap.add_argument("--port", type=int, default=8501, help="port to serve on (default: 8501)")
        ap.add_argument("--address", default=LOOPBACK,
                        help="address to listen on (default: 127.0.0.1, this computer only; the browser allows "
                             "the camera only on localhost or HTTPS; see the README before exposing it on a LAN)")
        ap.add_argument("--headless", action="store_true",
                        help="do not open a browser window (always so for kiosk and without a terminal)")
        ap.add_argument("--max-upload-mb", type=int,
                        help="largest upload the server accepts (default: the app's Settings, 200 MB)")
        ap.add_argument("--history-url", metavar="postgresql://USER@HOST:PORT/DB",
                        help="keep the training history in this PostgreSQL database, shared by several kiosks and "
                             "trainers (default: the app's Settings, else SQLite on this computer; needs "
                             "posturecheck[postgres]; keep the password in ~/.pgpass)")
    return p


class _Progress:
    """tqdm bar on stderr, only when stderr is a terminal."""

    def __init__(self, name: str, enabled: bool) -> None:
        self._bar = None
        self._name = name
        self._enabled = enabled

    def __call__(self, done: int, total: int | None) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self._name[:30], unit="frame", file=sys.stderr, leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _analyze_one(path: Path, args: argparse.Namespace, options: Any) -> dict[str, Any]:
    from .analyze import analyze_path
    from .report import to_json

    progress = _Progress(path.name, sys.stderr.isatty())
    try:
        analysis = analyze_path(path, options, progress=progress)
    finally:
        progress.close()
    return to_json(analysis, args.lang, args.standard)


def out_names(paths: Sequence[Path]) -> dict[Path, str]:
    """`--out` base name per input: its stem, or its whole file name when another input shares the stem.

    `drill.jpg` + `drill.png` -> `drill.jpg.json` and `drill.png.json` (nothing overwritten);
    a lone `drill.mp4` keeps `drill.json`.
    """
    counts: dict[str, int] = {}
    for p in paths:
        counts[p.stem.casefold()] = counts.get(p.stem.casefold(), 0) + 1
    names: dict[Path, str] = {}
    used: set[str] = set()
    for p in paths:
        base = p.stem if counts[p.stem.casefold()] == 1 else p.name
        name, n = base, 2
        while name.casefold() in used:  # same name in two folders
            name = f"{base}_{n}"
            n += 1
        used.add(name.casefold())
        names[p] = name
    return names


def _write_out(out_dir: Path, name: str, report: dict[str, Any], text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / f"{name}.txt").write_text(text + "\n", encoding="utf-8")


def _print_review(report: dict[str, Any], args: argparse.Namespace, single: bool, where: Path) -> None:
    from .report import to_text

    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=1 if single else None), flush=True)
        print(f"posturecheck: {where}", file=sys.stderr)
    else:
        print(to_text(report, args.lang, getattr(args, "profile_obj", None), args.ids), flush=True)
        print(("\n报告：" if args.lang == "zh" else "\nReport: ") + str(where), flush=True)


def _analyze_report(paths: list[Path], args: argparse.Namespace, options: Any, engine: Any) -> int:
    """`analyze ... --report DIR`: the trainer's review outputs (see posturecheck.batch)."""
    from .batch import (REPORT_HTML, SUMMARY_HTML, ReviewOptions, ReviewResult, error_result, review_file, review_one,
                        review_paths)

    review = ReviewOptions(lang=args.lang, standard=args.standard)
    if len(paths) == 1:
        tty = sys.stderr.isatty()
        progress, render = _Progress(paths[0].name, tty), _Progress("video", tty)
        try:
            if engine is None:
                result = review_file(paths[0], args.report, options, review, progress=progress,
                                     render_progress=render)
            else:
                result = review_one(paths[0], args.report, options, review, engine=engine)
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
            if args.debug or _is_engine_error(exc):
                raise
            result = error_result(paths[0], exc, args.lang)
        finally:
            progress.close()
            render.close()
        if result.error:
            print(f"posturecheck: {result.error}", file=sys.stderr)
            return EXIT_ERROR
        _print_review(result.report or {}, args, True, Path(result.out_dir or args.report) / REPORT_HTML)
        return EXIT_OK

    def show(res: ReviewResult) -> None:
        if res.error:
            if args.format == "json":
                print(json.dumps({"schema": "posturecheck.analysis/1", "source": res.file, "error": res.error,
                                  "error_code": res.error_code}, ensure_ascii=False), flush=True)
            else:
                print(f"posturecheck: {res.error}", file=sys.stderr, flush=True)
        elif args.format == "json":
            print(json.dumps(res.report, ensure_ascii=False), flush=True)
        else:
            from .report import ACTIVITY_WORDS

            rep = res.report or {}
            score = "-" if rep.get("score") is None else f"{rep['score']:.0f}"
            failed = ", ".join(res.failed_rules) or "-"
            activity = ACTIVITY_WORDS[args.lang].get(rep.get("activity"), rep.get("activity"))
            print(f"{Path(res.file).name}: {activity}  {score}  {failed}", flush=True)

    results = review_paths(paths, args.report, options, review, workers=args.workers, on_result=show, engine=engine)
    where = Path(args.report) / SUMMARY_HTML
    print(("汇总：" if args.lang == "zh" else "Summary: ") + str(where),
          file=sys.stderr if args.format == "json" else sys.stdout, flush=True)
    failures = sum(1 for r in results if r.error)
    if failures == 0:
        return EXIT_OK
    return EXIT_ERROR if failures == len(results) else EXIT_PARTIAL


def _is_engine_error(exc: BaseException) -> bool:
    from .batch import EngineError

    return isinstance(exc, EngineError)


def _error_report(path: Path, exc: BaseException, args: argparse.Namespace) -> dict[str, Any]:
    """The JSON error object of a file that could not be analysed (one line, the user's language)."""
    from .batch import error_result

    res = error_result(path, exc, args.lang)
    return {"schema": "posturecheck.analysis/1", "source": str(path), "error": res.error, "error_code": res.error_code}


def cmd_analyze(args: argparse.Namespace) -> int:
    from .analyze import AnalyzeOptions
    from .grooming import parse_color
    from .models import ModelNotFoundError
    from .profile import ProfileError, load_profile
    from .sources import MediaError, list_media

    try:
        profile = load_profile(args.profile)
        options = AnalyzeOptions(activity=args.activity, model=args.model, profile=profile,
                                 standard=args.standard, smooth=not args.no_smooth,
                                 max_side=args.max_side or None, bow_angle=args.bow_angle,
                                 face=not args.no_face,
                                 badge_color=parse_color(args.badge_color) if args.badge_color else None,
                                 reference=args.reference)
        from .models import pose_model_path

        pose_model_path(args.model)
        if args.reference is not None:
            from .reference import load_reference

            load_reference(args.reference)  # an unknown name: one line now, not after the analysis
    except (ProfileError, ModelNotFoundError, ValueError) as exc:
        print(f"posturecheck: {_error_text(exc, args.lang)}", file=sys.stderr)
        return EXIT_ERROR

    try:
        paths = list_media(args.paths)
    except MediaError as exc:
        print(f"posturecheck: {_error_text(exc, args.lang)}", file=sys.stderr)
        return EXIT_ERROR
    if not paths:
        msg = "没有找到照片或视频文件。" if args.lang == "zh" else "no photo or video files found in the given folder(s)"
        print(f"posturecheck: {msg}", file=sys.stderr)
        return EXIT_ERROR

    args.profile_obj = profile  # text tables: values in words, units of the user's language
    engine = None
    if args.engine != "local":
        from .batch import make_engine

        engine = make_engine(args.engine, workers=args.workers, address=args.address)
    elif args.address is not None:
        print("posturecheck: --address is for --engine ray" if args.lang != "zh"
              else "posturecheck：--address 仅用于 --engine ray", file=sys.stderr)
        return EXIT_ERROR
    if args.workers is not None and args.workers < 1:
        print("posturecheck: --workers must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    from .batch import EngineError

    try:
        if args.report is not None:
            return _analyze_report(paths, args, options, engine)
        return _analyze_plain(paths, args, options, engine)
    except EngineError as exc:
        if args.debug:
            raise
        print(f"posturecheck: {_error_text(exc, args.lang)}", file=sys.stderr)
        return EXIT_ERROR


def _analyze_plain(paths: list[Path], args: argparse.Namespace, options: Any, engine: Any) -> int:
    """`analyze` without --report: print (and with --out write) each file's report, in input order."""
    from .report import to_text
    from .sources import MediaError

    single = len(paths) == 1
    failures = 0
    names = out_names(paths)

    def emit(path: Path, report: dict[str, Any]) -> None:
        nonlocal failures
        if "error" in report:
            failures += 1
            if args.format == "json" and not single:
                print(json.dumps(report, ensure_ascii=False), flush=True)
            else:
                print(f"posturecheck: {report['error']}", file=sys.stderr)
            return
        text = to_text(report, args.lang, getattr(args, "profile_obj", None), args.ids)
        if args.out:
            _write_out(args.out, names[path], report, text)
        if args.format == "json":
            print(json.dumps(report, ensure_ascii=False, indent=None if not single else 1), flush=True)
        else:
            print(text + ("\n" if not single else ""), flush=True)

    if engine is not None:  # one task per file on the engine; printed in input order as they finish
        from .batch import ReviewOptions, analyze_paths

        by_source = iter(paths)

        def on_result(res: Any) -> None:
            path = next(by_source)
            emit(path, res.report if res.ok else {"schema": "posturecheck.analysis/1", "source": str(path),
                                                  "error": res.error, "error_code": res.error_code})

        analyze_paths(paths, options, ReviewOptions(lang=args.lang, standard=args.standard), engine=engine,
                      on_result=on_result)
    else:
        for path in paths:
            try:
                report = _analyze_one(path, args, options)
            except MediaError as exc:
                report = _error_report(path, exc, args)
            except Exception as exc:  # noqa: BLE001 - a batch must go on; the message stays one line
                logger.debug("analysis of %s failed", path, exc_info=True)
                if args.debug:
                    raise
                report = _error_report(path, exc, args)
            emit(path, report)
    if failures == 0:
        return EXIT_OK
    return EXIT_ERROR if single or failures == len(paths) else EXIT_PARTIAL


def lineup_text(data: dict[str, Any], lang: str) -> str:
    """The line-up as text: one block per person, left to right (score, activity, rules not met)."""
    from .report import ACTIVITY_WORDS

    zh = lang == "zh"
    name = Path(str(data.get("source", ""))).name
    lines = [f"班前会仪容仪表检查：{name}" if zh else f"Line-up inspection: {name}",
             (f"检出 {data['people_found']} 人" if zh else f"People found: {data['people_found']}")
             + (f"（画面 {data['timestamp_s']:.1f} 秒）" if zh and data.get("kind") == "video" else
                f" (frame at {data['timestamp_s']:.1f} s)" if data.get("kind") == "video" else "")]
    lines += [f"  ! {w}" for w in data.get("warnings") or []]
    sep = "、" if zh else ", "
    for person in data.get("people") or []:
        score = "-" if person.get("score") is None else f"{person['score']:.0f}"
        failed = [r["title"] for r in person.get("rules", []) if r.get("status") == "fail"]
        head = f"左起第 {person['position']} 人" if zh else f"#{person['position']} from the left"
        act = ACTIVITY_WORDS["zh" if zh else "en"].get(person.get("activity") or "unknown", person.get("activity"))
        lines.append(f"{head}  {act}  {'得分' if zh else 'score'} {score}")
        lines.append(f"    不合格：{sep.join(failed) if failed else '无'}" if zh
                     else f"    not met: {sep.join(failed) if failed else 'none'}")
    return "\n".join(lines)


def cmd_lineup(args: argparse.Namespace) -> int:
    from .analyze import AnalyzeOptions
    from .lineup import inspect_lineup, lineup_json
    from .models import ModelNotFoundError, pose_model_path
    from .profile import ProfileError, load_profile
    from .sources import MediaError

    try:
        profile = load_profile(args.profile)
        pose_model_path(args.model)
        options = AnalyzeOptions(model=args.model, profile=profile, standard=args.standard, face=not args.no_face)
        lineup = inspect_lineup(args.path, options)
    except (ProfileError, ModelNotFoundError, ValueError, MediaError) as exc:
        print(f"posturecheck: {_error_text(exc, args.lang)}", file=sys.stderr)
        return EXIT_ERROR
    data = lineup_json(lineup, args.lang, args.standard)
    if args.html is not None:
        from .htmlreport import render_lineup_html

        page = render_lineup_html(data, {p.position: p.crop_jpeg for p in lineup.people}, profile)
        try:
            args.html.parent.mkdir(parents=True, exist_ok=True)
            args.html.write_text(page, encoding="utf-8")
        except OSError as exc:
            msg = (f"无法写入 {args.html}：{exc.strerror or exc}" if args.lang == "zh"
                   else f"cannot write {args.html}: {exc.strerror or exc}")
            print(f"posturecheck: {msg}", file=sys.stderr)
            return EXIT_ERROR
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(lineup_text(data, args.lang))
        if args.html is not None:
            print(("页面：" if args.lang == "zh" else "Page: ") + str(args.html))
    return EXIT_OK if data["people_found"] else EXIT_PARTIAL


def cmd_models(args: argparse.Namespace) -> int:
    from .models import MODELS_DIR, POSE_VARIANTS, ModelNotFoundError, pose_model_path, user_models_dir

    if args.build:
        from .models.build import build_bundle

        out = args.out or user_models_dir()
        for variant in args.build:
            path = build_bundle(variant, out)
            print(f"built {variant}: {path}")
        return EXIT_OK
    for variant in POSE_VARIANTS:
        try:
            print(f"{variant:6s} {pose_model_path(variant)}")
        except ModelNotFoundError as exc:
            print(f"{variant:6s} not installed ({exc})")
    print(f"shipped models and provenance: {MODELS_DIR / 'MODELS.md'}")
    return EXIT_OK


def cmd_reference(args: argparse.Namespace) -> int:
    from .models import ModelNotFoundError
    from .reference import ReferenceError, list_references, record_reference, user_dir
    from .sources import MediaError

    if args.ref_command == "list":
        for ref in list_references():
            print(f"{ref.name:20s} {ref.description}\n{'':20s} source: {ref.source}")
        print(f"your own references: {user_dir()}")
        return EXIT_OK
    try:
        out = record_reference(args.name, args.file, args.description, model=args.model, overwrite=args.force)
    except (ReferenceError, MediaError, ModelNotFoundError) as exc:
        print(f"posturecheck: {_error_text(exc, args.lang)}", file=sys.stderr)
        return EXIT_ERROR
    print(("已保存参考姿势（仅关键点）：" if args.lang == "zh" else "saved reference pose (landmarks only): ") + str(out))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from .profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        print(f"posturecheck: {exc}", file=sys.stderr)
        return EXIT_ERROR
    lang = args.lang
    from .report import ACTIVITY_WORDS
    from .profile import UNIT_WORDS
    from .words import severity_label

    acts_words = ACTIVITY_WORDS[lang]
    head = (("规则编号", "严重程度", "最短持续", "适用动作", "标准", "名称") if lang == "zh"
            else ("id", "severity", "min. time", "activities", "limit", "title"))
    rows = [head]
    for rule in profile.rules:
        sep = "、" if lang == "zh" else ","
        acts = sep.join(acts_words.get(a, a) for a in rule.activities) or "-"
        rows.append((rule.id, severity_label(rule.severity, lang),
                     f"{rule.min_duration_s:.1f}{UNIT_WORDS[lang]['s']}", acts,
                     rule.limit_text(None, lang) or "-", rule.title[lang]))
    from .report import _pad, _width

    widths = [max(_width(r[i]) for r in rows) for i in range(len(head) - 1)]
    print(f"{'规则配置' if lang == 'zh' else 'Profile'}: {profile.name} — {profile.description}")
    for r in rows:
        print("  ".join(_pad(r[i], widths[i]) for i in range(len(head) - 1)) + "  " + r[-1])
    return EXIT_OK


def cmd_features(args: argparse.Namespace) -> int:
    from .registry import FEATURES

    print(f"{'feature':28s} {'scope':6s} {'kind':12s} {'unit':10s} description (source)")
    for spec in sorted(FEATURES.values(), key=lambda s: (s.scope, s.name)):
        values = f" [{', '.join(spec.values)}]" if spec.values else ""
        print(f"{spec.name:28s} {spec.scope:6s} {spec.kind:12s} {spec.unit or '-':10s} "
              f"{spec.description}{values} ({spec.source})")
    return EXIT_OK


def quiet_native_stderr() -> None:
    """Keep MediaPipe's C++ log lines (written straight to fd 2) out of the trainer's terminal.

    Python's own stderr is moved to a duplicate of the original fd, so our
    messages and the progress bar still show; fd 2 then points to /dev/null.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        sys.stderr = os.fdopen(saved, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    except (OSError, ValueError):  # no real fd 2 (e.g. embedded): leave it
        logger.debug("could not redirect native stderr", exc_info=True)


def restore_native_stderr() -> None:
    """Undo `quiet_native_stderr` for a program we exec: the app server's errors must reach the terminal
    (and its log file), not /dev/null. MediaPipe's own chatter is cut to warnings instead."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        fd = sys.stderr.fileno()
    except (OSError, ValueError, AttributeError):  # no real stderr: nothing to restore
        return
    if fd != 2:
        sys.stderr.flush()
        os.dup2(fd, 2)


def _saved_upload_limit() -> int:
    from .ui.settings import load_settings_checked  # plain file reading, no Streamlit

    saved, problems = load_settings_checked()
    for problem in problems:
        print(f"posturecheck: {problem.text(_default_lang())}", file=sys.stderr)
    return int(saved.max_upload_mb)


def app_command(args: argparse.Namespace) -> list[str]:
    """The `python -m streamlit run <installed app>` command line for `app` / `kiosk`."""
    import importlib.util

    spec = importlib.util.find_spec("posturecheck.ui.main")  # locate the file without importing Streamlit
    if spec is None or spec.origin is None:
        raise FileNotFoundError("posturecheck.ui.main is missing from this installation")
    # The kiosk starts from an autostart entry (its browser is opened by that entry), and with
    # no terminal there is nobody to see a browser window open: never open one then.
    headless = bool(args.headless or args.command == "kiosk" or not sys.stdin or not sys.stdin.isatty())
    cmd = [sys.executable, "-m", "streamlit", "run", str(Path(spec.origin).resolve()),
           "--server.port", str(args.port), "--server.address", args.address,
           "--server.maxUploadSize", str(args.max_upload_mb or _saved_upload_limit()),
           "--browser.gatherUsageStats", "false",   # offline training rooms: no telemetry
           "--client.showErrorDetails", "none",     # users see a plain message; tracebacks go to the log
           "--server.fileWatcherType", "none",
           "--server.headless", "true" if headless else "false",
           "--server.showEmailPrompt", "false",     # never Streamlit's first-run e-mail prompt
           "--client.toolbarMode", "minimal"]
    if args.command == "kiosk":
        cmd += ["--client.showSidebarNavigation", "false", "--", "--kiosk"]
    return cmd


def port_problem(address: str, port: int, lang: str) -> str | None:
    """One line saying why the server could not listen on address:port, or None when it can."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return (f"无法使用地址 {address}：{exc}" if lang == "zh" else f"cannot use the address {address}: {exc}")
    family, _, _, _, sockaddr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is fine
        try:
            sock.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"端口 {port} 已被占用（可能已有一个 posturecheck 在运行）；请关闭它，或用 --port 换一个端口"
                        if lang == "zh" else f"port {port} is already in use (is posturecheck already running?); "
                        "close that program or choose another port with --port")
            return (f"无法在 {address}:{port} 上监听：{exc.strerror}" if lang == "zh"
                    else f"cannot listen on {address}:{port}: {exc.strerror}")
    return None


def _use_history_url(url: str, lang: str) -> bool:
    """Check a --history-url once and hand it to the app server (environment); False after one line on error."""
    from .history import HISTORY_URL_ENV, HistoryError, HistoryStore, is_url

    if not is_url(url.strip()):
        print("posturecheck: --history-url 应以 postgresql:// 开头" if lang == "zh"
              else "posturecheck: --history-url must start with postgresql://", file=sys.stderr)
        return False
    try:
        store = HistoryStore(url=url.strip())
    except HistoryError as exc:
        print(f"posturecheck: {_error_text(exc, lang)}", file=sys.stderr)
        return False
    if store.offline:
        print(f"posturecheck: {store.where}: " + (f"现在无响应（{store.offline}）；成绩先保存在本机，服务器恢复后写入"
              if lang == "zh" else f"not answering now ({store.offline}); sessions are kept on this computer and "
              "written when it answers"), file=sys.stderr)
    store.close()
    os.environ[HISTORY_URL_ENV] = url.strip()
    return True


def cmd_app(args: argparse.Namespace) -> int:
    import subprocess

    lang = _default_lang()
    import importlib.util

    missing = [m for m in ("streamlit", "streamlit_webrtc") if importlib.util.find_spec(m) is None]
    if missing:  # found without importing: importing Streamlit here would only print warnings
        print(f"posturecheck: the app needs streamlit and streamlit-webrtc (missing: {', '.join(missing)}); "
              "reinstall posturecheck with pip", file=sys.stderr)
        return EXIT_ERROR
    problem = port_problem(args.address, args.port, lang)
    if problem is not None:
        logger.debug("app not started: %s", problem)
        print(f"posturecheck: {problem}", file=sys.stderr)
        return EXIT_ERROR
    if args.history_url is not None and not _use_history_url(args.history_url, lang):
        return EXIT_ERROR
    from .ui.applog import log_path

    print(("服务器日志：" if lang == "zh" else "Server log: ") + str(log_path()), file=sys.stderr, flush=True)
    cmd = app_command(args)
    logger.debug("running %s", cmd)
    sys.stdout.flush()
    restore_native_stderr()  # the server's errors go to the terminal and to the log named above
    if os.name == "posix":  # become the server: signals reach it, no orphan left behind
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug and argv is None:  # only for a real command-line run, not in-process calls
        quiet_native_stderr()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command != "models":  # `models --build` really downloads; everything else stays offline
        from .native import block_telemetry

        block_telemetry()
    handlers = {"analyze": cmd_analyze, "lineup": cmd_lineup, "rules": cmd_rules, "features": cmd_features, "models": cmd_models,
                "reference": cmd_reference, "app": cmd_app, "kiosk": cmd_app}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("posturecheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `posturecheck rules | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
