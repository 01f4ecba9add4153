"""A partner's publisher for the intake benchmark, in its own process (as partners are):
``python -m bench.nats_publisher NATS_URL FILE`` publishes every line of FILE, each
``<subject> <CloudEvent JSON>``, with JetStream acknowledgements, 500 in flight at a time."""

from __future__ import annotations

import asyncio
import sys

import nats


async def publish(nats_url: str, path: str) -> None:
    client = await nats.connect(nats_url)
    js = client.jetstream()
    with open(path, encoding="utf-8") as handle:  # noqa: ASYNC230 - read before publishing
        lines = [line.rstrip("\n").split(" ", 1) for line in handle]
    try:
        for start in range(0, len(lines), 500):
            await asyncio.gather(
                *(
                    js.publish(subject, body.encode())
                    for subject, body in lines[start : start + 500]
                )
            )
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(publish(sys.argv[1], sys.argv[2]))
