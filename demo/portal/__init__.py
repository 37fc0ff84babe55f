"""Local fixture portal: simulated government sites of the CMS families in portals.md §9.

One ``ThreadingHTTPServer`` per simulated host, each on its own free port of 127.0.0.1::

    from nianbao.demo.portal import start_portal

    with start_portal(seed=0, faults=True, stall_seconds=1.0) as portal:
        registry = portal.write_registry(tmp_path / "portals.csv")  # or portal.registry_rows()
        ...                                                        # crawl it
        portal.expected_reports()   # ground truth: every report, where it is, year, format
        portal.expected_faults()    # every injected hazard, with the outcome to expect
        portal.request_log()        # every request the hosts saw

Runtime switches for multi-run tests: ``remove(url)``, ``remove(url, soft=True)``,
``restore(url)``, ``empty_listing(site)``, ``fail_site(site, mode="error"|"reset")``,
``restore_site(site)``, ``add_report("vsb")``, ``reset_faults()``.  ``faults=False`` gives a
clean portal where every report is reachable.  ``python -m nianbao.demo.portal`` (or
:func:`serve_forever`) serves until interrupted and prints the site URLs.
"""

from __future__ import annotations

from .model import Column, ExpectedReport, Fault, Item, LogEntry
from .server import REGISTRY_COLUMNS, Portal, Site, serve_forever, sites_table, start_portal

__all__ = [
    "REGISTRY_COLUMNS",
    "Column",
    "ExpectedReport",
    "Fault",
    "Item",
    "LogEntry",
    "Portal",
    "Site",
    "serve_forever",
    "sites_table",
    "start_portal",
]
