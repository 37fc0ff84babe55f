"""Portal health judgements against history."""

from __future__ import annotations

from nianbao.flows.health import OK, UNHEALTHY, WARNING, PortalNight, assess


def night(run: int, **kw) -> PortalNight:
    return PortalNight(portal_id="p", run_id=f"r{run}", started=f"2026-01-0{run}T02:00", **kw)


def test_steady_portal_is_ok():
    h = assess([night(1, listed=10, new=10)], night(2, listed=10, unchanged=10))
    assert (h.status, h.reasons) == (OK, [])


def test_listing_emptied_after_listing_reports():
    h = assess([night(1, listed=10), night(2, listed=12)], night(3, listed=0))
    assert h.status == UNHEALTHY
    assert h.reason == "listing returned nothing after listing 12 reports"


def test_listing_shrinks():
    h = assess([night(1, listed=12)], night(2, listed=7))
    assert h.status == UNHEALTHY and "shrank from 12 to 7" in h.reason


def test_portal_failing_entirely():
    h = assess([night(1, listed=5)], night(2, failed=1, error="connection refused"))
    assert h.status == UNHEALTHY
    assert h.reasons[0] == "portal failed: connection refused"


def test_blocked_once_warns_then_unhealthy():
    first = assess([night(1, listed=5)], night(2, blocked=1))
    assert first.status == WARNING
    second = assess([night(1, listed=5), night(2, blocked=1)], night(3, blocked=1))
    assert second.status == UNHEALTHY
    assert "2 runs in a row" in second.reason


def test_first_run_with_nothing_listed_is_loud():
    assert assess([], night(1)).status == UNHEALTHY


def test_partial_failures_warn():
    h = assess([night(1, listed=5)], night(2, listed=5, failed=2))
    assert h.status == WARNING and h.reason == "2 fetches failed"


def test_robots_and_moved_columns_say_why():
    h = assess([], night(1, status="disallowed"))
    assert (h.status, h.reason) == (UNHEALTHY, "robots.txt disallows the listing")
    h = assess([night(1, listed=4)], night(2, status="not_found", failed=1))
    assert h.status == UNHEALTHY and h.reasons == [
        "listing URL not found (404): column moved or removed?"
    ]
