"""The statement grammar of ksqlDB, a recursive-descent parser over sqlglot's tokens.

Written from ksqlDB's documented syntax (clean-room; ksqlDB's own grammar is not used):

    statement   := query | createSource | createAsSelect | insertInto | insertValues | drop
                 | createType | dropType | alter | show | describe | explain | print | set | unset
                 | define | undefine | terminate | pause | resume | assert | reload | runScript
    query       := SELECT item (',' item)* FROM relation join*
                   [WINDOW window] [WHERE expr] [GROUP BY exprs] [PARTITION BY exprs] [HAVING expr]
                   [ORDER BY order (',' order)*] [EMIT (CHANGES | FINAL)] [LIMIT n] [OFFSET n]
    join        := [INNER | LEFT [OUTER] | RIGHT [OUTER] | FULL [OUTER]] JOIN relation
                   [WITHIN (duration | '(' duration ',' duration ')') [GRACE PERIOD duration]] ON expr
    window      := TUMBLING '(' SIZE duration [',' RETENTION duration] [',' GRACE PERIOD duration] ')'
                 | HOPPING '(' SIZE duration ',' ADVANCE BY duration [, ...] ')'
                 | SESSION '(' duration [, ...] ')'
    duration    := number (MILLISECOND[S] | SECOND[S] | MINUTE[S] | HOUR[S] | DAY[S] | WEEK[S])

Expressions are parsed by the sqlglot dialect (`dialect.py`). `ORDER BY` and `OFFSET` go beyond
ksqlDB and are accepted for pull queries. Errors are `KsqlSyntaxError`s with the line and column of
the offending token and what was expected there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from odradek.sql.errors import KsqlSyntaxError, Position
from odradek.sql.parser import ast
from odradek.sql.parser.dialect import Ksql, KsqlExpressionParser

T = TypeVar("T")

# words that end an expression or relation and therefore cannot be an implicit alias
RESERVED = frozenset(
    {
        "FROM", "WHERE", "WINDOW", "GROUP", "GROUP BY", "PARTITION", "PARTITION BY", "HAVING", "EMIT",
        "LIMIT", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "ON", "WITHIN", "ORDER",
        "ORDER BY", "OFFSET", "GRACE", "CROSS", "AS", "SELECT", "WITH", "VALUES", "AND", "OR", "NOT",
    }
)  # fmt: skip

_UNITS_MS = {
    "MILLISECOND": 1,
    "MILLISECONDS": 1,
    "SECOND": 1000,
    "SECONDS": 1000,
    "MINUTE": 60_000,
    "MINUTES": 60_000,
    "HOUR": 3_600_000,
    "HOURS": 3_600_000,
    "DAY": 86_400_000,
    "DAYS": 86_400_000,
    "WEEK": 604_800_000,
    "WEEKS": 604_800_000,
}

_SHOW_KINDS = {k.value: k for k in ast.ShowKind}


def _norm(token: Token) -> str:
    """A token's text as a keyword: upper-case, single spaces (sqlglot joins `GROUP BY` into one)."""
    return " ".join(token.text.upper().split())


class StatementParser:
    """Parses one statement's tokens. `lines` maps the request text for positions."""

    def __init__(self, text: str, offset: int, request: str) -> None:
        self.text = text
        self.offset = offset
        self.request = request
        self.tokens = self._tokenize(text)
        self.i = 0
        self.expr = KsqlExpressionParser(dialect=Ksql(), error_level=ErrorLevel.IMMEDIATE)
        self.expr.reset()
        self.expr.sql = text

    # -- tokens ---------------------------------------------------------------------------------------

    def _tokenize(self, text: str) -> list[Token]:
        try:
            toks = Ksql().tokenize(text)
        except TokenError as e:
            quote = _unterminated_quote(text)
            if quote is not None:
                raise KsqlSyntaxError(
                    "Unterminated quoted string or identifier", position=self._pos_of(quote), expected=("'",)
                ) from e
            raise KsqlSyntaxError(f"Cannot read the statement: {e}", position=self._pos_of(0)) from e
        return [t for t in toks if t.token_type is not TokenType.SEMICOLON]

    def _pos_of(self, start: int) -> Position:
        absolute = self.offset + start
        line = self.request.count("\n", 0, absolute) + 1
        col = absolute - (self.request.rfind("\n", 0, absolute) + 1) + 1
        return Position(line, col)

    @property
    def curr(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def position(self, token: Token | None = None) -> Position:
        token = token or self.curr
        if token is None:
            return self._pos_of(len(self.text))
        return self._pos_of(token.start)

    def peek_word(self, ahead: int = 0) -> str:
        j = self.i + ahead
        if j >= len(self.tokens):
            return ""
        tok = self.tokens[j]
        if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
            return ""
        return _norm(tok)

    def fail(self, expected: str | tuple[str, ...], found: Token | None = None) -> NoReturn:
        token = found or self.curr
        wanted = (expected,) if isinstance(expected, str) else expected
        what = " or ".join(wanted) if len(wanted) <= 2 else "one of " + ", ".join(wanted)
        got = "the end of the statement" if token is None else f"'{token.text}'"
        raise KsqlSyntaxError(
            f"Expected {what} but found {got}", position=self.position(token), expected=wanted
        )

    def accept(self, *words: str) -> bool:
        """Consume the phrase `words` (matching sqlglot's multi-word tokens too) if it is next."""
        phrase = " ".join(words)
        j, built = self.i, ""
        while j < len(self.tokens) and len(built) < len(phrase):
            tok = self.tokens[j]
            if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
                return False
            built = f"{built} {_norm(tok)}".strip()
            j += 1
            if not phrase.startswith(built):
                return False
        if built == phrase:
            self.i = j
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            self.fail(" ".join(words))

    def accept_type(self, token_type: TokenType) -> Token | None:
        tok = self.curr
        if tok is not None and tok.token_type is token_type:
            self.i += 1
            return tok
        return None

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def expect_end(self) -> None:
        if not self.at_end():
            self.fail("the end of the statement (;)")

    # -- atoms ----------------------------------------------------------------------------------------

    def identifier(self, what: str = "an identifier") -> str:
        tok = self.curr
        if tok is None:
            self.fail(what)
        if tok.token_type is TokenType.IDENTIFIER:
            self.i += 1
            return tok.text
        if tok.token_type in (TokenType.STRING, TokenType.NUMBER) or not _is_word(tok):
            self.fail(what)
        self.i += 1
        return tok.text.upper()

    def optional_alias(self) -> str | None:
        if self.accept("AS"):
            return self.identifier("an alias")
        tok = self.curr
        if tok is None:
            return None
        if tok.token_type is TokenType.IDENTIFIER or (_is_word(tok) and _norm(tok) not in RESERVED):
            self.i += 1
            return tok.text if tok.token_type is TokenType.IDENTIFIER else tok.text.upper()
        return None

    def string(self, what: str = "a string") -> str:
        tok = self.accept_type(TokenType.STRING)
        if tok is None:
            self.fail(what)
        return tok.text

    def integer(self, what: str = "an integer") -> int:
        tok = self.curr
        negative = False
        if tok is not None and tok.token_type is TokenType.DASH:
            negative = True
            self.i += 1
            tok = self.curr
        if tok is None or tok.token_type is not TokenType.NUMBER or not tok.text.isdigit():
            self.fail(what)
        self.i += 1
        return -int(tok.text) if negative else int(tok.text)

    def duration_ms(self) -> int:
        amount = self.integer("a duration such as 1 MINUTE")
        unit = self.peek_word()
        if unit not in _UNITS_MS:
            self.fail(("a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS)",))
        self.i += 1
        return amount * _UNITS_MS[unit]

    def literal_value(self) -> Any:
        """A WITH-property or SET value: string, number, boolean or NULL."""
        tok = self.curr
        if tok is None:
            self.fail("a value")
        if tok.token_type is TokenType.STRING:
            self.i += 1
            return tok.text
        if tok.token_type in (TokenType.NUMBER, TokenType.DASH):
            sign = 1
            if tok.token_type is TokenType.DASH:
                self.i += 1
                sign = -1
                tok = self.curr
                if tok is None or tok.token_type is not TokenType.NUMBER:
                    self.fail("a number")
            self.i += 1
            text = tok.text
            if text.isdigit():
                return sign * int(text)
            return sign * float(text)
        word = self.peek_word()
        if word in ("TRUE", "FALSE"):
            self.i += 1
            return word == "TRUE"
        if word == "NULL":
            self.i += 1
            return None
        self.fail(("a string", "a number", "TRUE/FALSE"))

    def properties(self) -> ast.Properties:
        """`WITH (NAME = value, ...)`, names upper-cased; repeated names are an error."""
        props: ast.Properties = {}
        if not self.accept("WITH"):
            return props
        self.expect("(")
        while True:
            pos_tok = self.curr
            tok = self.curr
            if tok is not None and tok.token_type is TokenType.STRING:
                self.i += 1
                name = tok.text.upper()
            else:
                name = self.identifier("a property name").upper()
            self.expect("=")
            if name in props:
                raise KsqlSyntaxError(f"Duplicate property {name}", position=self.position(pos_tok))
            props[name] = self.literal_value()
            if self.accept(")"):
                return props
            if not self.accept(","):
                self.fail(("',' or ')'",))

    def expression(self, what: str = "an expression") -> exp.Expr:
        """One expression through sqlglot, starting at the current token."""
        parser = self.expr
        parser._tokens = self.tokens
        parser._tokens_size = len(self.tokens)
        parser._index = self.i - 1
        parser._advance()
        start = self.curr
        try:
            node = parser._parse_disjunction()
        except ParseError as e:
            err = e.errors[0] if e.errors else {}
            desc = _friendly(str(err.get("description") or e))
            bad = _token_near(self.tokens, parser._index)
            raise KsqlSyntaxError(f"{desc}", position=self.position(bad), expected=(what,)) from e
        if node is None:
            self.fail(what, start)
        self.i = parser._index
        return node

    def expression_list(self) -> tuple[exp.Expr, ...]:
        items = [self.expression()]
        while self.accept(","):
            items.append(self.expression())
        return tuple(items)

    def type_text(self) -> str:
        """A type as written: a name with balanced <...> and (...), up to ',' ')' or a constraint."""
        start = self.curr
        if start is None:
            self.fail("a type")
        depth = 0
        end = start
        while self.curr is not None:
            tok = self.curr
            text = tok.text
            if depth == 0 and (
                tok.token_type in (TokenType.COMMA, TokenType.R_PAREN) or _norm(tok) in _CONSTRAINT_WORDS
            ):
                break
            if tok.token_type is TokenType.IDENTIFIER:
                text = "`" + text + "`"
            depth += text.count("<") + text.count("(") - text.count(">") - text.count(")")
            end = tok
            self.i += 1
            if depth < 0:
                self.fail(("a type",), tok)
        if depth != 0:
            self.fail(("'>' or ')' closing the type",))
        return self.text[start.start : end.end + 1]

    # -- statements -----------------------------------------------------------------------------------

    def statement(self) -> ast.Statement:
        word = self.peek_word()
        handler = _STATEMENTS.get(word)
        if handler is None:
            self.fail(tuple(sorted(_STATEMENTS)))
        stmt = handler(self)
        self.expect_end()
        return stmt

    def parse_query(self) -> ast.Query:
        first = self.curr
        query = self._query()
        last = self.tokens[self.i - 1]
        if first is not None:
            object.__setattr__(query, "text", self.text[first.start : last.end + 1])
            object.__setattr__(query, "position", self.position(first))
        return query

    def _query(self) -> ast.Query:
        self.expect("SELECT")
        items: list[ast.SelectItem | ast.AllColumns] = [self.select_item()]
        while self.accept(","):
            items.append(self.select_item())
        self.expect("FROM")
        relation: ast.Relation = self.aliased_relation()
        while (join := self.join(relation)) is not None:
            relation = join
        window = self.window() if self.accept("WINDOW") else None
        where = self.expression() if self.accept("WHERE") else None
        group_by = self.expression_list() if self.accept("GROUP", "BY") else ()
        partition_by = self.expression_list() if self.accept("PARTITION", "BY") else ()
        having = self.expression() if self.accept("HAVING") else None
        order_by = self.order_by() if self.accept("ORDER", "BY") else ()
        emit = None
        if self.accept("EMIT"):
            if self.accept("CHANGES"):
                emit = ast.Emit.CHANGES
            elif self.accept("FINAL"):
                emit = ast.Emit.FINAL
            else:
                self.fail(("CHANGES", "FINAL"))
        limit = self.integer("a row count") if self.accept("LIMIT") else None
        offset = self.integer("a row count") if self.accept("OFFSET") else None
        return ast.Query(
            select=tuple(items),
            from_=relation,
            window=window,
            where=where,
            group_by=group_by,
            partition_by=partition_by,
            having=having,
            emit=emit,
            order_by=order_by,
            limit=limit,
            offset=offset,
        )

    def select_item(self) -> ast.SelectItem | ast.AllColumns:
        if self.accept("*"):
            return ast.AllColumns()
        tok, nxt, star = self.curr, self.i + 1, self.i + 2
        if (
            tok is not None
            and (tok.token_type is TokenType.IDENTIFIER or _is_word(tok))
            and nxt < len(self.tokens)
            and self.tokens[nxt].token_type is TokenType.DOT
            and star < len(self.tokens)
            and self.tokens[star].token_type is TokenType.STAR
        ):
            name = self.identifier()
            self.i += 2
            return ast.AllColumns(name)
        expression = self.expression("a column or expression")
        return ast.SelectItem(expression, self.optional_alias())

    def aliased_relation(self) -> ast.AliasedRelation:
        tok = self.curr
        name = self.identifier("a stream or table name")
        return ast.AliasedRelation(name, self.optional_alias(), self.position(tok))

    def join(self, left: ast.Relation) -> ast.Join | None:
        start = self.curr
        join_type = ast.JoinType.INNER
        if self.accept("JOIN") or self.accept("INNER", "JOIN"):
            pass
        elif self.accept("LEFT"):
            self.accept("OUTER")
            self.expect("JOIN")
            join_type = ast.JoinType.LEFT
        elif self.accept("RIGHT"):
            self.accept("OUTER")
            self.expect("JOIN")
            join_type = ast.JoinType.RIGHT
        elif self.accept("FULL"):
            self.accept("OUTER")
            self.expect("JOIN")
            join_type = ast.JoinType.FULL
        elif self.accept("OUTER", "JOIN"):
            join_type = ast.JoinType.FULL
        else:
            return None
        right = self.aliased_relation()
        within = None
        if self.accept("WITHIN"):
            if self.accept("("):
                before = self.duration_ms()
                self.expect(",")
                after = self.duration_ms()
                self.expect(")")
            else:
                before = after = self.duration_ms()
            grace = self.duration_ms() if self.accept("GRACE", "PERIOD") else None
            within = ast.Within(before, after, grace)
        self.expect("ON")
        criteria = self.expression("a join condition")
        return ast.Join(left, right, join_type, criteria, within, self.position(start))

    def window(self) -> ast.WindowSpec:
        word = self.peek_word()
        if word not in ("TUMBLING", "HOPPING", "SESSION"):
            self.fail(("TUMBLING", "HOPPING", "SESSION"))
        self.i += 1
        kind = ast.WindowKind(word)
        self.expect("(")
        size = advance = retention = grace = None
        if kind is ast.WindowKind.SESSION:
            size = self.duration_ms()
        while True:
            if size is not None and not self.accept(","):
                break
            if self.accept("SIZE"):
                size = self.duration_ms()
            elif self.accept("ADVANCE", "BY"):
                advance = self.duration_ms()
            elif self.accept("RETENTION"):
                retention = self.duration_ms()
            elif self.accept("GRACE", "PERIOD"):
                grace = self.duration_ms()
            else:
                self.fail(("SIZE", "ADVANCE BY", "RETENTION", "GRACE PERIOD"))
        self.expect(")")
        if size is None:
            self.fail("SIZE")
        if kind is ast.WindowKind.HOPPING and advance is None:
            self.fail("ADVANCE BY")
        if kind is not ast.WindowKind.HOPPING and advance is not None:
            raise KsqlSyntaxError(f"{kind.value} windows take no ADVANCE BY", position=self.position())
        return ast.WindowSpec(kind, size, advance, retention, grace)

    def order_by(self) -> tuple[ast.OrderItem, ...]:
        items = []
        while True:
            e = self.expression()
            desc = False
            if self.accept("DESC"):
                desc = True
            else:
                self.accept("ASC")
            nulls_first = None
            if self.accept("NULLS", "FIRST"):
                nulls_first = True
            elif self.accept("NULLS", "LAST"):
                nulls_first = False
            items.append(ast.OrderItem(e, desc, nulls_first))
            if not self.accept(","):
                return tuple(items)

    def source_kind(self) -> ast.SourceKind:
        if self.accept("STREAM"):
            return ast.SourceKind.STREAM
        if self.accept("TABLE"):
            return ast.SourceKind.TABLE
        self.fail(("STREAM", "TABLE"))

    def parse_create(self) -> ast.Statement:
        self.expect("CREATE")
        or_replace = self.accept("OR", "REPLACE")
        read_only = self.accept("SOURCE")
        if not or_replace and not read_only and self.accept("TYPE"):
            if_not_exists = self.accept("IF", "NOT", "EXISTS")
            name = self.identifier("a type name")
            self.expect("AS")
            return ast.CreateType(name, self.type_text(), if_not_exists)
        kind = self.source_kind()
        if_not_exists = self.accept("IF", "NOT", "EXISTS")
        name = self.identifier(f"a {kind.value.lower()} name")
        elements: tuple[ast.TableElement, ...] = ()
        if self.accept("("):
            elements = self.table_elements()
        props = self.properties()
        if self.accept("AS"):
            if elements:
                raise KsqlSyntaxError(
                    "CREATE ... AS SELECT takes no column list: the columns come from the query",
                    position=self.position(),
                )
            if read_only:
                raise KsqlSyntaxError("CREATE SOURCE cannot be AS SELECT", position=self.position())
            query = self.parse_query()
            return ast.CreateAsSelect(kind, name, query, props, if_not_exists, or_replace)
        return ast.CreateSource(kind, name, elements, props, if_not_exists, or_replace, read_only)

    def table_elements(self) -> tuple[ast.TableElement, ...]:
        elements = []
        while True:
            tok = self.curr
            name = self.identifier("a column name")
            type_text = self.type_text()
            constraint, header_key = ast.ColumnConstraint.NONE, None
            if self.accept("PRIMARY", "KEY"):
                constraint = ast.ColumnConstraint.PRIMARY_KEY
            elif self.accept("KEY"):
                constraint = ast.ColumnConstraint.KEY
            elif self.accept("HEADERS"):
                constraint = ast.ColumnConstraint.HEADERS
            elif self.accept("HEADER"):
                self.expect("(")
                header_key = self.string("a header name")
                self.expect(")")
                constraint = ast.ColumnConstraint.HEADER
            elements.append(ast.TableElement(name, type_text, constraint, header_key, self.position(tok)))
            if self.accept(")"):
                return tuple(elements)
            if not self.accept(","):
                self.fail(("',' or ')'",))

    def parse_insert(self) -> ast.Statement:
        self.expect("INSERT")
        self.expect("INTO")
        target = self.identifier("a stream or table name")
        columns: tuple[str, ...] | None = None
        if self.accept("("):
            cols = [self.identifier("a column name")]
            while self.accept(","):
                cols.append(self.identifier("a column name"))
            self.expect(")")
            columns = tuple(cols)
        if self.accept("VALUES"):
            self.expect("(")
            values = self.expression_list()
            self.expect(")")
            return ast.InsertValues(target, columns, values)
        if columns is not None:
            self.fail("VALUES")
        props = self.properties()
        return ast.InsertInto(target, self.parse_query(), props)

    def parse_drop(self) -> ast.Statement:
        self.expect("DROP")
        if self.accept("TYPE"):
            if_exists = self.accept("IF", "EXISTS")
            return ast.DropType(self.identifier("a type name"), if_exists)
        kind = self.source_kind()
        if_exists = self.accept("IF", "EXISTS")
        name = self.identifier(f"a {kind.value.lower()} name")
        delete_topic = self.accept("DELETE", "TOPIC")
        return ast.DropSource(kind, name, if_exists, delete_topic)

    def parse_alter(self) -> ast.Statement:
        self.expect("ALTER")
        kind = self.source_kind()
        name = self.identifier()
        columns = []
        while True:
            self.expect("ADD")
            self.accept("COLUMN")
            tok = self.curr
            col = self.identifier("a column name")
            columns.append(ast.TableElement(col, self.type_text(), position=self.position(tok)))
            if not self.accept(","):
                break
        return ast.AlterSource(kind, name, tuple(columns))

    def parse_show(self) -> ast.Statement:
        if not (self.accept("SHOW") or self.accept("LIST")):
            self.fail(("SHOW", "LIST"))
        all_topics = self.accept("ALL")
        word = self.peek_word()
        kind = _SHOW_KINDS.get(word)
        if kind is None:
            self.fail(tuple(_SHOW_KINDS))
        self.i += 1
        if all_topics and kind is not ast.ShowKind.TOPICS:
            self.fail("TOPICS")
        extended = self.accept("EXTENDED")
        return ast.Show(kind, extended, all_topics)

    def parse_describe(self) -> ast.Statement:
        self.expect("DESCRIBE")
        if self.accept("FUNCTION"):
            return ast.DescribeFunction(self.identifier("a function name"))
        rest = [self.peek_word(k) for k in range(len(self.tokens) - self.i)]
        if rest in (["STREAMS"], ["TABLES"], ["STREAMS", "EXTENDED"], ["TABLES", "EXTENDED"]):
            kind = ast.SourceKind.STREAM if rest[0] == "STREAMS" else ast.SourceKind.TABLE
            self.i += 1
            return ast.DescribeSources(kind, self.accept("EXTENDED"))
        extended = self.accept("EXTENDED")
        return ast.Describe(self.identifier("a stream or table name"), extended)

    def parse_explain(self) -> ast.Statement:
        self.expect("EXPLAIN")
        if self.peek_word() in _STATEMENTS:
            inner = _STATEMENTS[self.peek_word()](self)
            return ast.Explain(statement=inner)
        return ast.Explain(query_id=self.identifier("a query id or a statement"))

    def parse_print(self) -> ast.Statement:
        self.expect("PRINT")
        tok = self.curr
        topic = tok.text if tok is not None and tok.token_type is TokenType.STRING else None
        if topic is not None:
            self.i += 1
        elif tok is not None and (tok.token_type is TokenType.IDENTIFIER or _is_word(tok)):
            self.i += 1
            topic = tok.text
        else:
            self.fail("a topic name")
        from_beginning = self.accept("FROM", "BEGINNING")
        interval = 1
        limit = None
        while True:
            if self.accept("INTERVAL") or self.accept("SAMPLE"):
                interval = self.integer()
            elif self.accept("LIMIT"):
                limit = self.integer()
            else:
                break
        return ast.Print(topic, from_beginning, interval, limit)

    def parse_set(self) -> ast.Statement:
        self.expect("SET")
        name = self.string("a property name in quotes, e.g. 'auto.offset.reset'")
        self.expect("=")
        return ast.SetProperty(name, self.string("a value in quotes"))

    def parse_unset(self) -> ast.Statement:
        self.expect("UNSET")
        return ast.UnsetProperty(self.string("a property name in quotes"))

    def parse_define(self) -> ast.Statement:
        self.expect("DEFINE")
        name = self.identifier("a variable name")
        self.expect("=")
        return ast.DefineVariable(name, self.string("a value in quotes"))

    def parse_undefine(self) -> ast.Statement:
        self.expect("UNDEFINE")
        return ast.UndefineVariable(self.identifier("a variable name"))

    def _query_target(self) -> str | None:
        if self.accept("ALL"):
            return None
        return self.identifier("a query id or ALL")

    def parse_terminate(self) -> ast.Statement:
        self.expect("TERMINATE")
        return ast.TerminateQuery(self._query_target())

    def parse_pause(self) -> ast.Statement:
        self.expect("PAUSE")
        return ast.PauseQuery(self._query_target())

    def parse_resume(self) -> ast.Statement:
        self.expect("RESUME")
        return ast.ResumeQuery(self._query_target())

    def parse_assert(self) -> ast.Statement:
        self.expect("ASSERT")
        exists = not self.accept("NOT", "EXISTS")
        if self.accept("TOPIC"):
            tok = self.curr
            if tok is not None and (
                tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER) or _is_word(tok)
            ):
                self.i += 1
                topic = tok.text
            else:
                self.fail("a topic name")
            props = self.properties()
            timeout = self.duration_ms() if self.accept("TIMEOUT") else None
            return ast.AssertTopic(topic, exists, props, timeout)
        if self.accept("SCHEMA"):
            subject = schema_id = None
            while True:
                if self.accept("SUBJECT"):
                    subject = self.string("a subject name")
                elif self.accept("ID"):
                    schema_id = self.integer("a schema id")
                else:
                    break
            if subject is None and schema_id is None:
                self.fail(("SUBJECT", "ID"))
            timeout = self.duration_ms() if self.accept("TIMEOUT") else None
            return ast.AssertSchema(subject, schema_id, exists, timeout)
        self.fail(("TOPIC", "SCHEMA"))

    def parse_reload(self) -> ast.Statement:
        self.expect("RELOAD")
        self.expect("FUNCTIONS")
        return ast.ReloadFunctions()

    def parse_run(self) -> ast.Statement:
        self.expect("RUN")
        self.expect("SCRIPT")
        return ast.RunScript(self.string("a file path in quotes"))


_CONSTRAINT_WORDS = frozenset({"KEY", "PRIMARY KEY", "PRIMARY", "HEADERS", "HEADER"})

_STATEMENTS: dict[str, Callable[[StatementParser], ast.Statement]] = {
    "SELECT": StatementParser.parse_query,
    "CREATE": StatementParser.parse_create,
    "INSERT": StatementParser.parse_insert,
    "DROP": StatementParser.parse_drop,
    "ALTER": StatementParser.parse_alter,
    "SHOW": StatementParser.parse_show,
    "LIST": StatementParser.parse_show,
    "DESCRIBE": StatementParser.parse_describe,
    "EXPLAIN": StatementParser.parse_explain,
    "PRINT": StatementParser.parse_print,
    "SET": StatementParser.parse_set,
    "UNSET": StatementParser.parse_unset,
    "DEFINE": StatementParser.parse_define,
    "UNDEFINE": StatementParser.parse_undefine,
    "TERMINATE": StatementParser.parse_terminate,
    "PAUSE": StatementParser.parse_pause,
    "RESUME": StatementParser.parse_resume,
    "ASSERT": StatementParser.parse_assert,
    "RELOAD": StatementParser.parse_reload,
    "RUN": StatementParser.parse_run,
}


def _friendly(description: str) -> str:
    """sqlglot's internal wording, said as a user would want it."""
    if description.startswith("Required keyword"):
        return "Expected an expression"
    if description.startswith("Expecting "):
        wanted = description.removeprefix("Expecting ")
        return f"Expected '{wanted}'" if len(wanted) == 1 else f"Expected {wanted}"
    if description.startswith("Invalid expression / Unexpected token"):
        return "Unexpected token"
    return description


def _unterminated_quote(text: str) -> int | None:
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "'`\"":
            j = i + 1
            while True:
                j = text.find(ch, j)
                if j < 0:
                    return i
                if text.startswith(ch * 2, j):
                    j += 2
                    continue
                break
            i = j + 1
            continue
        i += 1
    return None


def _is_word(tok: Token) -> bool:
    """A bare word (a keyword or a name), not punctuation, a number or a string."""
    text = tok.text
    return bool(text) and (text[0].isalpha() or text[0] == "_") and tok.token_type is not TokenType.STRING


def _token_near(tokens: list[Token], index: int) -> Token | None:
    if not tokens:
        return None
    return tokens[min(max(index, 0), len(tokens) - 1)]
