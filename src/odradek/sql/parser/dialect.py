"""The ksqlDB dialect of sqlglot: tokens and the expression language.

sqlglot (pinned, see pyproject.toml) tokenizes the text and parses expressions: literals, operators
with SQL precedence, `CASE`, `CAST`, `IN`, `BETWEEN`, `LIKE`, `IS [NOT] NULL`, function calls,
subscripts `a[1]`, `ARRAY[...]`. This dialect changes what ksqlDB spells differently:

- identifiers are quoted with backticks (and double quotes); strings with single quotes, `''` escapes;
- `a->b` dereferences a struct field (`StructDeref`), not a JSON path;
- `x => body` and `(x, y) => body` are lambdas (`TRANSFORM`, `FILTER`, `REDUCE`);
- every function call stays a generic `Anonymous(name, args)`: the function catalog resolves names,
  so sqlglot's own function table (which renames and reorders arguments) is switched off;
- `SHOW` is an ordinary keyword, not a pass-through command;
- unknown type names are kept as user-defined types (`CREATE TYPE`).

The statement layer (CREATE STREAM, WINDOW TUMBLING, EMIT CHANGES, ...) is `grammar.py`, which drives
this parser for expressions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator
from sqlglot.parsers.base import BaseParser
from sqlglot.tokenizer_core import TokenType


class StructDeref(exp.Expression):
    """`this->field`: the field of a struct value."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "field": True}


def _deref(parser: Any, this: exp.Expr, path: exp.Expr) -> exp.Expr:
    if isinstance(path, exp.Column) and not path.table:
        name = path.this
    elif isinstance(path, exp.Identifier):
        name = path
    else:
        parser.raise_error("Expecting a field name after ->")
        name = exp.to_identifier("?")
    return StructDeref(this=this, field=name)


def _lambda(parser: Any, expressions: list[exp.Expr]) -> exp.Expr:
    body = parser._parse_disjunction()
    if body is None:
        parser.raise_error("Expecting a lambda body after =>")
    return exp.Lambda(this=body, expressions=expressions)


class KsqlTokenizer(tokens.Tokenizer):
    IDENTIFIERS: ClassVar[list[str | tuple[str, str]]] = ["`", '"']
    QUOTES: ClassVar[list[tuple[str, str] | str]] = ["'"]
    STRING_ESCAPES: ClassVar[list[str]] = ["'"]
    COMMANDS: ClassVar[set[TokenType]] = {TokenType.EXECUTE, TokenType.FETCH, TokenType.RENAME}
    KEYWORDS: ClassVar[dict[str, TokenType]] = {
        k: v
        for k, v in tokens.Tokenizer.KEYWORDS.items()
        # multi-word tokens ksqlDB spells differently or that would swallow ksqlDB words
        if k not in {"SHOW", "COMMAND", "WINDOW"}
    }


class KsqlExpressionParser(BaseParser):
    FUNCTIONS: ClassVar[dict[str, Any]] = {}
    FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {
        k: v for k, v in BaseParser.FUNCTION_PARSERS.items() if k in {"CAST", "TRY_CAST"}
    }
    NO_PAREN_FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {
        k: v for k, v in BaseParser.NO_PAREN_FUNCTION_PARSERS.items() if k == "CASE"
    }
    NO_PAREN_FUNCTIONS: ClassVar[dict[Any, Any]] = {}
    LAMBDAS: ClassVar[dict[Any, Any]] = {TokenType.FARROW: _lambda}
    COLUMN_OPERATORS: ClassVar[dict[Any, Any]] = {
        TokenType.DOT: None,
        TokenType.ARROW: _deref,
    }


class KsqlGenerator(Generator):
    """Writes expressions back as ksqlDB text (for messages and the golden corpus)."""

    TRANSFORMS: ClassVar[dict[Any, Any]] = {
        **Generator.TRANSFORMS,
        StructDeref: lambda self, e: f"{self.sql(e, 'this')}->{self.sql(e, 'field')}",
    }

    def lambda_sql(self, e: exp.Lambda, arrow_sep: str = "=>", wrap: bool = True) -> str:
        return super().lambda_sql(e, arrow_sep="=>", wrap=wrap)


class Ksql(Dialect):
    SUPPORTS_USER_DEFINED_TYPES = True
    Tokenizer = KsqlTokenizer
    Parser = KsqlExpressionParser
    Generator = KsqlGenerator
