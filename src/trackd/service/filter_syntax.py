"""The lexical layer of MLflow's filter language: tokens and AND-separated raw clauses.

MLflow parses filters with sqlparse and inspects its token tree, so what a filter may contain
is defined by sqlparse's lexer; this module follows those lexer rules (see
:mod:`trackd.service.filters` for the meaning given to each clause).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from trackd.errors import invalid_parameter

# ---------------------------------------------------------------------------------------------
# Tokens: (kind, text). Kinds: ws, name (word or `backticked`), sym ("double quoted"),
# str ('single quoted'), int, float, cmp, kw (AND OR NOT IS NULL IN NOT NULL ASC/DESC ...),
# punct ( ) , ; . and bad (anything a filter can never contain: comments, operators ...).
Token = tuple[str, str]

_WS = re.compile(r"\s+")
_LINE_COMMENT = re.compile(r"(--|# ).*?(\r\n|\r|\n|$)")
_BACKTICK = re.compile(r"`(``|[^`])*`")
_SINGLE = re.compile(r"'(''|\\'|[^'])*'")
_DOUBLE = re.compile(r'"(""|\\"|[^"])*"')
# sqlparse lexes these as keywords even right after a dot, so `params.in` is no identifier.
_ALWAYS_KEYWORD = re.compile(r"(CASE|IN|VALUES|USING|FROM|AS)\b", re.I)
_LETTER_WORD = re.compile(r"[A-ZÀ-Ü]\w*", re.I)
_DOT_AHEAD = re.compile(r"\s*\.(?!\d)")
_NUMBER = (
    ("bad", re.compile(r"-?0x[\dA-F]+", re.I)),
    ("float", re.compile(r"-?\d+(\.\d+)?E-?\d+", re.I)),
    ("float", re.compile(r"-?(\d+(\.\d*)|\.\d+)(?![_A-ZÀ-Ü])", re.I)),
    ("int", re.compile(r"-?\d+(?![_A-ZÀ-Ü])", re.I)),
)
_MULTIWORD = (
    ("kw", re.compile(r"NOT\s+NULL\b", re.I)),
    ("kw", re.compile(r"(ASC|DESC)(\s+NULLS\s+(FIRST|LAST))?\b", re.I)),
    ("cmp", re.compile(r"(NOT\s+)?(LIKE|ILIKE|RLIKE)\b", re.I)),
    ("cmp", re.compile(r"(NOT\s+)?(REGEXP)(\s+(BINARY))?\b", re.I)),
)
_WORD = re.compile(r"\w[$#\w]*")
_COMPARATOR = re.compile(r"[<>=~!]+")
_OPERATOR = re.compile(r"[+/@#%^&|*$?:\[\]\\-]+")
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IS", "NULL"})


def tokenize(text: str) -> list[Token]:
    """Split ``text`` the way sqlparse's lexer does, for the tokens filters are made of."""
    out: list[Token] = []
    p, n = 0, len(text)
    while p < n:
        kind, end = _next_token(text, p)
        out.append((kind, text[p:end]))
        p = end
    return out


def _next_token(text: str, p: int) -> tuple[str, int]:
    c = text[p]
    if c.isspace():
        return "ws", _WS.match(text, p).end()  # type: ignore[union-attr]
    if text.startswith(("--", "# "), p):
        return "bad", _LINE_COMMENT.match(text, p).end()  # type: ignore[union-attr]
    if text.startswith("/*", p):
        return "bad", len(text)
    for char, pattern, kind in (
        ("`", _BACKTICK, "name"),
        ("'", _SINGLE, "str"),
        ('"', _DOUBLE, "sym"),
    ):
        if c == char:
            m = pattern.match(text, p)
            return (kind, m.end()) if m else ("bad", len(text))
    if m := _ALWAYS_KEYWORD.match(text, p):
        return "kw", m.end()
    if m := _LETTER_WORD.match(text, p):
        # A word before a dot, or right after one, is a name even when it is a keyword.
        if _DOT_AHEAD.match(text, m.end()) or (p > 0 and text[p - 1] == "."):
            return "name", m.end()
        if text.startswith("(", m.end()):
            return "bad", m.end()  # a function call
    if c.isdigit() or c in "-.":
        for kind, pattern in _NUMBER:
            if m := pattern.match(text, p):
                return kind, m.end()
    for kind, pattern in _MULTIWORD:
        if m := pattern.match(text, p):
            return kind, m.end()
    if m := _WORD.match(text, p):
        return ("kw" if m.group().upper() in _KEYWORDS else "name"), m.end()
    if c in "(),;.":
        return "punct", p + 1
    for kind, pattern in (("cmp", _COMPARATOR), ("bad", _OPERATOR)):
        if m := pattern.match(text, p):
            return kind, m.end()
    return "bad", p + 1


# ---------------------------------------------------------------------------------------------
# Grouping tokens into raw comparisons, as sqlparse's grouping does for valid filters.


@dataclass(frozen=True, slots=True)
class Operand:
    kind: str  # ident, str, int, float, paren, null
    text: str


@dataclass(frozen=True, slots=True)
class RawClause:
    lhs: Operand
    op: str
    rhs: Operand | None  # None for IS [NOT] NULL


def skip_ws(tokens: list[Token], i: int) -> int:
    while i < len(tokens) and tokens[i][0] == "ws":
        i += 1
    return i


def read_identifier(tokens: list[Token], i: int) -> tuple[str, int]:
    """``tokens[i]`` starts an identifier: a name or "symbol", then ``.part`` repeats, where
    whitespace may surround the dot (and stays part of the text, as in MLflow)."""
    text, i = tokens[i][1], i + 1
    while True:
        dot = skip_ws(tokens, i)
        if dot >= len(tokens) or tokens[dot] != ("punct", "."):
            return text, i
        part = skip_ws(tokens, dot + 1)
        if part < len(tokens) and tokens[part][0] in ("name", "sym", "str"):
            text += "".join(t[1] for t in tokens[i : part + 1])
            i = part + 1
        else:
            text += "".join(t[1] for t in tokens[i : dot + 1])
            i = dot + 1


def _operand(tokens: list[Token], i: int) -> tuple[Operand | None, int]:
    if i >= len(tokens):
        return None, i
    kind, text = tokens[i]
    if kind in ("name", "sym"):
        ident, end = read_identifier(tokens, i)
        return Operand("ident", ident), end
    if kind in ("str", "int", "float"):
        return Operand(kind, text), i + 1
    if kind == "kw" and text.upper() == "NULL":
        return Operand("null", text), i + 1
    if (kind, text) == ("punct", "("):
        depth = 0
        for j in range(i, len(tokens)):
            if tokens[j][0] == "punct" and tokens[j][1] in "()":
                depth += 1 if tokens[j][1] == "(" else -1
                if depth == 0:
                    return Operand("paren", "".join(t[1] for t in tokens[i : j + 1])), j + 1
    return None, i


def _word(tokens: list[Token], i: int, *words: str) -> bool:
    return i < len(tokens) and tokens[i][0] == "kw" and tokens[i][1].upper() in words


def _clause_after(tokens: list[Token], lhs: Operand, i: int) -> tuple[RawClause | None, int]:
    """The rest of a clause whose left operand ended at ``i``."""
    k = skip_ws(tokens, i)
    if k < len(tokens) and tokens[k][0] == "cmp":
        rhs, end = _operand(tokens, skip_ws(tokens, k + 1))
        if rhs is None:
            return None, i
        after = skip_ws(tokens, end)
        if after < len(tokens) and tokens[after][0] == "cmp":
            raise invalid_parameter(
                "Invalid comparison clause. Expected 'Identifier' found "
                f"'{''.join(t[1] for t in tokens[:end]).strip()}'"
            )
        return RawClause(lhs, tokens[k][1].upper(), rhs), end
    if lhs.kind != "ident":
        return None, i
    op = ""
    if _word(tokens, k, "NOT") and _word(tokens, skip_ws(tokens, k + 1), "IN"):
        op, k = "NOT IN", skip_ws(tokens, k + 1)
    elif _word(tokens, k, "IN"):
        op = "IN"
    if op:
        rhs, end = _operand(tokens, skip_ws(tokens, k + 1))
        return (RawClause(lhs, op, rhs), end) if rhs and rhs.kind == "paren" else (None, i)
    if _word(tokens, k, "IS"):
        k = skip_ws(tokens, k + 1)
        # sqlparse lexes NOT NULL as one keyword; MLflow then wants exactly one space in it.
        if _word(tokens, k, "NULL", "NOT NULL") and tokens[k][1].upper() in ("NULL", "NOT NULL"):
            return RawClause(lhs, "IS " + tokens[k][1].upper(), None), k + 1
    return None, i


def split_clauses(text: str, *, quote_invalid: bool = True) -> list[RawClause]:
    """The comparisons of one AND-ed filter; anything else is an error."""
    tokens = tokenize(text)
    semicolons = [i for i, t in enumerate(tokens) if t == ("punct", ";")]
    if semicolons:
        tail = any(t[0] != "ws" for t in tokens[semicolons[-1] + 1 :])
        if len(semicolons) + tail > 1:
            raise invalid_parameter(
                f"Search filter contained multiple expression {text!r}. "
                "Provide AND-ed expression list."
            )
    raws: list[RawClause] = []
    invalid: list[str] = []
    i = skip_ws(tokens, 0)
    while i < len(tokens):
        if _word(tokens, i, "AND"):
            i = skip_ws(tokens, i + 1)
            continue
        lhs, end = _operand(tokens, i)
        raw = None
        if lhs is not None:
            raw, end = _clause_after(tokens, lhs, end)
        if raw is None:
            invalid.append(lhs.text if lhs is not None else tokens[i][1])
            end = max(end, i + 1)
        else:
            raws.append(raw)
        i = skip_ws(tokens, end)
    if invalid:
        shown = ", ".join(f"'{t}'" if quote_invalid else t for t in invalid)
        raise invalid_parameter(f"Invalid clause(s) in filter string: {shown}")
    for raw in raws:
        if raw.lhs.kind != "ident":
            raise invalid_parameter(
                f"Invalid comparison clause. Expected 'Identifier' found '{raw.lhs.text}'"
            )
    return raws


# ---------------------------------------------------------------------------------------------
# Values as MLflow reads them, whatever the search.


def strip_quotes(text: str, *, required: bool = False) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if required:
        raise invalid_parameter(
            "Parameter value is either not quoted or unidentified quote types used for string "
            f"value {text}. Use either single or double quotes."
        )
    return text


def trim_backticks(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "`" else text


def parse_number(text: str, kind: str) -> int | float:
    if kind == "float":
        return float(text)
    value = int(text)
    # Beyond 64 bits no database driver can bind an integer; as a float it still compares.
    return value if -(2**63) <= value < 2**63 else float(value)


def parse_list(text: str) -> tuple[str, ...]:
    # MLflow reads the parenthesis as a Python literal: ('a', "b") and ('a',) are lists, and
    # adjacent strings concatenate as in Python.
    try:
        parsed = ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        raise invalid_parameter(
            "While parsing a list in the query, expected a non-empty list of string values, "
            "but got ill-formed list."
        ) from None
    items = parsed if isinstance(parsed, tuple) else (parsed,)
    if not items:
        raise invalid_parameter(
            "While parsing a list in the query, expected a non-empty list of string values, "
            "but got empty list"
        )
    if not all(isinstance(x, str) for x in items):
        raise invalid_parameter(
            "While parsing a list in the query, expected string value, punctuation, or "
            f"whitespace, but got different type in list: {items}"
        )
    return items
