"""许可协议: the licences a dataset may be published under, by the id stored in ``Dataset.licence``.

CKAN clients read them through ``license_list``; DCAT uses the URL as the licence document.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    id: str
    title_zh: str
    title_en: str
    url: str
    open: bool


LICENCES: tuple[Licence, ...] = (
    Licence(
        "CC-BY-4.0",
        "知识共享署名 4.0",
        "Creative Commons Attribution 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
        True,
    ),
    Licence(
        "CC0-1.0",
        "知识共享零权利声明 1.0",
        "Creative Commons Zero 1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        True,
    ),
    Licence(
        "ODC-BY-1.0",
        "开放数据共享署名许可 1.0",
        "Open Data Commons Attribution 1.0",
        "https://opendatacommons.org/licenses/by/1-0/",
        True,
    ),
    Licence(
        "GOV-OPEN-1.0",
        "政府数据开放利用协议",
        "Government open data terms of use",
        "https://www.gov.cn/zhengce/content/2015-09/05/content_10137.htm",
        True,
    ),
    Licence(
        "GOV-SHARE",
        "政务数据共享（限政务用途）",
        "Government data sharing (government use only)",
        "https://www.gov.cn/zhengce/content/2016-09/19/content_5109486.htm",
        False,
    ),
)

DEFAULT_LICENCE = "CC-BY-4.0"


def find_licence(licence_id: str) -> Licence | None:
    """The licence with this id (case-insensitive), or None for an unknown or empty id."""
    wanted = licence_id.strip().lower()
    return next((licence for licence in LICENCES if licence.id.lower() == wanted), None)
