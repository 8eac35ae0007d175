"""Security headers on every HTTP response: a Content-Security-Policy, and
``X-Content-Type-Options``, ``X-Frame-Options`` and ``Referrer-Policy``."""

from __future__ import annotations

import base64
import hashlib
import re

APP_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",  # same-origin fetch and WebSocket (CSP3: 'self' covers ws/wss)
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""The Content-Security-Policy of every response but a page that sets its own: the web
app is same-origin files only (no inline script or style, no third-party origin)."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_SRC = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)
_STYLESHEET = re.compile(r"<link\b[^>]*\brel\s*=\s*[\"']?stylesheet[^>]*>", re.I)
_ORIGIN = re.compile(r"^(https?://[^/]+)")


def _origins(tags: list[str]) -> list[str]:
    found = []
    for tag in tags:
        for url in _SRC.findall(tag):
            origin = _ORIGIN.match(url)
            if origin and origin.group(1) not in found:
                found.append(origin.group(1))
    return found


def page_policy(html: str) -> str:
    """A Content-Security-Policy for one HTML page we serve but did not write (GraphiQL):
    its own inline scripts by hash and the origins its tags load from, nothing else."""
    scripts = _SCRIPT.findall(html)
    inline = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for attributes, body in scripts
        if not _SRC.search(attributes) and body.strip()
    ]
    script_origins = _origins([attributes for attributes, _ in scripts])
    style_origins = _origins(_STYLESHEET.findall(html))
    return "; ".join(
        (
            "default-src 'self'",
            " ".join(("script-src 'self'", *script_origins, *inline)),
            # GraphiQL's editor adds <style> elements at run time.
            " ".join(("style-src 'self' 'unsafe-inline'", *style_origins)),
            " ".join(("font-src 'self' data:", *style_origins)),
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


APP_POLICY_HEADER = (b"content-security-policy", APP_POLICY.encode())
EVERY_RESPONSE = (*SECURITY_HEADERS, APP_POLICY_HEADER)
EVERY_RESPONSE_NAMES = frozenset(name for name, _ in EVERY_RESPONSE)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` (a response's) with ``X-Content-Type-Options: nosniff``,
    ``X-Frame-Options: DENY``, a referrer policy and :data:`APP_POLICY` after them,
    each unless the response set its own."""
    present = {name.lower() for name, _ in headers}
    if present.isdisjoint(EVERY_RESPONSE_NAMES):  # what almost every response has
        return headers + list(EVERY_RESPONSE)
    return headers + [h for h in EVERY_RESPONSE if h[0] not in present]
