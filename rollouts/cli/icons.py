"""The status icons of `get rollout` (the Argo plugin's), shared by the view model and the renderer.

Each view module maps its own statuses to these; keeping the characters in one
place keeps both CLIs' output identical and the golden files stable.
"""

from __future__ import annotations

ICON_WAITING = "◷"
ICON_PROGRESSING = "◌"
ICON_WARNING = "⚠"
ICON_UNKNOWN = "?"
ICON_OK = "✔"
ICON_BAD = "✖"
ICON_PAUSED = "॥"
ICON_NEUTRAL = "•"
