"""Tests for simulator.toml_positions: source positions of TOML key paths."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path
import re
import time
import tomllib

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.toml_positions import MAX_NESTING, key_positions, locate

EXAMPLE = """\
schema = 1
title = { zh = "季末压货", en = "Quarter-end push" }
[market]
weeks_per_cycle = 2
[[market.dealers]]
id = "wang"
demand = { mean = 120, cv = 0.25 }
[[market.dealers]]
id = "li"
[[steps]]
id = "call"
  [[steps.choices]]
  id = "push_hard"
  effects = [ { order = { dealer = "wang", units = 1200 } },
              { rebate = { dealer = "wang", pct = 3 } } ]
  then = { simulate_weeks = 4, goto = "fallout" }
  [[steps.choices]]
  id = "wait"
[[steps]]
id = "fallout"
a.b."c.d" = 1
"""


def col_of(source: str, line: int, needle: str, nth: int = 0) -> int:
    """1-based column of the nth occurrence of `needle` on 1-based `line`."""
    text = source.split("\n")[line - 1]
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return at + 1


def text_at(source: str, pos: tuple[int, int]) -> str:
    """The source from a (line, col) position to the end of that line (BOM and CR removed)."""
    line, col = pos
    lines = source.removeprefix("\ufeff").split("\n")
    return lines[line - 1][col - 1 :].rstrip("\r")


# ---------------------------------------------------------------------------------------------
# The example from the brief


def test_example_is_valid_toml():
    tomllib.loads(EXAMPLE)


@pytest.mark.parametrize(
    "path, expected",
    [
        (("schema",), (1, 1)),
        (("title",), (2, 1)),
        (("title", "zh"), (2, 11)),
        (("title", "en"), (2, col_of(EXAMPLE, 2, "en"))),
        (("market",), (3, 1)),
        (("market", "weeks_per_cycle"), (4, 1)),
        (("market", "dealers"), (5, 1)),
        (("market", "dealers", 0), (5, 1)),
        (("market", "dealers", 0, "id"), (6, 1)),
        (("market", "dealers", 0, "demand"), (7, 1)),
        (("market", "dealers", 0, "demand", "mean"), (7, col_of(EXAMPLE, 7, "mean"))),
        (("market", "dealers", 0, "demand", "cv"), (7, col_of(EXAMPLE, 7, "cv"))),
        (("market", "dealers", 1), (8, 1)),
        (("market", "dealers", 1, "id"), (9, 1)),
        (("steps",), (10, 1)),
        (("steps", 0), (10, 1)),
        (("steps", 0, "id"), (11, 1)),
        (("steps", 0, "choices"), (12, 3)),
        (("steps", 0, "choices", 0), (12, 3)),
        (("steps", 0, "choices", 0, "id"), (13, 3)),
        (("steps", 0, "choices", 0, "effects"), (14, 3)),
        (("steps", 0, "choices", 0, "effects", 0), (14, col_of(EXAMPLE, 14, "{"))),
        (("steps", 0, "choices", 0, "effects", 0, "order"), (14, col_of(EXAMPLE, 14, "order"))),
        (("steps", 0, "choices", 0, "effects", 0, "order", "units"), (14, col_of(EXAMPLE, 14, "units"))),
        (("steps", 0, "choices", 0, "effects", 1), (15, col_of(EXAMPLE, 15, "{"))),
        (("steps", 0, "choices", 0, "effects", 1, "rebate"), (15, col_of(EXAMPLE, 15, "rebate"))),
        (("steps", 0, "choices", 0, "effects", 1, "rebate", "dealer"), (15, col_of(EXAMPLE, 15, "dealer"))),
        (("steps", 0, "choices", 0, "effects", 1, "rebate", "pct"), (15, col_of(EXAMPLE, 15, "pct"))),
        (("steps", 0, "choices", 0, "then"), (16, 3)),
        (("steps", 0, "choices", 0, "then", "goto"), (16, col_of(EXAMPLE, 16, "goto"))),
        (("steps", 0, "choices", 1), (17, 3)),
        (("steps", 0, "choices", 1, "id"), (18, 3)),
        (("steps", 1), (19, 1)),
        (("steps", 1, "id"), (20, 1)),
        (("steps", 1, "a"), (21, 1)),
        (("steps", 1, "a", "b"), (21, 3)),
        (("steps", 1, "a", "b", "c.d"), (21, 5)),
    ],
)
def test_example_positions(path, expected):
    assert key_positions(EXAMPLE)[path] == expected


def test_example_has_exactly_the_paths_of_the_parsed_document():
    assert set(key_positions(EXAMPLE)) == set(all_paths(tomllib.loads(EXAMPLE)))


def test_example_spot_values():
    pos = key_positions(EXAMPLE)
    assert col_of(EXAMPLE, 14, "{") == 15
    assert pos[("steps", 0, "choices", 0, "effects", 0)] == (14, 15)
    assert pos[("steps", 0, "choices", 0, "effects", 1)] == (15, 15)
    assert pos[("market", "dealers", 0, "demand", "cv")] == (7, 24)


# ---------------------------------------------------------------------------------------------
# Lexical features


def test_comments_are_ignored_even_with_equals_and_brackets():
    src = '# a = 1\n# [fake]\nb = 2 # c = 3 [[x]]\n  # d = "\nd = 4\n'
    pos = key_positions(src)
    assert pos == {("b",): (3, 1), ("d",): (5, 1)}
    assert set(tomllib.loads(src)) == {"b", "d"}


def test_basic_string_with_escaped_quote():
    src = 'a = "x \\" b = 1 \\\\"\nc = "\\u00e9 # not a comment" # comment\nd = 1\n'
    assert set(tomllib.loads(src)) == {"a", "c", "d"}
    assert key_positions(src) == {("a",): (1, 1), ("c",): (2, 1), ("d",): (3, 1)}


def test_literal_string_with_backslash():
    src = "path = 'C:\\path\\' \nnext = 1\n"
    assert tomllib.loads(src) == {"path": "C:\\path\\", "next": 1}
    assert key_positions(src) == {("path",): (1, 1), ("next",): (2, 1)}


def test_multiline_basic_string_does_not_create_paths():
    src = (
        'text = """\n'
        "[[fake]]\n"
        'key = "value"\n'
        'quote \\""" and "" inside \\\n'
        "   continued ''' [x]\n"
        'ends with quotes"""""\n'
        "after = 1\n"
    )
    data = tomllib.loads(src)
    assert set(data) == {"text", "after"}
    assert data["text"].endswith('quotes""')
    assert key_positions(src) == {("text",): (1, 1), ("after",): (7, 1)}


def test_multiline_literal_string_does_not_create_paths():
    src = "re = '''\n[[fake]]\nkey = 'v'\n\"\"\" \\ '' ''''\nz = 2\n"
    data = tomllib.loads(src)
    assert data == {"re": "[[fake]]\nkey = 'v'\n\"\"\" \\ '' '", "z": 2}
    assert key_positions(src) == {("re",): (1, 1), ("z",): (5, 1)}


def test_multiline_strings_as_array_elements_and_in_inline_tables():
    src = 'a = ["""x\ny = 1""", \'\'\'\n[z]\'\'\', "w"]\nt = { s = """\nk = 1\n""", u = 2 }\n'
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("a", 0)] == (1, 6)
    assert pos[("a", 1)] == (2, 11)
    assert pos[("a", 2)] == (3, 9)
    assert pos[("t", "u")] == (6, 6)


def test_bare_keys_that_look_like_numbers_and_literals():
    src = "1234 = 1\n-_- = 2\ntrue = 3\ninf = 4\nnan = 5\n3.14 = 6\n"
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("1234",)] == (1, 1)
    assert pos[("-_-",)] == (2, 1)
    assert pos[("3",)] == (6, 1)
    assert pos[("3", "14")] == (6, 3)


def test_quoted_keys_and_escapes_in_keys():
    src = '"a b" = 1\n\'c.d\' = 2\n"é\\u00e9\\"" = 3\n"" = 4\n[ "x y" . \'z\' ]\nk = 5\n'
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("a b",)] == (1, 1)
    assert pos[("c.d",)] == (2, 1)
    assert pos[('éé"',)] == (3, 1)
    assert pos[("",)] == (4, 1)
    assert pos[("x y",)] == (5, 3)
    assert pos[("x y", "z")] == (5, 1)
    assert pos[("x y", "z", "k")] == (6, 1)


def test_dotted_keys_with_whitespace_around_dots():
    src = "a . b\t.  c = 1\n[ t . u ]\nv . w = 2\n"
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("a",)] == (1, 1)
    assert pos[("a", "b")] == (1, 5)
    assert pos[("a", "b", "c")] == (1, 10)
    assert pos[("t",)] == (2, 3)
    assert pos[("t", "u")] == (2, 1)
    assert pos[("t", "u", "v", "w")] == (3, 5)


def test_nested_inline_tables_without_trailing_newline():
    src = "p = { q = { r = { s = 1 } }, t = [ { u = 2 } ] }"
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("p", "q", "r", "s")] == (1, 19)
    assert pos[("p", "t", 0)] == (1, 36)
    assert pos[("p", "t", 0, "u")] == (1, 38)


def test_arrays_nested_multiline_trailing_commas_comments():
    src = (
        "m = [\n"
        "  [1, 2], # first = row\n"
        "  # comment line ]\n"
        "  [ 'x', [ \"y\" ] ],\n"
        "  { k = 1 },\n"
        "]\n"
        "principles = [\"a\", \"b\",]\n"
        "empty = []\n"
        "after = 1\n"
    )
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("m", 0)] == (2, 3)
    assert pos[("m", 0, 1)] == (2, 7)
    assert pos[("m", 1)] == (4, 3)
    assert pos[("m", 1, 1, 0)] == (4, col_of(src, 4, '"y"'))
    assert pos[("m", 2, "k")] == (5, 5)
    assert pos[("principles", 0)] == (7, 15)
    assert pos[("principles", 1)] == (7, 20)
    assert pos[("after",)] == (9, 1)


def test_numbers_dates_booleans_inf_nan():
    src = (
        "a = [ 1_000, -0x_ff, 0o17, 0b101, +1.5e-3, -inf, nan, +inf, true, false ]\n"
        "d1 = 1979-05-27T07:32:00Z\n"
        "d2 = 1979-05-27 07:32:00.999-07:00\n"
        "d3 = [1979-05-27 07:32:00, 1979-05-27, 07:32:00.5]\n"
        "z = 0\n"
    )
    src = src.replace("-0x_ff", "0xff")
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("d3", 1)] == (4, col_of(src, 4, "1979", 1))
    assert pos[("d3", 2)] == (4, col_of(src, 4, "07:32:00.5"))
    assert pos[("z",)] == (5, 1)


def test_tabs_count_as_one_column():
    src = "\tkey\t=\t{\tin\t=\t1\t}\n[\ttab\t]\n\t\tx = 1\n"
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("key",)] == (1, 2)
    assert pos[("key", "in")] == (1, 10)
    assert pos[("tab",)] == (2, 1)
    assert pos[("tab", "x")] == (3, 3)


def test_crlf_line_endings():
    lf = EXAMPLE + 'ml = """\nline\n[[fake]]\n"""\nlast = 1\n'
    crlf = lf.replace("\n", "\r\n")
    assert tomllib.loads(crlf) == tomllib.loads(lf)
    assert key_positions(crlf) == key_positions(lf)
    assert key_positions(crlf)[("steps", 1, "last")] == (26, 1)


def test_cjk_columns_count_characters_not_bytes():
    src = '"名称" = "季末压货"\n"季末" = { "压货" = 1, "数" = [ "一", "二" ] }\n'
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("季末", "压货")] == (2, 10)
    assert pos[("季末", "数")] == (2, 20)
    assert pos[("季末", "数", 1)] == (2, 33)
    # and a value before a key on the same line
    src2 = 'x = { a = "季末压货季末压货", b = 1 }'
    assert key_positions(src2)[("x", "b")] == (1, 23)
    assert text_at(src2, (1, 23)).startswith("b =")


def test_astral_characters_are_one_column():
    src = 'e = { a = "😀😀", b = 1 }\n'
    assert key_positions(src)[("e", "b")] == (1, 17)


def test_bom_is_not_counted():
    src = "\ufeffa = { b = 1 }\n[t]\nc = 2\n"
    pos = key_positions(src)
    assert pos == {("a",): (1, 1), ("a", "b"): (1, 7), ("t",): (2, 1), ("t", "c"): (3, 1)}


def test_array_of_tables_counters_restart_per_parent_element():
    src = "[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[a.b]]\n[a.c]\nx = 1\n[[a.b]]\n"
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("a", 0, "b", 1)] == (3, 1)
    assert pos[("a", 1, "b", 0)] == (5, 1)
    assert pos[("a", 1, "b", 1)] == (8, 1)
    assert pos[("a", 1, "c", "x")] == (7, 1)


def test_table_inside_last_element_of_array_of_tables():
    src = "[[fruit]]\nname = 'apple'\n[fruit.physical]\ncolor = 'red'\n[[fruit]]\n[fruit.physical]\nshape = 'round'\n"
    data = tomllib.loads(src)
    pos = key_positions(src)
    assert set(pos) == set(all_paths(data))
    assert pos[("fruit", 0, "physical")] == (3, 1)
    assert pos[("fruit", 1, "physical")] == (6, 1)
    assert pos[("fruit", 1, "physical", "shape")] == (7, 1)


def test_implicit_tables_point_at_their_key_part_until_defined():
    src = "[a.b]\nx = 1\n[a]\ny = 2\n[[c.d]]\n"
    pos = key_positions(src)
    assert pos[("a",)] == (3, 1)  # explicitly defined later: the header wins
    assert pos[("a", "b")] == (1, 1)
    assert pos[("c",)] == (5, 3)  # only ever implicit: the `c` in `[[c.d]]`


def test_first_occurrence_wins_on_duplicates():
    src = "a = 1\na = 2\n[t]\n[t]\n"
    assert key_positions(src) == {("a",): (1, 1), ("t",): (3, 1)}


def test_empty_and_blank_documents():
    assert key_positions("") == {}
    assert key_positions("\n\n  # c\r\n") == {}
    assert key_positions("\ufeff") == {}


def test_non_string_input_does_not_raise():
    assert key_positions(None) == {}  # type: ignore[arg-type]
    assert key_positions(b"a = 1") == {}  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Broken documents: recover what can be recovered, never raise


@pytest.mark.parametrize(
    "src",
    [
        'a = "unterminated\nb = 1\n',
        "a = 'unterminated\nb = 1\n",
        'a = """never closed\nb = 1\n',
        "a = '''never closed\nb = 1\n",
        "[[a\nb = 1\n",
        "[[a]\nb = 1\n",
        "[]\nb = 1\n",
        "a = [1, 2\nb = 1\n",
        "a = [[[[[\nb = 1\n",
        "a = { x = 1\nb = 1\n",
        "a = { x = [1, }\nb = 1\n",
        "a = ]]]}}}\nb = 1\n",
        "a =\nb = 1\n",
        "= 1\nb = 1\n",
        "a.\nb = 1\n",
        '"a\nb = 1\n',
        'a = "\\\nb = 1\n',
        "\x00\x01\ufffd\udcff = 1\nb = 1\n",
    ],
)
def test_broken_documents_never_raise(src):
    check_result_shape(src, key_positions(src))


@pytest.mark.parametrize(
    "src, path",
    [
        ('a = "unterminated\nb = 1\n', ("b",)),
        ("a = 'unterminated\nb = 1\n", ("b",)),
        ("a = [1, 2\nb = 1\n", ("b",)),
        ("a = { x = 1\nb = 1\n", ("b",)),
        ("a = { x = [1, }\nb = 1\n", ("b",)),
        ("a = ]]]}}}\nb = 1\n", ("b",)),
        ("a =\nb = 1\n", ("b",)),
        ("= 1\nb = 1\n", ("b",)),
        ("a.\nb = 1\n", ("b",)),
        ("[[a]\nb = 1\n", ("a", 0, "b")),
        ("[[a\nb = 1\n", ("a", 0, "b")),
    ],
)
def test_broken_documents_still_place_following_keys(src, path):
    assert key_positions(src)[path] == (2, 1)


def test_deep_nesting_is_capped_without_recursion():
    depth = 100_000
    for src in ("a = " + "[" * depth + "]" * depth + "\nb = 1\n", "a = " + "[" * depth + "\nb = 1\n"):
        pos = key_positions(src)
        assert ("a",) in pos
        assert max(len(p) for p in pos) <= 65
    balanced = "a = " + "[" * (MAX_NESTING + 20) + "1" + "]" * (MAX_NESTING + 20) + "\nb = 1\n"
    assert key_positions(balanced)[("b",)] == (2, 1)
    inline = "a = " + "{ x = " * 5000 + "1" + " }" * 5000 + "\nb = 1\n"
    assert key_positions(inline)[("b",)] == (2, 1)


def test_very_long_dotted_keys_and_headers_are_capped():
    key = ".".join(["k"] * 200_000)
    pos = key_positions(f"{key} = 1\n[{key}]\nx = 1\n[ok]\ny = 2\n")
    assert pos[("ok", "y")] == (5, 1)
    assert max(len(p) for p in pos) <= 64


# ---------------------------------------------------------------------------------------------
# Speed: linear time on big and pathological inputs


def _timed(src: str) -> float:
    """CPU seconds, so that other work on a busy machine does not make the test flaky."""
    start = time.process_time()
    key_positions(src)
    return time.process_time() - start


PATHOLOGICAL = {
    "realistic": lambda: (EXAMPLE + "\n").replace("[market]", "[market]\n# note\n") * 1200,
    "many_keys": lambda: "".join(f"k{i} = {i}\n" for i in range(100_000)),
    "big_array": lambda: "a = [" + "1," * 500_000 + "]\n",
    "commas": lambda: "a = [" + "," * 1_000_000 + "]\n",
    "open_brackets": lambda: "a = " + "[" * 1_000_000,
    "open_braces": lambda: "a = " + "{" * 1_000_000,
    "brackets_lines": lambda: "[\n" * 500_000,
    "equals": lambda: "=" * 1_000_000,
    "quotes": lambda: '"' * 1_000_000,
    "single_quotes": lambda: "'" * 1_000_000,
    "backslashes_in_ml": lambda: 'a = """' + "\\" * 1_000_000,
    "unterminated_ml": lambda: 'a = """' + "x\ny = 1\n" * 120_000,
    "escaped_quotes_ml": lambda: 'a = """' + '\\"' * 500_000,
    "dots": lambda: "a" + " . a" * 250_000 + " = 1",
    "header_dots": lambda: "[" + "a." * 500_000,
    "inline_keys": lambda: "t = {" + "a=1," * 250_000 + "}",
    "aot": lambda: "[[a]]\nx = 1\n" * 100_000,
    "keyval_in_array": lambda: "a = [\nb = [\n" * 100_000,
    "newlines": lambda: "\n" * 1_000_000,
    "crlf": lambda: "\r\n" * 500_000,
    "comment": lambda: "#" * 1_000_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_linear_time_on_large_inputs(name):
    src = PATHOLOGICAL[name]()
    assert len(src) >= 400_000
    # Well under a second in practice; the bound leaves room for slow CI machines.
    assert min(_timed(src) for _ in range(2)) < 1.5


# ---------------------------------------------------------------------------------------------
# locate


def test_locate_returns_longest_known_prefix():
    pos = key_positions(EXAMPLE)
    assert locate(pos, ("steps", 0, "choices", 0, "effects", 1, "rebate", "pct")) == (15, 45)
    assert locate(pos, ("steps", 0, "choices", 0, "effects", 1, "rebate", "missing")) == (15, 17)
    assert locate(pos, ["steps", 0, "choices", 7, "id"]) == (12, 3)
    assert locate(pos, ("steps", 5)) == (10, 1)
    assert locate(pos, ("market", "weeks_per_cycle")) == (4, 1)
    assert locate(pos, ("nope", "x")) == (0, 0)
    assert locate(pos, ()) == (0, 0)
    assert locate({}, ("a",)) == (0, 0)


def test_locate_stops_at_parts_that_cannot_be_toml_keys():
    pos = key_positions(EXAMPLE)
    assert locate(pos, ("market", ["unhashable"], "x")) == (3, 1)
    assert locate(pos, ("market", None)) == (3, 1)
    assert locate(pos, ("steps", True)) == (10, 1)  # True is not the index 1


# ---------------------------------------------------------------------------------------------
# Property tests: never raise, finish fast


FRAGMENTS = [
    "[", "]", "[[", "]]", "{", "}", '"', "'", '"""', "'''", "=", ",", ".", "#", "\\",
    "\n", "\r\n", "\r", " ", "\t", "a", "b.c", "key", "1", "1979-05-27 07:32:00", "true",
    '"q"', "'l'", "季末", "\ufeff", "\x00", "inf", "-", "\\u00e9", "\\U0011FFFF", '"\\', "x = 1\n",
    "[t]\n", "[[a]]\n", "= [", "= {", "\\\n",
]  # fmt: skip

toml_ish = st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join)


def check_result_shape(src: str, pos: dict) -> None:
    assert isinstance(pos, dict)
    n_lines = src.count("\n") + 1
    for path, (line, col) in pos.items():
        assert isinstance(path, tuple) and path
        assert all(isinstance(p, (str, int)) for p in path)
        assert 1 <= line <= n_lines
        assert col >= 1


@settings(max_examples=400, deadline=500)
@given(st.text())
def test_arbitrary_text_never_raises(src):
    check_result_shape(src, key_positions(src))


@settings(max_examples=600, deadline=500)
@given(toml_ish)
def test_toml_ish_fragments_never_raise(src):
    check_result_shape(src, key_positions(src))


@settings(max_examples=300, deadline=500)
@given(st.binary(max_size=400))
def test_garbage_bytes_decoded_as_text_never_raise(raw):
    for src in (
        raw.decode("utf-8", errors="replace"),
        raw.decode("utf-8", errors="surrogateescape"),  # lone surrogates in the text
        raw.decode("latin-1"),
        raw.decode("utf-16-le", errors="replace"),
        raw.decode("cp1252", errors="replace"),
    ):
        check_result_shape(src, key_positions(src))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8), st.integers(500, 5000))
def test_repeated_fragments_finish_fast(fragments, repeat):
    src = "".join(fragments) * repeat
    start = time.process_time()
    check_result_shape(src, key_positions(src))
    assert time.process_time() - start < 1.0


# ---------------------------------------------------------------------------------------------
# Property test: random valid documents from a small serializer


BARE_RE = re.compile(r"[A-Za-z0-9_-]+")


def all_paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from all_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield prefix + (i,)
            yield from all_paths(v, prefix + (i,))


def basic_escape(s: str, multiline: bool = False) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n" and multiline:
            out.append("\n")
        elif ch == "\t":
            out.append("\t")
        elif ch in "\n\r\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def literal_ok(s: str, multiline: bool = False) -> bool:
    allowed = "\t\n" if multiline else "\t"
    if any((ord(c) < 0x20 and c not in allowed) or ord(c) == 0x7F for c in s):
        return False
    return "'''" not in s if multiline else "'" not in s


def key_forms(k: str) -> list[str]:
    forms = ['"' + basic_escape(k) + '"']
    if BARE_RE.fullmatch(k):
        forms.append(k)
    if literal_ok(k):
        forms.append("'" + k + "'")
    return forms


class Emitter:
    """Serialize a dict to TOML, choosing layouts at random (tables, arrays of tables, inline
    tables, dotted keys, multi-line arrays and strings, comments, odd whitespace)."""

    def __init__(self, rnd: random.Random) -> None:
        self.r = rnd
        self.lines: list[str] = []

    def ws(self) -> str:
        return self.r.choice(["", " ", " ", "  ", "\t"])

    def key(self, k: str) -> str:
        forms = key_forms(k)
        if BARE_RE.fullmatch(k) and self.r.random() < 0.8:
            return k
        return self.r.choice(forms)

    def dotted(self, keys: list[str]) -> str:
        sep = self.r.choice([".", ".", " . ", "\t.", ". "])
        return sep.join(self.key(k) for k in keys)

    def comment(self) -> str:
        return self.r.choice(["", "", "", "  # c = 1 [x]", ' # "quoted" = \'x\'', "\t#"])

    # values ---------------------------------------------------------------------------------

    def string(self, s: str) -> str:
        r = self.r
        choice = r.random()
        if choice < 0.3 and "\r" not in s:
            lead = "\n" if (s.startswith("\n") or r.random() < 0.5) else ""
            # a line continuation before a non-blank character leaves the value unchanged
            spots = [i for i in range(1, len(s)) if s[i] not in " \t\n"]
            if spots and r.random() < 0.5:
                at = r.choice(spots)
                body = basic_escape(s[:at], True) + "\\\n   " + basic_escape(s[at:], True)
            else:
                body = basic_escape(s, multiline=True)
            return '"""' + lead + body + '"""'
        if choice < 0.5 and literal_ok(s, multiline=True) and "\r" not in s:
            lead = "\n" if (s.startswith("\n") or r.random() < 0.5) else ""
            return "'''" + lead + s + "'''"
        if choice < 0.65 and literal_ok(s):
            return "'" + s + "'"
        return '"' + basic_escape(s) + '"'

    def scalar(self, v) -> str:
        r = self.r
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            if v >= 0 and r.random() < 0.2:
                return r.choice([f"0x{v:x}", f"0o{v:o}", f"0b{v:b}"])
            return f"{v:_}" if r.random() < 0.3 else str(v)
        if isinstance(v, float):
            if math.isinf(v):
                return ("+inf" if r.random() < 0.5 else "inf") if v > 0 else "-inf"
            return repr(v)
        if isinstance(v, str):
            return self.string(v)
        if isinstance(v, dt.datetime):
            text = v.isoformat()
            return text.replace("T", " ") if r.random() < 0.5 else text
        if isinstance(v, (dt.date, dt.time)):
            return v.isoformat()
        raise TypeError(type(v))

    def value(self, v, indent: str = "") -> str:
        r = self.r
        if isinstance(v, dict):
            items = [self.inline_item(k, x) for k, x in v.items()]
            if not items:
                return "{" + self.ws() + "}"
            return "{" + self.ws() + ("," + self.ws()).join(items) + self.ws() + "}"
        if isinstance(v, list):
            if not v:
                return "[" + self.ws() + "]"
            if r.random() < 0.4:
                inner = indent + "  "
                parts = ["[" + self.comment().replace("\t#", " #") + "\n"]
                for x in v:
                    parts.append(inner + self.value(x, inner) + "," + self.comment() + "\n")
                    if r.random() < 0.2:
                        parts.append(inner + "# ] = [[ignored]]\n")
                return "".join(parts) + indent + "]"
            trailing = "," if r.random() < 0.3 else ""
            items = ("," + self.ws()).join(self.value(x, indent) for x in v)
            return "[" + self.ws() + items + trailing + self.ws() + "]"
        return self.scalar(v)

    def inline_item(self, k: str, v) -> str:
        keys = [k]
        if self.r.random() < 0.3:  # a dotted key inside an inline table: `{ a.b.c = 1 }`
            while isinstance(v, dict) and len(v) == 1:
                ((k2, v),) = v.items()
                keys.append(k2)
        return self.dotted(keys) + self.ws() + "=" + self.ws() + self.value(v)

    # document -------------------------------------------------------------------------------

    def kv(self, keys: list[str], v, indent: str) -> None:
        if isinstance(v, dict) and v and self.r.random() < 0.4:
            for k2, v2 in v.items():
                self.kv(keys + [k2], v2, indent)
            return
        line = indent + self.dotted(keys) + self.ws() + "=" + self.ws() + self.value(v, indent) + self.comment()
        self.lines.append(line)

    @staticmethod
    def aot_candidate(v) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    def body(self, d: dict, path: list[str], indent: str, only_headers: bool = False) -> None:
        r = self.r
        inline, tables, aots = [], [], []
        for k, v in d.items():
            if isinstance(v, dict) and (only_headers or r.random() < 0.5):
                tables.append((k, v))
            elif self.aot_candidate(v) and (only_headers or r.random() < 0.6):
                aots.append((k, v))
            else:
                inline.append((k, v))
        for k, v in inline:
            self.kv([k], v, indent)
            if r.random() < 0.15:
                self.lines.append(r.choice(["", indent + "# [[not.a.table]]", indent + "# key = 1"]))
        headers = [(k, v, False) for k, v in tables] + [(k, v, True) for k, v in aots]
        r.shuffle(headers)
        for k, v, is_aot in headers:
            sub = path + [k]
            sub_indent = indent + r.choice(["", "", "  ", "\t"])
            if is_aot:
                for element in v:
                    self.header(sub, True, sub_indent)
                    self.body(element, sub, sub_indent)
            else:
                omit = bool(v) and all(isinstance(x, dict) or self.aot_candidate(x) for x in v.values())
                if omit and r.random() < 0.4:
                    self.body(v, sub, sub_indent, only_headers=True)
                else:
                    self.header(sub, False, sub_indent)
                    self.body(v, sub, sub_indent)

    def header(self, path: list[str], is_aot: bool, indent: str) -> None:
        o, c = ("[[", "]]") if is_aot else ("[", "]")
        inner = self.ws().replace("\t", " ") + self.dotted(path) + self.ws()
        self.lines.append(indent + o + inner + c + self.comment())

    def document(self, d: dict, crlf: bool) -> str:
        self.body(d, [], "")
        text = "\n".join(self.lines) + ("\n" if self.r.random() < 0.8 else "")
        return text.replace("\n", "\r\n") if crlf else text


KEY_SAMPLES = ["id", "a", "b", "1234", "3", "true", "inf", "nan", "-", "_x-y", "", "c.d", "a b",
               'q"uote', "it's", "季末", "压货", "tab\tkey", "back\\slash", "é", "[x]", "=", "#"]  # fmt: skip
keys = st.one_of(
    st.sampled_from(KEY_SAMPLES),
    st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True),
    st.text(max_size=4),
)
STRING_PIECES = ["\n", '"', "'", "''", '"""', "'''", "\\", "[[fake]]", "key = 1", "# x", "{", "]", "季末压货",
                 "😀", "\t", "\r", "\x01", "\x7f", "a", " ", "\\u00e9"]  # fmt: skip
strings = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(STRING_PIECES), max_size=6).map("".join),
)
scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    strings,
    st.dates(),
    st.times(),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.timezone.utc)),
)


def extend(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
        st.lists(st.dictionaries(keys, children, max_size=3), min_size=1, max_size=3),
    )


documents = st.dictionaries(keys, st.recursive(scalars, extend, max_leaves=25), max_size=6)


def same(a, b) -> bool:
    """Equality where timezone-aware datetimes must also agree on being aware."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


def check_positions(src: str, data: dict) -> None:
    pos = key_positions(src)
    paths = list(all_paths(data))
    missing = [p for p in paths if p not in pos]
    assert not missing, (missing, src)
    # nothing invented: every recorded path is a path of the document
    assert set(pos) == set(paths), (set(pos) - set(paths), src)
    for path in paths:
        text = text_at(src, pos[path])
        last = path[-1]
        node = data
        for p in path:
            node = node[p]
        if isinstance(last, str):
            forms = key_forms(last)
            if text.startswith("["):  # a table header points at its `[`
                assert any(f in text for f in forms), (path, text, src)
            else:
                assert any(text.startswith(f) for f in forms), (path, text, src)
        elif isinstance(node, dict):
            assert text.startswith(("{", "[[")), (path, text, src)
        elif isinstance(node, list):
            assert text.startswith("["), (path, text, src)
        elif isinstance(node, str):
            assert text.startswith(('"', "'")), (path, text, src)
        else:
            assert text[:1] not in ("", " ", "\t", ",", "]", "}", "#"), (path, text, src)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents, st.randoms(use_true_random=False), st.booleans())
def test_random_valid_documents_have_every_path(data, rnd, crlf):
    src = Emitter(rnd).document(data, crlf)
    parsed = tomllib.loads(src)
    assert same(parsed, data), src
    check_positions(src, parsed)
    # a BOM changes nothing but line-1 columns, which are measured after it
    assert key_positions("\ufeff" + src) == key_positions(src)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents, st.randoms(use_true_random=False), st.data())
def test_damaged_valid_documents_never_raise(data, rnd, draw):
    src = Emitter(rnd).document(data, crlf=rnd.random() < 0.3)
    assume(src)
    cut = draw.draw(st.integers(0, len(src)))
    junk = draw.draw(toml_ish)
    for damaged in (src[:cut], src[:cut] + junk + src[cut:], src[:cut] + src[cut + 1 :]):
        check_result_shape(damaged, key_positions(damaged))


# ---------------------------------------------------------------------------------------------
# The project's own TOML files


ROOT = Path(__file__).resolve().parent.parent
PROJECT_TOML = sorted(
    p.relative_to(ROOT).as_posix()
    for pattern in ("scenarios/**/*.toml", "scoring/**/*.toml", "simulator/**/*.toml", "tests/**/*.toml")
    for p in ROOT.glob(pattern)
)


@pytest.mark.parametrize("name", PROJECT_TOML or ["<none>"])
def test_project_toml_files_have_exactly_their_paths(name):
    if name == "<none>":
        pytest.skip("no TOML files in the project")
    src = (ROOT / name).read_text(encoding="utf-8-sig")
    pos = key_positions(src)
    try:
        data = tomllib.loads(src)
    except tomllib.TOMLDecodeError:
        check_result_shape(src, pos)  # a deliberately broken file: just must not fail
        return
    assert set(pos) == set(all_paths(data))
