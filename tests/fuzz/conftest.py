from __future__ import annotations

from collections import Counter

#: Fuzz cases sent, by schemathesis phase and generation mode; printed at the end of the run.
CASES: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter):
    if CASES:
        terminalreporter.section("API fuzzing (schemathesis)")
        for key, n in sorted(CASES.items()):
            terminalreporter.write_line(f"{key}: {n}")
        terminalreporter.write_line(f"fuzz cases run: {sum(CASES.values())}")
