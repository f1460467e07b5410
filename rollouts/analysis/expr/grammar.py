"""The grammar of the condition language: lark grammar text and the parser built from it.

expr-lang's syntax as an LALR grammar (fast, and parse errors carry a line and
column). `parse` turns source text into a lark tree or raises `ExprSyntaxError`
with a 1-based position; turning that tree into evaluable nodes is the
compiler's job (`compiler.py`), so this module knows nothing of values.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from rollouts.analysis.expr.errors import ExprSyntaxError

__all__ = ["GRAMMAR", "parse"]

GRAMMAR = r"""
?start: expr

?expr: ternary
     | expr "|" NAME "(" [expr_list] ")" -> pipe
?ternary: or_expr
        | or_expr "?" ternary ":" ternary -> ternary

?or_expr: and_expr
        | or_expr ("||" | "or") and_expr -> or_
?and_expr: cmp
         | and_expr ("&&" | "and") cmp -> and_
?cmp: range_
    | cmp cmp_op range_ -> compare
cmp_op: CMP
      | "not" negatable -> negated_op
      | negatable
!negatable: "in" | "matches" | "contains" | "startsWith" | "endsWith"
?range_: sum
       | sum ".." sum -> range_
?sum: notx
    | sum ADDOP notx -> binop
?notx: product
     | ("!" | "not") notx -> not_
?product: unary
        | product MULOP unary -> binop
?unary: power
      | ADDOP unary -> unary
?power: coalesce
      | coalesce POWOP unary -> binop
?coalesce: postfix
         | coalesce "??" postfix -> coalesce
?postfix: atom
        | postfix "." NAME -> member
        | postfix "?." NAME -> opt_member
        | postfix "[" expr "]" -> index
        | postfix "?.[" expr "]" -> opt_index
        | postfix "[" [expr] ":" [expr] "]" -> slice
?atom: NUMBER -> number
     | STRING -> string
     | RAWSTRING -> rawstring
     | TRUE -> true
     | FALSE -> false
     | NIL -> nil
     | NAME -> var
     | NAME "(" [expr_list] ")" -> call
     | POINTER -> pointer
     | POINTER NAME -> pointer_var
     | "." NAME -> pointer_member
     | "(" expr ")"
     | "[" [expr_list] "]" -> array
     | "{" [pair ("," pair)* [","]] "}" -> map
     | "{" expr "}" -> closure
expr_list: expr ("," expr)* [","]
pair: map_key ":" expr
?map_key: NAME -> key_name
        | STRING -> string
        | NUMBER -> number

CMP: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADDOP: "+" | "-"
MULOP: "*" | "/" | "%"
POWOP: "**" | "^"
TRUE: "true"
FALSE: "false"
NIL: "nil"
POINTER: "#"
NAME: /[A-Za-z_$][A-Za-z0-9_$]*/
NUMBER: /0[xX][0-9a-fA-F_]+/
      | /0[oO][0-7_]+/
      | /0[bB][01_]+/
      | /([0-9][0-9_]*)?\.[0-9][0-9_]*([eE][+-]?[0-9]+)?/
      | /[0-9][0-9_]*[eE][+-]?[0-9]+/
      | /[0-9][0-9_]*/
STRING: /"(\\.|[^"\\\n])*"/ | /'(\\.|[^'\\\n])*'/
RAWSTRING: /`[^`]*`/

%import common.WS
%ignore WS
"""


@functools.cache
def _parser() -> Lark:
    # Built on first use (about 0.2s), not at import: the CLI imports this package too.
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _describe(err: UnexpectedInput) -> str:
    if isinstance(err, UnexpectedEOF):
        return "unexpected end of expression"
    if isinstance(err, UnexpectedToken):
        if err.token.type == "$END":
            return "unexpected end of expression"
        return f"unexpected token {str(err.token)!r}"
    if isinstance(err, UnexpectedCharacters):
        return f"unexpected character {err.char!r}"
    return "syntax error"


def parse(source: str) -> Tree[Token]:
    """The lark parse tree of `source`; every parse failure is an `ExprSyntaxError`."""
    if not source.strip():
        raise ExprSyntaxError("empty expression", line=1, column=1)
    try:
        return _parser().parse(source)
    except UnexpectedInput as err:
        line = getattr(err, "line", -1)
        column = getattr(err, "column", -1)
        at_end = isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END")
        if at_end or line is None or line < 1:
            # At end of input lark has no position: point just past the last character.
            lines = source.split("\n")
            line, column = len(lines), len(lines[-1]) + 1
        raise ExprSyntaxError(_describe(err), line=line, column=column) from None
