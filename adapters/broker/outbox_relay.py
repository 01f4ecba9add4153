"""The outbox relay: publishes the rows of ``outbox`` on NATS JetStream (DESIGN §7, issue 4 item 5).

``projections.outbox`` writes each message in the transaction that applies its event. The
relay takes the unpublished rows in id order, publishes each through JetStream with its
``message_id`` as ``Nats-Msg-Id`` and, only after the stream's PubAck, marks it published in
its own transaction. That is at least once; the stream's duplicate window drops a message
published again (a crash between PubAck and marking, a publish whose PubAck was lost while NATS
restarted), so a consumer sees each message once.

A failed publish (NATS down, no PubAck in time) counts an attempt on the row, ends the round
and leaves the row unpublished; ``run`` tries again after a delay that doubles up to a limit.
Nothing is skipped: the next round starts at the same row, so order per subject holds.

Log lines carry ids, subjects and counts only; message bodies are PII-free anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import select, text, update

from events.store import SqlEventStore
from projections.outbox import FEEDBACK_SUBJECTS, REFERRAL_SUBJECTS, outbox
from services.logging import get_logger

MSG_ID_HEADER: Final = "Nats-Msg-Id"
CLOUDEVENTS_JSON: Final = "application/cloudevents+json"

MINUTE: Final = 60.0
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR

log = get_logger(__name__)


@dataclass(frozen=True)
class OutboxTopology:
    """Streams of the outbound messages. The defaults are production's; tests give each run
    its own stream names and a subject prefix (the NATS server is shared and keeps streams)."""

    referral_stream: str = "VERWIJZINGEN"
    feedback_stream: str = "TERUGKOPPELING"
    subject_prefix: str = ""
    """Put before every row's subject on publish (``test-ab12.`` in tests, empty in production)."""
    max_age: float = 30 * DAY
    duplicate_window: float = DAY
    """A message published again within this window is dropped by the stream. It must outlast
    the longest time between a PubAck and marking the row (a hub restart), and an outage."""

    def subject(self, subject: str) -> str:
        return f"{self.subject_prefix}{subject}"

    @property
    def referral_filter(self) -> str:
        return self.subject(f"{REFERRAL_SUBJECTS}.>")

    @property
    def feedback_filter(self) -> str:
        return self.subject(f"{FEEDBACK_SUBJECTS}.>")

    def stream_configs(self) -> list[StreamConfig]:
        return [
            StreamConfig(
                name=name,
                description=description,
                subjects=[subjects],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                max_age=self.max_age,
                duplicate_window=self.duplicate_window,
            )
            for name, subjects, description in (
                (
                    self.referral_stream,
                    self.referral_filter,
                    "Referrals for the teams, CloudEvents JSON on verwijzingen.<project>.<team>",
                ),
                (
                    self.feedback_stream,
                    self.feedback_filter,
                    "Feedback for the partners, CloudEvents JSON on terugkoppeling.<partner>",
                ),
            )
        ]


def backoff_delay(failures: int, initial: float, maximum: float) -> float:
    """Seconds to wait after ``failures`` failed rounds in a row: 0, then doubling."""
    if failures <= 0:
        return 0.0
    return float(min(maximum, initial * 2 ** (failures - 1)))


RELAY_LOCK_KEY = 0x5349474E414C5245  # "SIGNALRE": one relay round at a time per database


class OutboxRelay:
    """Publishes the outbox of ``store`` on the NATS server at ``nats_url``."""

    def __init__(
        self,
        store: SqlEventStore,
        nats_url: str,
        *,
        topology: OutboxTopology | None = None,
        publish_timeout: float = 5.0,
        connect_timeout: float = 2.0,
        poll_interval: float = 1.0,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.store = store
        self.nats_url = nats_url
        self.topology = topology or OutboxTopology()
        self.publish_timeout = publish_timeout
        self.connect_timeout = connect_timeout
        self.poll_interval = poll_interval
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.failures = 0
        """Failed rounds in a row; ``run`` waits ``backoff_delay(failures)`` before the next."""
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None

    async def publish_pending(self, limit: int = 500) -> int:
        """Publish up to ``limit`` unpublished rows in id order; returns how many went out.

        Stops at the first failure: that row's ``attempts`` goes up, it stays unpublished, and
        ``failures`` counts the failed round. Never raises for a broker problem."""
        async with self._turn() as ours:
            if not ours:
                return 0  # another hub's relay is publishing this round; it keeps the order
            return await self._publish_round(limit)

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[bool]:
        """Whether this relay may publish now. On PostgreSQL several hubs may run a relay;
        one round at a time holds a transaction-scoped advisory lock, so rows go out in id
        order from one publisher instead of twice from two (JetStream would drop the second
        copy, but the order between hubs would be lost). SQLite has one hub."""
        if self.store.engine.dialect.name != "postgresql":
            yield True
            return
        async with self.store.engine.connect() as conn, conn.begin():
            taken = await conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY}
            )
            yield bool(taken)

    async def _publish_round(self, limit: int) -> int:
        rows = await self._pending(limit)
        if not rows:
            self.failures = 0
            return 0
        published: list[int] = []
        try:
            for row in rows:
                try:
                    jetstream = await self._connected()
                    ack = await jetstream.publish(
                        self.topology.subject(row.subject),
                        row.body.encode("utf-8"),
                        timeout=self.publish_timeout,
                        headers={
                            MSG_ID_HEADER: row.message_id,
                            "content-type": CLOUDEVENTS_JSON,
                        },
                    )
                except Exception as error:  # NATS down, no PubAck, stream missing: try later
                    self.failures += 1
                    await self._count_attempt(row.id)
                    log.warning(
                        "outbox.publish_failed",
                        message_id=row.message_id,
                        subject=row.subject,
                        error_type=type(error).__name__,
                        failures=self.failures,
                        published=len(published),
                    )
                    await self._disconnect()
                    return len(published)
                published.append(row.id)
                if ack.duplicate:
                    log.info("outbox.already_published", message_id=row.message_id)
        finally:
            # One transaction for the round's acknowledged rows. A crash before it only means
            # those rows go out again, and JetStream drops them by their message id.
            await self._mark_published(published)
        self.failures = 0
        if published:
            log.info("outbox.published", count=len(published))
        return len(published)

    async def run(self, stop: asyncio.Event, *, limit: int = 500) -> None:
        """Publish until ``stop`` is set: right away while rows keep coming, every
        ``poll_interval`` when the outbox is empty, with backoff after a failure."""
        try:
            while not stop.is_set():
                published = await self.publish_pending(limit)
                if self.failures:
                    delay = backoff_delay(self.failures, self.initial_backoff, self.max_backoff)
                elif published >= limit:
                    continue
                else:
                    delay = self.poll_interval
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
        finally:
            await self.close()

    async def close(self) -> None:
        await self._disconnect()

    async def _pending(self, limit: int) -> Sequence[Any]:
        query = (
            select(outbox.c.id, outbox.c.message_id, outbox.c.subject, outbox.c.body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        async with self.store.engine.connect() as conn:
            return (await conn.execute(query)).all()

    async def _mark_published(self, row_ids: Sequence[int]) -> None:
        if not row_ids:
            return
        async with self.store.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(row_ids), outbox.c.published_at.is_(None))
                .values(published_at=datetime.now(UTC))
            )

    async def _count_attempt(self, row_id: int) -> None:
        async with self.store.engine.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id == row_id).values(attempts=outbox.c.attempts + 1)
            )

    async def _connected(self) -> JetStreamContext:
        if self._jetstream is not None and self._client is not None and self._client.is_connected:
            return self._jetstream
        await self._disconnect()
        client = Client()
        try:
            # nats-py keeps trying an initial connection that is refused: bound it here. The
            # relay's own backoff decides when to try again.
            await asyncio.wait_for(
                client.connect(
                    self.nats_url,
                    name="signaalhub-outbox-relay",
                    connect_timeout=max(1, round(self.connect_timeout)),
                    allow_reconnect=False,
                    max_reconnect_attempts=0,
                    error_cb=_quiet,
                ),
                timeout=self.connect_timeout + 1.0,
            )
        except BaseException:
            with suppress(Exception):
                await client.close()
            raise
        try:
            jetstream = client.jetstream()
            await ensure_streams(jetstream, self.topology)
        except BaseException:
            await client.close()
            raise
        self._client, self._jetstream = client, jetstream
        return jetstream

    async def _disconnect(self) -> None:
        client, self._client, self._jetstream = self._client, None, None
        if client is not None and not client.is_closed:
            with suppress(Exception):
                await client.close()


async def _quiet(error: Exception) -> None:
    """nats-py's error callback: the type only (its default prints a traceback per try)."""
    log.debug("outbox.nats_error", error_type=type(error).__name__)


async def ensure_streams(jetstream: JetStreamContext, topology: OutboxTopology) -> None:
    """Create the streams, or bring an existing one's editable settings up to date."""
    for config in topology.stream_configs():
        assert config.name is not None
        try:
            await jetstream.stream_info(config.name)
        except NotFoundError:
            await jetstream.add_stream(config)
        else:
            await jetstream.update_stream(config)
