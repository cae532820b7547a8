"""The FastAPI application: routes under /api, the built front end at /, JSON errors."""

from __future__ import annotations

import codecs
import json
import logging
import math
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scalesim import __version__
from scalesim.spec.text import unicode_problem
from scalesim.studio.config import MAX_BODY_BYTES, StudioConfig
from scalesim.studio.routes import catalog, designs, generate, health, runs, specs, templates
from scalesim.studio.runner import RunManager
from scalesim.studio.specs import RunRefused, SpecRejected
from scalesim.studio.store import (
    BadValue,
    NotFound,
    SaveConflict,
    SpecMismatch,
    Store,
)

log = logging.getLogger("scalesim.studio")

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>ScaleSim Studio</title>
<h1>ScaleSim Studio</h1><p>The API is running (see <a href="/openapi.json">/openapi.json</a>),
but the front end has not been built. From a source checkout run <code>make studio</code>,
then reload.</p>"""


def create_app(config: StudioConfig | None = None) -> FastAPI:
    config = config or StudioConfig()
    store = Store(config.db_url)
    manager = RunManager(store, config.max_concurrent_runs, config.max_queued_runs,
                         config.run_time_limit_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        manager.close()

    # Swagger UI and ReDoc load their scripts from a CDN: the studio works offline, so it
    # serves the OpenAPI document only (/openapi.json).
    app = FastAPI(title="ScaleSim Studio", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="The HTTP API the studio's front end uses (docs/studio.md).")
    app.state.config, app.state.store, app.state.runs = config, store, manager
    _errors(app)
    _guards(app, config)
    app.add_middleware(_Unexpected)  # outermost of ours: it catches what the others raise
    for module in (templates, specs, runs, generate, designs, catalog, health):
        app.include_router(module.router, prefix="/api")
    index = config.static_dir / "index.html"
    if index.is_file():
        app.mount("/", StaticFiles(directory=config.static_dir, html=True), name="front end")
    else:
        @app.get("/", include_in_schema=False)
        def not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT)
    return app


def _errors(app: FastAPI) -> None:
    """Every error is JSON with a message; tracebacks go to the server log only."""

    @app.exception_handler(SpecRejected)
    async def spec_rejected(_: Request, error: SpecRejected) -> JSONResponse:
        return JSONResponse({"error": error.detail, "errors": error.issues}, status_code=400)

    @app.exception_handler(RunRefused)
    async def run_refused(_: Request, error: RunRefused) -> JSONResponse:
        return JSONResponse({"error": error.detail, "cost": error.cost,
                             "can_force": error.can_force}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=404)

    @app.exception_handler(SaveConflict)
    async def conflict(_: Request, error: SaveConflict) -> JSONResponse:
        return JSONResponse({"error": str(error), "version": error.current}, status_code=409)

    @app.exception_handler(SpecMismatch)
    async def mismatch(_: Request, error: SpecMismatch) -> JSONResponse:
        return JSONResponse({"error": str(error), "version": error.version,
                             "line": error.line}, status_code=409)

    @app.exception_handler(BadValue)
    async def bad_value(_: Request, error: BadValue) -> JSONResponse:
        return JSONResponse({"error": f"bad request: {error}"}, status_code=400)

    # Starlette's HTTPException: the routes' own (FastAPI's subclasses it) and the router's
    # 404 for an unknown path and 405 for a method a path does not take.
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = str(error.detail)
        headers = dict(error.headers or {})
        if message == HTTPStatus(error.status_code).phrase:  # the router's: say what was asked
            message = f"{message}: {request.method} {request.url.path}"
        allowed = _methods(app, request) if error.status_code == 405 else []
        if allowed:
            # Starlette's Allow names one route's methods at most; a path served by several
            # routes (GET and DELETE /api/runs/{id}) takes all of theirs.
            headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
            headers["Allow"] = ", ".join(allowed)
            message += f" (it takes {headers['Allow']})"
        return JSONResponse({"error": message}, status_code=error.status_code,
                            headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
                    for e in error.errors()]
        return JSONResponse({"error": "bad request: " + "; ".join(problems)}, status_code=400)



class _Unexpected:
    """Any other exception: a JSON 500, its traceback in the server's log (once).

    Not an exception handler for Exception: Starlette runs that one in its outermost
    middleware and then raises the exception again, so that the server logs it a second
    time and drops the connection, and the client's next request on it fails. Here the 500
    is an ordinary answer and the connection stays usable. An exception after the answer
    has started (a streamed one) is raised on: the connection cannot carry on then."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            log.exception("%s %s failed", scope["method"], scope["path"])
            response = JSONResponse({"error": "internal error: the server could not answer; "
                                     "details are in its log"}, status_code=500)
            await response(scope, receive, send)


def _methods(app: FastAPI, request: Request) -> list[str]:
    """The methods the API takes at the request's path, from its OpenAPI description."""
    found: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        if compile_path(template)[0].match(request.url.path):
            found |= {method.upper() for method in operations}
    return sorted(found)


Next = Callable[[Request], Awaitable[Response]]


def _guards(app: FastAPI, config: StudioConfig) -> None:
    """Token, body size and JSON-only writes for /api; trusted Host headers."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Next) -> Response:
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        if config.token is not None and not _has_token(request, config.token):
            return JSONResponse({"error": "this studio needs its token: open the link "
                                 "`scalesim studio` printed, or send 'Authorization: Bearer "
                                 "TOKEN'"}, status_code=401)
        if request.method in ("POST", "PUT", "PATCH"):
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                return _too_large()
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return _too_large()
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if body and kind != "application/json":
                return JSONResponse({"error": "send JSON (Content-Type: application/json)"},
                                    status_code=415)
            problem = json_problem(body) if body else None
            if problem is not None:
                return JSONResponse({"error": f"bad request: {problem}"}, status_code=400)
        return await call_next(request)

    if config.allowed_hosts is not None:
        app.add_middleware(_TrustedHosts, allowed=config.allowed_hosts)


class _TrustedHosts:
    """Only requests whose Host header names one of `allowed` (any port): a page on another
    site that points its own name at 127.0.0.1 (DNS rebinding) gets a JSON 400, like every
    other error."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app, self.allowed = app, {name.lower() for name in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._trusted(scope):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"error": "refused: this studio answers only to the host names "
                                 "it listens on (" + ", ".join(sorted(self.allowed)) + ")"},
                                status_code=400)
        await response(scope, receive, send)

    def _trusted(self, scope: Scope) -> bool:
        host = Headers(scope=scope).get("host")
        try:
            name = urllib.parse.urlsplit(f"//{host}").hostname if host else None
        except ValueError:  # a bracket left open
            return False
        return name is not None and (name in self.allowed or f"[{name}]" in self.allowed)


class _NotJson:
    """Where a JSON body has a number JSON does not have (NaN, Infinity, or one past the
    float range that Python would read as infinite): found by json_problem's walk."""

    def __init__(self, text: str, why: str) -> None:
        self.text, self.why = text, why


def _constant(text: str) -> _NotJson:
    return _NotJson(text, "is not a JSON number (JSON has no NaN or Infinity)")


def _float(text: str) -> float | _NotJson:
    value = float(text)
    return value if math.isfinite(value) else _NotJson(text, "is too large a number")


def json_problem(body: bytes) -> str | None:
    """What is wrong with a JSON body, naming the field, or None. Python's JSON parser (and
    FastAPI with it) accepts what the studio could not store or send back: NaN and Infinity
    (which it would return as null), and text with a lone UTF-16 surrogate ("\\ud800"),
    which no UTF-8 answer or database can carry."""
    skip = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    try:
        text = body[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        at = skip + error.start
        return (f"the body is not UTF-8 text: byte 0x{body[at]:02x} at byte offset {at} "
                "(JSON is sent as UTF-8)")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as error:
        return (f"the body is not valid JSON: {error.msg} at line {error.lineno}, column "
                f"{error.colno} (character {error.pos} of the body)")
    except RecursionError:
        return "the body is nested too deeply to read"
    except ValueError as error:  # an integer of thousands of digits
        return f"the body is not JSON the studio can read: {error}"
    return _bad_value(value)


def _bad_value(value: object) -> str | None:
    """The first NaN/Infinity or lone surrogate in a parsed body, in document order."""
    stack: list[tuple[tuple[str | int, ...], object]] = [((), value)]
    while stack:
        path, item = stack.pop()
        where = ".".join(str(p) for p in path) or "body"
        if isinstance(item, _NotJson):
            return f"{where}: {item.text} {item.why}"
        if isinstance(item, str):
            problem = unicode_problem(item)
            if problem is not None:
                return f"{where}: {problem}"
        elif isinstance(item, dict):
            for key in item:
                problem = unicode_problem(key)
                if problem is not None:
                    return f"{where}: a key is {problem}"
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
    return None


def _has_token(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else \
        request.query_params.get("token", "")
    return secrets.compare_digest(given.encode(), token.encode())


def _too_large() -> JSONResponse:
    return JSONResponse({"error": f"the request is larger than the {MAX_BODY_BYTES:,} bytes "
                         "the studio accepts"}, status_code=413)
