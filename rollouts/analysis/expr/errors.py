"""The two exception types of the condition language, shared by all its modules.

Every problem (parse or evaluation) is an `ExprError`, so callers catch one
type; source that does not parse is the subclass `ExprSyntaxError`, which
carries a position. They live apart so the grammar, the evaluator and the
builtins can raise them without importing each other.
"""

from __future__ import annotations

__all__ = ["ExprError", "ExprSyntaxError"]


class ExprError(Exception):
    """An expression that cannot be compiled or evaluated."""


class ExprSyntaxError(ExprError):
    """Source text that does not parse; `line` and `column` are 1-based."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.line = line
        self.column = column
