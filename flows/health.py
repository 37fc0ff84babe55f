"""Portal health: tonight's crawl counts against the portal's own history.

Government scrapers mostly fail silently: a portal changes its CMS, the listing parses to
nothing, and the pipeline reports success.  Each night every portal is judged against its
previous nights, and anything that looks like breakage is marked with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

OK, WARNING, UNHEALTHY = "ok", "warning", "unhealthy"


@dataclass(slots=True)
class PortalNight:
    """One portal's counts in one run."""

    portal_id: str
    run_id: str
    started: str  # ISO timestamp, sorts chronologically
    listed: int = 0
    new: int = 0
    unchanged: int = 0
    blocked: int = 0
    failed: int = 0
    error: str | None = None
    status: str = ""  # the crawler's discovery status (ok, empty, blocked, disallowed, …)


@dataclass(slots=True)
class Health:
    portal_id: str
    run_id: str
    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _is_blocked(n: PortalNight) -> bool:
    return n.blocked > 0 and n.listed == 0


def assess(history: Sequence[PortalNight], tonight: PortalNight) -> Health:
    """Judge ``tonight`` given earlier nights of the same portal (any order)."""
    past = sorted((h for h in history if h.run_id != tonight.run_id), key=lambda h: h.started)
    reasons: list[str] = []
    status = OK

    def mark(level: str, why: str) -> None:
        nonlocal status
        reasons.append(why)
        if level == UNHEALTHY or status == OK:
            status = level

    if tonight.status == "disallowed":
        mark(UNHEALTHY, "robots.txt disallows the listing")
    elif tonight.status == "not_found":
        mark(UNHEALTHY, "listing URL not found (404): column moved or removed?")
    elif tonight.listed == 0 and tonight.failed > 0 and not _is_blocked(tonight):
        mark(UNHEALTHY, f"portal failed: {tonight.error or f'{tonight.failed} failed fetches'}")
    if _is_blocked(tonight):
        streak = 1
        for h in reversed(past):
            if not _is_blocked(h):
                break
            streak += 1
        if streak >= 2:
            mark(UNHEALTHY, f"blocked by anti-bot protection {streak} runs in a row")
        else:
            mark(WARNING, "blocked by anti-bot protection")
    last_listed = next((h.listed for h in reversed(past) if h.listed > 0), 0)
    if tonight.listed == 0 and not _is_blocked(tonight) and not reasons:
        if last_listed > 0:
            mark(UNHEALTHY, f"listing returned nothing after listing {last_listed} reports")
        elif not past and tonight.failed == 0:
            mark(UNHEALTHY, "listing returned nothing on the first run")
    elif past and 0 < tonight.listed < past[-1].listed:
        mark(
            UNHEALTHY,
            f"listing shrank from {past[-1].listed} to {tonight.listed} reports",
        )
    if tonight.failed > 0 and tonight.listed > 0:
        mark(WARNING, f"{tonight.failed} fetches failed")
    return Health(tonight.portal_id, tonight.run_id, status, reasons)
