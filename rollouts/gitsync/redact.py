"""Keep repository credentials and rendered Secret values out of status, logs, events and errors.

Every string that leaves the Git sync code and may carry a URL or a git/tool
message goes through `redact`: userinfo in URLs (`https://user:token@host`,
also percent-encoded as `https%3A%2F%2Fuser%3Atoken%40host`) becomes `***`,
and every known secret value is replaced wherever it appears, in each
encoding a tool or the API server may echo it in: as is, URL-encoded
(`quote` and `quote_plus`), and base64 (standard and URL-safe, also as the
stable middle part of a longer base64 text in which the value sits at any
byte offset, which is how a Secret's `data` carries it). The values of the
Secrets a GitSync renders are known secrets too (`rendered_secret_values`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "***"
MIN_SECRET_LENGTH = 4

# scheme://userinfo@host — userinfo may hold anything but '/', '@' and whitespace.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
# The same, percent-encoded (scheme%3A%2F%2Fuserinfo%40).
_ENCODED_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*%3[Aa]%2[Ff]%2[Ff])(?P<userinfo>[^/\s%]*?(?:%(?!40)[0-9A-Fa-f]{2}[^/\s%]*?)*)%40"
)


def redact_url(url: str) -> str:
    """The URL with any user/password part replaced, e.g. https://***@host/repo.git."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", url)
    return _ENCODED_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}%40", text)


def _base64_forms(value: bytes) -> set[str]:
    """base64 texts that reveal `value` wherever it sits in a longer encoded byte string."""
    forms = {base64.b64encode(value).decode(), base64.urlsafe_b64encode(value).decode()}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value).decode()
        # Characters that mix in a byte before or after the value differ with the context: keep the middle.
        start = (offset * 4 + 2) // 3
        end = len(encoded) - (4 if (offset + len(value)) % 3 else 0)
        middle = encoded[start:end]
        if len(middle) >= 2 * MIN_SECRET_LENGTH:
            forms.add(middle)
            forms.add(middle.replace("+", "-").replace("/", "_"))
    return forms


def secret_forms(secret: str) -> set[str]:
    """`secret` as is, URL-encoded and base64-encoded (the texts to replace)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= _base64_forms(secret.encode())
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Text with URL credentials and every given secret value (4+ characters, any encoding) replaced."""
    result = redact_url(text)
    values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
    forms: set[str] = set()
    for secret in values:
        forms |= secret_forms(secret)
        # A multi-line secret (an SSH key) may also leak one line at a time.
        forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= 16}
    for form in sorted(forms, key=len, reverse=True):
        result = result.replace(form, REDACTED)
    return result


def rendered_secret_values(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Every value of every v1 Secret among rendered objects (stringData, and data decoded and raw)."""
    values: list[str] = []
    for obj in objects:
        if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1":
            continue
        for value in (obj.get("stringData") or {}).values():
            values.append(str(value))
        for value in (obj.get("data") or {}).values():
            values.append(str(value))
            try:
                values.append(base64.b64decode(str(value), validate=True).decode())
            except (binascii.Error, ValueError, UnicodeDecodeError):
                continue
    return [v for v in values if len(v) >= MIN_SECRET_LENGTH]
