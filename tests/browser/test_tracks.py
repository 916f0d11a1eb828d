"""赛道 in a real browser: an enterprise applies, the host department approves, the enterprise runs a private query
and sees noisy figures with their intervals and the budget left."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from yiwang.core.i18n import translator

if TYPE_CHECKING:
    from conftest import SignedIn
    from live import Portal

pytestmark = pytest.mark.browser

_ = translator("zh_CN")
PROJECT = "旅游民宿信用分级（浏览器测试）"


def test_apply_approve_and_query_privately(signed_in: SignedIn, portal: Portal) -> None:
    enterprise = signed_in("qiye")
    enterprise.get_by_role("navigation").get_by_role("link", name=_("Scenario tracks")).click()
    enterprise.get_by_test_id("tracks").get_by_role("link", name="旅游信用赛道").click()
    form = enterprise.get_by_test_id("apply-form")
    form.get_by_label(_("Unified social credit code")).fill("91460100MA5T0A1B34")
    form.get_by_label(_("Project")).fill(PROJECT)
    form.get_by_role("button", name=_("Apply")).click()
    expect(enterprise.get_by_test_id("application-state")).to_contain_text(_("Pending review"))
    track_url = enterprise.url.split("?")[0]

    reviewer = signed_in("shichang")  # 市场监督管理局 hosts the track
    reviewer.goto(track_url)
    row = reviewer.get_by_test_id("applications").locator("tr", has_text=PROJECT)
    row.get_by_role("button", name=_("Approve")).click()
    expect(reviewer.get_by_test_id("applications").locator("tr", has_text=PROJECT)).to_contain_text(_("Approved"))

    enterprise.goto(track_url)
    expect(enterprise.get_by_test_id("budget")).to_contain_text("ε = 3")
    query = enterprise.get_by_test_id("query-form")
    query.locator("textarea[name=sql]").fill(
        'SELECT industry_code, count(*) AS 企业数 FROM "enterprise-registry" GROUP BY industry_code'
    )
    query.get_by_label(_("ε for this query")).fill("0.5")
    query.get_by_role("button", name=_("Run privately")).click()
    release = enterprise.get_by_test_id("release")
    expect(release).to_be_visible()
    expect(release.locator("tbody tr").first).to_contain_text(re.compile(r"\d+ \(\d+\.\d – \d+\.\d\)"))
    expect(enterprise.get_by_test_id("budget")).to_contain_text("ε = 2.5")
    expect(enterprise.get_by_test_id("releases").locator("li")).to_have_count(1)
