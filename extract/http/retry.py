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

from requests.structures import CaseInsensitiveDict
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
            if reply.outcome is not None or not _retryable(reply):
                return reply
            label = _label(reply)
            asked = retry_after(reply)
            if asked is not None and asked > self.config.max_retry_after:
                return reply.judge(FAILED, f"{label}, Retry-After {asked:.0f}s too long")
            try:
                retry = retry.increment(request.method, reply.url, reply.raw, reply.error)
            except Exception:  # MaxRetryError, or an error urllib3 re-raises as not retryable
                return reply.judge(FAILED, _gave_up(label, reply, request.exchange.attempts))
            wait = asked if asked is not None else retry.get_backoff_time()
            if not self._fits(request, wait):
                no_time = f"no retry within the {self.config.fetch_timeout:g}s fetch budget"
                return reply.judge(FAILED, f"{label}, {no_time}")
            self.gates.get(request.url).defer(wait)

    def _fits(self, request: Request, wait: float) -> bool:
        """Would a retry after ``wait`` (and the host delay) still start within the budget?"""
        deadline = request.exchange.deadline
        next_at = self.gates.get(request.url).next_at
        return deadline is None or max(next_at, time.monotonic() + wait) < deadline


def _retryable(reply: Reply) -> bool:
    """A transport error or a busy status; a broken response's status is not worth keeping."""
    if reply.error is not None:
        reply.status, reply.raw, reply.headers = None, None, CaseInsensitiveDict()
        return True
    return reply.status in RETRY_STATUSES


def _label(reply: Reply) -> str:
    return short_error(reply.error) if reply.error is not None else f"HTTP {reply.status}"


def _gave_up(label: str, reply: Reply, attempts: int) -> str:
    return label if reply.error is not None else f"{label} after {attempts} attempts"
