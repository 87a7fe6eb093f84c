"""The small HTTP service Label Studio and reviewers' browsers talk to: webhooks in, media out.

`POST /webhook` accepts Label Studio's annotation events only with the shared secret (header
`X-R4D-Webhook-Secret`, compared in constant time): missing -> 401, wrong -> 403, and nothing is recorded.
A body that is not an annotation event Label Studio would send -> 400/422, never 500. What to do with a
valid event is passed in (`on_event`), so this package does not depend on the flows that record verdicts.
`GET /media/{key}` serves content-addressed clip videos and SoM images (with Range requests for video).
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
from fastapi.responses import FileResponse

from annotate_ui.client import SECRET_HEADER
from annotate_ui.events import PayloadError, WebhookEvent, webhook_event

MEDIA_KEY = re.compile(r"^[0-9a-f]{64}\.(webm|png)$")
MEDIA_TYPES = {"webm": "video/webm", "png": "image/png"}
MAX_BODY = 5 << 20  # a webhook with one annotation is a few KB; a bulk one stays far below this


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
    app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET"], allow_headers=["Range"])

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/webhook")
    async def webhook(request: Request) -> dict:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            raise HTTPException(401, f"missing {SECRET_HEADER} header")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise HTTPException(403, f"wrong {SECRET_HEADER}")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"webhook body of {len(body)} bytes is over {MAX_BODY}")
        try:
            event = webhook_event(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise HTTPException(400, f"webhook body is not JSON: {error}") from None
        except PayloadError as error:
            raise HTTPException(422, str(error)) from None
        if event is None:
            return {"ignored": True}
        return on_event(event)

    @app.get("/media/{key}")
    def media(key: str) -> FileResponse:
        match = MEDIA_KEY.match(key)
        if match is None:
            raise HTTPException(404, f"{key!r} is not a media key (sha256 + .webm/.png)")
        path = media_path(key)
        if not path.is_file():
            raise HTTPException(404, f"media {key} is not in the artifact store")
        return FileResponse(path, media_type=MEDIA_TYPES[match.group(1)])

    return app
