"""Command line: `posturecheck analyze|models ...`. The only place (with the app) that configures logging."""

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


def _default_lang() -> str:
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


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
    a.add_argument("--standard", choices=("men", "women"), help="which standard's hand/feet variants apply")
    a.add_argument("--lang", choices=("zh", "en"), default=_default_lang())
    a.add_argument("--format", choices=("text", "json"), default="text")
    a.add_argument("--out", type=Path, help="also write one <name>.json (and .txt) per input into this folder")
    a.add_argument("--no-smooth", action="store_true", help="disable One-Euro landmark smoothing for videos")
    a.add_argument("--max-side", type=int, default=1280, help="downscale frames so the long side is at most this (0 = native)")

    r = sub.add_parser("rules", help="print the rule table of a profile")
    r.add_argument("--profile", type=Path, help="rule profile TOML (default: the shipped profile)")
    r.add_argument("--lang", choices=("zh", "en"), default=_default_lang())

    m = sub.add_parser("models", help="list the pose models or build one (heavy is built on demand)")
    m.add_argument("--build", choices=("lite", "full", "heavy"), action="append", help="build this bundle from registry packages")
    m.add_argument("--out", type=Path, help="where to write built bundles (default: ~/.posturecheck/models)")
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


def _write_out(out_dir: Path, path: Path, report: dict[str, Any], text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{path.stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / f"{path.stem}.txt").write_text(text + "\n", encoding="utf-8")


def cmd_analyze(args: argparse.Namespace) -> int:
    from .analyze import AnalyzeOptions
    from .models import ModelNotFoundError
    from .profile import ProfileError, load_profile
    from .report import to_text
    from .sources import MediaError, list_media

    try:
        profile = load_profile(args.profile)
        options = AnalyzeOptions(activity=args.activity, model=args.model, profile=profile,
                                 standard=args.standard, smooth=not args.no_smooth,
                                 max_side=args.max_side or None)
        from .models import pose_model_path

        pose_model_path(args.model)
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

    single = len(paths) == 1
    failures = 0
    for path in paths:
        try:
            report = _analyze_one(path, args, options)
        except MediaError as exc:
            failures += 1
            report = {"schema": "posturecheck.analysis/1", "source": str(path), "error": _error_text(exc, args.lang),
                      "error_code": exc.code}
        except Exception as exc:  # noqa: BLE001 - a batch must go on; the message stays one line
            logger.debug("analysis of %s failed", path, exc_info=True)
            if args.debug:
                raise
            failures += 1
            report = {"schema": "posturecheck.analysis/1", "source": str(path),
                      "error": f"{path.name}: could not be analysed ({type(exc).__name__}: {exc})",
                      "error_code": "internal"}
        if "error" in report:
            if args.format == "json" and not single:
                print(json.dumps(report, ensure_ascii=False), flush=True)
            else:
                print(f"posturecheck: {report['error']}", file=sys.stderr)
            continue
        text = to_text(report, args.lang)
        if args.out:
            _write_out(args.out, path, report, text)
        if args.format == "json":
            print(json.dumps(report, ensure_ascii=False, indent=None if not single else 1), flush=True)
        else:
            print(text + ("\n" if not single else ""), flush=True)
    if failures == 0:
        return EXIT_OK
    return EXIT_ERROR if single or failures == len(paths) else EXIT_PARTIAL


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


def cmd_rules(args: argparse.Namespace) -> int:
    from .profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        print(f"posturecheck: {exc}", file=sys.stderr)
        return EXIT_ERROR
    lang = args.lang
    print(f"{profile.name}: {profile.description}")
    for rule in profile.rules:
        acts = ",".join(rule.activities)
        print(f"{rule.id:28s} {rule.severity:5s} {rule.min_duration_s:>4.1f}s  {acts:26s} "
              f"{rule.limit_text(None, lang) or '-':30s} {rule.title[lang]}")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug and argv is None:  # only for a real command-line run, not in-process calls
        quiet_native_stderr()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handlers = {"analyze": cmd_analyze, "rules": cmd_rules, "models": cmd_models}
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
