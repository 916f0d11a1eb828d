"""The vocabulary of the demo datasets: sizes, the reference date, columns, specs, and the deliberate quality
issues of each dataset (described in the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Size = Literal["small", "medium", "large"]
SIZES: tuple[Size, ...] = ("small", "medium", "large")

#: The day the demo data describes ("today" in the data): ages, statuses and registrations are as of this date.
REFERENCE_DATE = np.datetime64("2025-06-30")

PersonalKind = Literal["id_number", "phone", "name", "address", "credit_code", "none"]


@dataclass(frozen=True)
class Column:
    """One generated column with its Chinese description and the kind of personal data it holds."""

    name: str
    values: Any  # a pyarrow Array
    description_zh: str
    personal_kind: PersonalKind = "none"


@dataclass(frozen=True)
class QualityIssue:
    """A deliberate data-quality problem in a demo dataset: `kind` on `column`, in `share` of the rows."""

    column: str
    kind: str
    share: float
    description: str

    def rows(self, total: int) -> int:
        """How many of `total` rows carry the problem (at least one)."""
        return max(1, round(total * self.share))


@dataclass(frozen=True)
class DatasetSpec:
    """What a demo dataset is, who owns it, how many rows per size, and the function that builds its columns."""

    name: str
    title_zh: str
    title_en: str
    description_zh: str
    owner_department: str
    rows: Mapping[Size, int]
    build: Callable[[int, Size, int], list[Column]]
    #: The column that dates each row (a date, timestamp or year), for versions and temporal coverage; "" for none.
    period: str = ""
    #: Earlier versions: version k holds the rows whose `period` is at most ``cutoffs[k - 1]``; the last holds all.
    cutoffs: tuple[str, ...] = ()

    @property
    def version_count(self) -> int:
        """How many versions the dataset is published in (the rows of `rows` are those of the last)."""
        return len(self.cutoffs) + 1


QUALITY_ISSUES: dict[str, tuple[QualityIssue, ...]] = {
    "population-registry": (
        QualityIssue("person_id", "invalid_check_digit", 0.001, "ID number with a wrong check digit"),
        QualityIssue("phone", "malformed_phone", 0.001, "a digit missing, a digit too many, or a 12 prefix"),
        QualityIssue("*", "duplicate_row", 0.001, "the same person registered twice: an exact copy of another row"),
        QualityIssue("household_address", "missing_value", 0.001, "address left empty (null)"),
        QualityIssue("registered_at", "inconsistent_dates", 0.001, "registered before the date of birth"),
    ),
    "enterprise-registry": (
        QualityIssue("credit_code", "invalid_check_char", 0.001, "credit code with a wrong check character"),
        QualityIssue("phone", "malformed_phone", 0.001, "a digit missing, a digit too many, or a 12 prefix"),
        QualityIssue("*", "duplicate_row", 0.001, "the same enterprise listed twice: an exact copy of another row"),
        QualityIssue("legal_representative", "missing_value", 0.001, "legal representative left empty (null)"),
        QualityIssue("established_on", "out_of_range", 0.001, "established after the reference date"),
    ),
    "weather-daily": (
        QualityIssue("temp_max", "missing_value", 0.005, "station outage: temp_max, temp_min, humidity null"),
    ),
}
