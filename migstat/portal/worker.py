"""``python -m migstat.portal.worker``: the portal's one queue worker (started by
``migstat portal up``)."""

from __future__ import annotations

from migstat.home import Home
from migstat.portal.jobs import HUEY, recover


def main() -> None:
    recover(Home.from_env())
    consumer = HUEY.create_consumer(
        workers=1,
        worker_type="thread",
        periodic=False,
        initial_delay=0.1,
        backoff=1.15,
        max_delay=0.5,
    )
    consumer.run()


if __name__ == "__main__":
    main()
