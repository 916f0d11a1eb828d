"""Every table of the platform, for migrations and schema checks: import a package's models here when it gets some."""

from __future__ import annotations

import yiwang.catalog.models as catalog_models
import yiwang.sandbox.models as sandbox_models
import yiwang.services.models as services_models
import yiwang.sharing.models as sharing_models
from yiwang.core.models import Base

__all__ = ["Base", "catalog_models", "sandbox_models", "services_models", "sharing_models"]
