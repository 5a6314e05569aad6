"""Filter and sort expressions of the screener command -> SQLAlchemy (pure; nothing is evaluated).

The filter is a Python-style boolean expression over the screener's columns:
`pe < 15 and rsi_14 < 35`, `sector == "Commercial Banks" or not (pb > 3)`, `dividend_yield is not None`,
`close / high_52w > 0.9`. Only comparisons, and/or/not, + - * /, column names, numbers, strings and None
are allowed; anything else (a call, an attribute, an unknown column) is refused with a message naming it.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, literal, not_, or_


class QueryError(ValueError):
    """A filter or sort the command cannot run; the message names the problem and the fix."""


_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def where_clause(expression: str, table: Table) -> ColumnElement[bool]:
    """The SQL condition of `expression` over `table`'s columns."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise QueryError(
            f"--where {expression!r} is not a valid expression (at column {error.offset}): {error.msg}. "
            'Example: --where "pe < 15 and rsi_14 < 35"'
        ) from None
    return _Translator(table, expression).condition(tree.body)


def order_by(spec: str, table: Table) -> list[ColumnElement[Any]]:
    """`-turnover,symbol` -> turnover DESC, symbol ASC (NULLs last either way)."""
    clauses = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        descending = part.startswith("-")
        column = _column(table, part.lstrip("+-"), f"--sort {spec!r}")
        clauses.append((column.desc() if descending else column.asc()).nulls_last())
    return clauses


def columns(table: Table, names: Sequence[str] | None) -> list[ColumnElement[Any]]:
    if not names:
        return list(table.c)
    return [_column(table, name.strip(), "--columns") for name in names if name.strip()]


def _column(table: Table, name: str, where: str) -> ColumnElement[Any]:
    if name not in table.c:
        raise QueryError(
            f"{where}: there is no column {name!r}. The screener's columns are: {', '.join(table.c.keys())}"
        )
    return table.c[name]


class _Translator:
    def __init__(self, table: Table, expression: str) -> None:
        self.table, self.expression = table, expression

    def condition(self, node: ast.expr) -> ColumnElement[bool]:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(value) for value in node.values]
            return and_(*parts) if isinstance(node.op, ast.And) else or_(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not_(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self._compare(node)
        raise self._refuse(node, "is not a condition (use a comparison such as pe < 15)")

    def _compare(self, node: ast.Compare) -> ColumnElement[bool]:
        parts = []
        left = self.value(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                if not (isinstance(comparator, ast.Constant) and comparator.value is None):
                    raise self._refuse(comparator, "can only be compared with `is None` / `is not None`")
                parts.append(left.is_(None) if isinstance(op, ast.Is) else left.is_not(None))
                continue
            compare = _COMPARISONS.get(type(op))
            if compare is None:
                raise self._refuse(node, f"uses the unsupported comparison {type(op).__name__}")
            right = self.value(comparator)
            parts.append(compare(left, right))
            left = right
        return and_(*parts) if len(parts) > 1 else parts[0]

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            return _column(self.table, node.id, f"--where {self.expression!r}")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float, str))
            and not isinstance(node.value, bool)
        ):
            return literal(node.value)
        if isinstance(node, ast.Constant) and node.value is None:
            raise self._refuse(node, "None can only follow `is` / `is not`")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return _ARITHMETIC[type(node.op)](self.value(node.left), self.value(node.right))
        raise self._refuse(node, "is not allowed (only columns, numbers, strings, + - * /)")

    def _refuse(self, node: ast.AST, problem: str) -> QueryError:
        text = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
        return QueryError(f"--where {self.expression!r}: {text!r} {problem}")
