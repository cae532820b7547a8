"""A stand-in message queue: a published message is buffered for every subscription (or
refused, when any buffer is full) and delivered to the subscription's consumer by
`concurrency` workers, each a plain call. A failed delivery is dropped, as in the simulator.
"""

from __future__ import annotations

import asyncio

from downstream import Dependency
from server import Rejected


class Subscription:
    def __init__(self, consumer: Dependency, capacity: int | None, concurrency: int) -> None:
        self.consumer = consumer
        self.concurrency = concurrency
        self.buffer: asyncio.Queue[None] = asyncio.Queue(capacity or 0)

    def resize(self, capacity: int | None) -> None:
        """Buffer at most `capacity` messages (None: any number); before deliveries start."""
        self.buffer = asyncio.Queue(capacity or 0)

    async def deliver(self) -> None:
        """Run the subscription's workers until cancelled."""
        await asyncio.gather(*(self._worker() for _ in range(self.concurrency)))

    async def _worker(self) -> None:
        while True:
            await self.buffer.get()
            await self.consumer.outcome()


def publish(*subscriptions: Subscription) -> None:
    """Buffer one message for every subscription; raise Rejected if any is full."""
    if any(subscription.buffer.full() for subscription in subscriptions):
        raise Rejected
    for subscription in subscriptions:
        subscription.buffer.put_nowait(None)
