"""一网协同 in a real browser: a department requests data, the owner reviews and approves narrower, usage is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from yiwang.core.i18n import translator

if TYPE_CHECKING:
    from conftest import SignedIn
    from live import Portal

pytestmark = pytest.mark.browser

_ = translator("zh_CN")
PURPOSE = "台风灾后受灾群众参保状态核查（浏览器测试）"


def test_request_review_approve_and_usage(signed_in: SignedIn, portal: Portal) -> None:
    consumer = signed_in("yingji")  # 海南省应急管理厅
    consumer.goto("/datasets/insured-persons")
    consumer.get_by_test_id("request-sharing").click()
    form = consumer.get_by_test_id("request-form")
    for field in ("person_id", "status", "division"):
        form.locator(f"input[name=fields][value={field}]").check()
    form.get_by_label(_("Purpose")).fill(PURPOSE)
    form.get_by_label(_("Legal basis")).fill("《自然灾害救助条例》第十四条")
    form.get_by_label(_("Period (days)")).fill("60")
    form.get_by_role("button", name=_("Submit request")).click()
    expect(consumer.get_by_test_id("state")).to_have_text(_("Pending review"))
    request_url = consumer.url.split("?")[0]

    owner = signed_in("renshe")  # 海南省人力资源和社会保障厅 owns insured-persons
    owner.get_by_role("navigation").get_by_role("link", name=_("Data sharing")).click()
    queue = owner.get_by_test_id("review-queue")
    row = queue.locator("tr", has_text=PURPOSE)
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    approve = owner.get_by_test_id("approve-form")
    approve.locator("input[name=field][value=division]").uncheck()
    approve.get_by_label(f"{_('Disclosure')} person_id").select_option("pseudonym")
    approve.get_by_label(_("Period (days)")).fill("30")
    approve.get_by_label(_("Note to the requester")).fill("参保地不属于核查所需")
    approve.get_by_role("button", name=_("Approve"), exact=True).click()
    expect(owner.get_by_test_id("state")).to_have_text(_("Granted"))
    granted = owner.get_by_test_id("granted-fields")
    expect(granted.locator("tbody tr")).to_have_count(2)
    expect(granted).to_contain_text(_("Pseudonym"))
    expect(granted).not_to_contain_text("division")

    consumer.goto(request_url)
    expect(consumer.get_by_test_id("state")).to_have_text(_("Granted"))
    expect(consumer.get_by_test_id("decision-note")).to_have_text("参保地不属于核查所需")
    expect(consumer.get_by_test_id("history")).to_contain_text(_("Approved with narrower scope"))

    owner.goto("/sharing/usage")
    usage = owner.get_by_test_id("usage-given")
    expect(usage.locator("tr", has_text=PURPOSE)).to_have_count(1)
    expect(usage).to_contain_text("海南省公安厅")  # the demo's grant to 公安厅, used for a month
    expect(owner.get_by_test_id("usage-chart").locator("svg")).to_be_visible()
    owner.get_by_role("link", name=_("Data sharing")).first.click()
    expect(owner.get_by_test_id("given-grants")).to_contain_text(PURPOSE)


def test_the_administrator_sees_the_sharing_network(signed_in: SignedIn, portal: Portal) -> None:
    admin = signed_in("admin")
    admin.goto("/sharing/network")
    expect(admin.get_by_test_id("network-chart").locator("svg")).to_be_visible()
    table = admin.get_by_test_id("network-table")
    expect(table).to_contain_text("海南省公安厅")
    expect(table).to_contain_text("海口市政务服务中心")
    assert table.locator("tbody tr").count() >= 8
