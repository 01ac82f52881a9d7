"""The condition language: a small, safe expression language for scenario files.

Scenario files hold conditions such as::

    dealer.wang.weeks_of_cover > 3 and events.diversion > 0
    visited("check_stock") and not chose("call.push_hard")
    max(dealer.wang.stock, dealer.li.stock) / 2 >= 100

A scenario file must never be able to run code, so this module has its own tokenizer and
recursive-descent parser. It never calls ``eval``/``exec``/``compile`` or the ``ast`` module.
Names are looked up in a fixed table of declared state paths (``Scope.names``); calls are
limited to a fixed list of functions; everything is type-checked when the scenario loads.

``compile_condition`` never raises for any input string: every problem comes back as a
``Diagnostic`` (codes DS0301..DS0306) whose ``col`` is the 1-based column in the condition
string (newlines count as one character). ``Condition.evaluate`` never raises and never returns
NaN or infinity: division or modulo by zero gives 0.0 and any non-finite number becomes 0.0.

docs/CONDITIONS.md is the authors' guide to this language.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping, Protocol

from simulator.diagnostics import Diagnostic, did_you_mean

__all__ = [
    "Type",
    "Scope",
    "EvalContext",
    "Condition",
    "compile_condition",
    "FUNCTIONS",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "MAX_NUMBER",
    "MAX_EXPONENT",
    "is_valid_name",
]

Type = Literal["number", "bool"]

MAX_LENGTH = 500  # characters in one condition
MAX_DEPTH = 32  # nesting of parentheses, unary operators and function calls
MAX_TOKENS = 200  # numbers, names, operators, parentheses, ...
MAX_NUMBER = 1e12  # largest absolute value of a number written in a condition
MAX_EXPONENT = 8  # largest absolute value of the exponent of '**'
MAX_DIAGNOSTICS = 10  # per condition; keeps compile time bounded and the report readable
SUGGESTION_BUDGET = 1000  # "did you mean" comparisons per condition (~30 µs each): bounds compile time

# name -> (argument kind, result type). Argument kinds: "step", "choice" (one string literal
# checked against the scope), "numbers" (two or more numbers), "number" (exactly one number).
FUNCTIONS: Mapping[str, tuple[str, Type]] = MappingProxyType(
    {
        "visited": ("step", "bool"),
        "turns_since": ("step", "number"),
        "chose": ("choice", "bool"),
        "min": ("numbers", "number"),
        "max": ("numbers", "number"),
        "abs": ("number", "number"),
    }
)
_FUNCTION_LIST = "visited(), turns_since(), chose(), min(), max(), abs()"

_TYPE_WORDS = {"number": "a number", "bool": "true/false"}


def is_valid_name(path: str) -> bool:
    """Whether a condition can refer to ``path``: identifiers joined by '.', no '__', no keywords.

    The loader can use this to reject dealer/variable ids that could never be named in a condition.
    """
    parts = path.split(".")
    if not all(_IDENT_RE.fullmatch(part) and "__" not in part for part in parts):
        return False
    if len(parts) == 1:  # a bare word must not read as a keyword
        return not (path in _WORDS or keyword.iskeyword(path) or path.lower() in ("and", "or", "not"))
    return True


# --------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class Scope:
    """What a condition may refer to. Built by the scenario loader."""

    names: Mapping[str, str]  # declared state paths -> "number" | "bool"
    steps: frozenset[str] = frozenset()  # valid arguments of visited() / turns_since()
    choices: frozenset[str] = frozenset()  # valid "step_id.choice_id" arguments of chose()

    def __post_init__(self) -> None:
        names = dict(self.names)
        for name, kind in names.items():
            if kind not in _TYPE_WORDS:  # a loader bug, not a user error
                raise ValueError(f"scope name {name!r} has type {kind!r}; expected 'number' or 'bool'")
        object.__setattr__(self, "names", MappingProxyType(names))
        object.__setattr__(self, "steps", frozenset(self.steps))
        object.__setattr__(self, "choices", frozenset(self.choices))

    def __hash__(self) -> int:
        return hash((frozenset(self.names.items()), self.steps, self.choices))

    def __reduce__(self):  # MappingProxyType cannot be pickled
        return (Scope, (dict(self.names), self.steps, self.choices))


class EvalContext(Protocol):
    def value(self, name: str) -> float | bool: ...

    def visited(self, step: str) -> bool: ...

    def turns_since(self, step: str) -> float: ...  # decisions since last entered; 1e9 if never

    def chose(self, choice: str) -> bool: ...


_Fn = Callable[[Any], Any]


@dataclass(frozen=True)
class Condition:
    """A compiled, immutable condition. Only ``compile_condition`` makes these."""

    source: str
    type: Type
    names: frozenset[str]  # state paths it reads
    steps: frozenset[str]  # step ids mentioned in visited() / turns_since()
    choices: frozenset[str]  # "step.choice" ids mentioned in chose()
    _name_types: tuple[tuple[str, str], ...] = field(repr=False)
    _fn: _Fn = field(repr=False, compare=False)

    @property
    def name_types(self) -> tuple[tuple[str, str], ...]:
        """(state path, its type) for every name the condition reads, as it was compiled."""
        return self._name_types

    def evaluate(self, ctx: EvalContext) -> bool | float:
        """The value of the condition in ``ctx``. Never raises; never NaN or infinity.

        If the context itself raises, the result is False (or 0.0 for a number condition).
        """
        try:
            result = self._fn(ctx)
        except Exception:
            return False if self.type == "bool" else 0.0
        if self.type == "bool":
            return result is True
        return result

    def __reduce__(self):  # closures cannot be pickled: recompile from the source instead
        return (_restore, (self.source, self.type, self._name_types, self.steps, self.choices))


def _restore(source: str, want: Type, name_types, steps, choices) -> Condition:
    cond, diags = compile_condition(source, Scope(dict(name_types), steps, choices), want=want)
    if cond is None:  # only possible if the pickle was tampered with
        raise ValueError(f"cannot restore condition {source!r}: {diags[0].message}")
    return cond


# --------------------------------------------------------------------------------------------
# Errors


class _Stop(Exception):
    """Internal: a problem that ends compilation at once (syntax errors and size limits)."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def _stop(code: str, message: str, hint: str, col: int) -> _Stop:
    return _Stop(Diagnostic.make(code, message, hint, col=col))


def _suggestion(word: str, candidates) -> str:
    """"did you mean 'x'?" or ""."""
    return did_you_mean(word, candidates).removeprefix(" — ")


def _listing(items, limit: int = 6, *, count_rest: bool = True) -> str:
    items = sorted(items)
    shown = ", ".join(f"'{x}'" for x in items[:limit])
    return shown + (f" and {len(items) - limit} more" if count_rest and len(items) > limit else "")


def _excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# Tokenizer

_DIGITS = frozenset("0123456789")
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_IDENT_CHARS = _IDENT_START | _DIGITS
_WHITESPACE = frozenset(" \t\r\n")
_DIGITS_RE = r"[0-9](?:_?[0-9])*"
_NUMBER_RE = re.compile(rf"(?:{_DIGITS_RE}(?:\.(?:{_DIGITS_RE})?)?|\.{_DIGITS_RE})(?:[eE][+-]?{_DIGITS_RE})?")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORDS = {"and": "and", "or": "or", "not": "not", "true": "true", "false": "false", "True": "true", "False": "false"}
_OPERATORS_2 = frozenset({"**", "<=", ">=", "==", "!="})
_OPERATORS_1 = frozenset("+-*/%<>(),")
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})

# Two-character sequences and characters that are not operators here, with what to do instead.
_WRONG_2 = {
    "&&": ("'&&' is not an operator in conditions", "use 'and'"),
    "||": ("'||' is not an operator in conditions", "use 'or'"),
    "<>": ("'<>' is not an operator in conditions", "use '!=' for 'not equal'"),
    "=>": ("'=>' is not an operator in conditions", "use '>='"),
    "=<": ("'=<' is not an operator in conditions", "use '<='"),
    ":=": ("assignment ':=' is not allowed in a condition", "conditions only read values; to compare, use '=='"),
    "//": ("'//' is not an operator in conditions", "use '/' (division)"),
}
_WRONG_1 = {
    "=": ("a single '=' is not allowed in a condition", "use '==' to compare"),
    "!": ("'!' is not an operator in conditions", "use 'not'"),
    "&": ("'&' is not an operator in conditions", "use 'and'"),
    "|": ("'|' is not an operator in conditions", "use 'or'"),
    "^": ("'^' is not an operator in conditions", "use '**' for powers, e.g. x ** 2"),
    "~": ("'~' is not an operator in conditions", "use 'not' or '-'"),
    "[": ("square brackets are not allowed in a condition", "use parentheses ( ) to group"),
    "]": ("square brackets are not allowed in a condition", "use parentheses ( ) to group"),
    "{": ("braces are not allowed in a condition", "use parentheses ( ) to group"),
    "}": ("braces are not allowed in a condition", "use parentheses ( ) to group"),
    ";": ("';' is not allowed in a condition", "write one condition; join parts with 'and' or 'or'"),
    ":": ("':' is not allowed in a condition", "conditions cannot define functions, slices or tables"),
    "#": ("'#' is not allowed in a condition", "comments belong outside the quotes, on their own TOML line"),
    "`": ("backticks are not allowed in a condition", "remove the backticks"),
    "\\": ("a backslash is not allowed in a condition", "remove it"),
    "@": ("'@' is not an operator in conditions", "use '*' to multiply"),
    "$": ("'$' is not allowed in a condition", "remove it; names are written plainly, e.g. var.checked"),
    "?": ("'?' is not allowed in a condition", "conditions cannot choose between values; combine them with 'and'/'or'"),
}
# Characters a Chinese input method or a word processor produces instead of the ASCII ones.
_LOOKALIKES = {
    "（": "(", "）": ")", "，": ",", "“": '"', "”": '"', "‘": "'", "’": "'", "＞": ">", "＜": "<",
    "＝": "==", "！": "not", "≥": ">=", "≤": "<=", "≠": "!=", "×": "*", "÷": "/", "－": "-",
    "＋": "+", "＊": "*", "／": "/", "％": "%", "．": ".", "。": ".", "＆": "and", "｜": "or",
}
_RESERVED_HINTS = {
    "if": "conditions cannot choose between values; combine conditions with 'and'/'or'",
    "else": "conditions cannot choose between values; combine conditions with 'and'/'or'",
    "is": "use '==' to compare",
    "in": "compare with '==' and join the comparisons with 'or'",
    "None": "there is no 'None'; use a number or true/false",
    "lambda": "conditions cannot define functions",
}


class _Tok:
    __slots__ = ("kind", "text", "start", "end", "value")

    def __init__(self, kind: str, text: str, start: int, end: int, value: Any = None):
        self.kind = kind  # "num" | "str" | "name" | "kw" | "op" | "end"
        self.text = text
        self.start = start  # 0-based index into the source
        self.end = end
        self.value = value

    @property
    def col(self) -> int:
        return self.start + 1

    def shown(self) -> str:
        return "the end of the condition" if self.kind == "end" else f"'{_excerpt(self.text, 30)}'"


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    n = len(src)
    i = 0
    while True:
        while i < n and src[i] in _WHITESPACE:
            i += 1
        if i >= n:
            toks.append(_Tok("end", "", n, n))
            return toks
        if len(toks) >= MAX_TOKENS:
            raise _stop(
                "DS0305",
                f"the condition has more than {MAX_TOKENS} parts (numbers, names, operators)",
                "split it: compute part of it in a scenario variable, or simplify it",
                i + 1,
            )
        c = src[i]
        if c in _DIGITS or (c == "." and i + 1 < n and src[i + 1] in _DIGITS):
            toks.append(_number(src, i))
        elif c in _IDENT_START:
            toks.append(_word(src, i))
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                if src[j] in "\\\r\n":
                    raise _stop(
                        "DS0301",
                        "backslashes and line breaks are not allowed inside quotes",
                        "write the step or choice id plainly, e.g. \"check_stock\"",
                        j + 1,
                    )
                j += 1
            if j >= n:
                raise _stop("DS0301", "text in quotes is never closed", f"add the closing {c}", i + 1)
            toks.append(_Tok("str", src[i : j + 1], i, j + 1, src[i + 1 : j]))
        else:
            two = src[i : i + 2]
            if two in _OPERATORS_2:
                toks.append(_Tok("op", two, i, i + 2))
            elif two in _WRONG_2:
                raise _stop("DS0301", *_WRONG_2[two], i + 1)
            elif c in _OPERATORS_1:
                toks.append(_Tok("op", c, i, i + 1))
            elif c == ".":
                toks.append(_Tok("op", ".", i, i + 1))  # the parser explains why it is wrong here
            elif c in _WRONG_1:
                raise _stop("DS0301", *_WRONG_1[c], i + 1)
            elif c in _LOOKALIKES:
                raise _stop(
                    "DS0301",
                    f"the character '{c}' is not allowed in a condition",
                    f"replace it with '{_LOOKALIKES[c]}' (switch the keyboard to half-width/English input)",
                    i + 1,
                )
            elif c.isspace():
                raise _stop("DS0301", f"unusual space character {c!r}", "replace it with a normal space", i + 1)
            else:
                raise _stop(
                    "DS0301",
                    f"the character {c!r} is not allowed in a condition",
                    "conditions use names, numbers, true/false, operators like > and 'and', and ( )",
                    i + 1,
                )
        i = toks[-1].end


def _number(src: str, i: int) -> _Tok:
    n = len(src)
    m = _NUMBER_RE.match(src, i)
    j = m.end() if m else i
    if j == i or (j < n and (src[j] in _IDENT_CHARS or src[j] == ".")):
        k = max(j, i + 1)
        while k < n and (src[k] in _IDENT_CHARS or src[k] == "."):
            k += 1
        raise _stop(
            "DS0301",
            f"'{_excerpt(src[i:k], 30)}' is not a valid number",
            "write numbers like 3, 1.5, .5, 1e3 or 1_000 (decimal only); put an operator between a number and a name",
            i + 1,
        )
    text = src[i:j]
    value = float(text.replace("_", ""))
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise _stop(
            "DS0305",
            f"the number {_excerpt(text, 30)} is too large",
            "numbers in conditions must be between -1e12 and 1e12",
            i + 1,
        )
    return _Tok("num", text, i, j, value)


def _word(src: str, i: int) -> _Tok:
    """A keyword or a dotted name such as dealer.wang.stock (no spaces around the dots)."""
    n = len(src)
    segments: list[tuple[int, int]] = []
    j = i
    while True:
        m = _IDENT_RE.match(src, j)
        segments.append((j, m.end()))
        j = m.end()
        if j < n and src[j] == ".":
            if j + 1 < n and src[j + 1] in _IDENT_START:
                j += 1
                continue
            raise _stop(
                "DS0301",
                "a '.' in a name must be followed by the next part of the name",
                "names look like dealer.wang.stock, with no spaces and no trailing '.'",
                j + 1,
            )
        break
    text = src[i:j]
    for a, b in segments:
        if "__" in src[a:b]:
            raise _stop(
                "DS0302",
                f"names containing '__' are not allowed ('{_excerpt(src[a:b], 30)}')",
                "use one of the names the scenario declares, e.g. dealer.<id>.<field> or var.<name>",
                a + 1,
            )
    if j < n and src[j] in "\"'":
        raise _stop(
            "DS0301",
            f"'{_excerpt(text, 20)}' directly before a quote is not allowed (no f-strings or string prefixes)",
            "quoted text is only used as the argument of visited(), turns_since() or chose()",
            i + 1,
        )
    if text in _WORDS:
        return _Tok("kw", _WORDS[text], i, j)
    if len(segments) == 1:
        if text.lower() in ("and", "or", "not"):
            raise _stop("DS0301", f"'{text}' must be written in lower case", f"write '{text.lower()}'", i + 1)
        if keyword.iskeyword(text):
            raise _stop(
                "DS0301",
                f"'{text}' is not part of the condition language",
                _RESERVED_HINTS.get(text, "conditions only compare and combine values; see docs/CONDITIONS.md"),
                i + 1,
            )
    return _Tok("name", text, i, j)


# --------------------------------------------------------------------------------------------
# Syntax tree


class _Node:
    __slots__ = ("kind", "start", "end", "value", "op", "items", "ops")

    def __init__(self, kind: str, start: int, end: int, *, value=None, op=None, items=(), ops=()):
        self.kind = kind  # "num" "bool" "str" "name" "neg" "not" "and" "or" "arith" "cmp" "pow" "call"
        self.start = start
        self.end = end
        self.value = value  # literal value, name path or function name
        self.op = op  # operator token for "pow"/"neg"/"not"
        self.items = items  # operands / arguments
        self.ops = ops  # operator tokens between items ("arith", "cmp", "and", "or")

    @property
    def col(self) -> int:
        return self.start + 1


class _Parser:
    """Recursive descent; precedence low -> high: or, and, not, comparison, + -, * / %, unary -, **."""

    def __init__(self, src: str, toks: list[_Tok]):
        self.src = src
        self.toks = toks
        self.pos = 0
        self.depth = 0

    # helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.pos]

    def is_op(self, *texts: str) -> bool:
        t = self.toks[self.pos]
        return t.kind == "op" and t.text in texts

    def is_kw(self, text: str) -> bool:
        t = self.toks[self.pos]
        return t.kind == "kw" and t.text == text

    def advance(self) -> _Tok:
        t = self.toks[self.pos]
        self.pos += 1
        return t

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _stop(
                "DS0305",
                f"the condition is nested more than {MAX_DEPTH} levels deep",
                "remove unneeded parentheses or repeated 'not'/'-', or split the condition",
                tok.col,
            )

    # grammar
    def parse(self) -> _Node:
        if self.tok.kind == "end":
            raise _stop(
                "DS0301",
                "the condition is empty",
                "write a condition such as visited(\"check_stock\"), or true",
                1,
            )
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.unexpected()
        return node

    def parse_or(self) -> _Node:
        return self.bool_chain("or", self.parse_and)

    def parse_and(self) -> _Node:
        return self.bool_chain("and", self.parse_not)

    def bool_chain(self, word: str, sub: Callable[[], _Node]) -> _Node:
        items = [sub()]
        ops = []
        while self.is_kw(word):
            ops.append(self.advance())
            items.append(sub())
        if len(items) == 1:
            return items[0]
        return _Node(word, items[0].start, items[-1].end, items=items, ops=ops)

    def parse_not(self) -> _Node:
        if self.is_kw("not"):
            op = self.advance()
            self.enter(op)
            operand = self.parse_not()
            self.depth -= 1
            return _Node("not", op.start, operand.end, op=op, items=(operand,))
        return self.parse_comparison()

    def parse_comparison(self) -> _Node:
        items = [self.parse_sum()]
        ops = []
        while self.tok.kind == "op" and self.tok.text in _COMPARISONS:
            ops.append(self.advance())
            items.append(self.parse_sum())
        if not ops:
            return items[0]
        return _Node("cmp", items[0].start, items[-1].end, items=items, ops=ops)

    def parse_sum(self) -> _Node:
        return self.arith_chain(("+", "-"), self.parse_product)

    def parse_product(self) -> _Node:
        return self.arith_chain(("*", "/", "%"), self.parse_unary)

    def arith_chain(self, texts: tuple[str, ...], sub: Callable[[], _Node]) -> _Node:
        items = [sub()]
        ops = []
        while self.is_op(*texts):
            ops.append(self.advance())
            items.append(sub())
        if not ops:
            return items[0]
        return _Node("arith", items[0].start, items[-1].end, items=items, ops=ops)

    def parse_unary(self) -> _Node:
        if self.is_op("-"):
            op = self.advance()
            self.enter(op)
            operand = self.parse_unary()
            self.depth -= 1
            return _Node("neg", op.start, operand.end, op=op, items=(operand,))
        return self.parse_power()

    def parse_power(self) -> _Node:
        base = self.parse_atom()
        if self.is_op("**"):
            op = self.advance()
            exponent = self.parse_unary()  # right-associative, like Python: 2 ** -1, -2 ** 2 == -4
            return _Node("pow", base.start, exponent.end, op=op, items=(base, exponent))
        return base

    def parse_atom(self) -> _Node:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            node = _Node("num", tok.start, tok.end, value=tok.value)
        elif tok.kind == "kw" and tok.text in ("true", "false"):
            self.advance()
            node = _Node("bool", tok.start, tok.end, value=tok.text == "true")
        elif tok.kind == "name":
            self.advance()
            if self.is_op("("):
                node = self.parse_call(tok)
            else:
                node = _Node("name", tok.start, tok.end, value=tok.text)
        elif tok.kind == "op" and tok.text == "(":
            self.advance()
            self.enter(tok)
            inner = self.parse_or()
            if not self.is_op(")"):
                if self.tok.kind == "end":
                    raise _stop("DS0301", "this '(' is never closed", "add the missing ')'", tok.col)
                raise _stop(
                    "DS0301",
                    f"expected ')' but found {self.tok.shown()}",
                    "is an operator such as 'and' or '+' missing, or a ')'?",
                    self.tok.col,
                )
            close = self.advance()
            self.depth -= 1
            # the same node, its span widened to the parentheses so messages quote what was written
            node = _Node(
                inner.kind, tok.start, close.end, value=inner.value, op=inner.op, items=inner.items, ops=inner.ops
            )
        elif tok.kind == "str":
            raise _stop(
                "DS0301",
                "text in quotes can only be the argument of visited(), turns_since() or chose()",
                "compare numbers or true/false values; text cannot be computed with",
                tok.col,
            )
        else:
            raise self.expected_value()
        # nothing may follow a value except an operator
        if self.is_op("."):
            raise _stop(
                "DS0301",
                "'.' can only join the parts of a declared name, like dealer.wang.stock",
                "write the whole name without spaces; parts of results or of (...) cannot be read",
                self.tok.col,
            )
        if self.is_op("("):
            raise _stop(
                "DS0301",
                f"{_excerpt(self.src[node.start:node.end], 30)} cannot be called",
                f"only these functions can be called: {_FUNCTION_LIST}",
                self.tok.col,
            )
        return node

    def parse_call(self, name: _Tok) -> _Node:
        if "." in name.text:
            raise _stop(
                "DS0301",
                f"'{_excerpt(name.text, 30)}' is a name, not a function, and cannot be called",
                f"only these functions can be called: {_FUNCTION_LIST}",
                self.tok.col,
            )
        open_ = self.advance()
        self.enter(open_)
        args: list[_Node] = []
        if not self.is_op(")"):
            while True:
                tok = self.tok
                if tok.kind == "str" and self.toks[self.pos + 1].kind == "op" and self.toks[self.pos + 1].text in ",)":
                    self.advance()
                    args.append(_Node("str", tok.start, tok.end, value=tok.value))
                else:
                    args.append(self.parse_or())
                if self.is_op(","):
                    comma = self.advance()
                    if self.is_op(")"):
                        raise _stop("DS0301", f"a value is missing after the last ',' in {name.text}()",
                                    "remove the trailing ','", comma.col)
                    continue
                if self.is_op(")"):
                    break
                if self.tok.kind == "end":
                    raise _stop(
                        "DS0301", f"the '(' after {name.text} is never closed", "add the missing ')'", open_.col
                    )
                raise _stop(
                    "DS0301",
                    f"expected ',' or ')' in the arguments of {name.text}() but found {self.tok.shown()}",
                    "separate arguments with ',' and close the call with ')'",
                    self.tok.col,
                )
        close = self.advance()
        self.depth -= 1
        return _Node("call", name.start, close.end, value=name.text, op=name, items=args)

    # error messages
    def previous(self) -> _Tok | None:
        return self.toks[self.pos - 1] if self.pos > 0 else None

    def expected_value(self) -> _Stop:
        tok = self.tok
        prev = self.previous()
        if tok.kind == "end":
            after = f"after '{prev.text}'" if prev else ""
            return _stop("DS0301", f"the condition ends too early: a value is missing {after}".strip(),
                         "complete the condition, e.g. dealer.wang.stock > 0", tok.col)
        if tok.kind == "kw" and tok.text in ("and", "or"):
            return _stop("DS0301", f"a value is missing before '{tok.text}'",
                         f"'{tok.text}' joins two conditions: write one on each side", tok.col)
        if tok.kind == "kw" and tok.text == "not":
            return _stop("DS0301", "'not' cannot be used here",
                         "put 'not' before a whole comparison, or use parentheses: x == (not y)", tok.col)
        if tok.kind == "op" and tok.text == "+":
            return _stop("DS0301", "a value cannot start with '+'", "remove the '+'", tok.col)
        if tok.kind == "op" and tok.text == ")":
            return _stop("DS0301", "a value is missing before ')'",
                         "write something inside the parentheses, or remove them", tok.col)
        if tok.kind == "op" and tok.text == ".":
            return _stop("DS0301", "a value cannot start with '.'",
                         "names look like dealer.wang.stock; numbers like 0.5", tok.col)
        return _stop("DS0301", f"a value is missing before {tok.shown()}",
                     "two operators in a row? write a number, name or (...) between them", tok.col)

    def unexpected(self) -> _Stop:
        tok = self.tok
        if tok.kind == "op" and tok.text == ")":
            return _stop(
                "DS0301", "this ')' has no matching '('", "remove it, or add '(' where the group starts", tok.col
            )
        if tok.kind == "op" and tok.text == ",":
            return _stop("DS0301", "',' is only allowed between the arguments of a function",
                         "to combine conditions use 'and' or 'or'", tok.col)
        return _stop(
            "DS0301",
            f"unexpected {tok.shown()} after a complete value",
            "is an operator missing? join conditions with 'and'/'or', or compare with '>', '==', ...",
            tok.col,
        )


# --------------------------------------------------------------------------------------------
# Type checking and name resolution


def _literal_number(node: _Node) -> float | None:
    sign = 1.0
    while node.kind == "neg":
        sign = -sign
        node = node.items[0]
    return sign * node.value if node.kind == "num" else None


class _Checker:
    def __init__(self, src: str, scope: Scope):
        self.src = src
        self.scope = scope
        self.diags: list[Diagnostic] = []
        self.reported_names: set[str] = set()
        self.budget = SUGGESTION_BUDGET
        self.names: dict[str, str] = {}
        self.steps: set[str] = set()
        self.choices: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self.diags) >= MAX_DIAGNOSTICS

    def error(self, code: str, message: str, hint: str, col: int) -> None:
        if not self.full:
            self.diags.append(Diagnostic.make(code, message, hint, col=col))

    def closest(self, word: str, candidates) -> str | None:
        """The closest candidate (same rule as diagnostics.did_you_mean), within the per-condition budget."""
        if word in candidates:
            return word
        if not candidates or len(candidates) > self.budget:
            return None
        self.budget -= len(candidates)
        match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
        return match[0] if match else None

    def closest_dotted(self, word: str, candidates) -> str | None:
        """Closest dotted name: part by part first (cheap even for thousands of names), then whole."""
        if word in candidates:
            return word
        parts = word.split(".")
        pool = [c.split(".") for c in candidates if c.count(".") == len(parts) - 1]
        chosen: list[str] = []
        for i, part in enumerate(parts):
            options = {p[i] for p in pool}
            pick = part if part in options else self.closest(part, options)
            if pick is None:
                break
            chosen.append(pick)
            pool = [p for p in pool if p[i] == pick]
        else:
            return ".".join(chosen)  # the pool is never empty here, so this is a candidate
        return self.closest(word, candidates)

    def text(self, node: _Node) -> str:
        return _excerpt(self.src[node.start : node.end])

    def need_bool(self, node: _Node, t: Type | None, what: str) -> None:
        if t == "number":
            self.error("DS0304", f"{what} needs true/false, but `{self.text(node)}` is a number",
                       f"compare it, e.g. `{self.text(node)} > 0`", node.col)

    def need_number(self, node: _Node, t: Type | None, what: str) -> None:
        if t == "bool":
            self.error("DS0304", f"{what} needs numbers, but `{self.text(node)}` is true/false",
                       "true/false values cannot be used in arithmetic or with < <= > >=; "
                       "compare them with == or !=", node.col)

    def check(self, node: _Node) -> Type | None:
        kind = node.kind
        if kind == "num":
            return "number"
        if kind == "bool":
            return "bool"
        if kind == "name":
            return self.name(node)
        if kind == "not":
            operand = node.items[0]
            self.need_bool(operand, self.check(operand), "'not'")
            return "bool"
        if kind == "neg":
            operand = node.items[0]
            self.need_number(operand, self.check(operand), "'-'")
            return "number"
        if kind in ("and", "or"):
            for item in node.items:
                self.need_bool(item, self.check(item), f"'{kind}'")
            return "bool"
        if kind == "arith":
            for i, item in enumerate(node.items):
                op = node.ops[i - 1] if i else node.ops[0]
                self.need_number(item, self.check(item), f"'{op.text}'")
            return "number"
        if kind == "cmp":
            return self.comparison(node)
        if kind == "pow":
            return self.power(node)
        if kind == "call":
            return self.call(node)
        if kind == "str":  # the parser only makes these as call arguments
            self.error("DS0301", "text in quotes can only be the argument of visited(), turns_since() or chose()",
                       "compare numbers or true/false values instead", node.col)
            return None
        raise AssertionError(kind)  # pragma: no cover

    def name(self, node: _Node) -> Type | None:
        path = node.value
        t = self.scope.names.get(path)
        if t is not None:
            self.names[path] = t
            return t  # type: ignore[return-value]
        if path not in self.reported_names and not self.full:
            self.reported_names.add(path)
            self.error("DS0302", f"unknown name '{_excerpt(path, 60)}'", self.name_hint(path), node.col)
        return None

    def name_hint(self, path: str) -> str:
        names = self.scope.names
        if path in FUNCTIONS:
            return f"{path} is a function: write it with parentheses, e.g. {path}(...)"
        if path.lower() in ("true", "false"):
            return f"write '{path.lower()}' in lower case"
        same = sorted(n for n in names if n.lower() == path.lower())
        if same:
            return f"did you mean '{same[0]}'?"
        longer = sorted(n for n in names if n.startswith(path + "."))
        if longer:  # dealer.wang instead of dealer.wang.stock
            parts = " or ".join(f"'{n}'" for n in longer[:3])
            return f"'{_excerpt(path, 40)}' is not a value by itself; name one of its parts, e.g. {parts}"
        pick = self.closest_dotted(path, names)
        if pick:
            return f"did you mean '{pick}'?"
        ends = sorted(n for n in names if n.endswith("." + path))
        if ends:  # stock instead of dealer.wang.stock
            return "did you mean " + " or ".join(f"'{n}'" for n in ends[:3]) + "?"
        if names:
            return f"use a name the scenario declares, e.g. {_listing(names, 3, count_rest=False)}"
        return "this scenario declares no names that conditions can read"

    def comparison(self, node: _Node) -> Type:
        types = [self.check(item) for item in node.items]
        bad_reported: set[int] = set()
        for i, op in enumerate(node.ops):
            left, right = node.items[i], node.items[i + 1]
            lt, rt = types[i], types[i + 1]
            if op.text in ("==", "!="):
                if lt is not None and rt is not None and lt != rt:
                    self.error(
                        "DS0304",
                        f"'{op.text}' compares {_TYPE_WORDS[lt]} with {_TYPE_WORDS[rt]}",
                        f"both sides of '{op.text}' must be numbers, or both true/false",
                        op.col,
                    )
            else:
                for idx, item, t in ((i, left, lt), (i + 1, right, rt)):
                    if t == "bool" and idx not in bad_reported:
                        bad_reported.add(idx)
                        self.error(
                            "DS0304",
                            f"'{op.text}' compares numbers, but `{self.text(item)}` is true/false",
                            "use the true/false value directly, or compare it with == or !=",
                            item.col,
                        )
        return "bool"

    def power(self, node: _Node) -> Type:
        base, exponent = node.items
        self.need_number(base, self.check(base), "'**'")
        value = _literal_number(exponent)
        if value is None or abs(value) > MAX_EXPONENT:
            self.error(
                "DS0305",
                f"the exponent `{self.text(exponent)}` of '**' is not allowed",
                f"exponents must be a number between -{MAX_EXPONENT} and {MAX_EXPONENT}",
                exponent.col,
            )
        return "number"

    def call(self, node: _Node) -> Type | None:
        fname: str = node.value
        args: tuple[_Node, ...] | list[_Node] = node.items
        spec = FUNCTIONS.get(fname)
        if spec is None:
            suggestion = _suggestion(fname, FUNCTIONS)
            self.error(
                "DS0303",
                f"unknown function '{_excerpt(fname, 40)}'",
                (suggestion + " " if suggestion else "") + f"available functions: {_FUNCTION_LIST}",
                node.col,
            )
            for arg in args:
                if arg.kind != "str":
                    self.check(arg)
            return None
        kind, result = spec
        if kind in ("step", "choice"):
            self.string_argument(node, fname, kind, args)
            return result
        if kind == "numbers" and len(args) < 2:
            self.error("DS0306", f"{fname}() needs at least two numbers, but got {len(args)}",
                       f"e.g. {fname}(dealer.wang.stock, dealer.li.stock)", node.col)
        if kind == "number" and len(args) != 1:
            self.error("DS0306", f"{fname}() needs exactly one number, but got {len(args)}",
                       f"e.g. {fname}(dealer.wang.stock - 100)", node.col)
        for n, arg in enumerate(args, 1):
            if arg.kind == "str":
                self.error("DS0306", f"{fname}() needs numbers, but argument {n} is text in quotes",
                           "remove the quotes if it is a name, e.g. dealer.wang.stock", arg.col)
                continue
            if self.check(arg) == "bool":
                self.error("DS0306", f"{fname}() needs numbers, but argument {n} `{self.text(arg)}` is true/false",
                           "pass numbers, e.g. dealer.wang.stock", arg.col)
        return result

    def string_argument(self, node: _Node, fname: str, kind: str, args) -> None:
        what = "a step id" if kind == "step" else 'a choice id ("step_id.choice_id")'
        example = f'{fname}("check_stock")' if kind == "step" else f'{fname}("call.push_hard")'
        if len(args) != 1:
            self.error("DS0306", f"{fname}() needs exactly one argument, {what}, but got {len(args)}",
                       f"e.g. {example}", node.col)
            for arg in args:
                if arg.kind != "str":
                    self.check(arg)
            return
        arg = args[0]
        if arg.kind != "str":
            self.error("DS0306", f"{fname}() needs {what} in quotes",
                       f'write {fname}("{self.text(arg)}")' if arg.kind == "name" else f"e.g. {example}", arg.col)
            return
        value = arg.value
        valid = self.scope.steps if kind == "step" else self.scope.choices
        if value in valid:
            (self.steps if kind == "step" else self.choices).add(value)
            return
        if self.full:
            return
        noun = "step" if kind == "step" else "choice"
        pick = self.closest(value, valid) if kind == "step" else self.closest_dotted(value, valid)
        hint = f"did you mean '{pick}'?" if pick else ""
        if not hint:
            if kind == "choice" and "." not in value:
                hint = 'write the step id, a dot and the choice id, e.g. "call.push_hard"'
            elif valid:
                hint = f"the {noun}s are: {_listing(valid)}"
            else:
                hint = f"this scenario has no {noun}s that can be named here"
        self.error("DS0306", f"unknown {noun} '{_excerpt(value, 60)}' in {fname}()", hint, arg.col)


# --------------------------------------------------------------------------------------------
# Code generation: a tree of small closures. Every number-producing closure returns a finite float.

_isfinite = math.isfinite


def _finite(x: float) -> float:
    return x if _isfinite(x) else 0.0


def _as_number(v: Any) -> float:
    try:
        x = float(v)
    except (OverflowError, ValueError, TypeError):
        return 0.0
    return x if _isfinite(x) else 0.0


def _div(a: float, b: float) -> float:
    if b == 0.0:
        return 0.0
    x = a / b
    return x if _isfinite(x) else 0.0


def _mod(a: float, b: float) -> float:
    if b == 0.0:
        return 0.0
    x = a % b
    return x if _isfinite(x) else 0.0


def _power(a: float, k: float) -> float:
    if a < 0.0 and k != int(k):
        return 0.0  # would be a complex number
    try:
        x = a**k
    except (OverflowError, ZeroDivisionError):
        return 0.0
    return x if _isfinite(x) else 0.0


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: _finite(a + b),
    "-": lambda a, b: _finite(a - b),
    "*": lambda a, b: _finite(a * b),
    "/": _div,
    "%": _mod,
}
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _gen(node: _Node, scope: Scope) -> _Fn:
    kind = node.kind
    if kind in ("num", "bool"):
        value = float(node.value) if kind == "num" else bool(node.value)
        return lambda ctx: value
    if kind == "name":
        path = node.value
        if scope.names[path] == "bool":
            return lambda ctx: bool(ctx.value(path))
        return lambda ctx: _as_number(ctx.value(path))
    if kind == "not":
        f = _gen(node.items[0], scope)
        return lambda ctx: not f(ctx)
    if kind == "neg":
        f = _gen(node.items[0], scope)
        return lambda ctx: 0.0 - f(ctx)
    if kind == "and":
        fs = tuple(_gen(item, scope) for item in node.items)
        if len(fs) == 2:
            f, g = fs
            return lambda ctx: f(ctx) and g(ctx)
        return lambda ctx: all(f(ctx) for f in fs)
    if kind == "or":
        fs = tuple(_gen(item, scope) for item in node.items)
        if len(fs) == 2:
            f, g = fs
            return lambda ctx: f(ctx) or g(ctx)
        return lambda ctx: any(f(ctx) for f in fs)
    if kind == "arith":
        first = _gen(node.items[0], scope)
        rest = tuple((_ARITH[op.text], _gen(item, scope)) for op, item in zip(node.ops, node.items[1:]))
        if len(rest) == 1:
            (op, g), f = rest[0], first
            return lambda ctx: op(f(ctx), g(ctx))

        def arith(ctx):
            acc = first(ctx)
            for op, g in rest:
                acc = op(acc, g(ctx))
            return acc

        return arith
    if kind == "cmp":
        first = _gen(node.items[0], scope)
        rest = tuple((_CMP[op.text], _gen(item, scope)) for op, item in zip(node.ops, node.items[1:]))
        if len(rest) == 1:
            (op, g), f = rest[0], first
            return lambda ctx: op(f(ctx), g(ctx))

        def chain(ctx):  # like Python: 1 < x < 3 means 1 < x and x < 3, x read once
            left = first(ctx)
            for op, g in rest:
                right = g(ctx)
                if not op(left, right):
                    return False
                left = right
            return True

        return chain
    if kind == "pow":
        f = _gen(node.items[0], scope)
        k = _literal_number(node.items[1])
        return lambda ctx: _power(f(ctx), k)
    if kind == "call":
        fname = node.value
        args = node.items
        if fname == "visited":
            step = args[0].value
            return lambda ctx: bool(ctx.visited(step))
        if fname == "turns_since":
            step = args[0].value
            return lambda ctx: _as_number(ctx.turns_since(step))
        if fname == "chose":
            choice = args[0].value
            return lambda ctx: bool(ctx.chose(choice))
        fs = tuple(_gen(arg, scope) for arg in args)
        if fname == "abs":
            f = fs[0]
            return lambda ctx: abs(f(ctx))
        pick = min if fname == "min" else max
        if len(fs) == 2:
            f, g = fs
            return lambda ctx: pick(f(ctx), g(ctx))
        return lambda ctx: pick([f(ctx) for f in fs])
    raise AssertionError(kind)  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Entry point


def syntax_tree(source: str) -> _Node:
    """The parsed tree of a condition that has already compiled (the engine's batch path walks it
    to evaluate a condition for many rows at once). Raises on text that does not parse."""
    return _Parser(source, _tokenize(source)).parse()


def compile_condition(source: str, scope: Scope, *, want: Type = "bool") -> tuple[Condition | None, list[Diagnostic]]:
    """Compile a condition. Never raises on any input string.

    Returns (Condition, []) or (None, [diagnostics...]); every diagnostic has a DS03xx code and a
    1-based ``col`` within ``source`` (between 1 and len(source) + 1); file and line are empty.
    """
    if want not in _TYPE_WORDS:
        raise ValueError(f"want must be 'number' or 'bool', not {want!r}")  # a caller bug
    if not isinstance(source, str):
        return None, [
            Diagnostic.make("DS0301", "a condition must be text in quotes",
                            'write it as a string, e.g. "visited(\'check_stock\')" or "true"', col=1)
        ]
    if len(source) > MAX_LENGTH:
        return None, [
            Diagnostic.make(
                "DS0305",
                f"the condition is {len(source)} characters long; at most {MAX_LENGTH} are allowed",
                "split it: compute part of it in a scenario variable, or simplify it",
                col=MAX_LENGTH + 1,
            )
        ]
    try:
        return _compile(source, scope, want)
    except _Stop as stop:
        return None, [stop.diagnostic]
    except RecursionError:  # cannot happen within the limits above unless the caller's stack is nearly full
        return None, [Diagnostic.make("DS0305", "the condition is nested too deeply", "simplify it", col=1)]


def _compile(source: str, scope: Scope, want: Type) -> tuple[Condition | None, list[Diagnostic]]:
    tree = _Parser(source, _tokenize(source)).parse()
    checker = _Checker(source, scope)
    result = checker.check(tree)
    diags = sorted(checker.diags, key=lambda d: d.col)
    if result is not None and result != want:  # reported last: it is about the whole condition
        text = checker.text(tree)
        if want == "bool":
            diags.append(Diagnostic.make(
                "DS0304",
                "this condition gives a number but a true/false value is needed here",
                f"compare it, e.g. `{text} > 0`",
                col=tree.col,
            ))
        else:
            diags.append(Diagnostic.make(
                "DS0304",
                "this expression gives true/false but a number is needed here",
                "write a number expression, e.g. `dealer.wang.stock * 2`; remove comparisons and and/or/not",
                col=tree.col,
            ))
    if diags:
        return None, diags
    fn = _gen(tree, scope)
    names = dict(sorted(checker.names.items()))
    return (
        Condition(
            source=source,
            type=want,
            names=frozenset(names),
            steps=frozenset(checker.steps),
            choices=frozenset(checker.choices),
            _name_types=tuple(names.items()),
            _fn=fn,
        ),
        [],
    )
