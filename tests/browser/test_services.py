"""一网通办 in a real browser: a citizen finds a service by life event, reads the plain guide and applies with a file;
the handling department completes the task in its workbench; the citizen sees it finished and rates it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from yiwang.core.i18n import translator
from yiwang.demo.services import service_items

if TYPE_CHECKING:
    from conftest import SignedIn
    from live import Portal

pytestmark = pytest.mark.browser

_ = translator("zh_CN")
ITEM = "no-criminal-record-certificate"  # citizens, one step at 海南省公安厅 (demo account gongan)
PDF = b"%PDF-1.4\n% browser test: ID card scan\n%%EOF\n"
COMMENT = "浏览器测试：核查无犯罪记录，准予出具"


def test_find_read_apply_handle_and_rate(signed_in: SignedIn, portal: Portal) -> None:
    spec = next(s for s in service_items() if s["code"] == ITEM)
    citizen = signed_in("shimin")
    citizen.get_by_role("navigation").get_by_role("link", name=_("Services")).click()
    citizen.get_by_test_id("life-events").get_by_role("link", name=re.compile("^外来务工")).click()
    citizen.get_by_role("link", name=spec["name"]).click()

    guide = citizen.get_by_test_id("plain-guide")
    expect(guide).to_contain_text(spec["guide"]["summary"])
    expect(guide.locator("ol li")).to_have_count(len(spec["guide"]["steps"]))
    expect(citizen.get_by_test_id("halls").locator("tbody tr").first).to_contain_text("政务服务中心")
    citizen.get_by_role("link", name=_("Apply online")).click()

    form = citizen.get_by_test_id("apply-form")
    example = spec["example_form"]
    form.get_by_label("申请人姓名").fill(example["applicant_name"])
    form.get_by_label("公民身份号码").fill(example["id_number"])
    form.get_by_label("联系电话").fill(example["phone"])
    form.get_by_label("证明用途").select_option(example["purpose"])
    form.get_by_label("接收单位").fill(example["receiving_body"])
    form.get_by_label("申请人居民身份证").set_input_files(
        {"name": "身份证.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    form.get_by_role("button", name=_("Submit application")).click()
    expect(citizen.get_by_test_id("state")).to_have_text(_("In progress"))
    receipt = citizen.get_by_test_id("receipt").inner_text()
    application_url = citizen.url.split("?")[0]
    expect(citizen.get_by_test_id("application-materials")).to_contain_text("身份证.pdf")

    staff = signed_in("gongan")
    staff.get_by_role("navigation").get_by_role("link", name=_("Workbench")).click()
    row = staff.get_by_test_id("inbox").locator("tr", has_text=receipt)
    expect(row).to_have_count(1)
    row.get_by_role("button", name=_("Claim")).click()
    expect(staff.get_by_test_id("task-state")).to_have_text(_("Claimed"))
    complete = staff.get_by_test_id("complete-form")
    complete.get_by_label(_("Approve")).check()
    complete.get_by_label(_("Comment (required to reject)")).fill(COMMENT)
    complete.get_by_role("button", name=_("Complete task")).click()
    expect(staff.get_by_test_id("task-state")).to_have_text(_("Done"))
    expect(staff.get_by_test_id("state")).to_have_text(_("Completed"))

    citizen.goto(application_url)
    expect(citizen.get_by_test_id("state")).to_have_text(_("Completed"))
    expect(citizen.get_by_test_id("progress")).to_contain_text(COMMENT)
    rating = citizen.get_by_test_id("rating-form")
    rating.get_by_label(_("Very satisfied")).check()
    rating.get_by_label(_("Comment (required when dissatisfied)")).fill("网上一次办好，不用跑腿")
    rating.get_by_role("button", name=_("Submit rating")).click()
    expect(citizen.get_by_test_id("rating")).to_contain_text(_("Very satisfied"))
    expect(citizen.get_by_test_id("rating-form")).to_have_count(0)

    citizen.goto("/services/ratings")
    expect(citizen.get_by_test_id("ratings-chart").locator("svg")).to_be_visible()
    expect(citizen.get_by_test_id("by-department-table")).to_contain_text("海南省公安厅")
