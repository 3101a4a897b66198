"""Property tests: rendering round-trips, and parsing fails only with ExprError."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.errors import ExprError
from tierwise.expr import names, parse, render
from tierwise.expr.ast import (
    ARITHMETIC,
    COMPARISONS,
    FUNCTIONS,
    Arith,
    Between,
    Boolean,
    Call,
    Compare,
    DateLiteral,
    InList,
    IsNull,
    Logical,
    Name,
    Neg,
    Node,
    Not,
    Null,
    Number,
    String,
)

# Any character but NUL, which the lexer refuses (DuckDB's SQL parser stops at it).
chars = st.characters(exclude_characters="\x00")
plain_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
# Any non-empty text is a valid name once backtick-quoted: spaces, keywords, backticks, Chinese.
odd_names = st.one_of(
    st.sampled_from(["and", "NULL", "in", "order count", "a`b", "会员等级", "date", "1st"]),
    st.text(chars, min_size=1, max_size=6),
)

leaves: st.SearchStrategy[Node] = st.one_of(
    st.builds(Number, st.integers(min_value=0, max_value=2**63 - 1)),
    st.builds(Number, st.floats(min_value=0, allow_nan=False, allow_infinity=False)),
    st.builds(String, st.text(chars, max_size=8)),
    st.builds(Boolean, st.booleans()),
    st.just(Null()),
    st.builds(DateLiteral, st.dates()),
    st.builds(Name, st.one_of(plain_names, odd_names)),
)


def _extend(inner: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    some = st.lists(inner, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(Neg, inner),
        st.builds(Not, inner),
        st.builds(Arith, st.sampled_from(ARITHMETIC), inner, inner),
        st.builds(Compare, st.sampled_from(COMPARISONS), inner, inner),
        st.builds(Logical, st.sampled_from(["and", "or"]), inner, inner),
        st.builds(Between, inner, inner, inner, st.booleans()),
        st.builds(InList, inner, some, st.booleans()),
        st.builds(IsNull, inner, st.booleans()),
        # Arity is the type checker's business, so the parser must accept any count.
        st.builds(Call, st.sampled_from(sorted(FUNCTIONS)), st.lists(inner, max_size=3).map(tuple)),
    )


trees = st.recursive(leaves, _extend, max_leaves=12)


@settings(max_examples=400)
@given(trees)
def test_render_round_trips(tree: Node) -> None:
    text = render(tree)
    assert parse(text) == tree
    assert render(parse(text)) == text
    assert names(parse(text)) == names(tree)


@settings(max_examples=400)
@given(st.text(alphabet=string.printable + "会员`'\"", max_size=30))
def test_parse_raises_only_expr_error(text: str) -> None:
    try:
        tree = parse(text)
    except ExprError as error:
        assert " in " in str(error) and "column" in str(error)
    else:
        assert parse(render(tree)) == tree


# fmt: off
SOUP = (
    "a", "b", "1", "2.5", "'x'", "and", "or", "not", "(", ")", ",", "+", "-", "*", "/", "%",
    "==", "<", ">=", "<>", "between", "in", "is", "null", "true", "abs", "coalesce",
)
# fmt: on


@settings(max_examples=200)
@given(
    st.lists(
        st.sampled_from(SOUP),
        max_size=12,
    )
)
def test_token_soup_parses_or_explains(tokens: list[str]) -> None:
    # Random text rarely gets past the first token; a token soup reaches deep parser states.
    text = " ".join(tokens)
    try:
        tree = parse(text)
    except ExprError as error:
        assert "column" in str(error)
    else:
        assert parse(render(tree)) == tree
