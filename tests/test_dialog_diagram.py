"""The Mermaid diagram beside the conversation names exactly the states of its table."""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.conversation import CONVERSATION
from dialogs.states import S

DIAGRAM = Path(__file__).resolve().parent.parent / "dialogs" / "interview.mmd"
_EDGE = re.compile(r"^\s*(\S+)\s*-->\s*([^:\s]+)")


def test_diagram_states_are_the_table_states():
    drawn: set[str] = set()
    for line in DIAGRAM.read_text(encoding="utf-8").splitlines():
        m = _EDGE.match(line)
        if m:
            drawn.update(m.groups())
    drawn -= {"[*]"}  # the start marker
    assert drawn == {s.value for s in S}
    assert set(CONVERSATION.table) == set(S)
