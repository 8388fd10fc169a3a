"""Reading the published files by their header names: O*NET's tab-delimited text and ESCO's CSV.

A table is read row by row as dictionaries keyed by the header's column names, so a release that adds
columns still reads; a missing file, a missing column, a row of the wrong width or a value that is not
what the column holds raises `TaxonomyError` naming the file, the line and the problem.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.errors import SkillcoachError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # ESCO descriptions are long; the default is 128 KB


class TaxonomyError(SkillcoachError):
    """A downloaded taxonomy file is missing or malformed: the message names the file, line and problem."""


def _short(value: str, limit: int = 40) -> str:
    value = " ".join(str(value).split())
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


class Table:
    """One published file, read by header names. `rows()` yields (line number, {column: value})."""

    def __init__(self, path: Path, *, kind: str, required: tuple[str, ...], optional: tuple[str, ...] = ()):
        self.path = path
        self.kind = kind  # "tsv" (O*NET text) or "csv" (ESCO)
        self.required = required
        self.optional = optional

    def fail(self, line: int | None, problem: str) -> TaxonomyError:
        where = f"{self.path}: line {line}" if line else str(self.path)
        return TaxonomyError(f"{where}: {' '.join(problem.split())}")

    def _lines(self) -> Iterator[str]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            raise self.fail(None, "file not found (is this the right download folder?)") from None
        except OSError as exc:
            raise self.fail(None, f"cannot be read: {exc.strerror or exc}") from None
        with handle:
            for line, raw in enumerate(handle, start=1):
                if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self.fail(line, f"not UTF-8 text ({exc.reason} at byte {exc.start + 1} of the line)") from None

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        if self.kind == "tsv":
            yield from self._tsv_rows()
        else:
            yield from self._csv_rows()

    def _check_header(self, header: list[str]) -> dict[str, int]:
        names = [h.strip() for h in header]
        if not any(names):
            raise self.fail(1, "the header row is empty")
        index = {name: i for i, name in enumerate(names) if name}
        missing = [c for c in self.required if c not in index]
        if missing:
            raise self.fail(1, f"the header has no column {', '.join(repr(m) for m in missing)} "
                               f"(found: {', '.join(repr(n) for n in names if n)})")
        return {c: index[c] for c in (*self.required, *self.optional) if c in index}

    def _tsv_rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        # O*NET text files: one record a line, tab-separated, no quoting (a quote mark is just a character)
        columns: dict[str, int] | None = None
        width = 0
        for line, text in enumerate(self._lines(), start=1):
            text = text.rstrip("\r\n")
            if columns is None:
                fields = text.split("\t")
                columns = self._check_header(fields)
                width = len(fields)
                continue
            if not text.strip():
                continue
            fields = text.split("\t")
            if len(fields) != width:
                raise self.fail(line, f"expected {width} tab-separated fields as in the header, found {len(fields)}")
            yield line, {c: fields[i].strip() for c, i in columns.items()}
        if columns is None:
            raise self.fail(None, "the file is empty (no header row)")

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        # ESCO CSV: comma-separated, double-quoted fields that may hold commas, quotes and line breaks
        lines = self._lines()
        reader = csv.reader(lines, strict=True)
        columns: dict[str, int] | None = None
        width = 0
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise self.fail(start, f"not valid CSV ({exc})") from None
            if columns is None:
                columns = self._check_header(fields)
                width = len(fields)
                continue
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != width:
                raise self.fail(start, f"expected {width} comma-separated fields as in the header, found {len(fields)}")
            yield start, {c: fields[i].strip() for c, i in columns.items()}
        if columns is None:
            raise self.fail(None, "the file is empty (no header row)")


def number(table: Table, line: int, column: str, value: str, low: float, high: float) -> float:
    try:
        result = float(value)
    except ValueError:
        raise table.fail(line, f"column {column!r} should be a number, found {_short(value)}") from None
    if not low <= result <= high:
        raise table.fail(line, f"column {column!r} should be between {low:g} and {high:g}, found {_short(value)}")
    return result


def required_value(table: Table, line: int, column: str, value: str) -> str:
    if not value:
        raise table.fail(line, f"column {column!r} is empty")
    return value
