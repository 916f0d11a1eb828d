"""The `http` benchmark's reference server: a bare Starlette endpoint returning a fixed JSON, run by uvicorn with the
settings `yiwang serve` uses (one process, info log with access lines, no proxy headers, no server header).

`python -m bench.http_bare --port PORT`
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from yiwang.web.logs import server_logging

# About the size of a one-result package_search answer's envelope, so the bytes on the wire are of the same order.
BODY = {
    "help": "bare",
    "success": True,
    "result": {"count": 1, "results": [{"name": "weather-daily", "title": "逐日天气"}]},
}


async def fixed(_request: Request) -> JSONResponse:
    return JSONResponse(BODY)


app = Starlette(routes=[Route("/{path:path}", fixed)])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        log_config=server_logging(),
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
