"""The Mermaid diagram beside the interview names exactly the states of its table."""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.interview import INTERVIEW, S

DIAGRAM = Path(__file__).resolve().parent.parent / "dialogs" / "interview.mmd"
_EDGE = re.compile(r"^\s*(\S+)\s*-->\s*([^:\s]+)")


def test_diagram_states_are_the_table_states():
    drawn: set[str] = set()
    for line in DIAGRAM.read_text(encoding="utf-8").splitlines():
        m = _EDGE.match(line)
        if m:
            drawn.update(m.groups())
    drawn -= {"[*]", "idle"}  # the start marker and the router's resting state
    assert drawn == {s.value for s in S}
    assert set(INTERVIEW.table) == set(S)
