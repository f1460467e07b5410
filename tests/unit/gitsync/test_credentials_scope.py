"""Credentials go only to the repositories their Secret's `url` names (Argo CD's repository Secret key)."""

from __future__ import annotations

import pytest

from rollouts.gitsync.urls import url_prefix_matches


@pytest.mark.parametrize(
    ("issued_for", "repo_url"),
    [
        ("https://git.example.com/org/app.git", "https://git.example.com/org/app.git"),
        ("https://git.example.com/org/app", "https://git.example.com/org/app.git"),
        ("https://git.example.com/org", "https://git.example.com/org/app.git"),
        ("https://git.example.com/org/", "https://git.example.com/org/app.git"),
        ("https://GIT.example.com/org", "https://user:token@git.example.com/org/app"),
        ("https://git.example.com", "https://git.example.com/org/app"),
        ("git@git.example.com:org", "git@git.example.com:org/app.git"),
        ("/srv/git/app", "/srv/git/app"),
    ],
)
def test_credentials_apply_under_their_url(issued_for: str, repo_url: str) -> None:
    assert url_prefix_matches(issued_for, repo_url)


@pytest.mark.parametrize(
    ("issued_for", "repo_url"),
    [
        ("https://git.example.com/org", "https://git.example.com/org-evil/app.git"),
        ("https://git.example.com", "https://git.example.com.evil.net/org/app"),
        ("https://git.example.com/org", "http://git.example.com/org/app"),
        ("https://git.example.com/org", "https://evil.net/org/app"),
        ("https://git.example.com/org/app", "https://evil.net/?https://git.example.com/org/app"),
        ("", "https://git.example.com/org/app"),
        ("git@git.example.com:org", "git@evil.net:org/app.git"),
    ],
)
def test_credentials_never_go_elsewhere(issued_for: str, repo_url: str) -> None:
    assert not url_prefix_matches(issued_for, repo_url)
