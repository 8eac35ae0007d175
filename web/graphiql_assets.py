"""GraphiQL without the internet: its files served by this server at ``/graphiql/``.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from
``https://unpkg.com/<package>@<version>/<file>``. unpkg serves the npm packages'
files, so the same files installed from npm (``make graphiql``: ``npm ci`` in
``web/graphiql/``, pinned by its package-lock) are byte for byte what the page
asks for, and its ``integrity`` hashes still check them. :func:`local_page`
rewrites each unpkg address to ``/graphiql/<package>/<file>``; the server
serves those files, and only those.

``BELLWETHER_GRAPHIQL_ASSETS=cdn`` keeps unpkg (the page as Strawberry ships
it); the default is ``local``. With ``local`` and the files not installed, the
page says how to install them instead of hanging on "Loading...".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

PACKAGES_DIR = Path(__file__).resolve().parent / "graphiql" / "node_modules"
"""Where ``make graphiql`` installs the npm packages."""
PREFIX = "/graphiql/"
LOCAL = "local"
CDN = "cdn"

_UNPKG = re.compile(r"https://unpkg\.com/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/([\w./-]+)")


@dataclass(frozen=True, slots=True)
class Asset:
    """One file the page loads: its npm package, the version asked for, its path."""

    package: str
    version: str
    path: str

    @property
    def local_url(self) -> str:
        return f"{PREFIX}{self.package}/{self.path}"


def assets(html: str) -> list[Asset]:
    """The files a GraphiQL page loads from unpkg, in page order."""
    return [Asset(*match.groups()) for match in _UNPKG.finditer(html)]


def installed_version(package: str, root: Path = PACKAGES_DIR) -> str | None:
    manifest = root / package / "package.json"
    if not manifest.is_file():
        return None
    version = json.loads(manifest.read_text()).get("version")
    return str(version) if version else None


def missing(html: str, root: Path = PACKAGES_DIR) -> list[str]:
    """What is not installed as the page needs it ("graphiql@3.8.3: ..."); empty when ready."""
    problems = []
    for asset in assets(html):
        found = installed_version(asset.package, root)
        if found != asset.version:
            having = "not installed" if found is None else f"{found} installed"
            problems.append(f"{asset.package}@{asset.version}: {having}")
        elif not (root / asset.package / asset.path).is_file():
            problems.append(f"{asset.package}@{asset.version}: no {asset.path}")
    return problems


def local_page(html: str) -> str:
    """The page with every unpkg address replaced by this server's ``/graphiql/`` one."""
    return _UNPKG.sub(lambda m: Asset(*m.groups()).local_url, html)


def not_installed_page(problems: list[str]) -> str:
    items = "".join(f"<li><code>{p}</code></li>" for p in problems)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>GraphiQL is not installed</title></head><body>"
        "<h1>GraphiQL's files are not installed on this server</h1>"
        f"<ul>{items}</ul>"
        "<p>Install them with <code>make graphiql</code> (needs npm; <code>make run</code> "
        "does it when npm is there), or restart with "
        "<code>BELLWETHER_GRAPHIQL_ASSETS=cdn</code> to load them from unpkg.com.</p>"
        "<p>The API itself works: POST queries to <code>/graphql</code>.</p>"
        "</body></html>"
    )


class GraphiQLAssets:
    """The GraphiQL page to serve and the ``/graphiql/`` files behind it."""

    def __init__(
        self, strawberry_page: str, mode: str, *, enabled: bool = True, root: Path = PACKAGES_DIR
    ) -> None:
        if mode not in (LOCAL, CDN):
            raise SystemExit(f"BELLWETHER_GRAPHIQL_ASSETS must be local or cdn, got {mode!r}")
        self.problems = missing(strawberry_page, root) if mode == LOCAL and enabled else []
        self.files = {a.local_url: root / a.package / a.path for a in assets(strawberry_page)}
        if mode == CDN or not enabled:
            self.page = strawberry_page
            self.files = {}
        elif self.problems:
            self.page = not_installed_page(self.problems)
            self.files = {}
        else:
            self.page = local_page(strawberry_page)

    async def serve(self, request: Request) -> Response:
        """``GET /graphiql/<package>/<file>``: only the files the page loads."""
        found = self.files.get(request.url.path)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})
