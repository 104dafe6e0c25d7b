"""CEL validation rules of CRDs (`x-kubernetes-validations`), evaluated as the API server does on create.

    rule = compile_rule({"rule": "has(self.configMapRef) || has(self.secretRef)", "message": "..."})
    result = evaluate(rule, {"secretRef": {"name": "kubeconfig"}})   # CelResult(status="passed")

Backend: a small evaluator of our own for the part of CEL that CRD rules use, not a
CEL library. `benchmarks/cel_candidates.py` measured the libraries on the 22 distinct
rules of the Flux 2.3-2.9 CRDs (hand cases, semantics probes, 764 evaluations on the
corpus and 1460 near-miss mutations of them). Import times are medians in a fresh
interpreter that has already loaded what `gitops-lint check` loads:

* cel-python (celpy): 67 ms import, 18 MiB, ~1.2 ms per evaluation (0.9 s for the
  corpus), 7 dependencies; `has(self.a.b)` on an absent `a` is false, not an error.
* cel-expr-python (Google's C++ runtime): 3 ms import, 29 us per evaluation, and the
  reference for correctness; but a 49 MiB native wheel with no sdist and no musllinux
  build, so `pip install` fails on Alpine-based CI images.
* common-expression-language (Rust): 310 ms import (its `__init__` loads its CLI:
  typer, rich, prompt_toolkit), 14 dependencies, `size()` counts UTF-8 bytes.
* cel-bind (cel-cpp, typed through JSON schema as protobuf): absent fields read as
  proto defaults ('' and false) instead of errors; objects become messages, no maps.
* celparser: no `has()` macro.

This module: 1 ms import, 45 KiB, no dependency, ~5 us per evaluation (3.5 ms for the
corpus), the same answer as cel-expr-python on every one of those evaluations, and it
tells "unknown" (a value set by Flux post-build substitution) apart from an
evaluation error, which none of the libraries offers.

The subset, with CEL's semantics (anything else is `unsupported`, never a guess):

* literals: int (decimal, hex), double, string (quoted, raw, triple-quoted, every
  CEL escape), `true`, `false`, `null`, list literals `[a, b]`;
* `self`, field selection `self.a.b` (Kubernetes' escaping of odd property names,
  `__dash__`, `__dot__`, `__slash__`, `__underscores__`, `__{keyword}__`,
  is undone), indexing `a[i]` / `m['k']`;
* `has(x.f)`; `e.all(v, p)`, `e.exists(v, p)`, `e.exists_one(v, p)`;
* `!`, unary `-`, `&&` and `||` (commutative: a true `||` side or a false `&&`
  side absorbs an error on the other side), `?:`;
* `==`, `!=` (values of different types are an error: Kubernetes type-checks rules
  against the schema and runs none of them while an object has type errors),
  `<`, `<=`, `>`, `>=` (numbers, strings, bools), `in` (lists, map keys),
  `+ - * / %` (int64 with overflow errors, doubles, string and list `+`);
* `size()` of strings, lists and maps; `startsWith`, `endsWith`, `contains`,
  `matches` (RE2 patterns; constructs where Python's `re` differs from RE2 are
  unsupported).

Values are plain YAML data. As on the API server, a map entry whose value is null
counts as absent (Kubernetes prunes nulls of non-nullable fields before validation;
no Flux field is nullable), and `apply_defaults` (or `evaluate(..., schema=node)`)
fills schema defaults first, as the API server does before validating.

Substitutions: a string holding `${VAR}` / `${VAR:=default}` (Flux post-build) or
SOPS ciphertext (`ENC[...]`) is an *unknown* value. Unknowns propagate like errors,
and are absorbed the same way (`unknown || true` is true), so a rule whose outcome
does not depend on the substituted string is still judged; one whose outcome does
evaluates to status `unknown`, which callers must not report.
"""

from __future__ import annotations

import functools
import math
import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable

    Program = Callable[[dict], Any]

__all__ = [
    "PASSED", "FAILED", "ERROR", "UNSUPPORTED", "UNKNOWN",
    "CelRule", "CelResult", "compile_rule", "evaluate", "reads_substitution", "apply_defaults",
]

#: Result statuses. Only FAILED is a finding about the object; the others are "not judged".
PASSED, FAILED, ERROR, UNSUPPORTED, UNKNOWN = "passed", "failed", "error", "unsupported", "unknown"

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
#: Nesting limit of the parser (cel-go's default is far higher; CRD rules are shallow).
_MAX_DEPTH = 64


# --------------------------------------------------------------------------- results and rules


class CelResult:
    """The outcome of one rule on one value.

    `message` is, for FAILED, the text to show (the rule's `message`, its
    `messageExpression`, or Kubernetes' default `failed rule: <rule>`); for the
    other non-passing statuses, why the rule could not be judged.
    `field_path` and `reason` repeat the rule's `fieldPath` and `reason` on FAILED.
    """

    __slots__ = ("status", "message", "field_path", "reason")

    def __init__(self, status: str, message: str = "", field_path: str | None = None,
                 reason: str | None = None):
        self.status, self.message, self.field_path, self.reason = status, message, field_path, reason

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def judged(self) -> bool:
        """Passed or failed: the rule's outcome is known."""
        return self.status in (PASSED, FAILED)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelResult) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return (self.status, self.message, self.field_path, self.reason)

    def __repr__(self) -> str:
        return f"CelResult(status={self.status!r}, message={self.message!r})"


class CelRule:
    """One `x-kubernetes-validations` entry, compiled (immutable; build it with `compile_rule`).

    `is_transition`: mentions `oldSelf`, so checked only on update, never here.
    `unsupported`: why the rule cannot be evaluated (a syntax error, or a construct
    outside the subset), else None; `unsupported_status` says which (ERROR / UNSUPPORTED).
    """

    __slots__ = ("rule", "message", "message_expression", "field_path", "reason", "is_transition",
                 "unsupported", "unsupported_status", "_program", "_message_program")

    def __init__(self, rule: str, message: str | None = None, message_expression: str | None = None,
                 field_path: str | None = None, reason: str | None = None, is_transition: bool = False,
                 unsupported: str | None = None, unsupported_status: str = UNSUPPORTED,
                 _program: Callable | None = None, _message_program: Callable | None = None):
        set_ = object.__setattr__
        for name, value in (("rule", rule), ("message", message), ("message_expression", message_expression),
                            ("field_path", field_path), ("reason", reason), ("is_transition", is_transition),
                            ("unsupported", unsupported), ("unsupported_status", unsupported_status),
                            ("_program", _program), ("_message_program", _message_program)):
            set_(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("CelRule is immutable")

    @property
    def default_message(self) -> str:
        """What the API server says when the rule is false (messageExpression aside)."""
        if self.message and self.message.strip():
            return self.message.strip()
        return f"failed rule: {self.rule.strip()}"

    def __repr__(self) -> str:
        return f"CelRule({self.rule!r}, message={self.message!r})"


def compile_rule(entry: dict) -> CelRule:
    """Compile one `x-kubernetes-validations` entry; never raises (bad rules come back unsupported)."""
    if not isinstance(entry, dict):
        entry = {}

    def text(key: str) -> str | None:
        value = entry.get(key)
        return value if isinstance(value, str) else None

    return _compile_entry(text("rule") or "", text("message"), text("messageExpression"),
                          text("fieldPath"), text("reason"))


@functools.lru_cache(maxsize=4096)
def _compile_entry(rule: str, message: str | None, message_expression: str | None,
                   field_path: str | None, reason: str | None) -> CelRule:
    program, problem, status, transition = _compile_text(rule)
    message_program = None
    if message_expression:
        message_program, _, _, msg_transition = _compile_text(message_expression)
        if msg_transition:
            message_program = None
    return CelRule(rule, message, message_expression, field_path, reason, transition, problem,
                   status, program, message_program)


@functools.lru_cache(maxsize=4096)
def _compile_text(text: str) -> tuple[Callable | None, str | None, str, bool]:
    """(program, problem, problem status, is_transition) for one expression; cached by its text."""
    transition = bool(re.search(r"\boldSelf\b", text))
    try:
        tokens = _tokenize(text)
        transition = any(kind == "ident" and value == "oldSelf" for kind, value, _ in tokens)
        program = _compile(_Parser(tokens).parse(), frozenset({"self"}))
    except _CelSyntaxError as exc:
        return None, f"syntax error: {exc}", ERROR, transition
    except _CelUnsupported as exc:
        return None, f"unsupported CEL: {exc}", UNSUPPORTED, transition
    except RecursionError:
        return None, "unsupported CEL: expression nested too deeply", UNSUPPORTED, transition
    except Exception as exc:  # noqa: BLE001 - a bug here must never stop a lint run
        return None, f"internal compile error: {type(exc).__name__}: {exc}", ERROR, transition
    return program, None, UNSUPPORTED, transition


def evaluate(rule: CelRule, value: Any, *, schema: dict | None = None) -> CelResult:
    """Evaluate `rule` with `self` bound to `value` (plain YAML data); never raises.

    `schema`, the structural-schema node that carries the rule, when given, fills
    defaults first (`apply_defaults`), as the API server does before validation.
    """
    if rule.is_transition:
        return CelResult(UNSUPPORTED, "transition rule (uses oldSelf): checked only on update")
    if rule._program is None:
        return CelResult(rule.unsupported_status, rule.unsupported or "not compiled")
    try:
        if schema is not None:
            value = apply_defaults(schema, value)
        outcome = rule._program({"self": _wrap(value)})
    except RecursionError:
        return CelResult(UNSUPPORTED, "value nested too deeply")
    except Exception as exc:  # noqa: BLE001 - a bug here must never stop a lint run
        return CelResult(ERROR, f"internal evaluation error: {type(exc).__name__}: {exc}")
    if outcome is True:
        return CelResult(PASSED)
    if outcome is False:
        return CelResult(FAILED, _failure_message(rule, value), rule.field_path, rule.reason)
    if isinstance(outcome, _Unknown):
        return CelResult(UNKNOWN, outcome.message)
    if isinstance(outcome, _Unsupported):
        return CelResult(UNSUPPORTED, outcome.message)
    if isinstance(outcome, _Error):
        return CelResult(ERROR, outcome.message)
    return CelResult(ERROR, f"rule evaluated to {_type_name(outcome)}, not bool")


def reads_substitution(rule: CelRule, value: Any) -> bool:
    """Whether the rule's outcome on `value` hangs on a `${...}` substitution (or SOPS ciphertext)."""
    return evaluate(rule, value).status == UNKNOWN


def _failure_message(rule: CelRule, value: Any) -> str:
    if rule._message_program is not None:
        try:
            text = rule._message_program({"self": _wrap(value)})
        except Exception:  # noqa: BLE001
            text = None
        # As the API server: a messageExpression that fails, is empty or spans lines falls back.
        if isinstance(text, str) and text.strip() and "\n" not in text and len(text) <= 5000:
            return text.strip()
    return rule.default_message


def apply_defaults(schema: Any, value: Any) -> Any:
    """`value` with the schema's defaults filled in and null map entries pruned (a new value where
    anything changed; `value` itself, never mutated, where nothing did).

    Mirrors the API server's structural defaulting: nulls of non-nullable fields are
    dropped, then `default`s of absent properties are set, recursively through
    properties, items and additionalProperties.
    """
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else None
        out = {}
        changed = False
        for key, item in value.items():
            sub = properties.get(key, extra)
            if item is None:
                if not (isinstance(sub, dict) and sub.get("nullable")):
                    changed = True
                    continue
            elif isinstance(item, (dict, list)) and isinstance(sub, dict):
                new = apply_defaults(sub, item)
                changed = changed or new is not item
                item = new
            out[key] = item
        for key, sub in properties.items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = apply_defaults(sub, _copy(sub["default"]))
                changed = True
        return out if changed else value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        out_list = [apply_defaults(items, item) if isinstance(item, (dict, list)) else item for item in value]
        return out_list if any(a is not b for a, b in zip(out_list, value)) else value
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --------------------------------------------------------------------------- error and unknown values


class _Error:
    """A CEL error value: flows through the evaluation, absorbed only by `&&`, `||` and macros."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


class _Unsupported(_Error):
    """An error because a construct or value is outside what this module models."""

    __slots__ = ()


class _Unknown:
    """A value only known after Flux's post-build substitution (or SOPS decryption)."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


_SPECIAL = (_Error, _Unknown)


def _first_special(*values: Any) -> Any:
    """For strict operators: an unknown argument wins over an error, as in cel-go."""
    found = None
    for v in values:
        if isinstance(v, _Unknown):
            return v
        if found is None and isinstance(v, _Error):
            found = v
    return found


def _is_substituted(text: str) -> bool:
    return "${" in text or text.startswith("ENC[")


def _unknown_for(text: str) -> _Unknown:
    shown = text if len(text) <= 60 else text[:57] + "..."
    if "${" in text:
        return _Unknown(f"reads {shown!r}, set only by Flux post-build substitution")
    return _Unknown(f"reads {shown!r}, SOPS ciphertext")


def _wrap(value: Any) -> Any:
    """A YAML value as the evaluator sees it: substituted strings unknown, foreign types unsupported."""
    if isinstance(value, str):
        return _unknown_for(value) if _is_substituted(value) else value
    if isinstance(value, int) and not isinstance(value, bool) and not _INT_MIN <= value <= _INT_MAX:
        return _Unsupported(f"integer {value} is outside CEL's int64")
    if value is None or isinstance(value, (bool, int, float, dict, list)):
        return value
    return _Unsupported(f"value of type {type(value).__name__} has no CEL type here")


def _deep_unknown(value: Any) -> _Unknown | None:
    """The first substituted string inside a list or map (keys included), if any."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _is_substituted(v):
                return _unknown_for(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(x for x in v.values() if x is not None)
        elif isinstance(v, list):
            stack.extend(v)
    return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null_type"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def _kind(value: Any) -> str:
    """Type class for equality and ordering: int and double compare as numbers."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return _type_name(value)


# --------------------------------------------------------------------------- tokenizer


class _CelSyntaxError(Exception):
    pass


class _CelUnsupported(Exception):
    pass


@functools.lru_cache(maxsize=None)
def _token_re() -> re.Pattern:
    """The tokenizer's pattern, compiled on first use (import stays cheap)."""
    return re.compile(
        r"""
        (?P<ws>[ \t\r\n\f]+|//[^\n]*)
      | (?P<str>(?P<prefix>[rRbB]{1,2})?(?P<quote>'''|\"\"\"|'|"))
      | (?P<num>0[xX][0-9a-fA-F]+[uU]?|[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]+[uU]?)
      | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[<>!?:.,()\[\]{}+\-*/%])
        """,
        re.X,
    )

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}
_RESERVED = frozenset({"as", "break", "const", "continue", "else", "for", "function", "if", "import",
                       "let", "loop", "package", "namespace", "return", "var", "void", "while"})
_KEYWORD_LITERALS = {"true": True, "false": False, "null": None}


def _tokenize(text: str) -> list[tuple[str, Any, int]]:
    """[(kind, value, offset)]: kinds are int, double, string, ident, op, end."""
    tokens: list[tuple[str, Any, int]] = []
    pos, n, token_re = 0, len(text), _token_re()
    while pos < n:
        m = token_re.match(text, pos)
        if m is None and text[pos] == "`":
            raise _CelUnsupported("backquoted identifiers")
        if m is None:
            raise _CelSyntaxError(f"unexpected character {text[pos]!r} at {pos}")
        kind = m.lastgroup
        if kind == "ws":
            pos = m.end()
        elif m.group("quote"):
            prefix = (m.group("prefix") or "").lower()
            if "b" in prefix:
                raise _CelUnsupported("bytes literals")
            if len(prefix) == 2 and prefix != "rb" and prefix != "br":
                raise _CelSyntaxError(f"bad string prefix at {pos}")
            value, pos = _read_string(text, m.end(), m.group("quote"), raw="r" in prefix)
            tokens.append(("string", value, m.start()))
        elif kind == "num":
            raw = m.group()
            if raw[-1] in "uU":
                raise _CelUnsupported("unsigned integer literals")
            if raw[:2] in ("0x", "0X"):
                tokens.append(("int", int(raw, 16), m.start()))
            elif "." in raw or "e" in raw or "E" in raw:
                tokens.append(("double", float(raw), m.start()))
            else:
                tokens.append(("int", int(raw), m.start()))
            pos = m.end()
        elif kind == "ident":
            tokens.append(("ident", m.group(), m.start()))
            pos = m.end()
        else:
            tokens.append(("op", m.group(), m.start()))
            pos = m.end()
    tokens.append(("end", None, n))
    return tokens


def _read_string(text: str, pos: int, quote: str, *, raw: bool) -> tuple[str, int]:
    out: list[str] = []
    n, triple = len(text), len(quote) == 3
    while True:
        if pos >= n:
            raise _CelSyntaxError("unterminated string literal")
        if text.startswith(quote, pos):
            return "".join(out), pos + len(quote)
        ch = text[pos]
        if ch in "\r\n" and not triple:
            raise _CelSyntaxError("newline in string literal")
        if ch != "\\" or raw:
            out.append(ch)
            pos += 1
            continue
        if pos + 1 >= n:
            raise _CelSyntaxError("unterminated escape sequence")
        esc = text[pos + 1]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            pos += 2
        elif esc in "xX" or esc in "uU":
            width = {"x": 2, "X": 2, "u": 4, "U": 8}[esc]
            digits = text[pos + 2:pos + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise _CelSyntaxError(f"bad \\{esc} escape")
            code = int(digits, 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise _CelSyntaxError("invalid code point in escape")
            out.append(chr(code))
            pos += 2 + width
        elif esc in "0123":
            digits = text[pos + 1:pos + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise _CelSyntaxError("bad octal escape")
            out.append(chr(int(digits, 8)))
            pos += 4
        else:
            raise _CelSyntaxError(f"unknown escape \\{esc}")


# --------------------------------------------------------------------------- parser (to tuples)


class _Parser:
    """Recursive descent over CEL's grammar; builds nested tuples."""

    def __init__(self, tokens: list[tuple[str, Any, int]]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    # helpers
    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.i]

    def at(self, op: str) -> bool:
        kind, value, _ = self.tokens[self.i]
        return kind == "op" and value == op

    def take(self, op: str) -> None:
        if not self.at(op):
            kind, value, offset = self.peek()
            found = "end of expression" if kind == "end" else repr(value)
            raise _CelSyntaxError(f"expected {op!r} at {offset}, found {found}")
        self.i += 1

    def parse(self) -> tuple:
        node = self.expr()
        kind, value, offset = self.peek()
        if kind != "end":
            raise _CelSyntaxError(f"unexpected {value!r} at {offset}")
        return node

    # grammar
    def expr(self) -> tuple:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _CelUnsupported("expression nested too deeply")
        cond = self.or_()
        if self.at("?"):
            self.i += 1
            then = self.or_()
            self.take(":")
            other = self.expr()
            cond = ("cond", cond, then, other)
        self.depth -= 1
        return cond

    def or_(self) -> tuple:
        node = self.and_()
        while self.at("||"):
            self.i += 1
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.relation()
        while self.at("&&"):
            self.i += 1
            node = ("and", node, self.relation())
        return node

    def relation(self) -> tuple:
        node = self.addition()
        while True:
            kind, value, _ = self.peek()
            if kind == "op" and value in ("<", "<=", ">", ">=", "==", "!="):
                self.i += 1
                node = ("binary", value, node, self.addition())
            elif kind == "ident" and value == "in":
                self.i += 1
                node = ("in", node, self.addition())
            else:
                return node

    def addition(self) -> tuple:
        node = self.multiplication()
        while self.at("+") or self.at("-"):
            op = self.peek()[1]
            self.i += 1
            node = ("binary", op, node, self.multiplication())
        return node

    def multiplication(self) -> tuple:
        node = self.unary()
        while self.at("*") or self.at("/") or self.at("%"):
            op = self.peek()[1]
            self.i += 1
            node = ("binary", op, node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.at("!"):
            self.i += 1
            return ("not", self.unary())
        if self.at("-"):
            self.i += 1
            kind, value, _ = self.peek()
            if kind in ("int", "double") and not self._continues_member():
                self.i += 1
                literal = -value
                if kind == "int" and literal < _INT_MIN:
                    raise _CelSyntaxError("integer literal out of range")
                return self.member_tail(("lit", literal))
            return ("neg", self.unary())
        return self.member()

    def _continues_member(self) -> bool:
        nxt = self.tokens[self.i + 1]
        return nxt[0] == "op" and nxt[1] in (".", "[")

    def member(self) -> tuple:
        return self.member_tail(self.primary())

    def member_tail(self, node: tuple) -> tuple:
        while True:
            if self.at("."):
                self.i += 1
                kind, name, offset = self.peek()
                if kind != "ident":
                    if kind == "op" and name == "?":
                        raise _CelUnsupported("optional field selection (.?)")
                    raise _CelSyntaxError(f"expected a field name at {offset}")
                self.i += 1
                if self.at("("):
                    node = self.call(name, node)
                elif name in _RESERVED or name in _KEYWORD_LITERALS or name == "in":
                    raise _CelUnsupported(f"reserved word {name!r} as a field name (Kubernetes writes __{name}__)")
                else:
                    node = ("select", node, _unescape_field(name))
            elif self.at("["):
                self.i += 1
                if self.at("?"):
                    raise _CelUnsupported("optional index ([?])")
                index = self.expr()
                self.take("]")
                node = ("index", node, index)
            else:
                return node

    def args(self) -> list[tuple]:
        self.take("(")
        out: list[tuple] = []
        if not self.at(")"):
            out.append(self.expr())
            while self.at(","):
                self.i += 1
                out.append(self.expr())
        self.take(")")
        return out

    def call(self, name: str, target: tuple | None) -> tuple:
        args = self.args()
        if target is None and name == "has":
            if len(args) != 1 or args[0][0] != "select":
                raise _CelSyntaxError("invalid argument to has() macro")
            return ("has", args[0][1], args[0][2])
        if target is not None and name in ("all", "exists", "exists_one"):
            if len(args) == 3:
                raise _CelUnsupported(f"two-variable {name}()")
            if len(args) != 2 or args[0][0] != "ident":
                raise _CelSyntaxError(f"{name}() takes a variable name and a predicate")
            return ("comprehension", name, target, args[0][1], args[1])
        if target is not None and name in ("map", "filter", "transformList", "transformMap"):
            raise _CelUnsupported(f"macro {name}()")
        return ("call", name, target, args)

    def primary(self) -> tuple:
        kind, value, offset = self.peek()
        if kind in ("int", "double", "string"):
            self.i += 1
            if kind == "int" and value > _INT_MAX:
                raise _CelSyntaxError("integer literal out of range")
            return ("lit", value)
        if kind == "ident":
            self.i += 1
            if value in _KEYWORD_LITERALS:
                return ("lit", _KEYWORD_LITERALS[value])
            if value == "in" or value in _RESERVED:
                raise _CelSyntaxError(f"reserved word {value!r} at {offset}")
            if self.at("("):
                return self.call(value, None)
            return ("ident", value)
        if kind == "op":
            if value == "(":
                self.i += 1
                node = self.expr()
                self.take(")")
                return node
            if value == "[":
                self.i += 1
                items: list[tuple] = []
                while not self.at("]"):
                    items.append(self.expr())
                    if not self.at(","):
                        break
                    self.i += 1
                self.take("]")
                return ("list", items)
            if value == "{":
                raise _CelUnsupported("map literals")
            if value == ".":
                raise _CelUnsupported("leading-dot (root-scoped) identifiers")
        if kind == "end":
            raise _CelSyntaxError("unexpected end of expression")
        raise _CelSyntaxError(f"unexpected {value!r} at {offset}")


_ESCAPES_IN_NAMES = (("__underscores__", "__"), ("__dot__", "."), ("__dash__", "-"), ("__slash__", "/"))


def _unescape_field(name: str) -> str:
    """Kubernetes' escaping of property names that are no CEL identifiers (apiserver/pkg/cel/escaping.go)."""
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _RESERVED | {"true", "false", "null", "in"}:
        return name[2:-2]
    if "__" not in name:
        return name
    out, i = [], 0
    while i < len(name):
        for escaped, plain in _ESCAPES_IN_NAMES:
            if name.startswith(escaped, i):
                out.append(plain)
                i += len(escaped)
                break
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- compiler (tuples to closures)


def _compile(node: tuple, scope: frozenset[str]) -> Program:
    op = node[0]
    if op == "lit":
        value = node[1]
        return lambda env: value
    if op == "ident":
        name = node[1]
        if name not in scope:
            if name == "oldSelf":
                raise _CelUnsupported("oldSelf (transition rule)")
            raise _CelUnsupported(f"unknown identifier {name!r} (only self is bound)")
        return lambda env: env[name]
    if op == "list":
        items = [_compile(item, scope) for item in node[1]]

        def make_list(env: dict) -> Any:
            values = [f(env) for f in items]
            return _first_special(*values) or values
        return make_list
    if op == "select":
        operand, name = _compile(node[1], scope), node[2]
        return lambda env: _select(operand(env), name)
    if op == "has":
        operand, name = _compile(node[1], scope), node[2]
        return lambda env: _has(operand(env), name)
    if op == "index":
        operand, index = _compile(node[1], scope), _compile(node[2], scope)
        return lambda env: _index(operand(env), index(env))
    if op == "not":
        operand = _compile(node[1], scope)

        def not_(env: dict) -> Any:
            v = operand(env)
            if v is True or v is False:
                return not v
            return v if isinstance(v, _SPECIAL) else _Error(f"no such overload: !{_type_name(v)}")
        return not_
    if op == "neg":
        operand = _compile(node[1], scope)
        return lambda env: _negate(operand(env))
    if op == "and":
        return _logical(_compile(node[1], scope), _compile(node[2], scope), absorbing=False)
    if op == "or":
        return _logical(_compile(node[1], scope), _compile(node[2], scope), absorbing=True)
    if op == "cond":
        cond, then, other = (_compile(n, scope) for n in node[1:])

        def conditional(env: dict) -> Any:
            c = cond(env)
            if c is True:
                return then(env)
            if c is False:
                return other(env)
            return c if isinstance(c, _SPECIAL) else _Error(f"no such overload: {_type_name(c)} ? _ : _")
        return conditional
    if op == "binary":
        fn = _BINARY[node[1]]
        left, right = _compile(node[2], scope), _compile(node[3], scope)

        def binary(env: dict) -> Any:
            a, b = left(env), right(env)
            return _first_special(a, b) or fn(a, b)
        return binary
    if op == "in":
        left, right = _compile(node[1], scope), _compile(node[2], scope)

        def in_(env: dict) -> Any:
            a, b = left(env), right(env)
            return _first_special(a, b) or _contains(b, a)
        return in_
    if op == "comprehension":
        return _compile_comprehension(node, scope)
    if op == "call":
        return _compile_call(node, scope)
    raise _CelUnsupported(f"node {op}")  # pragma: no cover - the parser makes no others


def _logical(left: Program, right: Program, *, absorbing: bool) -> Program:
    """`||` (absorbing=True: true wins) or `&&` (false wins); errors only when nothing absorbs them."""

    def logical(env: dict) -> Any:
        a = left(env)
        if a is absorbing:
            return absorbing
        b = right(env)
        if b is absorbing:
            return absorbing
        if a is (not absorbing) and b is (not absorbing):
            return not absorbing
        for v in (a, b):
            if not isinstance(v, _SPECIAL) and not isinstance(v, bool):
                return _Error(f"no such overload: {'||' if absorbing else '&&'} on {_type_name(v)}")
        return _first_special(a, b)
    return logical


def _compile_comprehension(node: tuple, scope: frozenset[str]) -> Program:
    _, macro, target_node, var, body_node = node
    if var in scope:
        raise _CelUnsupported(f"iteration variable {var!r} shadows a variable")
    target = _compile(target_node, scope)
    body = _compile(body_node, scope | {var})

    def comprehension(env: dict) -> Any:
        range_ = target(env)
        if isinstance(range_, _SPECIAL):
            return range_
        if isinstance(range_, list):
            elements = range_
        elif isinstance(range_, dict):
            elements = [k for k, v in range_.items() if v is not None]
        else:
            return _Error(f"{macro}() needs a list or map, not {_type_name(range_)}")
        inner = dict(env)
        results = []
        for element in elements:
            inner[var] = _wrap(element)
            results.append(body(inner))
        for r in results:
            if not isinstance(r, (bool, _Error, _Unknown)):
                return _Error(f"{macro}() predicate returned {_type_name(r)}")
        if macro == "exists_one":  # strict: every error or unknown counts
            special = _first_special(*results)
            return special or results.count(True) == 1
        wanted = macro == "exists"  # exists: a true absorbs errors; all: a false does
        if wanted in results:
            return wanted
        return _first_special(*results) or (not wanted)
    return comprehension


def _compile_call(node: tuple, scope: frozenset[str]) -> Program:
    _, name, target_node, arg_nodes = node
    if target_node is None:
        if name == "size" and len(arg_nodes) == 1:
            arg = _compile(arg_nodes[0], scope)
            return lambda env: _special_or(arg(env), _size)
        if name == "matches" and len(arg_nodes) == 2:
            target_node, arg_nodes = arg_nodes[0], arg_nodes[1:]
        else:
            raise _CelUnsupported(f"function {name}() with {len(arg_nodes)} argument(s)")
    target = _compile(target_node, scope)
    if name == "size" and not arg_nodes:
        return lambda env: _special_or(target(env), _size)
    if name in _STRING_METHODS and len(arg_nodes) == 1:
        if name == "matches" and arg_nodes[0][0] == "lit":
            pattern = arg_nodes[0][1]
            if not isinstance(pattern, str):
                raise _CelSyntaxError("matches() takes a string pattern")
            compiled = _compile_regex(pattern)
            if isinstance(compiled, _Unsupported):
                raise _CelUnsupported(compiled.message)
            if isinstance(compiled, _Error):
                raise _CelSyntaxError(compiled.message)

            def matches_literal(env: dict) -> Any:
                s = target(env)
                if isinstance(s, _SPECIAL):
                    return s
                if not isinstance(s, str):
                    return _Error(f"no such overload: {_type_name(s)}.matches(string)")
                return compiled.search(s) is not None
            return matches_literal
        fn = _STRING_METHODS[name]
        arg = _compile(arg_nodes[0], scope)

        def method(env: dict) -> Any:
            s, a = target(env), arg(env)
            special = _first_special(s, a)
            if special is not None:
                return special
            if not isinstance(s, str) or not isinstance(a, str):
                return _Error(f"no such overload: {_type_name(s)}.{name}({_type_name(a)})")
            return fn(s, a)
        return method
    raise _CelUnsupported(f"method {name}() with {len(arg_nodes)} argument(s)")


def _special_or(value: Any, fn: Callable[[Any], Any]) -> Any:
    return value if isinstance(value, _SPECIAL) else fn(value)


# --------------------------------------------------------------------------- operations


def _select(operand: Any, name: str) -> Any:
    if isinstance(operand, _SPECIAL):
        return operand
    if isinstance(operand, dict):
        value = operand.get(name)
        if value is None:  # absent, or a null the API server prunes
            return _Error(f"no such key: {name}")
        return _wrap(value)
    return _Error(f"no such field {name!r} on {_type_name(operand)}")


def _has(operand: Any, name: str) -> Any:
    if isinstance(operand, _SPECIAL):
        return operand
    if isinstance(operand, dict):
        return operand.get(name) is not None
    return _Error(f"has() on {_type_name(operand)}")


def _index(operand: Any, index: Any) -> Any:
    special = _first_special(operand, index)
    if special is not None:
        return special
    if isinstance(operand, list):
        if isinstance(index, bool) or not isinstance(index, int):
            return _Error(f"no such overload: list[{_type_name(index)}]")
        if not 0 <= index < len(operand):
            return _Error(f"index {index} out of range (size {len(operand)})")
        return _wrap(operand[index])
    if isinstance(operand, dict):
        if isinstance(index, (list, dict)):
            return _Error(f"unsupported key type {_type_name(index)}")
        value = _lookup(operand, index)
        return _Error(f"no such key: {index!r}") if value is _MISSING else _wrap(value)
    return _Error(f"no such overload: {_type_name(operand)}[{_type_name(index)}]")


_MISSING = object()


def _lookup(mapping: dict, key: Any) -> Any:
    """The non-null value under `key` by CEL's key equality (in CEL, true is not 1), else _MISSING."""
    if isinstance(key, str):
        value = mapping.get(key)
        return _MISSING if value is None else value
    kind = _kind(key)
    for k, v in mapping.items():
        if v is not None and _kind(k) == kind and k == key:
            return v
    return _MISSING


def _negate(v: Any) -> Any:
    if isinstance(v, _SPECIAL):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return _Error(f"no such overload: -{_type_name(v)}")
    return _int_result(-v) if isinstance(v, int) else -v


def _int_result(v: int) -> Any:
    return v if _INT_MIN <= v <= _INT_MAX else _Error("integer overflow")


def _size(v: Any) -> Any:
    if isinstance(v, str):
        return len(v)
    if isinstance(v, list):
        return len(v)
    if isinstance(v, dict):
        return sum(1 for x in v.values() if x is not None)
    return _Error(f"no such overload: size({_type_name(v)})")


def _values_equal(a: Any, b: Any) -> bool:
    """CEL's heterogeneous equality inside containers: different types are simply unequal."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka == "number":
        return a == b and not (isinstance(a, float) and math.isnan(a))
    if ka == "list":
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b))
    if ka == "map":
        pa = {k: v for k, v in a.items() if v is not None}
        if len(pa) != sum(1 for v in b.values() if v is not None):
            return False
        for k, v in pa.items():
            other = _lookup(b, k)
            if other is _MISSING or not _values_equal(v, other):
                return False
        return True
    return a == b


def _equals(a: Any, b: Any) -> Any:
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        # Typed CEL (as Kubernetes compiles rules against the schema) has no such overload,
        # and the API server runs no rule while the object has type errors.
        return _Error(f"no such overload: {_type_name(a)} == {_type_name(b)}")
    if ka in ("list", "map"):
        unknown = _deep_unknown(a) or _deep_unknown(b)
        if unknown is not None:
            return unknown
    return _values_equal(a, b)


def _not_equals(a: Any, b: Any) -> Any:
    r = _equals(a, b)
    return (not r) if isinstance(r, bool) else r


def _compare(op: str) -> Callable[[Any, Any], Any]:
    import operator

    fn = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def compare(a: Any, b: Any) -> Any:
        ka, kb = _kind(a), _kind(b)
        if ka != kb or ka not in ("number", "string", "bool"):
            return _Error(f"no such overload: {_type_name(a)} {op} {_type_name(b)}")
        return fn(a, b)
    return compare


def _add(a: Any, b: Any) -> Any:
    ta, tb = _type_name(a), _type_name(b)
    if ta != tb:
        return _Error(f"no such overload: {ta} + {tb}")
    if ta == "int":
        return _int_result(a + b)
    if ta in ("double", "string", "list"):
        return a + b
    return _Error(f"no such overload: {ta} + {tb}")


def _arith(op: str) -> Callable[[Any, Any], Any]:
    def arith(a: Any, b: Any) -> Any:
        ta, tb = _type_name(a), _type_name(b)
        if ta != tb or ta not in ("int", "double") or (op == "%" and ta != "int"):
            return _Error(f"no such overload: {ta} {op} {tb}")
        if ta == "double":
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if b == 0:
                return math.copysign(math.inf, a) * math.copysign(1, b) if a and not math.isnan(a) else math.nan
            return a / b
        if op == "-":
            return _int_result(a - b)
        if op == "*":
            return _int_result(a * b)
        if b == 0:
            return _Error("division by zero" if op == "/" else "modulus by zero")
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # truncates toward zero
        return _int_result(quotient) if op == "/" else a - b * quotient
    return arith


def _contains(container: Any, item: Any) -> Any:
    if isinstance(container, list):
        if isinstance(item, (list, dict)):
            unknown = _deep_unknown(item)
            if unknown is not None:
                return unknown
        for element in container:
            if isinstance(element, str) and _is_substituted(element):
                continue
            if _values_equal(item, element):
                return True
        unknown = _deep_unknown(container)
        return unknown if unknown is not None else False
    if isinstance(container, dict):
        if isinstance(item, (list, dict)):
            return _Error(f"unsupported key type {_type_name(item)}")
        if _lookup(container, item) is not _MISSING:
            return True
        unknown = _deep_unknown(list(container.keys()))
        return unknown if unknown is not None else False
    return _Error(f"no such overload: {_type_name(item)} in {_type_name(container)}")


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": _equals, "!=": _not_equals,
    "<": _compare("<"), "<=": _compare("<="), ">": _compare(">"), ">=": _compare(">="),
    "+": _add, "-": _arith("-"), "*": _arith("*"), "/": _arith("/"), "%": _arith("%"),
}


# --------------------------------------------------------------------------- regular expressions (RE2 via re)

#: RE2 constructs that Python's `re` reads differently or not at all, and Python-only ones
#: (which RE2, hence the API server, rejects): unsupported rather than guessed.
_RE2_UNSAFE = (r"\\[pPzZCQEGg0-9]|\\x\{|\[\[:|\(\?[=!<]|\(\?P=|[*+?}]\+|\{,")
#: Inline flags: RE2 and Python agree on i and s, as a prefix `(?is)` or a group `(?i:...)`.
_RE2_FLAGS = (r"\(\?([a-zA-Z]*)(-[a-zA-Z]*)?([:)])")


@functools.lru_cache(maxsize=256)
def _compile_regex(pattern: str) -> Any:
    """A compiled `re` pattern with RE2's meaning, or an _Error / _Unsupported."""
    if re.search(_RE2_UNSAFE, pattern):
        return _Unsupported(f"regular expression {pattern!r} uses a construct whose RE2 meaning is not modelled")
    translated: list[str] = []
    in_class, i, n = False, 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            translated.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            j = i + 1 + (pattern[i + 1:i + 2] == "^")
            if pattern[j:j + 1] == "]":  # a ']' first in a class is a literal in both dialects
                translated.append(pattern[i:j + 1])
                i = j + 1
                continue
        elif ch == "(" and pattern[i + 1:i + 2] == "?" and not pattern.startswith("(?P<", i) \
                and not pattern.startswith("(?:", i):
            m = re.compile(_RE2_FLAGS).match(pattern, i)
            if m is None or m.group(2) or set(m.group(1)) - {"i", "s"} or (m.group(3) == ")" and i != 0):
                return _Unsupported(f"regular expression {pattern!r}: inline flags not modelled")
            if "i" in m.group(1) and not pattern.isascii():
                return _Unsupported(f"regular expression {pattern!r}: Unicode case folding not modelled")
        elif ch == "$":
            # RE2's $ (without (?m)) is the end of the text; Python's also matches before a final newline.
            translated.append(r"\Z")
            i += 1
            continue
        translated.append(ch)
        i += 1
    try:
        return re.compile("".join(translated), re.ASCII)  # RE2's \d \w \s \b are ASCII-only
    except re.error as exc:
        return _Error(f"invalid regular expression {pattern!r}: {exc}")
    except (OverflowError, RecursionError, ValueError):
        return _Unsupported(f"regular expression {pattern!r} too complex")


def _matches(s: str, pattern: str) -> Any:
    compiled = _compile_regex(pattern)
    if isinstance(compiled, _Error):
        return compiled
    return compiled.search(s) is not None


_STRING_METHODS: dict[str, Callable[[str, str], Any]] = {
    "startsWith": lambda s, a: s.startswith(a),
    "endsWith": lambda s, a: s.endswith(a),
    "contains": lambda s, a: a in s,
    "matches": _matches,
}
