"""The open-data portal in a real browser: search, a dataset's page, filtering the preview, downloading CSV."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from yiwang.core.i18n import translator

if TYPE_CHECKING:
    from live import Portal

pytestmark = pytest.mark.browser

_ = translator("zh_CN")


def search(page: Page, words: str) -> None:
    page.goto("/datasets")
    page.get_by_label(_("Search datasets")).fill(words)
    page.get_by_role("button", name=_("Search")).click()
    page.wait_for_load_state()


def test_a_chinese_phrase_finds_the_enterprise_registry_first(page: Page, portal: Portal) -> None:
    search(page, "企业 注册资本")
    first = page.get_by_test_id("result").first
    expect(first.get_by_role("heading")).to_have_text("市场主体登记信息")


def test_search_open_filter_and_download_csv(page: Page, portal: Portal) -> None:
    search(page, "政务服务 场所")
    page.get_by_role("link", name="政务服务场所").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("政务服务场所")
    expect(page.get_by_test_id("preview-table")).to_be_visible()
    expect(page.get_by_test_id("values-chart").locator("svg")).to_be_visible()

    form = page.get_by_test_id("preview-filter")
    form.locator("select[name=f]").select_option("level")
    form.locator("select[name=op]").select_option("exact")
    form.get_by_label(_("Value"), exact=True).fill("市级")
    form.get_by_role("button", name=_("Apply")).click()
    expect(page).to_have_url(re.compile(r"[?&]v=%E5%B8%82%E7%BA%A7"))
    table = page.get_by_test_id("preview-table")
    expect(table.locator("tbody tr")).to_have_count(3)  # 海口, 三亚 and 儋州 (a prefecture-level city)
    expect(table).to_contain_text("海口市政务服务中心")
    expect(table).not_to_contain_text("海南省政务服务中心")

    with page.expect_download() as downloading:
        page.get_by_test_id("download-csv").click()
    download = downloading.value
    assert download.suggested_filename == "service-halls-v1.csv"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("hall_id,name,level")
    assert "海南省政务服务中心" in text and "市级" in text
