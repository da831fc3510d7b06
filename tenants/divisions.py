"""Provincial-level divisions a tenant may stand for (GB/T 2260, mainland China, plus XPCC)."""

from typing import NamedTuple


class Division(NamedTuple):
    """One provincial-level division: its code, official Chinese name and pinyin slug."""

    code: str
    name_zh: str
    slug: str


# The 31 provincial-level divisions of mainland China; 710000/810000/820000 are out of scope.
GB_T_2260_PROVINCES: tuple[Division, ...] = (
    Division("110000", "北京市", "beijing"),
    Division("120000", "天津市", "tianjin"),
    Division("130000", "河北省", "hebei"),
    Division("140000", "山西省", "shanxi"),
    Division("150000", "内蒙古自治区", "neimenggu"),
    Division("210000", "辽宁省", "liaoning"),
    Division("220000", "吉林省", "jilin"),
    Division("230000", "黑龙江省", "heilongjiang"),
    Division("310000", "上海市", "shanghai"),
    Division("320000", "江苏省", "jiangsu"),
    Division("330000", "浙江省", "zhejiang"),
    Division("340000", "安徽省", "anhui"),
    Division("350000", "福建省", "fujian"),
    Division("360000", "江西省", "jiangxi"),
    Division("370000", "山东省", "shandong"),
    Division("410000", "河南省", "henan"),
    Division("420000", "湖北省", "hubei"),
    Division("430000", "湖南省", "hunan"),
    Division("440000", "广东省", "guangdong"),
    Division("450000", "广西壮族自治区", "guangxi"),
    Division("460000", "海南省", "hainan"),
    Division("500000", "重庆市", "chongqing"),
    Division("510000", "四川省", "sichuan"),
    Division("520000", "贵州省", "guizhou"),
    Division("530000", "云南省", "yunnan"),
    Division("540000", "西藏自治区", "xizang"),
    Division("610000", "陕西省", "shaanxi"),
    Division("620000", "甘肃省", "gansu"),
    Division("630000", "青海省", "qinghai"),
    Division("640000", "宁夏回族自治区", "ningxia"),
    Division("650000", "新疆维吾尔自治区", "xinjiang"),
)

# Not in GB/T 2260, but the ministry's systems give the XPCC this provincial-level code.
XPCC = Division("660000", "新疆生产建设兵团", "bingtuan")

PROVINCIAL_DIVISIONS: dict[str, Division] = {d.code: d for d in (*GB_T_2260_PROVINCES, XPCC)}

MINISTRY_CODE = "100000"
MINISTRY_SLUG = "ministry"
