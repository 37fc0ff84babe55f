"""Stage 2, the fetch budget: ``HttpConfig.fetch_timeout`` bounds a whole fetch.

Retries and redirect hops each get a fresh attempt deadline, so without a budget a fetch could
take (1 + retries) x hops x ``total_timeout``.  The budget starts when the first request is due
(:meth:`Exchange.start_budget`, called by the retry stage); this stage refuses to start another
hop once it is spent, the retry stage refuses a retry that would start after it, and the
transport cuts a running attempt at it.
"""

from __future__ import annotations

import time

from .chain import Handler, Reply, Request
from .config import FAILED, HttpConfig


def budget_spent(config: HttpConfig) -> str:
    """The error text of a fetch stopped by its budget."""
    return f"timeout (fetch budget of {config.fetch_timeout:g}s spent)"


class BudgetStage:
    """Fails (outcome ``failed``) a hop that would start after the fetch budget."""

    def __init__(self, config: HttpConfig) -> None:
        self.config = config

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        deadline = request.exchange.deadline
        if deadline is not None and time.monotonic() >= deadline:
            return Reply.stopped(request.url, FAILED, budget_spent(self.config))
        return next_stage(request)
