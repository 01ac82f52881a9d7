"""Source positions for the keys of a TOML document.

`tomllib` turns a scenario file into plain dicts and lists and forgets where anything was
written. Every diagnostic must point at ``file:line:col``, so this module re-scans the text and
maps each key path -- shaped like the object `tomllib` returns and like pydantic's error ``loc``
(table keys are strings, array indices are ints) -- to the 1-based ``(line, col)`` where it is
written.

    >>> pos = key_positions('[market]\\nweeks = 2\\nids = ["a", "b"]\\n')
    >>> pos[("market",)], pos[("market", "weeks")], pos[("market", "ids", 1)]
    ((1, 1), (2, 1), (3, 13))
    >>> locate(pos, ("market", "weeks", "extra"))
    (2, 1)

What a path points at:

* ``key = value`` and ``{ key = value }``: the first character of the key (its quote, if quoted);
  for a dotted key ``a.b.c`` each prefix points at its own part;
* ``[table]`` / ``[[array]]`` headers: the ``[`` of the header, for the table path and for the
  array element path; the intermediate parts of a header (``a`` in ``[a.b]``) point at that part;
* array elements (``xs = [1, {..}]``): the first character of the element's value.

The first definition of a path wins. An implicit one (a prefix of a dotted key or of a header) is
replaced by a later explicit one, so ``[a.b]`` followed by ``[a]`` puts ``("a",)`` at ``[a]``.

Lines are separated by ``\\n`` (so CRLF works); columns count characters, not bytes, exactly like
the positions `tomllib` puts in its own error messages. A leading BOM is not counted.

The scanner is lexical and never raises: it is also run on documents `tomllib` rejected, and then
returns whatever it could recover. It uses an explicit stack (no recursion), caps nesting depth
and path length, and runs in linear time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Sequence, Union

Path = tuple[Union[str, int], ...]

__all__ = ["Path", "key_positions", "locate"]

# Paths longer than this are not recorded (their text is still scanned); keeps memory linear.
MAX_PATH_LEN = 64
# Deeper `[` / `{` nesting is skipped over without recording anything.
MAX_NESTING = 100

_ARRAY = 0
_ITABLE = 1

_WS = re.compile(r"[ \t\r]*")
_WS_NL_COMMENT = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
_TO_EOL = re.compile(r"[^\n]*\n?")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
# Single-line strings; an unterminated one stops before the end of the line.
_BASIC = re.compile(r'"([^"\\\n]*(?:\\[^\n][^"\\\n]*)*)(")?')
_LITERAL = re.compile(r"'([^'\n]*)(')?")
# Multi-line basic string, with up to two extra quotes before the closing delimiter.
_ML_BASIC = re.compile(r'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"{3,5}')
# A value that is not a string, array or inline table: number, bool, date, time, or junk.
# A date followed by a space and a digit is a date-time written with a space.
_SCALAR = re.compile(r"""\d{4}-\d\d-\d\d (?=\d)[^ \t\r\n,\[\]{}#"'=]*|[^ \t\r\n,\[\]{}#"'=]+""")
_ARRAY_SCALAR = re.compile(r"(?:" + _SCALAR.pattern + r")[ \t]*,?")
# Fast paths for the common cases: `key = ` and `[key]` / `[[key]]` with a single bare key.
_KV_FAST = re.compile(r"([A-Za-z0-9_-]+)[ \t]*=[ \t]*")
_HEADER_FAST = re.compile(r"\[(\[)?[ \t]*([A-Za-z0-9_-]+)[ \t]*\](\])?")
_HEADER_START = re.compile(r"""\[\[?[ \t]*[A-Za-z0-9_"'-]""")
_SIMPLE_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"|'[^'\n]*')"""
# The rest of a dotted key, consumed in one go once a key has too many parts to record.
_DOTTED_REST = re.compile(r"(?:[ \t]*\.[ \t]*" + _SIMPLE_KEY + r")*")
# `key =` at the start of a line: cannot occur inside an array, so an array that is still open
# there was never closed.
_KEYVAL_START = re.compile(_SIMPLE_KEY + r"(?:[ \t]*\.[ \t]*" + _SIMPLE_KEY + r")*[ \t]*=")
# What cannot start anything inside an inline table: skipped as one run of junk.
_ITABLE_JUNK = re.compile(r"""[^ \t\r\nA-Za-z0-9_"',}\]#-]+|.""", re.S)
_OPENERS = re.compile(r"[\[{]+")
_CLOSERS = re.compile(r"[\]}]+")
_NESTED_FILLER = re.compile(r"""[^\[\]{}"'#]+""")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|(.))", re.S)
_SIMPLE_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    '"': '"',
    "\\": "\\",
}


def _unescape_match(m: re.Match[str]) -> str:
    hex_digits = m.group(1) or m.group(2) or m.group(3)
    if hex_digits:
        code = int(hex_digits, 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)
    return _SIMPLE_ESCAPES.get(m.group(4), m.group(0))


def _unescape(body: str) -> str:
    return _ESCAPE.sub(_unescape_match, body) if "\\" in body else body


def key_positions(source: str) -> dict[Path, tuple[int, int]]:
    """Map every key path in a TOML document to the 1-based (line, col) where it is written.

    Never raises, for any input string; on a broken document it returns what it could recover.
    """
    if not isinstance(source, str):
        return {}
    offsets = _Scanner(source[1:] if source.startswith("\ufeff") else source).run()
    return _to_line_col(source, offsets)


def locate(positions: dict[Path, tuple[int, int]], loc: Sequence[str | int]) -> tuple[int, int]:
    """Position of the longest prefix of `loc` that has one; ``(0, 0)`` (unknown) if none does.

    Elements that cannot be TOML path parts (anything but str and int) end the search, so a
    pydantic ``loc`` with extra markers still finds the part before them.
    """
    usable: list[str | int] = []
    for part in loc:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            break
        usable.append(part)
    path = tuple(usable)
    for end in range(len(path), 0, -1):
        found = positions.get(path[:end])
        if found is not None:
            return found
    return (0, 0)


def _to_line_col(source: str, offsets: dict[Path, int]) -> dict[Path, tuple[int, int]]:
    text = source[1:] if source.startswith("\ufeff") else source
    count, rfind = text.count, text.rfind
    result: dict[Path, tuple[int, int]] = {}
    starts: list[int] = []  # all line starts, built only if offsets ever jump back a line
    line, line_start, seen = 1, 0, 0
    # Offsets come (almost) in text order: walk forward, counting newlines as we go.
    for path, off in offsets.items():
        if off >= seen:
            newlines = count("\n", seen, off)
            if newlines:
                line += newlines
                line_start = rfind("\n", seen, off) + 1
            seen = off
        elif off < line_start:
            if not starts:
                starts = [0]
                nl = text.find("\n")
                while nl >= 0:
                    starts.append(nl + 1)
                    nl = text.find("\n", nl + 1)
            back = bisect_right(starts, off)
            result[path] = (back, off - starts[back - 1] + 1)
            continue
        result[path] = (line, off - line_start + 1)
    return result


class _Scanner:
    """One pass over the text; records the character offset of every key path."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.out: dict[Path, int] = {}
        self.implicit: set[Path] = set()
        # Arrays of tables seen so far: concrete path (with indices) -> number of elements.
        self.aot: dict[Path, int] = {}
        # Open arrays / inline tables: [kind, path or None, next element index].
        self.stack: list[list] = []

    # -- recording -------------------------------------------------------------------------

    def record(self, path: Path, off: int, explicit: bool) -> None:
        out = self.out
        if path in out:
            if explicit and path in self.implicit:
                del out[path]  # re-inserted last, keeping the dict in text order
                out[path] = off
                self.implicit.discard(path)
            return
        out[path] = off
        if not explicit:
            self.implicit.add(path)

    def record_one(self, base: Path | None, name: str, off: int) -> Path | None:
        """Record a one-part key under `base`; return its path."""
        if base is None or len(base) >= MAX_PATH_LEN:
            return None
        path = base + (name,)
        if path not in self.out:
            self.out[path] = off
        elif path in self.implicit:
            self.record(path, off, True)
        return path

    def record_key(self, base: Path | None, parts: list[tuple[str, int]], overflow: bool) -> Path | None:
        """Record every prefix of a (dotted) key under `base`; return the full path."""
        if base is None:
            return None
        path = base
        last = len(parts) - 1
        for idx, (name, off) in enumerate(parts):
            if len(path) >= MAX_PATH_LEN:
                return None
            path = path + (name,)
            self.record(path, off, idx == last and not overflow)
        return None if overflow else path

    # -- lexical helpers -------------------------------------------------------------------

    def skip_line(self, i: int) -> int:
        return _TO_EOL.match(self.s, i).end()

    def parse_key(self, i: int) -> tuple[list[tuple[str, int]], int, bool]:
        """Read a dotted key at `i`: (parts with offsets, end after trailing blanks, overflow).

        On a malformed key the parts read so far are returned; the end is past anything consumed.
        """
        s, n = self.s, self.n
        parts: list[tuple[str, int]] = []
        while True:
            i = _WS.match(s, i).end()
            if i >= n:
                return parts, i, False
            c = s[i]
            if c == '"':
                m = _BASIC.match(s, i)
                if m.group(2) is None or s.startswith('"""', i):
                    return parts, m.end(), False
                parts.append((_unescape(m.group(1)), i))
            elif c == "'":
                m = _LITERAL.match(s, i)
                if m.group(2) is None or s.startswith("'''", i):
                    return parts, m.end(), False
                parts.append((m.group(1), i))
            else:
                m = _BARE.match(s, i)
                if m is None:
                    return parts, i, False
                parts.append((m.group(), i))
            j = _WS.match(s, m.end()).end()
            if j >= n or s[j] != ".":
                return parts, j, False
            if len(parts) >= MAX_PATH_LEN:
                return parts, _WS.match(s, _DOTTED_REST.match(s, j).end()).end(), True
            i = j + 1

    def string_end(self, i: int) -> int:
        """End of the string starting at `i` (a quote); an unterminated one ends at EOL/EOF."""
        s = self.s
        if s[i] == '"':
            if s.startswith('"""', i):
                m = _ML_BASIC.match(s, i)
                return m.end() if m else self.n
            return _BASIC.match(s, i).end()
        if s.startswith("'''", i):
            k = s.find("'''", i + 3)
            if k < 0:
                return self.n
            end = k + 3
            while end < self.n and end - k < 5 and s[end] == "'":
                end += 1
            return end
        return _LITERAL.match(s, i).end()

    def skip_nested(self, i: int) -> int:
        """Skip a too-deeply nested array / inline table starting at `i`, recording nothing."""
        s, n = self.s, self.n
        depth = 0
        while i < n:
            c = s[i]
            if c == "[" or c == "{":
                j = _OPENERS.match(s, i).end()
                depth += j - i
                i = j
            elif c == "]" or c == "}":
                j = _CLOSERS.match(s, i).end()
                if j - i >= depth:
                    return i + depth
                depth -= j - i
                i = j
            elif c == '"' or c == "'":
                i = self.string_end(i)
            elif c == "#":
                i = self.skip_line(i)
            else:
                i = _NESTED_FILLER.match(s, i).end()
        return n

    def value(self, path: Path | None, i: int) -> int:
        """Consume the value at `i`, or open a frame for an array / inline table.

        Returns the offset after what was consumed; may consume nothing if no value is there
        (end of line, comment, `,`, `]`, `}`), which every caller handles.
        """
        s = self.s
        if i >= self.n:
            return i
        c = s[i]
        if c == '"' or c == "'":
            return self.string_end(i)
        if c == "[" or c == "{":
            if len(self.stack) >= MAX_NESTING:
                return self.skip_nested(i)
            self.stack.append([_ARRAY if c == "[" else _ITABLE, path, 0])
            return i + 1
        if c in "\n#,]}":
            return i
        m = _SCALAR.match(s, i)
        return m.end() if m else i + 1

    def header(self, i: int) -> tuple[Path | None, int]:
        """Read a `[table]` / `[[array]]` header at `i`; return the table path and line end."""
        s = self.s
        m = _HEADER_FAST.match(s, i)
        if m is not None and (m.group(1) is None) == (m.group(3) is None):
            is_aot = m.group(1) is not None
            parts, overflow = [(m.group(2), m.start(2))], False
            end = self.skip_line(m.end())
        elif _HEADER_START.match(s, i) is None:
            return None, self.skip_line(i + 1)  # no key: not a header we can use
        else:
            is_aot = s.startswith("[[", i)
            parts, j, overflow = self.parse_key(i + (2 if is_aot else 1))
            end = self.skip_line(j)
        if not parts or overflow:
            return None, end  # a missing `]` / `]]` is tolerated: the table is still clear
        path: Path = ()
        for name, off in parts[:-1]:
            if len(path) >= MAX_PATH_LEN - 2:
                return None, end
            path = path + (name,)
            self.record(path, off, False)
            count = self.aot.get(path)
            if count:
                path = path + (count - 1,)  # `[a.b]` with `a` an array of tables: its last element
        if len(path) >= MAX_PATH_LEN - 2:
            return None, end
        path = path + (parts[-1][0],)
        self.record(path, i, True)
        if is_aot:
            index = self.aot.get(path, 0)
            self.aot[path] = index + 1
            path = path + (index,)
            self.record(path, i, True)
        return path, end

    # -- main loop -------------------------------------------------------------------------

    def run(self) -> dict[Path, int]:
        s, n, stack, out = self.s, self.n, self.stack, self.out
        ws_match = _WS.match
        blank_match = _WS_NL_COMMENT.match
        item_match = _ARRAY_SCALAR.match
        scalar_match = _SCALAR.match
        kv_fast = _KV_FAST.match
        find = s.find
        table: Path | None = ()
        after_value = False  # a top-level value ended: the rest of its line is comment or junk
        i = 0
        while i < n:
            if stack:
                frame = stack[-1]
                base = frame[1]
                if base is not None and len(base) >= MAX_PATH_LEN:
                    base = None
                if frame[0] == _ARRAY:
                    # Elements are read in this inner loop; it is left to open, close or abandon
                    # a frame, so that the outer loop picks the new innermost one.
                    index = frame[2]
                    while True:
                        j = blank_match(s, i).end() if i < n and s[i] in " \t\r\n#" else i
                        if j >= n:
                            i = j
                            break
                        c = s[j]
                        if c == "]":
                            stack.pop()
                            i = j + 1
                            break
                        if c == ",":  # after a value; a stray one is skipped all the same
                            i = j + 1
                            continue
                        if c == "}":  # mismatched: let the enclosing inline table close
                            stack.pop()
                            i = j
                            break
                        if j > i and find("\n", i, j) >= 0 and _KEYVAL_START.match(s, j):
                            # `key = ...` on a new line: the array(s) were never closed.
                            stack.clear()
                            after_value = False
                            i = j
                            break
                        # A value (after a missing comma, too: read it rather than stall).
                        if base is not None:
                            path = base + (index,)
                            if path not in out:
                                out[path] = j
                        else:
                            path = None
                        index += 1
                        if c == "[" or c == "{":
                            i = self.value(path, j)
                            break
                        if c == '"' or c == "'":
                            i = self.string_end(j)
                            if i < n and s[i] == ",":
                                i += 1
                        else:
                            m = item_match(s, j)  # the scalar, blanks and its comma
                            i = m.end() if m else j + 1
                    frame[2] = index
                    continue

                # Inline table: one line only; its items are read in this inner loop.
                while True:
                    i = ws_match(s, i).end()
                    if i >= n:
                        break
                    c = s[i]
                    if c == "}":
                        stack.pop()
                        i += 1
                        break
                    if c == ",":
                        i += 1
                        continue
                    if c == "\n" or c == "#" or c == "]":  # unterminated / mismatched
                        stack.pop()
                        break
                    m = kv_fast(s, i)
                    if m is not None:  # the common `key = ` (not dotted, not quoted)
                        path = self.record_one(base, m.group(1), i)
                        j = m.end()
                        c = s[j] if j < n else ""
                        if c == "[" or c == "{" or c == '"' or c == "'":
                            i = self.value(path, j)
                            if stack[-1] is not frame:
                                break  # the value opened a frame
                        else:
                            m = scalar_match(s, j)
                            i = m.end() if m else j  # no value: the loop sees what is there
                        continue
                    parts, j, overflow = self.parse_key(i)
                    if not parts:
                        i = j if j > i else _ITABLE_JUNK.match(s, i).end()
                        continue
                    path = self.record_key(base, parts, overflow)
                    if j < n and s[j] == "=":
                        i = self.value(path, ws_match(s, j + 1).end())
                        if stack[-1] is not frame:
                            break  # the value opened a frame
                    else:
                        i = j
                continue

            # top level: one statement per line
            if after_value:
                after_value = False
                i = _TO_EOL.match(s, i).end()
                continue
            i = blank_match(s, i).end()
            if i >= n:
                break
            if s[i] == "[":
                table, i = self.header(i)
                continue
            after_value = True
            m = kv_fast(s, i)
            if m is not None:  # the common `key = ` (not dotted, not quoted)
                i = self.value(self.record_one(table, m.group(1), i), m.end())
                continue
            parts, j, overflow = self.parse_key(i)
            if not parts or j >= n or s[j] != "=":
                after_value = False
                i = _TO_EOL.match(s, j).end()
                continue
            path = self.record_key(table, parts, overflow)
            i = self.value(path, ws_match(s, j + 1).end())
        return out
