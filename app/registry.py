"""Imports every domain's models so that ``Base.metadata`` is complete (Alembic, the CLI)."""

from app import idempotency, ratelimit  # noqa: F401
from app.accounts import models as accounts_models  # noqa: F401
from app.bookings import models as bookings_models  # noqa: F401
from app.consolidation import models as consolidation_models  # noqa: F401
from app.db import Base
from app.dcsa_booking import models as dcsa_booking_models  # noqa: F401
from app.events import models as events_models  # noqa: F401
from app.network import models as network_models  # noqa: F401
from app.routing import models as routing_models  # noqa: F401
from app.tracking import models as tracking_models  # noqa: F401
from app.webhooks import models as webhooks_models  # noqa: F401

metadata = Base.metadata
