"""政务服务大厅: halls, the services each handles, and the nearest halls for a service (great-circle distance)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from yiwang.core import audit
from yiwang.core.authz import authorize
from yiwang.core.errors import InvalidInput
from yiwang.core.i18n import N_
from yiwang.core.identity import Actor
from yiwang.core.validators import validate_division_code
from yiwang.services import items
from yiwang.services.models import HallService, ServiceHall, ServiceItem
from yiwang.services.rules import ServicesAction

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
MAX_RESULTS = 50


class HallInput(BaseModel):
    """A hall as the admin enters it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    name: str = Field(min_length=2, max_length=200)
    name_en: str = Field("", max_length=200)
    division_code: str
    address: str = Field(min_length=2, max_length=500)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    opening_hours: str = Field("", max_length=500)
    opening_hours_en: str = Field("", max_length=500)
    phone: str = Field("", max_length=40)
    services: list[str] = Field(default_factory=list)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance on the mean-radius sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def save_hall(session: Session, actor: Actor, data: HallInput) -> ServiceHall:
    """Create or replace a hall and the list of services it handles (admin)."""
    authorize(actor, ServicesAction.EDIT_HALL)
    division = validate_division_code(data.division_code)
    hall = session.scalar(select(ServiceHall).where(ServiceHall.code == data.code))
    if hall is None:
        hall = ServiceHall(code=data.code)
        session.add(hall)
    for name in ("name", "name_en", "address", "opening_hours", "opening_hours_en", "phone"):
        setattr(hall, name, getattr(data, name))
    hall.division_code, hall.latitude, hall.longitude = division.code, data.lat, data.lon
    session.flush()
    item_ids = [items.get_item(session, code).id for code in dict.fromkeys(data.services)]
    session.execute(delete(HallService).where(HallService.hall_id == hall.id))
    session.add_all(HallService(hall_id=hall.id, service_item_id=item_id) for item_id in item_ids)
    audit.record(session, actor, "hall.save", resource_type="service_hall", resource_id=hall.code)
    return hall


@dataclass(frozen=True)
class NearbyHall:
    hall: ServiceHall
    distance_km: float | None


def _candidates(session: Session, service: str) -> Sequence[ServiceHall]:
    query = select(ServiceHall)
    if service:
        item = items.get_item(session, service)
        query = query.join(HallService, HallService.hall_id == ServiceHall.id).where(
            HallService.service_item_id == item.id
        )
    return session.scalars(query.order_by(ServiceHall.code)).all()


def find_halls(
    session: Session,
    *,
    service: str = "",
    lat: float | None = None,
    lon: float | None = None,
    division: str = "",
    limit: int = 10,
) -> list[NearbyHall]:
    """Halls handling `service` (all if empty): nearest first from a point, or those in a division; public."""
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidInput("hall.bad_limit", N_("limit must be 1 to {most}"), most=MAX_RESULTS)
    if (lat is None) != (lon is None):
        raise InvalidInput("hall.bad_point", N_("Give both lat and lon, or neither"))
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("hall.bad_point", N_("lat is -90 to 90 and lon -180 to 180"))
    halls = _candidates(session, service)
    if division:
        code = validate_division_code(division).code
        # a province (460000) or prefecture (460100) includes its counties
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        halls = [h for h in halls if h.division_code.startswith(prefix)]
    if lat is not None and lon is not None:
        nearby = [NearbyHall(h, round(distance_km(lat, lon, h.latitude, h.longitude), 2)) for h in halls]
        nearby.sort(key=lambda n: (n.distance_km or 0.0, n.hall.code))
        return nearby[:limit]
    return [NearbyHall(h, None) for h in halls[:limit]]


def services_of(session: Session, hall: ServiceHall) -> list[str]:
    """Codes of the services a hall handles."""
    return list(
        session.scalars(
            select(ServiceItem.code)
            .join(HallService, HallService.service_item_id == ServiceItem.id)
            .where(HallService.hall_id == hall.id)
            .order_by(ServiceItem.code)
        )
    )
