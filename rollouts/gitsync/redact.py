"""Keep repository credentials out of status, logs, events and error messages.

Every string that leaves the Git sync code and may carry a URL or a git/tool
message goes through `redact`: userinfo in URLs (`https://user:token@host`)
becomes `***`, and any known secret value is replaced wherever it appears
(git sometimes echoes a URL in a shape we would not parse).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"

# scheme://userinfo@host — userinfo may hold anything but '/', '@' and whitespace.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def redact_url(url: str) -> str:
    """The URL with any user/password part replaced, e.g. https://***@host/repo.git."""
    return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", url)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Text with URL credentials and every given secret value (4+ characters) replaced."""
    result = redact_url(text)
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        result = result.replace(secret, REDACTED)
        # A multi-line secret (an SSH key) may also leak one line at a time.
        for line in secret.splitlines():
            if len(line.strip()) >= 16:
                result = result.replace(line.strip(), REDACTED)
    return result
