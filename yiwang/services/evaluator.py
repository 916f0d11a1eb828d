"""The restricted evaluator of workflow conditions and scripts: expressions over form data, nothing else.

SpiffWorkflow's default script engine calls Python's `eval`/`exec`, which would let anyone who uploads a BPMN file
run code on the server. Here an expression is parsed into Python's syntax tree and *interpreted* by walking an
allow-list of node types: literals, names of form fields, comparisons, boolean and arithmetic operators, constant
subscripts and a few pure functions. No attribute access (so no dunders), no imports, no lambdas or comprehensions,
no calls except the listed functions, and arithmetic bounded so a condition cannot exhaust memory or time.
A script is a sequence of ``name = expression`` lines under the same rules.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_

MAX_EXPRESSION_LENGTH = 2000
MAX_TEXT_LENGTH = 10_000  # longest string an expression may build
MAX_NUMBER = 10**18

Value = Any

_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "len": len,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
}
_CONSTANTS: dict[str, Value] = {"True": True, "False": False, "None": None, "true": True, "false": False}

_COMPARE: dict[type[ast.cmpop], Callable[[Value, Value], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Value, Value], Value]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


class UnsafeExpression(InvalidInput):
    """An expression outside what the evaluator allows (refused before anything runs)."""


def _refuse(message: str, expression: str, **params: object) -> UnsafeExpression:
    return UnsafeExpression("workflow.expression_refused", message, expression=expression[:200], **params)


def _parse(source: str, mode: str) -> ast.AST:
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise _refuse(N_("The workflow expression “{expression}” is too long"), source)
    try:
        return ast.parse(source.strip(), mode=mode)
    except (SyntaxError, ValueError) as error:
        raise UnsafeExpression(
            "workflow.expression_invalid",
            N_("The workflow expression “{expression}” cannot be read: {detail}"),
            expression=source[:200],
            detail=str(getattr(error, "msg", error)),
        ) from None


def check_expression(source: str) -> None:
    """Refuse `source` unless every node of it is allowed (run at upload time, before a workflow exists)."""
    _check(_parse(source, "eval"), source)


def check_script(source: str) -> None:
    """Refuse a script unless it is only ``name = expression`` lines of allowed expressions."""
    tree = _parse(source, "exec")
    assert isinstance(tree, ast.Module)
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            raise _refuse(N_("The workflow script “{expression}” may only assign expressions to names"), source)
        _check_name(statement.targets[0].id, source)
        _check(statement.value, source)


def _check_name(name: str, source: str) -> None:
    if name.startswith("_"):
        raise _refuse(N_("The workflow expression “{expression}” uses a name starting with an underscore"), source)


_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Subscript,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.IfExp,
    ast.Call,
    *_COMPARE,
    *_ARITHMETIC,
)


def _check(tree: ast.AST, source: str) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise _refuse(
                N_("The workflow expression “{expression}” uses {construct}, which is not allowed"),
                source,
                construct=type(node).__name__,
            )
        if isinstance(node, ast.Name):
            _check_name(node.id, source)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
                raise _refuse(
                    N_("The workflow expression “{expression}” calls a function that is not allowed"),
                    source,
                )
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            raise _refuse(N_("The workflow expression “{expression}” has a subscript that is not a constant"), source)
        elif isinstance(node, ast.Constant) and isinstance(node.value, bytes | complex | type(...)):
            raise _refuse(
                N_("The workflow expression “{expression}” has a constant that is not text or a number"),
                source,
            )


def evaluate(source: str, data: Mapping[str, Value]) -> Value:
    """The value of the expression `source` over `data` (form fields; a missing field reads as None)."""
    tree = _parse(source, "eval")
    _check(tree, source)
    assert isinstance(tree, ast.Expression)
    return _Interpreter(data, source).value(tree.body)


def execute(source: str, data: MutableMapping[str, Value]) -> None:
    """Run a checked script: each ``name = expression`` line sets a field of `data`."""
    check_script(source)
    tree = _parse(source, "exec")
    assert isinstance(tree, ast.Module)
    for statement in tree.body:
        assert isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name)
        data[statement.targets[0].id] = _Interpreter(data, source).value(statement.value)


class _Interpreter:
    def __init__(self, data: Mapping[str, Value], source: str) -> None:
        self.data = data
        self.source = source

    def value(self, node: ast.expr) -> Value:  # noqa: C901 - one branch per allowed node type
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            return self._plain(self.data.get(node.id))
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                result: Value = True
                for part in node.values:
                    result = self.value(part)
                    if not result:
                        return result
                return result
            for part in node.values:
                result = self.value(part)
                if result:
                    return result
            return result
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            self._number(operand)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            return self._arithmetic(node)
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.value(comparator)
                if not self._safely(_COMPARE[type(op)], left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Subscript):
            container = self.value(node.value)
            assert isinstance(node.slice, ast.Constant)
            try:
                return self._plain(container[node.slice.value])
            except (KeyError, IndexError, TypeError):
                return None
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return [self.value(item) for item in node.elts]
        if isinstance(node, ast.IfExp):
            return self.value(node.body) if self.value(node.test) else self.value(node.orelse)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            arguments = [self.value(argument) for argument in node.args]
            return self._safely(_FUNCTIONS[node.func.id], *arguments)
        raise _refuse(
            N_("The workflow expression “{expression}” uses {construct}, which is not allowed"),
            self.source,
            construct=type(node).__name__,
        )

    def _plain(self, value: Value) -> Value:
        """Only JSON-like values enter an expression: nothing with methods worth reaching."""
        if value is None or isinstance(value, bool | int | float | str | list | dict):
            return value
        return str(value)

    def _number(self, value: Value) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _refuse(
                N_("The workflow expression “{expression}” does arithmetic on something that is not a number"),
                self.source,
            )
        if abs(value) > MAX_NUMBER:
            raise _refuse(N_("The workflow expression “{expression}” makes a number that is too large"), self.source)

    def _arithmetic(self, node: ast.BinOp) -> Value:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_TEXT_LENGTH:
                raise _refuse(N_("The workflow expression “{expression}” makes a text that is too long"), self.source)
            return left + right
        self._number(left)
        self._number(right)
        result = self._safely(_ARITHMETIC[type(node.op)], left, right)
        self._number(result)
        return result

    def _safely(self, function: Callable[..., Value], *arguments: Value) -> Value:
        try:
            return function(*arguments)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as error:
            raise UnsafeExpression(
                "workflow.expression_failed",
                N_("The workflow expression “{expression}” failed: {detail}"),
                expression=self.source[:200],
                detail=type(error).__name__,
            ) from None
