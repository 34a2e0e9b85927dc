"""Spoken cues: offline synthesis (espeak-ng) and the rate limit that keeps cues from repeating every frame."""

from __future__ import annotations

import pytest

from posturecheck.speech import CuePlanner, SpeechLimits, engine, load_speech_limits, synthesize


def test_limits_come_from_the_drills_file():
    limits = load_speech_limits()
    assert limits.min_gap_s == 2.5 and limits.repeat_s == 8 and limits.voice("zh") == "cmn"
    assert limits.voice("en") == "en-us"


def test_a_cue_is_said_once_then_only_after_the_repeat_time():
    p = CuePlanner(SpeechLimits(min_gap_s=2.0, repeat_s=6.0))
    said = [p.next("双肩放松端平", t / 10) for t in range(0, 100)]  # every 0.1 s for 10 s
    assert [i / 10 for i, s in enumerate(said) if s] == [0.0, 6.0]


def test_new_cues_wait_for_the_gap_unless_urgent():
    p = CuePlanner(SpeechLimits(min_gap_s=2.0, repeat_s=6.0))
    assert p.next("A", 0.0) == "A"
    assert p.next("B", 1.0) is None          # too soon after A
    assert p.next("C", 1.5, urgent=True) == "C"  # a new step's prompt goes first
    assert p.next("C", 2.0, urgent=True) is None  # never the same cue twice in a row
    assert p.next(None, 9.0) is None and p.next("", 9.0) is None


@pytest.mark.skipif(engine() is None, reason="espeak-ng is not installed (apt-get install -y espeak-ng)")
@pytest.mark.parametrize("text,voice", [("请保持标准站姿五秒。", "cmn"), ("Stand in the standard stance.", "en-us")])
def test_offline_speech_gives_audio_in_both_languages(text, voice):
    wav = synthesize(text, voice)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 20_000  # about a second or more of speech
    assert synthesize(text, voice) is wav  # cached per phrase
