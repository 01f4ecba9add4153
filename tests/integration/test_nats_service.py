"""The NATS fixture gives a real server with JetStream: the broker tests of later issues
(intake on signalen.<partner>, outbox relay) stand on it."""

from __future__ import annotations

import uuid

import nats
import pytest
from nats.js.api import StreamConfig

pytestmark = pytest.mark.nats


async def test_jetstream_stores_deduplicates_and_redelivers_unacked(nats_url: str) -> None:
    client = await nats.connect(nats_url, connect_timeout=5)
    js = client.jetstream()
    name = f"TEST_{uuid.uuid4().hex[:10].upper()}"
    subject = f"test.{name.lower()}"
    await js.add_stream(StreamConfig(name=name, subjects=[subject], duplicate_window=60))
    try:
        first = await js.publish(subject, b"signal-1", headers={"Nats-Msg-Id": "m-1"})
        again = await js.publish(subject, b"signal-1", headers={"Nats-Msg-Id": "m-1"})
        assert again.duplicate is True
        assert again.seq == first.seq

        subscription = await js.pull_subscribe(subject, durable="worker")
        [delivered] = await subscription.fetch(1, timeout=5)
        assert delivered.data == b"signal-1"
        await delivered.nak()  # as a failed handler would
        [redelivered] = await subscription.fetch(1, timeout=5)
        assert redelivered.data == b"signal-1"
        assert redelivered.metadata.num_delivered == 2
        await redelivered.ack()
    finally:
        await js.delete_stream(name)
        await client.close()
