"""The service catalogue a community starts from: the 360 service supermarket of SEEDS 004 (property management, home
life, dispute mediation, social organisations, others) with the hazards and environment requests of SEEDS 000/001.
Staff change names, handlers and deadlines afterwards; installing again adds only what is missing."""

from __future__ import annotations

from django.db import transaction

from linli.orders import services
from linli.orders.models import Category, CategoryGroup, HandlerKind
from linli.orders.services import CategoryData
from linli.org.access import Actor, require
from linli.org.models import Community

G, H = CategoryGroup, HandlerKind
DEFAULT_CATEGORIES: tuple[CategoryData, ...] = (
    CategoryData("property-repair", "物业维修", G.PROPERTY, H.PROPERTY, 15, keywords="漏水,电梯,门禁,道闸,路灯"),
    CategoryData("property-noise", "噪音扰民", G.PROPERTY, H.PROPERTY, 15, severity_days={"red": 3}),
    CategoryData("home-life", "生活服务", G.HOME_LIFE, H.TEAM, 15, keywords="家电维修,理发,代购"),
    CategoryData("elder-care", "助老帮困", G.HOME_LIFE, H.GRID_WORKER, 7, severity_days={"red": 1}),
    CategoryData("mediation", "矛盾纠纷调解", G.MEDIATION, H.GRID_WORKER, 15, severity_days={"red": 3, "yellow": 7}),
    CategoryData("social-org", "社会组织服务", G.SOCIAL, H.TEAM, 15),
    CategoryData("safety-hazard", "安全隐患", G.SAFETY, H.GRID_WORKER, 7, severity_days={"red": 1, "yellow": 3}),
    CategoryData("environment", "环境卫生", G.ENVIRONMENT, H.GRID_WORKER, 7, keywords="垃圾,清扫,绿化"),
    CategoryData("public-facility", "市政设施", G.OTHER, H.EXTERNAL, 15, keywords="供电,路灯,通信,燃气"),
    CategoryData("other", "其他诉求", G.OTHER, H.STAFF, 15),
)


@transaction.atomic
def catalogue_install(*, actor: Actor, community: Community) -> list[Category]:
    """Add the default categories the community does not have yet (matched by code)."""
    require(actor, "order.catalogue", community)
    have = set(Category.objects.filter(community=community).values_list("code", flat=True))
    created = []
    for position, data in enumerate(DEFAULT_CATEGORIES, start=1):
        if data.code in have:
            continue
        created.append(
            services.category_save(
                actor=actor,
                community=community,
                data=CategoryData(**{**data.__dict__, "position": position}),
            )
        )
    return created
