"""The demo's 一网通办 content as visitors see it: service items with plain guides, forms and workflows, and the
service halls that handle them — consistent with each other and with the demo's departments and validators."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib.resources import files
from typing import Any

import jsonschema_rs  # JSON Schema validator (draft 2020-12), installed with schemathesis
import pytest

from yiwang.core import divisions
from yiwang.core.errors import InvalidInput
from yiwang.core.validators import is_citizen_id, is_credit_code, is_mobile_phone, validate_division_code
from yiwang.demo.accounts import DEPARTMENTS
from yiwang.services import forms
from yiwang.services.forms import FIELD_KEYWORDS

DATA = files("yiwang.demo") / "data"
ITEMS: list[dict[str, Any]] = json.loads((DATA / "service_items.json").read_text(encoding="utf-8"))
HALLS: list[dict[str, Any]] = json.loads((DATA / "service_halls.json").read_text(encoding="utf-8"))
BY_CODE = {item["code"]: item for item in ITEMS}

DEMO_DEPARTMENTS = {name for name, _ in DEPARTMENTS}
CATEGORIES = {"行政许可": "XK", "行政确认": "QR", "行政给付": "JF", "公共服务": "GG", "其他行政权力": "QT"}
AUDIENCES = {"citizen", "enterprise", "investor"}
LIFE_EVENTS = {
    "start-business",
    "newborn",
    "migrant-work",
    "employment",
    "marriage",
    "retirement",
    "education",
    "housing",
    "health",
    "investment",
    "transport",
    "construction",
}
DEPTHS = {"full_online", "partly_online", "in_person"}
OPS = {"==", "!=", ">", ">=", "<", "<="}
KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
ITEM_CODE = re.compile(r"460000-(XK|QR|GG|JF|QT)-[0-9]{5}")
CITIZEN_FIELDS = ("applicant_name", "id_number", "phone")
ENTERPRISE_FIELDS = ("enterprise_name", "credit_code", "contact_phone")
# Each county-level unit of the halls, and a box around its city (lat from–to, lon from–to).
HALL_AREAS = {
    "460105": (19.5, 20.2, 110.0, 110.8),
    "460106": (19.5, 20.2, 110.0, 110.8),
    "460107": (19.5, 20.2, 110.0, 110.8),
    "460108": (19.5, 20.2, 110.0, 110.8),
    "460202": (18.1, 18.6, 108.9, 109.9),
    "460203": (18.1, 18.6, 108.9, 109.9),
    "460204": (18.1, 18.6, 108.9, 109.9),
    "460205": (18.1, 18.6, 108.9, 109.9),
    "469001": (18.6, 19.1, 109.2, 109.8),
    "469002": (18.9, 19.5, 110.1, 110.7),
    "469005": (19.3, 20.2, 110.5, 111.1),
    "469006": (18.6, 19.1, 110.0, 110.6),
}


def _is_division_code(value: str) -> bool:
    try:
        validate_division_code(value)
    except InvalidInput:
        return False
    return True


# yiwang's own validators decide the Chinese formats; date and email are the standard ones.
FORMAT_CHECKS = {
    "id-number": is_citizen_id,
    "credit-code": is_credit_code,
    "phone": lambda value: re.fullmatch(r"1[3-9][0-9]{9}", value) is not None and is_mobile_phone(value),
    "division-code": _is_division_code,
}


def form_errors(form: dict[str, Any], submission: dict[str, Any]) -> list[str]:
    """Why `submission` does not validate against the JSON Schema `form`: an empty list when it does."""
    validator = jsonschema_rs.Draft202012Validator(
        form, formats=FORMAT_CHECKS, validate_formats=True, ignore_unknown_formats=False
    )
    return [error.message for error in validator.iter_errors(submission)]


def by_item(values: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("item", values, ids=[item["code"] for item in values])


def test_both_files_load_with_enough_content() -> None:
    assert len(ITEMS) >= 44 and len(HALLS) >= 12
    assert len({item["department"] for item in ITEMS}) >= 12
    for name in ("service_items.json", "service_halls.json"):
        text = (DATA / name).read_text(encoding="utf-8")
        assert "\\u" not in text and text.startswith('[\n  {\n    "code"'), name  # unescaped, 2-space indent


def test_codes_are_unique_and_well_formed() -> None:
    codes = [item["code"] for item in ITEMS]
    item_codes = [item["item_code"] for item in ITEMS]
    assert len(set(codes)) == len(codes) and all(KEBAB.fullmatch(code) for code in codes)
    assert len(set(item_codes)) == len(item_codes)
    for item in ITEMS:
        match = ITEM_CODE.fullmatch(item["item_code"])
        assert match and match.group(1) == CATEGORIES[item["category"]], item["code"]
    assert "investment-single-window" in BY_CODE


@by_item(ITEMS)
def test_an_item_has_known_values_and_sane_time_limits(item: dict[str, Any]) -> None:
    assert item["department"] in DEMO_DEPARTMENTS
    assert item["category"] in CATEGORIES
    assert item["audience"] and set(item["audience"]) <= AUDIENCES
    assert item["life_events"] and set(item["life_events"]) <= LIFE_EVENTS
    assert item["online_depth"] in DEPTHS
    assert 1 <= item["promised_days"] <= item["legal_days"]
    for key in ("name", "name_en", "legal_basis", "conditions", "process_text", "fee", "location", "consultation"):
        assert isinstance(item[key], str) and item[key].strip(), key
    assert "《" in item["legal_basis"]


def test_life_events_are_each_used_twice_and_most_items_are_fully_online() -> None:
    used = Counter(event for item in ITEMS for event in item["life_events"])
    assert set(used) == LIFE_EVENTS and min(used.values()) >= 2, used
    depths = Counter(item["online_depth"] for item in ITEMS)
    assert depths["full_online"] > len(ITEMS) // 2


@by_item(ITEMS)
def test_materials_are_few_and_complete(item: dict[str, Any]) -> None:
    materials = item["materials"]
    assert 1 <= len(materials) <= 5
    assert len({m["code"] for m in materials}) == len(materials)
    for material in materials:
        assert SNAKE.fullmatch(material["code"]) and material["name"] and material["basis"] and material["example"]
        assert material["source"] in {"applicant", "government"}
        assert "licence_type" not in material or material["source"] == "government", material["code"]
        assert isinstance(material["original"], bool) and isinstance(material["required"], bool)
        assert material["copies"] >= 1 and material["max_mb"] >= 1 and material["formats"]


def test_every_licence_asked_for_is_issued_by_some_item() -> None:
    issued = {item["issues_licence"]["type"] for item in ITEMS if "issues_licence" in item}
    asked = {m["licence_type"] for item in ITEMS for m in item["materials"] if "licence_type" in m}
    assert asked and asked <= issued, asked - issued


def test_licences_are_issued_by_enough_items_and_named_consistently() -> None:
    licences = [item["issues_licence"] for item in ITEMS if "issues_licence" in item]
    assert len(licences) >= 8
    names = {(lic["type"], lic["name"], lic["name_en"]) for lic in licences}
    assert len(names) == len({lic["type"] for lic in licences})  # one name per licence type
    for lic in licences:
        assert KEBAB.fullmatch(lic["type"]) and lic["name"] and lic["name_en"]
        assert lic["valid_years"] is None or (isinstance(lic["valid_years"], int) and lic["valid_years"] >= 1)
    issuers = [item["code"] for item in ITEMS if item.get("issues_licence", {}).get("type") == "business-licence"]
    assert "investment-single-window" in issuers and len(issuers) >= 2


@by_item(ITEMS)
def test_the_plain_guides_are_short_and_free_of_legal_citations(item: dict[str, Any]) -> None:
    for key, longest in (("guide", 50), ("guide_en", 160)):
        guide = item[key]
        assert guide["summary"] and 3 <= len(guide["steps"]) <= 6 and guide["bring"] and 1 <= len(guide["tips"]) <= 3
        for text in [guide["summary"], *guide["steps"], *guide["bring"], *guide["tips"]]:
            assert "《" not in text and not re.search(r"第[一二三四五六七八九十百零]+条", text), text
        assert all(len(step) <= longest for step in guide["steps"]), key
    assert re.search(r"[\u4e00-\u9fff]", item["guide"]["summary"])
    assert not re.search(r"[\u4e00-\u9fff]", json.dumps(item["guide_en"], ensure_ascii=False))


@by_item(ITEMS)
def test_the_form_uses_the_allowed_schema_subset(item: dict[str, Any]) -> None:
    form = item["form"]
    assert set(form) == {"type", "properties", "required"} and form["type"] == "object"
    properties = form["properties"]
    assert 3 <= len(properties) <= 8 and set(form["required"]) <= set(properties)
    for name, schema in properties.items():
        assert SNAKE.fullmatch(name) and set(schema) <= FIELD_KEYWORDS, name
        assert schema["type"] in forms.TYPES and schema["title"] and schema["x-title-en"], name
        assert schema.get("format", "date") in forms.FORMATS and schema.get("enum", [None]), name
    expected = [
        *(CITIZEN_FIELDS if "citizen" in item["audience"] else ()),
        *(ENTERPRISE_FIELDS if "enterprise" in item["audience"] else ()),
    ]
    assert set(expected) <= set(form["required"]), expected


@by_item(ITEMS)
def test_the_example_submission_is_valid(item: dict[str, Any]) -> None:
    example = item["example_form"]
    assert set(example) <= set(item["form"]["properties"])
    assert form_errors(item["form"], example) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("id_number", "460106199003073119"), ("phone", "12807561234"), ("business_name", "")],
)
def test_the_checker_rejects_a_broken_submission(field: str, value: str) -> None:
    item = BY_CODE["individual-business-registration"]
    assert form_errors(item["form"], {**item["example_form"], field: value})


def test_the_checker_rejects_broken_codes_in_custom_formats() -> None:
    single = BY_CODE["investment-single-window"]
    assert form_errors(single["form"], {**single["example_form"], "legal_representative_id": "460106199002303118"})
    food = BY_CODE["food-business-licence"]
    assert form_errors(food["form"], {**food["example_form"], "credit_code": "91460100MA5T3K2L03"})
    licence = BY_CODE["individual-business-registration"]
    assert form_errors(licence["form"], {**licence["example_form"], "division_code": "460199"})


@by_item(ITEMS)
def test_the_process_is_a_small_workflow_of_known_departments(item: dict[str, Any]) -> None:
    process = item["process"]
    steps = process["steps"]
    assert process["kind"] in {"sequential", "parallel"} and 1 <= len(steps) <= 4
    if process["kind"] == "parallel":
        assert len(steps) >= 2 and "condition" not in process
    condition = process.get("condition")
    every = [*steps, condition["then_step"]] if condition else steps
    assert len({step["id"] for step in every}) == len(every)
    for step in every:
        assert SNAKE.fullmatch(step["id"]) and step["name"] and step["name_en"]
        assert step["department"] in DEMO_DEPARTMENTS and isinstance(step["clock_paused"], bool)
    if condition:
        assert len(steps) <= 3 and condition["op"] in OPS
        field_schema = item["form"]["properties"][condition["field"]]
        assert form_errors({"type": "object", "properties": {"f": field_schema}}, {"f": condition["value"]}) == []


def test_conditions_pauses_and_parallel_items_are_used_a_few_times() -> None:
    conditional = [item for item in ITEMS if "condition" in item["process"]]
    assert 3 <= len(conditional) <= 5
    paused = [item for item in ITEMS if any(step["clock_paused"] for step in item["process"]["steps"])]
    assert len(paused) + sum(item["process"]["condition"]["then_step"]["clock_paused"] for item in conditional) >= 3
    parallel = [item for item in ITEMS if item["process"]["kind"] == "parallel"]
    assert len(parallel) >= 3


def test_the_single_window_runs_four_departments_in_parallel() -> None:
    single = BY_CODE["investment-single-window"]
    assert single["department"] == "海南省市场监督管理局" and single["audience"] == ["investor"]
    assert set(single["life_events"]) == {"investment", "start-business"}
    assert single["category"] in {"行政许可", "其他行政权力"}
    assert single["process"]["kind"] == "parallel"
    assert sorted(step["department"] for step in single["process"]["steps"]) == sorted(
        ["海南省市场监督管理局", "海南省税务局", "海口海关", "国家外汇管理局海南省分局"]
    )
    assert single["issues_licence"]["type"] == "business-licence"
    properties = single["form"]["properties"]
    assert {
        "enterprise_name",
        "investor_name",
        "investor_country",
        "registered_capital",
        "business_scope",
        "contact_phone",
        "legal_representative_id",
    } <= set(properties)
    assert {"中国香港", "新加坡", "美国", "德国"} <= set(properties["investor_country"]["enum"])
    assert properties["contact_phone"]["format"] == "phone"
    assert properties["legal_representative_id"]["format"] == "id-number"


def test_halls_are_well_placed_and_handle_known_items() -> None:
    codes = [hall["code"] for hall in HALLS]
    assert len(set(codes)) == len(codes) and all(KEBAB.fullmatch(code) for code in codes)
    for hall in HALLS:
        division = divisions.lookup(hall["division_code"])
        assert division is not None and division.name in hall["address"], hall["code"]
        south, north, west, east = HALL_AREAS[hall["division_code"]]
        assert south <= hall["lat"] <= north and west <= hall["lon"] <= east, hall["code"]
        assert round(hall["lat"], 4) == hall["lat"] and round(hall["lon"], 4) == hall["lon"]
        assert hall["name"] and hall["name_en"] and hall["opening_hours"] and hall["opening_hours_en"]
        assert re.fullmatch(r"0898-[0-9]{8}", hall["phone"]), hall["code"]
        assert hall["services"] and set(hall["services"]) <= set(BY_CODE), hall["code"]
        assert len(set(hall["services"])) == len(hall["services"])
    assert {hall["division_code"][:4] for hall in HALLS} >= {"4601", "4602", "4690"}


def test_every_item_is_handled_somewhere_and_the_provincial_centre_handles_most() -> None:
    handled = Counter(code for hall in HALLS for code in hall["services"])
    assert set(BY_CODE) <= set(handled), set(BY_CODE) - set(handled)
    busiest = max(HALLS, key=lambda hall: len(hall["services"]))
    assert busiest["name"] == "海南省政务服务中心" and len(busiest["services"]) > len(ITEMS) * 3 // 4
