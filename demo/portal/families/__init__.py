"""Site builders, one module per CMS family (portals.md §9 variants 1–10)."""

from __future__ import annotations

from ..site import BuildContext, SiteApp
from .anhui import build_anhui
from .cicro import build_cicro
from .ewb import build_ewb
from .gd import build_gd
from .govcn import build_govcn
from .hanweb import build_hanweb, build_hanweb_b
from .jpaas import build_jpaas
from .legacy import build_legacy, build_mirror
from .platform import build_platform, build_province, build_xinqu
from .trs import build_trs, build_trs_blocked
from .truecms import build_truecms
from .vsb import build_vsb

# every simulated host (one server each), in start order
SITE_NAMES = [
    "trs", "hanweb", "jpaas", "gd", "anhui", "vsb", "cicro", "ewb", "truecms", "govcn", "legacy",
    "trs-rs", "yunsuo", "closed", "hanweb-b", "mirror", "platform", "province", "xinqu",
]  # fmt: skip


def build_all(ctx: BuildContext) -> list[SiteApp]:
    """Build every site (content, routes, ground truth, faults) for the given context."""
    return [
        build_trs(ctx),
        build_hanweb(ctx),
        build_jpaas(ctx),
        build_gd(ctx),
        build_anhui(ctx),
        build_vsb(ctx),
        build_cicro(ctx),
        build_ewb(ctx),
        build_truecms(ctx),
        build_govcn(ctx),
        build_legacy(ctx),
        build_trs_blocked(ctx, "trs-rs", "中华人民共和国示例部", "rs"),
        build_trs_blocked(ctx, "yunsuo", "示例市云岭县人民政府", "yunsuo"),
        build_trs_blocked(ctx, "closed", "示例市顺河区人民政府", "robots"),
        build_hanweb_b(ctx),
        build_mirror(ctx),
        # built last, so every earlier site's content (one random stream) stays the same
        build_platform(ctx),
        build_province(ctx),
        build_xinqu(ctx),
    ]
