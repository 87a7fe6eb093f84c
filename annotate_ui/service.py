"""The small HTTP service Label Studio and reviewers' browsers talk to: webhooks in, media out.

`POST /webhook` accepts Label Studio's annotation events only with the shared secret (header
`X-R4D-Webhook-Secret`, compared in constant time): missing -> 401, wrong -> 403, and nothing is recorded.
The body is read up to `MAX_BODY` bytes and no further (413). A body that is not an annotation event Label
Studio would send (not JSON, NaN or Infinity, ids out of range) -> 400/422; Label Studio or the database
unreachable -> 503 with `Retry-After`: never 500. What to do with a valid event is passed in (`on_event`, which
raises `Unavailable` when it cannot work now), so this package does not depend on the flows that record verdicts.
`GET`/`HEAD /media/{key}` serve content-addressed clip videos and SoM images (with Range requests for video).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from annotate_ui.client import SECRET_HEADER
from annotate_ui.events import PayloadError, WebhookEvent, webhook_event

MEDIA_KEY = re.compile(r"^[0-9a-f]{64}\.(webm|png)$")
MEDIA_TYPES = {"webm": "video/webm", "png": "image/png"}
MAX_BODY = 5 << 20  # a webhook with one annotation is a few KB; a bulk one stays far below this
RETRY_AFTER_S = 30


class Unavailable(RuntimeError):
    """Something the service needs (Label Studio, the database) does not answer now: 503, try again later."""


class BodyTooLarge(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


async def _read_body(request: Request) -> bytes:
    """The request body, refused as soon as it grows past MAX_BODY (never read whole first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BodyTooLarge(f"webhook body of {declared} bytes is over {MAX_BODY}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyTooLarge(f"webhook body is over {MAX_BODY} bytes")
    return bytes(body)


def create_app(
    secret: str,
    on_event: Callable[[WebhookEvent], dict[str, Any]],
    media_path: Callable[[str], Path],
    cors_origins: list[str],
) -> FastAPI:
    if len(secret) < 16:
        raise ValueError("the webhook secret must have at least 16 characters")
    app = FastAPI(title="R4D review service", docs_url=None, redoc_url=None, openapi_url=None)
    # Label Studio's editor fetches media from its own origin's page.
    app.add_middleware(
        CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET", "HEAD"], allow_headers=["Range"]
    )

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, error: Unavailable) -> JSONResponse:
        detail = f"not available now, retry in {RETRY_AFTER_S} s: {error}"
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/webhook")
    async def webhook(request: Request) -> dict:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            raise HTTPException(401, f"missing {SECRET_HEADER} header")
        if not hmac.compare_digest(given.encode(errors="replace"), secret.encode()):
            raise HTTPException(403, f"wrong {SECRET_HEADER}")
        try:
            body = await _read_body(request)
        except BodyTooLarge as error:
            raise HTTPException(413, str(error)) from None
        try:
            event = webhook_event(json.loads(body, parse_constant=_no_constants))
        except PayloadError as error:
            raise HTTPException(422, str(error)) from None
        except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, NaN/Infinity, a 5000-digit number
            raise HTTPException(400, f"webhook body is not JSON Label Studio would send: {str(error)[:200]}") from None
        if event is None:
            return {"ignored": True}
        return await run_in_threadpool(on_event, event)  # reads Label Studio and the database: off the loop

    @app.api_route("/media/{key}", methods=["GET", "HEAD"])
    def media(key: str) -> FileResponse:
        match = MEDIA_KEY.match(key)
        if match is None:
            raise HTTPException(404, f"{key[:100]!r} is not a media key (sha256 + .webm/.png)")
        path = media_path(key)
        if not path.is_file():
            raise HTTPException(404, f"media {key} is not in the artifact store")
        return FileResponse(path, media_type=MEDIA_TYPES[match.group(1)])

    return app
