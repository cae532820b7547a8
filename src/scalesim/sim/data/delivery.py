"""A queue subscription without partitions: Amazon SQS and RabbitMQ semantics.

Messages wait in one buffer and go out oldest first, at most `concurrency` at once, each as a
call to the consumer's operation. At most once, a message is acknowledged on delivery, so a
failed delivery loses it (the behaviour before delivery settings existed). At least once,
it is acknowledged when its processing succeeds; until then it is invisible for the
visibility timeout. A failed delivery comes back when that timeout ends (SQS), or at once
(RabbitMQ basic.reject with requeue). A delivery still running when the timeout ends lets the
message be delivered again meanwhile, so both may process it (a duplicate). After
`max_deliveries` deliveries the message goes to the dead-letter queue.

Messages that come back wait ahead of the others, in the order they came back, and those
back at one instant (what a crashed consumer held) in publish order: a quorum queue keeps
returned messages in a queue of their own that it serves first, and returns a closed
channel's deliveries in the order it sent them (rabbitmq-server rabbit_fifo.erl
take_next_msg, return_all).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from scalesim.sim.data.messages import (
    AT_MOST_ONCE,
    LOST,
    PROCESSED,
    Attempt,
    Consumption,
    Message,
    Settings,
)
from scalesim.sim.plan import OK

if TYPE_CHECKING:
    from scalesim.sim.kernel import Kernel


class FifoSubscription(Consumption):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.buffer: deque[Message] = deque()
        self.returns: deque[Message] = deque()  # messages that came back, served first
        self.returned_at = -1.0  # when the last of them came back
        self.batch = 0  # how many came back then (at the tail of `returns`, unless sent)
        self.dispatching = False  # a delivery that ends at once must not nest another loop

    def full(self) -> bool:
        return 0 <= self.capacity <= len(self.buffer) + len(self.returns)

    def enqueue(self, kernel: Kernel, msg: Message) -> None:
        self.buffer.append(msg)
        self._dispatch(kernel)

    def _dispatch(self, kernel: Kernel) -> None:
        if self.dispatching:
            return  # the loop below goes on
        self.dispatching = True
        buffer = self.buffer
        returns = self.returns
        while self.inflight < self.concurrency and (returns or buffer) and self._polled():
            msg = returns.popleft() if returns else buffer.popleft()
            if self.recently_processed(kernel.now, msg):
                self.skipped(msg)  # the idempotent consumer skips it and acknowledges
                self.settle(msg, PROCESSED)
                continue
            self.inflight += 1
            attempt, frame = self.start(kernel, msg, -1)
            if self.guarantee != AT_MOST_ONCE:
                area = self.area
                assert area is not None
                kernel.push(kernel.now + self.settings.visibility, area.visibility_kind,
                            attempt)
            kernel.enter_message(frame)
        self.dispatching = False

    def concurrency_changed(self, kernel: Kernel) -> None:
        self._dispatch(kernel)  # messages waiting for a consumer may go now

    def _polled(self) -> bool:
        """A replica of the consumer runs, so something polls: while none does (crashed,
        scaled to zero) messages wait. Checked per message, since a crash fails what was in
        flight before the replica watchers hear of it; the first replica is usually up."""
        return any(rep.up for rep in self.target.comp.live)

    def consumers_changed(self, kernel: Kernel) -> None:
        """A consumer replica came up, went down, joined or left: waiting messages may go."""
        self._dispatch(kernel)

    def attempt_over(self, kernel: Kernel, attempt: Attempt, cause: int) -> None:
        self.inflight -= 1
        msg = attempt.msg
        if cause == OK:
            self.processed(kernel.now, msg)
            if not attempt.returned:
                self.settle(msg, PROCESSED)
        else:
            self.failed += 1
            if self.guarantee == AT_MOST_ONCE:
                self.settle(msg, LOST)
            elif self.settings.requeue and not attempt.returned:
                attempt.returned = True
                self.again(kernel, msg)
        self._dispatch(kernel)

    def visibility_ended(self, kernel: Kernel, attempt: Attempt) -> None:
        """The visibility timeout of a delivery ended: unless it was acknowledged, the
        message is visible again (its delivery may still be running)."""
        if attempt.returned or (attempt.over and attempt.ok):
            return
        attempt.returned = True
        self.again(kernel, attempt.msg)

    def again(self, kernel: Kernel, msg: Message) -> None:
        """Make a message available once more, ahead of those never delivered, or
        dead-letter it after its last delivery."""
        limit = self.settings.max_deliveries
        if limit and msg.deliveries >= limit:
            self.dead_letter_it(kernel, msg)
            return
        self._return(kernel.now, msg)
        self._dispatch(kernel)

    def _return(self, now: float, msg: Message) -> None:
        """Queue a message behind those that came back before it; among those back at this
        same instant and not yet sent again, in publish order."""
        returns = self.returns
        if now != self.returned_at:
            self.returned_at = now
            self.batch = 0
        at = len(returns)
        first = at - min(self.batch, at)  # some of the batch may have gone out already
        while at > first and returns[at - 1].number > msg.number:
            at -= 1
        returns.insert(at, msg)
        self.batch += 1
