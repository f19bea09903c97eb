"""The JSON API (django-ninja) mounted at /api/v1/. Each app adds its router here.

Spec: /api/v1/openapi.json; browsable docs: /api/v1/docs (Swagger UI served from ninja's own bundled static
files, no CDN: "ninja" is in INSTALLED_APPS). Authentication, error bodies and paging: linli.common.api.
"""

from ninja import NinjaAPI

from linli.common.api import DEFAULT_AUTH, install_error_handlers
from linli.council.api import router as council_router
from linli.ledger.api import router as ledger_router
from linli.market.api import router as market_router
from linli.market.api_reports import router as market_reports_router
from linli.orders.api import router as orders_router
from linli.org.api import router as org_router
from linli.points.api import router as points_router
from linli.reports.api import router as reports_router

api = NinjaAPI(
    title="linli API",
    version="1",
    urls_namespace="api",
    auth=DEFAULT_AUTH,
    # developer documentation (the spec), not a page residents read
    description=(
        "邻里 linli: the organisation, points, market, requests and council of a community. "
        "Send `Authorization: Bearer lnl_…` (a token issued by community staff) or use a signed-in session "
        "(with the CSRF token for writes). Every error is JSON `{code, message}` with a stable code."
    ),
)
install_error_handlers(api)

api.add_router("/", org_router)
api.add_router("/", ledger_router)
api.add_router("/", points_router)
api.add_router("/", orders_router)
api.add_router("/", market_router)
api.add_router("/", market_reports_router)
api.add_router("/", council_router)
api.add_router("/", reports_router)
