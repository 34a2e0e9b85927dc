"""The feature registry matches what the stages measure, and every profile entry is findable."""

from __future__ import annotations

import dataclasses

from posturecheck import registry
from posturecheck.features import FrameFeatures
from posturecheck.grooming import GROOMING_FEATURES
from posturecheck.overtime import CLIP_FEATURES
from posturecheck.profile import load_profile


def test_every_frame_feature_is_registered_and_nothing_else():
    frame = {f.name for f in dataclasses.fields(FrameFeatures)}
    registered = {n for n, s in registry.FEATURES.items() if s.scope == "frame"}
    assert frame == registered


def test_clip_and_face_features_are_registered():
    assert set(CLIP_FEATURES) == {n for n, s in registry.FEATURES.items() if s.scope == "clip"}
    assert set(GROOMING_FEATURES) == {n for n, s in registry.FEATURES.items() if s.scope == "face"}


def test_every_spec_is_complete():
    for name, spec in registry.FEATURES.items():
        assert spec.name == name and spec.description and spec.source
        assert spec.kind in ("number", "category", "boolean", "probability")
        assert (spec.kind == "category") == bool(spec.values), name


def test_each_rule_names_registered_features_only():
    for rule in load_profile().rules:
        for check in rule.checks:
            for name in check.features:
                assert registry.lookup(name) is not None, (rule.id, name)
