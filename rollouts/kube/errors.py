"""What went wrong with an API call, as a small hierarchy instead of status codes.

Callers react to what happened (the object is gone, someone wrote first, the
cluster is unreachable) rather than to numbers, so the mapping from an HTTP
status and the API server's Status body to an exception lives here, once, for
plain requests and watches alike.
"""

from __future__ import annotations

import orjson


class KubeError(Exception):
    """An API call failed; `status` is the HTTP status (0 when none was received)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotFoundError(KubeError):
    pass


class ConflictError(KubeError):
    """409: a stale resourceVersion, or the object already exists (reason AlreadyExists)."""


class ForbiddenError(KubeError):
    pass


class InvalidError(KubeError):
    """422: the API server rejected the object; the message says which field."""


class GoneError(KubeError):
    """410: the resourceVersion asked for is too old (watch must relist)."""


class UnreachableError(KubeError):
    """No HTTP answer at all: connection refused, DNS, TLS, timeout."""


class NotLeaderError(KubeError):
    """A write refused locally: this replica cannot prove it still holds the leader Lease."""


_ERRORS: dict[int, type[KubeError]] = {
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: InvalidError,
}


def error_for_status(status: int, body: bytes, what: str) -> KubeError:
    """The KubeError for a non-2xx answer, with the message and reason of its Status body when it has one."""
    message, reason = body.decode(errors="replace")[:500], ""
    try:
        parsed = orjson.loads(body)
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or message)
            reason = str(parsed.get("reason") or "")
    except orjson.JSONDecodeError:
        pass
    return _ERRORS.get(status, KubeError)(f"{what}: {message}", status=status, reason=reason)
