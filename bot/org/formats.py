"""Reading the three formats of the organisation file (YAML, JSON, CSV) into entries with the line each
starts on, and the `Problem` a reader or the validation reports (see `bot.org.file` for the contract)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

COLUMNS = ("email", "name", "role", "manager", "slack_id", "teams_id", "skills", "offers", "capacity",
           "location")


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.message}" if self.line else f"{source}: {self.message}"


def rows_from_yaml(text: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if data is None:
        return [], [Problem(None, "the file is empty; expected a list under 'people:'")]
    seq = None
    if isinstance(data, dict) and isinstance(node, yaml.MappingNode):
        unknown = [k for k in data if k != "people"]
        if "people" not in data:
            return [], [Problem(1, "expected a list under 'people:'")]
        for key_node, value_node in node.value:
            if key_node.value == "people":
                seq = value_node
        items = data["people"]
        problems = [Problem(1, f"unknown top-level key {k!r} (only 'people' is read)") for k in unknown]
    elif isinstance(data, list):
        seq, items, problems = node, data, []
    else:
        return [], [Problem(1, "expected a mapping with a list under 'people:'")]
    if not isinstance(items, list):
        line = seq.start_mark.line + 1 if seq is not None else 1
        return [], problems + [Problem(line, "'people' must be a list of entries")]
    lines = [n.start_mark.line + 1 for n in seq.value] if isinstance(seq, yaml.SequenceNode) else []
    rows = [(lines[i] if i < len(lines) else None, item) for i, item in enumerate(items)]
    return rows, problems


def rows_from_json(text: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(exc.lineno, f"not valid JSON: {exc.msg}")]
    if isinstance(data, dict):
        problems = [Problem(1, f"unknown top-level key {k!r} (only 'people' is read)") for k in data if k != "people"]
        if "people" not in data:
            return [], [Problem(1, "expected an object with a list under \"people\"")]
        items = data["people"]
    elif isinstance(data, list):
        items, problems = data, []
    else:
        return [], [Problem(1, "expected an object with a list under \"people\"")]
    if not isinstance(items, list):
        return [], problems + [Problem(1, "\"people\" must be a list of entries")]
    starts = _json_item_lines(text, isinstance(data, dict))
    rows = [(starts[i] if i < len(starts) else None, item) for i, item in enumerate(items)]
    return rows, problems


def _json_item_lines(text: str, wrapped: bool) -> list[int]:
    """Line numbers where each element of the people array starts (best effort)."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"\s*")

    def skip(pos: int) -> int:
        return ws.match(text, pos).end()

    def array_lines(pos: int) -> list[int]:
        out: list[int] = []
        pos = skip(pos + 1)
        if text[pos] == "]":
            return out
        while True:
            pos = skip(pos)
            out.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] != ",":
                return out
            pos += 1

    try:
        pos = skip(0)
        if not wrapped:
            return array_lines(pos)
        pos = skip(pos + 1)  # past "{"
        while text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = skip(skip(pos) + 1)  # past ":"
            if key == "people" and text[pos] == "[":
                return array_lines(pos)
            _, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] == ",":
                pos = skip(pos + 1)
    except (ValueError, IndexError):
        pass
    return []


def rows_from_csv(text: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [Problem(1, f"not valid CSV: {exc}")]
    if not header or not any(h.strip() for h in header):
        return [], [Problem(1, "the file is empty; expected a header row with " + ", ".join(COLUMNS))]
    names = [h.strip().lower() for h in header]
    problems: list[Problem] = []
    for name in names:
        if name and name not in COLUMNS:
            problems.append(Problem(1, f"unknown column {name!r} (columns are: {', '.join(COLUMNS)})"))
    if names.count("email") != 1 or "name" not in names:
        problems.append(Problem(1, "the header must have the columns 'email' and 'name'"))
    rows: list[tuple[int, Any]] = []
    last = reader.line_num
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(names):
                problems.append(Problem(start, f"{len(cells)} cells but the header has {len(names)} columns"))
            entry = {n: c for n, c in zip(names, cells) if n and n in COLUMNS}
            rows.append((start, entry))
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, f"not valid CSV: {exc}"))
    return rows, problems


def format_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "json"
    return "yaml" if re.match(r"^\s*(people\s*:|-\s)", text) else "csv"
