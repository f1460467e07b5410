"""Keeping secret argument values out of everything we write, in any encoding.

A secret argument reaches a provider resolved (a query, a URL, a header), and
what the provider says back (an error from an HTTP library, a server's echo,
a resolved query) can carry it in another form than the one we substituted:
percent-encoded in a URL (`%2F`, or `+` for a space, upper or lower case hex,
only some characters encoded), JSON- or Go-escaped (`\\"`, `\\u003c`),
a Python `repr` of its bytes (`\\xc3\\xa9`), HTML entities, base64 in a
Basic `Authorization` header (standard or URL-safe alphabet, padded or not,
and at any byte offset inside a longer encoded string).
`Redactor` matches all of them, and is applied to every string the
AnalysisRun controller writes from a measurement (status, events, logs).

Each character of a secret is matched as a regular-expression alternation of
its literal and escaped forms, so a mix of encodings within one string is
caught too; the base64 forms are literal strings. Redaction is idempotent:
the text between earlier `*****` markers is redacted, never the markers, so a
secret made of asterisks cannot make a status grow on every reconcile.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "*****"
# A secret this long is matched in its literal forms only: a regex of a
# megabyte-long secret would cost more than the whole reconcile.
_PATTERN_LIMIT = 4096
# Base64 of a secret inside a longer base64 string differs with its byte
# offset; the stretch it fully determines is matched when it is this long,
# shorter stretches would redact innocent text.
_MIN_BASE64_CORE = 8


def _hex_any_case(byte: int) -> str:
    return "%" + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in f"{byte:02x}")


def _char_forms(char: str) -> list[str]:
    """Regex alternatives for one character of a secret."""
    forms = [re.escape(char)]
    encoded = char.encode()
    forms.append("".join(_hex_any_case(b) for b in encoded))
    if not char.isascii():  # repr() of bytes: \xc3\xa9
        forms.append("".join("\\\\[xX]" + _hex_any_case(b)[1:] for b in encoded))
    if char == " ":
        forms.append(r"\+")
    json_ascii = json.dumps(char)[1:-1]
    for escaped in {json_ascii, json.dumps(char, ensure_ascii=False)[1:-1]}:
        if escaped != char:
            forms.append(re.escape(escaped).replace("u", "[uU]"))
    # Any character as \uXXXX (Go's json escapes <, > and &), and Python/shell style \c.
    if len(json_ascii) <= 6:
        forms.append(r"\\[uU]" + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in f"{ord(char):04x}"))
    if not char.isalnum():
        forms.append(re.escape("\\" + char))
    escaped_html = html.escape(char)
    if escaped_html != char:
        forms.extend([re.escape(escaped_html), re.escape(f"&#{ord(char)};"), re.escape(f"&#x{ord(char):x};")])
    return forms


def _base64_forms(secret: str) -> set[str]:
    data = secret.encode()
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode()
        forms.add(whole)
        forms.add(whole.rstrip("="))
        for offset in range(3):
            text = encode(b"\0" * offset + data).decode()
            start = 4 if offset else 0
            end = 4 * ((offset + len(data)) // 3)
            core = text[start:end]
            if len(core) >= _MIN_BASE64_CORE:
                forms.add(core)
    return {form for form in forms if form}


def _literal_forms(secret: str) -> set[str]:
    forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret), quote_plus(secret, safe="")}
    forms |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms |= {form.lower() for form in forms if "%" in form}
    return forms | _base64_forms(secret)


class Redactor:
    """Replaces every known encoding of each secret with `*****`."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        alternatives: set[str] = set()
        literals: set[str] = set()
        for secret in values:
            if len(secret) <= _PATTERN_LIMIT:
                alternatives.add("".join("(?:" + "|".join(_char_forms(c)) + ")" for c in secret))
                literals |= _base64_forms(secret)
            else:
                literals |= _literal_forms(secret)
        alternatives |= {re.escape(literal) for literal in literals}
        ordered = sorted(alternatives, key=len, reverse=True)
        self._pattern = re.compile("|".join(ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        pattern = self._pattern
        return REDACTED.join(pattern.sub(REDACTED, part) for part in text.split(REDACTED))

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)

    def mapping(self, values: dict[str, str] | None) -> dict[str, str] | None:
        if values is None:
            return None
        return {self(key): self(value) for key, value in values.items()}


def redact(text: str | None, secrets: Iterable[str | None]) -> str | None:
    """`text` with every secret value, in any encoding we know, replaced by *****."""
    return Redactor(secrets).optional(text)
