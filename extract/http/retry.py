"""Stage 6, retries: connection errors, truncated bodies, 429 and 5xx, with backoff.

The policy is urllib3's :class:`~urllib3.util.retry.Retry` (``HttpConfig.retries`` total,
exponential backoff with jitter, ``Retry-After`` parsing), not a hand-written one; this stage
only applies it per attempt.  Waits go through the host gate (a retry never comes sooner than
the host delay, nor does any other request to that host), a ``Retry-After`` over
``max_retry_after`` gives up rather than stall the host, and no retry starts after the fetch
budget.  Judged replies (challenges, cut or oversized attempts) are never retried.
"""

from __future__ import annotations

import random
import time

from urllib3.util.retry import Retry

from .chain import Handler, Reply, Request
from .config import FAILED, RETRY_STATUSES, HttpConfig
from .politeness import HostGates
from .transport import short_error


class PoliteRetry(Retry):
    """urllib3's retry policy with backoff from the first retry (urllib3 waits 0 first)."""

    def get_backoff_time(self) -> float:
        n = len(self.history)
        if n == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (n - 1))
        if self.backoff_jitter:
            value += random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))


def policy(config: HttpConfig) -> PoliteRetry:
    """A fresh policy for one URL: ``retries`` in total, whatever the kind of trouble."""
    return PoliteRetry(
        total=config.retries,
        connect=None,
        read=None,
        status=None,
        other=None,
        redirect=None,
        allowed_methods=None,  # listing POSTs (Hanweb dataproxy) are safe to repeat
        status_forcelist=RETRY_STATUSES,
        backoff_factor=config.backoff_factor,
        backoff_jitter=config.backoff_jitter,
        backoff_max=config.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def retry_after(reply: Reply) -> float | None:
    """Seconds the ``Retry-After`` header asks for (delta or HTTP date), None if absent/bad."""
    value = reply.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return Retry().parse_retry_after(value)
    except Exception:
        return None


class RetryStage:
    """Asks the next stage again while the policy, ``Retry-After`` and the budget allow."""

    def __init__(self, config: HttpConfig, gates: HostGates) -> None:
        self.config = config
        self.gates = gates

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        request.exchange.start_budget(time.monotonic(), self.config.fetch_timeout)
        retry = policy(self.config)
        while True:
            reply = next_stage(request)
            if reply.outcome is not None:
                return reply
            if reply.error is not None:
                retry, wait, label = self._after_error(retry, request, reply)
            elif reply.status in RETRY_STATUSES:
                retry, wait, label = self._after_status(retry, request, reply)
            else:
                return reply
            if wait is None:
                return reply
            if not self._fits(request, wait):
                no_time = f"no retry within the {self.config.fetch_timeout:g}s fetch budget"
                return reply.judge(FAILED, f"{label}, {no_time}")
            self.gates.get(request.url).defer(wait)

    def _after_error(
        self, retry: PoliteRetry, request: Request, reply: Reply
    ) -> tuple[PoliteRetry, float | None, str]:
        """The next policy and wait after a transport error; wait None: judged, give up."""
        assert reply.error is not None
        label = short_error(reply.error)
        reply.status = None
        try:
            retry = retry.increment(request.method, reply.url, error=reply.error)
        except Exception:  # MaxRetryError, or the error re-raised as not retryable
            reply.judge(FAILED, label)
            return retry, None, label
        return retry, max(retry.get_backoff_time(), 0.0), label

    def _after_status(
        self, retry: PoliteRetry, request: Request, reply: Reply
    ) -> tuple[PoliteRetry, float | None, str]:
        """The next policy and wait after a 429/5xx; wait None: judged, give up."""
        label = f"HTTP {reply.status}"
        asked = retry_after(reply)
        if asked is not None and asked > self.config.max_retry_after:
            reply.judge(FAILED, f"{label}, Retry-After {asked:.0f}s too long")
            return retry, None, label
        try:
            retry = retry.increment(request.method, reply.url, response=reply.raw)
        except Exception:  # MaxRetryError: retries used up
            attempts = request.exchange.attempts
            reply.judge(FAILED, f"{label} after {attempts} attempts")
            return retry, None, label
        return retry, asked if asked is not None else retry.get_backoff_time(), label

    def _fits(self, request: Request, wait: float) -> bool:
        """Would a retry after ``wait`` (and the host delay) still start within the budget?"""
        deadline = request.exchange.deadline
        next_at = self.gates.get(request.url).next_at
        return deadline is None or max(next_at, time.monotonic() + wait) < deadline
