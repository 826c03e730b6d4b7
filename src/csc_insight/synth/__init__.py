"""Synthetic local-authority data: every format an authority holds, with no real child in it."""

from csc_insight.synth.generator import SCALES, SynthResult, generate

__all__ = ["SCALES", "SynthResult", "generate"]
