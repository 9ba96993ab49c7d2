"""Figures the suite reports at the end of a run (the closing note of issue 5 quotes them):
tests add to FIGURES, and the root conftest prints them in a "figures" section."""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()
