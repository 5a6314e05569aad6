"""Response helpers: compact JSON bytes, error bodies and the answers faults produce."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

# nginx fronts the live API; its 502 page is what clients see there.
BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def json_bytes(content: Any) -> bytes:
    # Same encoding as Starlette's JSONResponse, so cached bodies and live ones are byte-identical.
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def json_response(content: Any) -> Response:
    return Response(json_bytes(content), media_type="application/json")


def error(status: int, path: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"status": status, "error": _REASONS.get(status, "Error"), "message": message, "path": path}
    return JSONResponse(body, status_code=status, headers=headers)


def empty_200() -> Response:
    """What NEPSE answers to a POST with a wrong or missing payload id."""
    return Response(b"", status_code=200)


def bad_gateway() -> Response:
    return Response(BAD_GATEWAY_HTML, status_code=502, media_type="text/html")
