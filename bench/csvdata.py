"""A deterministic CSV of enterprise registrations 企业登记 (12 columns, Chinese text), streamed to disk in chunks.

Row `i` is a pure function of `i` and the seed's value pools, so the same arguments give the same bytes, and a
file of any size (5 GB included) is written with memory for one chunk only. Some values are left empty, a few
credit codes are invalid, and the business scope is quoted and may hold commas and doubled quotes: the file is what
a department exports, not a clean table.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from yiwang.core.validators import credit_code_check_char


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


HEADER = (
    "编号",
    "企业名称",
    "统一社会信用代码",
    "法定代表人",
    "联系电话",
    "所属区县",
    "行业",
    "成立日期",
    "注册资本",
    "从业人数",
    "地址",
    "经营范围",
)
DISTRICTS = _words(
    "秀英区 龙华区 琼山区 美兰区 天涯区 吉阳区 海棠区 崖州区 儋州市 五指山市 琼海市 文昌市 万宁市 东方市 "
    "定安县 屯昌县 澄迈县 临高县"
)
DISTRICT_CODES = _words(
    "460105 460106 460107 460108 460205 460204 460203 460202 460400 469001 469002 469005 469006 469007 "
    "469021 469022 469023 469024"
)
INDUSTRIES = _words(
    "农林牧渔业 采矿业 制造业 电力热力燃气及水生产和供应业 建筑业 批发和零售业 交通运输仓储和邮政业 住宿和餐饮业 "
    "信息传输软件和信息技术服务业 金融业 房地产业 租赁和商务服务业 科学研究和技术服务业 水利环境和公共设施管理业 "
    "居民服务修理和其他服务业 教育 卫生和社会工作 文化体育和娱乐业"
)
TRADE_NAMES = _words("椰风 海韵 琼岛 南国 蓝湾 天涯 博鳌 鹿回头 五指 万泉 清澜 港湾 椰林 海棠 云龙 金沙 银滩 凤凰 红树")
TRADES = _words("科技 贸易 实业 旅游 农业 渔业 建设 物流 餐饮 文化 医药 能源 电子 咨询 置业 食品 环保 教育 传媒 酒店")
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐符邢吉冯云")
GIVEN = _words("伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 海 琼 南 椰 文 华 建国")
ROADS = _words("滨海大道 国兴大道 龙昆南路 海秀路 南沙路 红城湖路 解放西路 文明东路 三亚湾路 迎宾路 榆亚路 新风街")
SCOPE_PHRASES = (
    "一般项目：技术服务、技术开发、技术咨询",
    "货物进出口",
    "食品销售（仅销售预包装食品）",
    "旅游业务",
    '"互联网+"信息服务',
    "农产品的生产、销售、加工、运输、贮藏及其他相关服务",
    "餐饮服务",
    "酒店管理, 物业管理",
    "建设工程施工",
    "医疗器械经营",
    "海洋工程装备研发",
    "（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
)
POOL = 4_093  # prime, so the pools do not line up with each other's periods
CHUNK_ROWS = 20_000
EPOCH = date(1990, 1, 1)


@dataclass(frozen=True)
class CsvFile:
    path: Path
    rows: int
    bytes: int
    encoding: str


class _Pools:
    """Values that are costly to make (credit codes, names, texts), made once per seed and reused by index."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        codes = []
        for _ in range(POOL):
            org = "".join(rng.choice(charset) for _ in range(9))
            first17 = "91" + rng.choice(DISTRICT_CODES) + org
            codes.append(first17 + credit_code_check_char(first17))
        self.credit_codes = codes
        self.companies = [
            f"海南{rng.choice(TRADE_NAMES)}{rng.choice(TRADES)}{rng.choice(('', '发展', '集团', '投资'))}有限公司"
            for _ in range(POOL)
        ]
        self.people = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(POOL)]
        self.addresses = [
            f"{rng.choice(ROADS)}{rng.randint(1, 399)}号{rng.choice(('', f'{rng.randint(1, 30)}栋'))}"
            for _ in range(POOL)
        ]
        self.scopes = []
        for _ in range(POOL):
            text = "；".join(rng.sample(SCOPE_PHRASES, rng.randint(1, 5)))
            self.scopes.append('"' + text.replace('"', '""') + '"')
        self.dates = [(EPOCH + timedelta(days=day)).isoformat() for day in range(12_000)]


def _row(i: int, p: _Pools) -> str:
    """Row `i` (0-based) as one CSV line."""
    k = (i * 2_654_435_761) % 4_294_967_296  # Knuth's multiplicative hash: spreads consecutive rows over the pools
    district = k % len(DISTRICTS)
    code = p.credit_codes[k % POOL]
    if i % 97 == 13:
        code = code[:17] + ("0" if code[17] != "0" else "1")  # a wrong check character
    phone = "" if i % 23 == 5 else f"1{3 + k % 7}{(k >> 3) % 10}{(i * 7_919 + k) % 100_000_000:08d}"
    staff = "" if i % 41 == 7 else str((k >> 7) % 5_000)
    return (
        f"{i + 1},{p.companies[(k >> 4) % POOL]},{code},{p.people[(k >> 9) % POOL]},{phone},{DISTRICTS[district]},"
        f"{INDUSTRIES[(k >> 13) % len(INDUSTRIES)]},{p.dates[(k >> 5) % 12_000]},{(k >> 2) % 1_000_000 / 100:.2f},"
        f"{staff},海南省{DISTRICTS[district]}{p.addresses[(k >> 11) % POOL]},{p.scopes[(k >> 6) % POOL]}\n"
    )


def _chunks(rows: int | None, seed: int) -> Iterator[tuple[str, int]]:
    pools = _Pools(seed)
    yield ",".join(HEADER) + "\n", 0
    start = 0
    while rows is None or start < rows:
        end = start + CHUNK_ROWS if rows is None else min(start + CHUNK_ROWS, rows)
        yield "".join(_row(i, pools) for i in range(start, end)), end - start
        start = end


def write_csv(
    path: Path, *, rows: int | None = None, max_bytes: int | None = None, encoding: str = "utf-8", seed: int = 1
) -> CsvFile:
    """Write `rows` rows, or whole chunks of rows until the file reaches `max_bytes`, in `encoding` (utf-8 or gbk)."""
    if (rows is None) == (max_bytes is None):
        raise ValueError("give rows or max_bytes")
    written = count = 0
    with path.open("wb") as sink:
        for text, n in _chunks(rows, seed):
            data = text.encode(encoding)
            sink.write(data)
            written, count = written + len(data), count + n
            if max_bytes is not None and written >= max_bytes:
                break
    return CsvFile(path, count, written, encoding)
