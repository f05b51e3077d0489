"""The node's own explorer: a static web page served on the RPC port at `/explorer/`.

This module owns only the HTTP side: which files are served, with which headers, and the
redirect of a browser's `GET /` to the page. The page itself (`rpc/web/`, shipped in the package)
reads everything it shows from the node's JSON-RPC on the same origin, so it needs no CORS
opening and no server-side logic of its own. It must not read the chain or the store.

Responses carry a Content-Security-Policy that allows scripts, styles and connections only to
this origin (the page fetches nothing from the internet) and forbids framing, so the page cannot
be embedded by another site to trick a user into clicks.
"""

from importlib import resources
from pathlib import PurePosixPath

from aiohttp import web

PREFIX = "/explorer/"
"""Where the page lives on the RPC port."""

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
"""The kinds of file the page is made of; any other name is not served."""


def add_routes(app: web.Application) -> None:
    """Serve the page's files under `PREFIX` (read once, at start, from the package)."""
    files = _load_assets()

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "") or "index.html"
        asset = files.get(name)
        if asset is None:
            return web.Response(status=404, text=f"no such explorer file: {name}\n")
        body, content_type = asset
        return web.Response(body=body, headers=_headers(request, content_type))

    async def to_page(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX)

    app.router.add_get(PREFIX.rstrip("/"), to_page)
    app.router.add_get(PREFIX + "{name:.*}", serve)


def wants_page(request: web.Request) -> bool:
    """True for a browser navigating to `GET /` (it asks for HTML), not a WebSocket upgrade."""
    return "text/html" in request.headers.get("Accept", "")


def _load_assets() -> dict[str, tuple[bytes, str]]:
    root = resources.files("openledger.rpc") / "web"
    files: dict[str, tuple[bytes, str]] = {}
    pending = [(root, PurePosixPath())]
    while pending:
        folder, relative = pending.pop()
        for entry in folder.iterdir():
            path = relative / entry.name
            if entry.is_dir():
                pending.append((entry, path))
            elif (content_type := CONTENT_TYPES.get(path.suffix)) is not None:
                files[path.as_posix()] = (entry.read_bytes(), content_type)
    return files


def _headers(request: web.Request, content_type: str) -> dict[str, str]:
    # WebSocket URLs are not covered by 'self' in every browser, so name this origin's ws: too.
    socket = f"ws://{request.host} wss://{request.host}"
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {socket}; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
