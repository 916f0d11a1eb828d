"""主题分类: the fixed list of catalogue themes, with a URL-safe name (CKAN group) and an EU data theme (DCAT-AP)."""

from __future__ import annotations

from dataclasses import dataclass

EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"


@dataclass(frozen=True)
class Theme:
    label_zh: str
    name: str
    label_en: str
    eu_code: str

    @property
    def eu_uri(self) -> str:
        return EU_DATA_THEME + self.eu_code


THEMES: tuple[Theme, ...] = (
    Theme("经贸工商", "economy", "Economy and business", "ECON"),
    Theme("政务服务", "government-services", "Government services", "GOVE"),
    Theme("旅游文化", "tourism-culture", "Tourism and culture", "EDUC"),
    Theme("气象环境", "weather", "Weather and climate", "ENVI"),
    Theme("公共安全", "public-safety", "Public safety", "JUST"),
    Theme("教育文化", "education", "Education and culture", "EDUC"),
    Theme("卫生健康", "health", "Health", "HEAL"),
    Theme("社保就业", "social-security-jobs", "Social security and employment", "SOCI"),
    Theme("交通运输", "transport", "Transport", "TRAN"),
    Theme("资源能源", "resources-energy", "Resources and energy", "ENER"),
    Theme("城建住房", "urban-housing", "Urban development and housing", "REGI"),
    Theme("农业农村", "agriculture", "Agriculture and rural affairs", "AGRI"),
    Theme("信用服务", "credit", "Credit information", "ECON"),
    Theme("财税金融", "finance", "Finance and taxation", "GOVE"),
    Theme("科技创新", "science", "Science and innovation", "TECH"),
    Theme("生态环境", "environment", "Ecology and environment", "ENVI"),
)


def find_theme(value: str) -> Theme | None:
    """The theme called `value` by its Chinese label or its name, or None."""
    wanted = value.strip()
    return next((t for t in THEMES if wanted in (t.label_zh, t.name)), None)
