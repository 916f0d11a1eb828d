"""Names for the demo, all our own: surnames with rough weights, given-name characters, firm vocabulary, and a fixed
gazetteer 地名录 of invented towns, villages and roads placed in Hainan's real county-level units.

The surname weights are rounded from published rankings (national, and the Hainan pattern where 陈, 王, 林, 黄, 吴,
符 and 邢 lead); they only need to look plausible. Tables are tuples so that draws by index are stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from yiwang.core import divisions

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]

# fmt: off
#: Surnames common in Hainan's registered population, with rough weights (per cent, not normalised).
SURNAMES_HAINAN: tuple[tuple[str, float], ...] = (
    ("陈", 10.5), ("王", 8.5), ("林", 6.5), ("黄", 5.8), ("吴", 5.2), ("符", 4.8), ("李", 4.6), ("张", 2.8),
    ("刘", 2.2), ("邢", 1.9), ("郑", 1.6), ("云", 1.4), ("韩", 1.3), ("周", 1.3), ("冯", 1.2), ("蔡", 1.2),
    ("许", 1.1), ("钟", 1.0), ("杨", 1.0), ("梁", 1.0), ("羊", 0.9), ("文", 0.8), ("唐", 0.8), ("卢", 0.7),
    ("潘", 0.7), ("何", 0.7), ("麦", 0.6), ("莫", 0.6), ("曾", 0.6), ("邓", 0.6), ("谢", 0.6), ("洪", 0.5),
    ("朱", 0.5), ("孙", 0.5), ("徐", 0.5), ("詹", 0.5), ("蒙", 0.5), ("董", 0.4), ("赵", 0.4), ("胡", 0.4),
    ("郭", 0.4), ("卓", 0.3), ("庞", 0.3), ("龙", 0.3), ("吉", 0.3), ("颜", 0.3), ("傅", 0.3), ("苏", 0.3),
    ("罗", 0.3), ("高", 0.3), ("马", 0.3), ("曹", 0.2), ("范", 0.2), ("柯", 0.2), ("严", 0.2), ("关", 0.2),
    ("薛", 0.2), ("叶", 0.2), ("江", 0.2), ("欧", 0.1), ("岑", 0.1), ("温", 0.1), ("宋", 0.1), ("覃", 0.1),
)

#: Surnames across the country, for people whose ID was issued elsewhere (rough weights, per cent).
SURNAMES_NATIONAL: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 7.0), ("张", 6.6), ("刘", 5.4), ("陈", 4.6), ("杨", 3.1), ("黄", 2.6), ("赵", 2.4),
    ("吴", 2.1), ("周", 2.0), ("徐", 1.6), ("孙", 1.5), ("马", 1.4), ("朱", 1.3), ("胡", 1.3), ("郭", 1.2),
    ("何", 1.2), ("林", 1.1), ("高", 1.1), ("罗", 1.1), ("郑", 1.0), ("梁", 0.9), ("谢", 0.8), ("宋", 0.8),
    ("唐", 0.8), ("许", 0.7), ("韩", 0.7), ("冯", 0.7), ("邓", 0.7), ("曹", 0.7), ("彭", 0.7), ("曾", 0.6),
    ("肖", 0.6), ("田", 0.6), ("董", 0.5), ("袁", 0.5), ("潘", 0.5), ("于", 0.5), ("蒋", 0.5), ("蔡", 0.5),
    ("余", 0.5), ("杜", 0.5), ("叶", 0.5), ("程", 0.5), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4),
    ("任", 0.4), ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.4), ("崔", 0.4), ("钟", 0.4), ("谭", 0.4),
    ("陆", 0.3), ("汪", 0.3), ("范", 0.3), ("金", 0.3), ("石", 0.3), ("廖", 0.3), ("贾", 0.3), ("夏", 0.3),
    ("韦", 0.3), ("付", 0.3), ("方", 0.3), ("白", 0.3), ("邹", 0.3), ("孟", 0.3), ("熊", 0.3), ("秦", 0.3),
    ("邱", 0.3), ("江", 0.3), ("尹", 0.3), ("薛", 0.2), ("闫", 0.2), ("段", 0.2), ("雷", 0.2), ("侯", 0.2),
    ("龙", 0.2), ("史", 0.2), ("陶", 0.2), ("黎", 0.2), ("贺", 0.2), ("顾", 0.2), ("毛", 0.2), ("郝", 0.2),
    ("龚", 0.2), ("邵", 0.2), ("万", 0.2), ("钱", 0.2), ("严", 0.2), ("覃", 0.2), ("武", 0.2), ("戴", 0.2),
    ("莫", 0.2), ("孔", 0.2), ("向", 0.2), ("汤", 0.2), ("欧阳", 0.05), ("上官", 0.01), ("司马", 0.01),
)
# fmt: on

#: Given-name characters that lean male, lean female, or are used for both.
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰建国海东志兴亮博昊晨阳泽睿轩铭瑞豪坤德成福荣贵"
    "仁义忠武雄彬锋栋川山江松柏嘉诚毅航"
)
GIVEN_FEMALE = (
    "芳娜敏静丽艳娟霞秀玲燕红琴萍梅莉兰婷雪慧颖琳倩洁欣怡佳璐晶妍蕾薇桂凤珍英翠月莹萱涵梓诗雨思悦彤瑶婉菲丹琪娇春花蓉芸"
)
GIVEN_NEUTRAL = "文明永金玉小晓新安家云清子一天宏振亚世光乐康舒若"

#: Characters for invented town, village and road names.
PLACE_CHARS = (
    "龙海椰琼文昌万宁乐东保陵福山溪岭田湾港塘桥坡沙水美兰新大南北西红云金石白青富安和平兴华阳光明长丰泉林源头"
    "岗埠那什番抱排铺滨潭榕莲凤鹿礼纪道灵会英德良义坎城联合永加乌三双六九桃蓬宝博烟塔亭洋浦盐屿霞彩荔桂芒鸿茂"
)

#: Characters for enterprise trade names (字号).
BRAND_CHARS = (
    "华鑫盛泰恒通达利源顺祥瑞丰宏嘉兴隆昌海天德信汇诚金航远博卓椰蓝鹏星辰润科合亿腾琼碧翔凯捷新创智联百佳优云易"
    "启锦荣安正和中南港融峰禾森熙悦禧珑致铭越骏"
)

TOWN_SUFFIXES = ("镇", "镇", "镇", "乡")
ROAD_SUFFIXES = ("路", "路", "路", "街", "大道")
VILLAGE_SUFFIXES = ("村", "村", "村", "社区")

# fmt: off
#: GB/T 4754-2017 sectors used for enterprises: letter, Chinese name, weight among companies, words for names.
INDUSTRIES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("A", "农、林、牧、渔业", 5.0, ("农业开发", "热带农业", "种植", "渔业", "生态农业")),
    ("B", "采矿业", 0.2, ("矿业", "石材")),
    ("C", "制造业", 4.0, ("食品", "实业", "制药", "新材料", "椰子食品")),
    ("D", "电力、热力、燃气及水生产和供应业", 0.8, ("新能源", "电力", "燃气")),
    ("E", "建筑业", 6.0, ("建筑工程", "建设工程", "装饰工程")),
    ("F", "批发和零售业", 28.0, ("贸易", "商贸", "进出口", "供应链", "国际贸易")),
    ("G", "交通运输、仓储和邮政业", 4.0, ("物流", "航运", "运输", "供应链管理")),
    ("H", "住宿和餐饮业", 6.0, ("酒店管理", "餐饮管理", "度假酒店")),
    ("I", "信息传输、软件和信息技术服务业", 9.0, ("网络科技", "信息技术", "数字科技", "软件")),
    ("J", "金融业", 2.0, ("投资", "资产管理", "融资租赁")),
    ("K", "房地产业", 4.0, ("房地产开发", "置业", "物业服务")),
    ("L", "租赁和商务服务业", 14.0, ("企业管理咨询", "商务服务", "会展服务", "文化旅游")),
    ("M", "科学研究和技术服务业", 8.0, ("科技", "检测技术", "工程设计", "生物科技")),
    ("N", "水利、环境和公共设施管理业", 1.0, ("环保科技", "园林绿化", "环境工程")),
    ("O", "居民服务、修理和其他服务业", 3.0, ("家政服务", "汽车服务", "清洁服务")),
    ("P", "教育", 1.5, ("教育科技", "培训")),
    ("Q", "卫生和社会工作", 0.8, ("健康管理", "医疗管理", "养老服务")),
    ("R", "文化、体育和娱乐业", 3.5, ("文化传媒", "体育发展", "影视文化")),
)

#: Small businesses (个体工商户): a shop word and its GB/T 4754 sector.
SHOPS: tuple[tuple[str, str], ...] = (
    ("便利店", "F"), ("小吃店", "H"), ("粉店", "H"), ("水果店", "F"), ("五金店", "F"), ("理发店", "O"),
    ("汽车修理店", "O"), ("农资店", "F"), ("烧烤店", "H"), ("茶饮店", "H"), ("服装店", "F"), ("手机维修店", "O"),
    ("民宿", "H"), ("海鲜大排档", "H"), ("鸡饭店", "H"), ("槟榔收购点", "A"), ("建材店", "F"), ("药店", "F"),
)

#: Products of farmers' cooperatives (农民专业合作社), with the verb for crops or livestock.
COOP_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("槟榔", "种植"), ("椰子", "种植"), ("胡椒", "种植"), ("橡胶", "种植"), ("咖啡", "种植"), ("芒果", "种植"),
    ("荔枝", "种植"), ("莲雾", "种植"), ("火龙果", "种植"), ("菠萝", "种植"), ("香蕉", "种植"), ("蔬菜", "种植"),
    ("茶叶", "种植"), ("益智", "种植"), ("沉香", "种植"), ("黑山羊", "养殖"), ("文昌鸡", "养殖"), ("水产", "养殖"),
)

#: Mobile number prefixes (three digits) in common use; all match ``1[3-9]``.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "195", "198", "199",
)

# --- places: positions are rough seats we picked ourselves (longitude, latitude in degrees), good for a map ---

#: Hainan county-level units: code -> (lon, lat, spread in degrees, registered population in 10k, 黎 share, 苗 share,
#: 回 share). 三沙's districts lie far out at sea: they have people but no map points (see `ISLAND_OUTLINE`).
COUNTIES: dict[str, tuple[float, float, float, float, float, float, float]] = {
    "460105": (110.25, 19.93, 0.08, 38.0, 0.003, 0.001, 0.0005),   # 秀英区
    "460106": (110.31, 19.98, 0.05, 72.0, 0.003, 0.001, 0.0005),   # 龙华区
    "460107": (110.45, 19.82, 0.12, 58.0, 0.003, 0.001, 0.0005),   # 琼山区
    "460108": (110.50, 19.96, 0.08, 75.0, 0.003, 0.001, 0.0005),   # 美兰区
    "460202": (109.72, 18.38, 0.06, 12.0, 0.25, 0.002, 0.001),     # 海棠区
    "460203": (109.55, 18.32, 0.05, 40.0, 0.20, 0.002, 0.020),     # 吉阳区
    "460204": (109.45, 18.33, 0.05, 35.0, 0.20, 0.002, 0.030),     # 天涯区 (回辉、回新)
    "460205": (109.20, 18.40, 0.06, 16.0, 0.25, 0.002, 0.001),     # 崖州区
    "460302": (112.34, 16.83, 0.01, 0.15, 0.005, 0.001, 0.0005),   # 西沙区
    "460303": (112.34, 16.83, 0.01, 0.05, 0.005, 0.001, 0.0005),   # 南沙区
    "460400": (109.50, 19.55, 0.18, 95.0, 0.020, 0.001, 0.0005),   # 儋州市
    "469001": (109.52, 18.80, 0.08, 11.0, 0.60, 0.030, 0.0005),    # 五指山市
    "469002": (110.40, 19.22, 0.12, 53.0, 0.010, 0.001, 0.0005),   # 琼海市
    "469005": (110.75, 19.60, 0.15, 56.0, 0.003, 0.001, 0.0005),   # 文昌市
    "469006": (110.32, 18.83, 0.12, 55.0, 0.050, 0.002, 0.0005),   # 万宁市
    "469007": (108.85, 19.05, 0.14, 44.0, 0.38, 0.005, 0.0005),    # 东方市
    "469021": (110.30, 19.55, 0.10, 28.0, 0.005, 0.002, 0.0005),   # 定安县
    "469022": (110.08, 19.35, 0.10, 25.0, 0.010, 0.010, 0.0005),   # 屯昌县
    "469023": (110.00, 19.70, 0.12, 50.0, 0.005, 0.001, 0.0005),   # 澄迈县
    "469024": (109.68, 19.82, 0.10, 42.0, 0.005, 0.001, 0.0005),   # 临高县
    "469025": (109.42, 19.22, 0.12, 16.0, 0.64, 0.020, 0.0005),    # 白沙黎族自治县
    "469026": (109.05, 19.25, 0.12, 23.0, 0.36, 0.005, 0.0005),    # 昌江黎族自治县
    "469027": (109.15, 18.72, 0.12, 46.0, 0.44, 0.020, 0.0005),    # 乐东黎族自治县
    "469028": (110.00, 18.55, 0.08, 37.0, 0.52, 0.010, 0.0005),    # 陵水黎族自治县
    "469029": (109.65, 18.62, 0.07, 15.0, 0.60, 0.040, 0.0005),    # 保亭黎族苗族自治县
    "469030": (109.85, 19.03, 0.12, 17.0, 0.52, 0.050, 0.0005),    # 琼中黎族苗族自治县
}

#: Seat towns we are sure of, so that the commonest addresses read right; other towns are invented.
SEAT_TOWNS: dict[str, str] = {
    "460400": "那大镇", "469002": "嘉积镇", "469005": "文城镇", "469006": "万城镇", "469007": "八所镇",
    "469021": "定城镇", "469022": "屯城镇", "469023": "金江镇", "469024": "临城镇", "469025": "牙叉镇",
    "469026": "石碌镇", "469027": "抱由镇", "469028": "椰林镇", "469029": "保城镇", "469030": "营根镇",
}

#: City- and county-level units for tourism and weather: code -> (station, January mean °C, July mean °C, annual
#: rainfall mm, typical wind m/s, annual visitors in 10k (about 2019), average stay in days, spend per visitor yuan).
UNITS: dict[str, tuple[str, float, float, float, float, float, float, float]] = {
    "460100": ("海口", 17.8, 28.9, 1700, 2.8, 2800, 2.1, 1100),
    "460200": ("三亚", 21.7, 28.6, 1400, 2.6, 2400, 3.6, 1650),
    "460300": ("西沙", 23.0, 29.2, 1500, 5.0, 5, 3.0, 4000),
    "460400": ("儋州", 17.6, 28.3, 1800, 2.2, 700, 1.8, 700),
    "469001": ("五指山", 17.5, 25.6, 1800, 1.5, 300, 1.8, 650),
    "469002": ("琼海", 18.6, 28.7, 2070, 2.4, 900, 2.0, 850),
    "469005": ("文昌", 17.9, 28.5, 1900, 3.0, 500, 1.7, 800),
    "469006": ("万宁", 19.5, 28.6, 2000, 2.5, 800, 2.0, 850),
    "469007": ("东方", 19.1, 29.4, 1000, 4.0, 250, 1.6, 600),
    "469021": ("定安", 17.4, 28.5, 1950, 2.0, 300, 1.4, 500),
    "469022": ("屯昌", 17.4, 27.9, 2000, 1.8, 150, 1.3, 450),
    "469023": ("澄迈", 17.2, 28.3, 1800, 2.3, 400, 1.6, 650),
    "469024": ("临高", 17.0, 28.5, 1500, 3.0, 200, 1.4, 500),
    "469025": ("白沙", 16.9, 27.2, 1900, 1.6, 150, 1.5, 500),
    "469026": ("昌江", 18.5, 28.8, 1600, 2.8, 200, 1.5, 550),
    "469027": ("乐东", 19.0, 27.9, 1500, 2.4, 200, 1.6, 550),
    "469028": ("陵水", 20.5, 28.6, 1700, 2.6, 700, 2.4, 1100),
    "469029": ("保亭", 19.0, 27.5, 2200, 1.7, 550, 1.8, 800),
    "469030": ("琼中", 16.6, 26.8, 2400, 1.6, 200, 1.5, 550),
}

#: A coarse outline of Hainan island (lon, lat), clockwise from Haikou; map points are kept inside it.
ISLAND_OUTLINE: tuple[tuple[float, float], ...] = (
    (110.05, 20.02), (109.70, 19.96), (109.45, 19.90), (109.15, 19.76), (108.93, 19.52), (108.68, 19.33),
    (108.62, 19.15), (108.63, 18.88), (108.70, 18.52), (108.95, 18.40), (109.20, 18.30), (109.52, 18.18),
    (109.75, 18.25), (110.05, 18.42), (110.25, 18.60), (110.48, 18.80), (110.58, 19.12), (110.70, 19.35),
    (110.95, 19.55), (111.03, 19.65), (110.95, 19.95), (110.70, 20.12), (110.55, 20.13), (110.35, 20.06),
)

#: Provinces whose people most often move their household to Hainan: two-digit code -> rough weight.
MIGRANT_PROVINCES: dict[str, float] = {
    "44": 15, "45": 10, "43": 10, "51": 8, "41": 8, "42": 6, "23": 6, "36": 5, "22": 4, "21": 4, "37": 4, "34": 3,
    "50": 3, "52": 3, "35": 3, "53": 2, "33": 2, "32": 2, "13": 2, "15": 1.5, "61": 1.5, "11": 1.5, "14": 1,
    "62": 1, "31": 1, "12": 0.5, "65": 0.5, "64": 0.3, "63": 0.2, "54": 0.1,
}

#: Earlier names of today's units, for ID numbers issued before a unit took its present name.
FORMER_NAMES: dict[str, tuple[str, ...]] = {
    "儋州": ("儋",), "三亚": ("崖",), "五指山": ("通什", "琼中"), "海口": ("琼山",), "三沙": ("文昌",),
}
# fmt: on

#: Towns, villages and roads are invented from this fixed seed: every dataset and every seed share one map.
GAZETTEER_SEED = 2260
FIRST_BIRTH_YEAR = 1930
LAST_BIRTH_YEAR = 2024

_SUFFIX = re.compile(r"(黎族苗族自治县|黎族自治县|自治县|群岛|市|县|区)$")


@dataclass(frozen=True)
class Gazetteer:
    """地名录: Hainan's county-level units with their invented towns (and their positions), villages and roads.

    Towns of county `i` are ``town_first[i] : town_first[i] + town_count[i]``; likewise villages of a town and roads
    of a county. A town is a street (街道, with roads and 社区) or a township (镇/乡, with 村).
    """

    codes: tuple[str, ...]
    label: tuple[str, ...]  # 海南省海口市龙华区
    short: tuple[str, ...]  # 海口市龙华区
    town_first: Int
    town_count: Int
    town_name: tuple[str, ...]
    town_county: Int
    town_is_street: npt.NDArray[np.bool_]
    town_lon: Float
    town_lat: Float
    village_first: Int
    village_count: Int
    village_name: tuple[str, ...]
    road_first: Int
    road_count: Int
    road_name: tuple[str, ...]

    def index(self, code: str) -> int:
        """The position of a county code in `codes`."""
        return self.codes.index(code)


def hainan_county_codes() -> tuple[str, ...]:
    """Today's county-level units of Hainan from the division table (儋州, without districts, counts as one)."""
    codes: list[str] = []
    for child in divisions.children("46"):
        below = divisions.children(child.code) if child.level == "prefecture" else []
        codes.extend([d.code for d in below] if below else [child.code])
    return tuple(sorted(codes))


def island_mask(lon: Float, lat: Float) -> npt.NDArray[np.bool_]:
    """Whether each point lies inside `ISLAND_OUTLINE` (ray casting)."""
    inside = np.zeros(len(lon), dtype=np.bool_)
    outline = ISLAND_OUTLINE
    for (x0, y0), (x1, y1) in zip(outline, outline[1:] + outline[:1], strict=True):
        crosses = (y0 > lat) != (y1 > lat)
        x_at = x0 + (lat - y0) * (x1 - x0) / (y1 - y0 if y1 != y0 else 1e-12)
        inside ^= crosses & (lon < x_at)
    return inside


def clip_to_island(lon: Float, lat: Float, anchor_lon: Float, anchor_lat: Float) -> tuple[Float, Float]:
    """Pull points that fall in the sea halfway back towards their anchor (on land) until they are on the island."""
    lon, lat = lon.copy(), lat.copy()
    for _ in range(12):
        outside = ~island_mask(lon, lat)
        if not outside.any():
            break
        lon[outside] = (lon[outside] + anchor_lon[outside]) / 2
        lat[outside] = (lat[outside] + anchor_lat[outside]) / 2
    outside = ~island_mask(lon, lat)
    lon[outside], lat[outside] = anchor_lon[outside], anchor_lat[outside]
    return lon, lat


def _words(rng: np.random.Generator, count: int, suffixes: tuple[str, ...], taken: set[str]) -> list[str]:
    """`count` new two-character names with a suffix, none in `taken` (which they join)."""
    words: list[str] = []
    while len(words) < count:
        for a, b, c in rng.integers(0, [len(PLACE_CHARS), len(PLACE_CHARS), len(suffixes)], (2 * count, 3)).tolist():
            word = PLACE_CHARS[a] + PLACE_CHARS[b] + suffixes[c]
            if a != b and word not in taken and len(words) < count:
                taken.add(word)
                words.append(word)
    return words


@cache
def gazetteer() -> Gazetteer:
    """The fixed gazetteer (built once; it does not depend on any dataset seed)."""
    codes = hainan_county_codes()
    if set(codes) != set(COUNTIES):
        raise RuntimeError(f"demo place table and division table disagree: {sorted(set(codes) ^ set(COUNTIES))}")
    labels = tuple("".join(divisions.full_name(code).split()) for code in codes)
    towns: list[str] = []
    town_county: list[int] = []
    is_street: list[bool] = []
    lon: list[float] = []
    lat: list[float] = []
    villages: list[str] = []
    village_count: list[int] = []
    roads: list[str] = []
    road_count: list[int] = []
    for i, code in enumerate(codes):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(GAZETTEER_SEED, spawn_key=(int(code),))))
        x, y, spread = COUNTIES[code][:3]
        urban = code.startswith(("4601", "4602", "4603"))
        taken = set(SEAT_TOWNS.values())
        count = 2 if spread < 0.02 else int(rng.integers(6, 11) if urban else rng.integers(9, 17))
        streets = round(count * 0.6) if urban else 0
        names = _words(rng, streets, ("街道",), taken) + _words(rng, count - streets, TOWN_SUFFIXES, taken)
        if code in SEAT_TOWNS:
            names[0] = SEAT_TOWNS[code]
        dx, dy = rng.normal(0.0, spread, count), rng.normal(0.0, spread * 0.9, count)
        dx[0] = dy[0] = 0.0
        for j, town in enumerate(names):
            towns.append(town)
            town_county.append(i)
            is_street.append(j < streets)
            lon.append(x + float(dx[j]))
            lat.append(y + float(dy[j]))
            n_villages = int(rng.integers(4, 11) if j < streets else rng.integers(8, 23))
            villages.extend(_words(rng, n_villages, ("社区",) if j < streets else VILLAGE_SUFFIXES, taken))
            village_count.append(n_villages)
        n_roads = int(rng.integers(15, 41) if urban else rng.integers(8, 21))
        roads.extend(_words(rng, n_roads, ROAD_SUFFIXES, taken))
        road_count.append(n_roads)
    county_of_town = np.array(town_county, dtype=np.int64)
    town_lon, town_lat = np.array(lon), np.array(lat)
    centre_lon = np.array([COUNTIES[c][0] for c in codes])[county_of_town]
    centre_lat = np.array([COUNTIES[c][1] for c in codes])[county_of_town]
    on_island = np.array([not c.startswith("4603") for c in codes])[county_of_town]
    clipped_lon, clipped_lat = clip_to_island(town_lon, town_lat, centre_lon, centre_lat)
    town_counts = np.bincount(county_of_town, minlength=len(codes)).astype(np.int64)
    return Gazetteer(
        codes=codes,
        label=labels,
        short=tuple(label.removeprefix("海南省") for label in labels),
        town_first=_firsts(town_counts),
        town_count=town_counts,
        town_name=tuple(towns),
        town_county=county_of_town,
        town_is_street=np.array(is_street, dtype=np.bool_),
        town_lon=np.where(on_island, clipped_lon, town_lon),
        town_lat=np.where(on_island, clipped_lat, town_lat),
        village_first=_firsts(np.array(village_count, dtype=np.int64)),
        village_count=np.array(village_count, dtype=np.int64),
        village_name=tuple(villages),
        road_first=_firsts(np.array(road_count, dtype=np.int64)),
        road_count=np.array(road_count, dtype=np.int64),
        road_name=tuple(roads),
    )


def _firsts(counts: Int) -> Int:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


# --- division codes for ID numbers ------------------------------------------------------------------------------


def _stem(name: str) -> str:
    return _SUFFIX.sub("", name)


def _rows_under(code: str) -> Iterator[divisions.Division]:
    """Every row, past and present, of the prefectures and counties under `code`."""
    for child in divisions.children(code, current_only=False):
        yield from divisions.history(child.code)
        if child.level == "prefecture":
            yield from _rows_under(child.code)


@cache
def id_prefixes_by_year() -> Int:
    """For each Hainan county (gazetteer order) and year, the division code an ID number issued there carried.

    That is the unit itself while it existed, else the unit of the same (or former) name, or of its city, in force
    that year — Hainan's units before 1988 were Guangdong's (海南行政区 4421, 海南黎族苗族自治州 4422, 海口 4410).
    """
    rows = {r for root in ("46", "442100", "442200") for r in _rows_under(root)}
    rows |= {r for code in ("441000", "449003") for r in divisions.history(code)}
    ordered = sorted(rows, key=lambda r: (r.code, r.valid_from or 0), reverse=True)
    stems = [_stem(r.name) for r in ordered]
    codes = gazetteer().codes
    years = range(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR + 1)
    valid_by_year = [[i for i, r in enumerate(ordered) if r.was_valid_in(year)] for year in years]
    table = np.zeros((len(codes), len(years)), dtype=np.int64)
    for c, code in enumerate(codes):
        own, above = divisions.lookup(code), divisions.parent(code)
        if own is None or above is None:
            raise RuntimeError(f"division {code} has no current row or parent")
        wanted = [_stem(own.name), *FORMER_NAMES.get(_stem(own.name), ())]
        if above.level == "prefecture":
            wanted += [_stem(above.name), *FORMER_NAMES.get(_stem(above.name), ())]
        for y, valid in enumerate(valid_by_year):
            chosen = next((i for stem in wanted for i in valid if stems[i] == stem), valid[0])
            table[c, y] = int(ordered[chosen].code)
    return table


@cache
def migrant_codes() -> tuple[Int, Int, Int, Int, Int]:
    """County-level codes, past and present, of each province in `MIGRANT_PROVINCES`, with their years in force.

    Returns (code, first year, last year, first index per province, count per province); 0 and 9999 stand for
    "before the table" and "still in force".
    """
    code: list[int] = []
    start: list[int] = []
    end: list[int] = []
    counts: list[int] = []
    for province in MIGRANT_PROVINCES:
        rows = sorted(
            {r for r in _rows_under(province) if r.level == "county"}, key=lambda r: (r.code, r.valid_from or 0)
        )
        code += [int(r.code) for r in rows]
        start += [r.valid_from or 0 for r in rows]
        end += [r.valid_to or 9999 for r in rows]
        counts.append(len(rows))
    count = np.array(counts, dtype=np.int64)
    return np.array(code), np.array(start), np.array(end), _firsts(count), count
