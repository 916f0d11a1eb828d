"""Finding a service: Chinese full text, life events, audiences; halls near me by great-circle distance."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.db import Database
from yiwang.core.settings import Settings
from yiwang.services.halls import distance_km
from yiwang.web.app import create_app


def test_chinese_search_and_life_events(settings: Settings, services: Database) -> None:
    with TestClient(create_app(settings)) as client:
        found = client.get("/api/v1/services", params={"q": "开办企业"}).json()
        codes = [r["code"] for r in found["results"]]
        assert {"investment-single-window", "individual-business-registration"} <= set(codes)
        assert found["life_events"]["start-business"] >= 2
        crime = client.get("/api/v1/services", params={"q": "无犯罪记录"}).json()["results"]
        assert crime[0]["code"] == "no-criminal-record-certificate"
        newborn = client.get("/api/v1/services", params={"life_event": "newborn"}).json()["results"]
        assert [r["code"] for r in newborn] == ["newborn-bundle"]
        investors = client.get("/api/v1/services", params={"audience": "investor"}).json()["results"]
        assert [r["code"] for r in investors] == ["investment-single-window"]
        events = {e["code"]: e for e in client.get("/api/v1/life-events").json()}
        assert events["newborn"]["name"] == "新生儿出生" and events["newborn"]["count"] == 1
        assert client.get("/api/v1/services", params={"q": "量子纠缠"}).json()["total"] == 0
        assert client.get("/api/v1/services", params={"page_size": 0}).status_code == 422
        assert client.get("/api/v1/services/nothing-here").status_code == 404


def test_halls_near_me_sorted_by_distance(settings: Settings, services: Database) -> None:
    with TestClient(create_app(settings)) as client:
        haikou = {"lat": 20.0440, "lon": 110.1999}  # central Haikou
        near = client.get("/api/v1/halls", params={**haikou, "service": "investment-single-window"}).json()
        assert near, "some hall handles the single window"
        distances = [h["distance_km"] for h in near]
        assert distances == sorted(distances)
        for hall in near:
            assert math.isclose(
                hall["distance_km"], distance_km(haikou["lat"], haikou["lon"], hall["lat"], hall["lon"]), abs_tol=0.01
            )
        everything = client.get("/api/v1/halls", params={**haikou, "limit": 50}).json()
        assert everything[0]["division_code"].startswith("4601")  # a Haikou hall is the nearest to Haikou
        sanya = client.get("/api/v1/halls", params={"lat": 18.2528, "lon": 109.5119, "limit": 50}).json()
        assert sanya[0]["division_code"].startswith("4602")
        in_sanya = client.get("/api/v1/halls", params={"division": "460200", "limit": 50}).json()
        assert in_sanya and all(h["division_code"].startswith("4602") for h in in_sanya)
        assert client.get("/api/v1/halls", params={"lat": 20}).status_code == 422
        assert client.get("/api/v1/halls", params={"division": "999999"}).status_code == 422
        assert client.get("/api/v1/halls", params={"lat": 91, "lon": 0}).status_code == 422


@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89), st.floats(-179, 179))
def test_distance_is_a_metric_on_the_sphere(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    there = distance_km(lat1, lon1, lat2, lon2)
    assert there == pytest.approx(distance_km(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0 <= there <= math.pi * 6371.0088 + 1e-6
    assert distance_km(lat1, lon1, lat1, lon1) == pytest.approx(0, abs=1e-6)


def test_known_distance() -> None:
    # 海口 to 三亚 is about 220 km as the crow flies
    assert 210 < distance_km(20.0440, 110.1999, 18.2528, 109.5119) < 215
