"""The static audit site (`nianbao site`): index charts, agency pages, one audit page per
report showing its captured source beside its extracted values.  Opens from disk, offline."""

from .build import NotASite, SiteStats, build_site

__all__ = ["NotASite", "SiteStats", "build_site"]
