"""Earning points over JSON: the rules catalogue, claims and their checks, activities, donations, certificates,
leaderboards and caring merchants' service points. Each part has its own module (api_*.py); errors are the shared
`{code, message}` bodies."""

from ninja import Router

from linli.points.api_activities import router as activities
from linli.points.api_claims import router as claims
from linli.points.api_merchants import router as merchants
from linli.points.api_records import router as records
from linli.points.api_rules import router as rules

router = Router()
router.add_router("/", rules)
router.add_router("/", claims)
router.add_router("/", activities)
router.add_router("/", records)
router.add_router("/", merchants)
