"""Line breaking that works for Chinese as well as English (pure and testable: Rich's cell widths, no Textual).

Textual and Rich wrap at spaces only. Chinese has no spaces, so a Chinese paragraph is one long
"word": after a number or a label it jumps to the next line whole, and when it is folded a line can
start with a comma. Here a line may break between any two wide (CJK) characters, at spaces, and
between a Latin word and a CJK character, following the usual rules for Chinese typesetting
(禁则): closing punctuation never starts a line, opening punctuation never ends one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import get_character_cell_size

# Never at the start of a line (they stay with the character before them).
NO_START = frozenset("，。、；：？！）》」』】〕〉”’…—·～％,.;:?!)]}>%ー々ぁぃぅぇぉっゃゅょァィゥェォッャュョ")
# Never at the end of a line (they stay with the character after them).
NO_END = frozenset("（《「『【〔〈“‘([{<")


def cell_width(ch: str) -> int:
    """Terminal cells taken by one character, measured as Textual draws it (CJK takes two)."""
    return get_character_cell_size(ch)


def _narrow(text: str) -> bool:
    """Printable ASCII only: one cell per character (most English lines; the fast path)."""
    return text.isascii() and text.isprintable()


def text_width(text: str) -> int:
    return len(text) if _narrow(text) else sum(cell_width(ch) for ch in text)


_WORDS = re.compile(r" +|[^ ]+")


def _atoms(line: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_space) pieces between which a line may break (before gluing)."""
    if _narrow(line):  # the same pieces, found without measuring each character
        return [(m.start(), m.end(), m.group()[0] == " ") for m in _WORDS.finditer(line)]
    atoms: list[tuple[int, int, bool]] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        j = i + 1
        if ch.isspace():
            while j < n and line[j].isspace():
                j += 1
            atoms.append((i, j, True))
        elif cell_width(ch) == 2:
            atoms.append((i, j, False))
        else:
            while j < n and not line[j].isspace() and cell_width(line[j]) != 2:
                j += 1
            atoms.append((i, j, False))
        i = j
    return atoms


def _segments(line: str) -> list[tuple[int, int, bool]]:
    """Atoms glued by the punctuation rules: (start, end, is_space) units that are never split
    (unless one alone is wider than a line)."""
    out: list[tuple[int, int, bool]] = []
    glue_next = False
    for start, end, space in _atoms(line):
        text = line[start:end]
        if space:
            out.append((start, end, True))
            glue_next = False
            continue
        if out and not out[-1][2] and (glue_next or text[0] in NO_START):
            out[-1] = (out[-1][0], end, False)
        else:
            out.append((start, end, False))
        glue_next = text[-1] in NO_END
    return out


def _keep_together(segments: list[tuple[int, int, bool]], keep: Sequence[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """Merge the segments inside each (start, end) range into one unbreakable piece."""
    for lo, hi in sorted(keep):
        inside = [i for i, (start, end, _) in enumerate(segments) if start < hi and end > lo]
        if len(inside) > 1:
            first, last = inside[0], inside[-1]
            merged = (segments[first][0], segments[last][1], False)
            segments = segments[:first] + [merged] + segments[last + 1 :]
    return segments


def break_offsets(line: str, width: int, keep: Sequence[tuple[int, int]] = ()) -> list[int]:
    """Offsets (code points) in one line of text where a new display line starts, so that no
    display line is wider than `width` cells. Spaces at a break stay at the end of the line before
    it (strip them when drawing); indentation at the start of the text is kept. Text inside the
    `keep` ranges is not broken unless a range alone is wider than a line."""
    if width <= 0:
        return []
    measure = len if _narrow(line) else text_width  # one check per line, not per piece
    offsets: list[int] = []
    used = 0  # cells on the current display line
    pending = 0  # cells of spaces since the last piece
    started = False  # the current display line has a piece on it

    def fold(start: int, end: int) -> None:
        nonlocal used
        for k in range(start, end):
            cw = cell_width(line[k])
            if used and used + cw > width:
                offsets.append(k)
                used = 0
            used += cw

    segments = _segments(line)
    if keep:
        segments = _keep_together(segments, keep)
    for start, end, space in segments:
        if space:
            pending += measure(line[start:end])
            continue
        w = measure(line[start:end])
        if not started:
            lead = pending if not offsets else 0  # indentation counts on the first line only
            if lead + w <= width:
                used = lead + w
            elif w <= width:
                if start:
                    offsets.append(start)
                used = w
            else:
                used = lead if lead < width else 0
                if not used and start:
                    offsets.append(start)
                fold(start, end)
        elif used + pending + w <= width:
            used += pending + w
        elif w <= width:
            offsets.append(start)
            used = w
        else:
            if used + pending < width:
                used += pending
            else:
                offsets.append(start)
                used = 0
            fold(start, end)
        started = True
        pending = 0
    return [o for o in offsets if 0 < o < len(line)]


def wrap(text: str, width: int) -> list[str]:
    """`text` as display lines of at most `width` cells (plain strings; newlines kept)."""
    lines: list[str] = []
    for line in text.split("\n"):
        cuts = [0, *break_offsets(line, width), len(line)]
        lines.extend(line[a:b].rstrip() for a, b in zip(cuts, cuts[1:]))
    return lines
