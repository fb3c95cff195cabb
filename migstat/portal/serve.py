"""``python -m migstat.portal.serve --host H --port N``: the portal's web server process."""

from __future__ import annotations

import argparse

import uvicorn

from migstat.portal.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    options = parser.parse_args()
    uvicorn.run(
        create_app(),
        host=options.host,
        port=options.port,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,  # open progress streams never hold `portal down`
    )


if __name__ == "__main__":
    main()
