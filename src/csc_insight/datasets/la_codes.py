"""Local authority codes: the DfE's three-digit "old" LA codes and ONS nine-character codes.

The CIN census header names the authority by its old code (e.g. 845); the warehouse keys
everything by the ONS code (e.g. E10000011). The table below was taken once from the DfE's
published population estimates (2012 to 2024) and is embedded so the package never reads
reference files at run time. Where an authority was reorganised without changing its old
code (North Yorkshire, Buckinghamshire, Somerset), the *latest* ONS code is used for every
year: child pseudonyms are keyed on la_code, so one authority must keep one code or its
children would stop linking across years.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ONS_CODE = re.compile(r"^E(06|08|09|10)\d{6}$")

OLD_TO_ONS: dict[str, str] = {
    "201": "E09000001",
    "202": "E09000007",
    "203": "E09000011",
    "204": "E09000012",
    "205": "E09000013",
    "206": "E09000019",
    "207": "E09000020",
    "208": "E09000022",
    "209": "E09000023",
    "210": "E09000028",
    "211": "E09000030",
    "212": "E09000032",
    "213": "E09000033",
    "301": "E09000002",
    "302": "E09000003",
    "303": "E09000004",
    "304": "E09000005",
    "305": "E09000006",
    "306": "E09000008",
    "307": "E09000009",
    "308": "E09000010",
    "309": "E09000014",
    "310": "E09000015",
    "311": "E09000016",
    "312": "E09000017",
    "313": "E09000018",
    "314": "E09000021",
    "315": "E09000024",
    "316": "E09000025",
    "317": "E09000026",
    "318": "E09000027",
    "319": "E09000029",
    "320": "E09000031",
    "330": "E08000025",
    "331": "E08000026",
    "332": "E08000027",
    "333": "E08000028",
    "334": "E08000029",
    "335": "E08000030",
    "336": "E08000031",
    "340": "E08000011",
    "341": "E08000012",
    "342": "E08000013",
    "343": "E08000014",
    "344": "E08000015",
    "350": "E08000001",
    "351": "E08000002",
    "352": "E08000003",
    "353": "E08000004",
    "354": "E08000005",
    "355": "E08000006",
    "356": "E08000007",
    "357": "E08000008",
    "358": "E08000009",
    "359": "E08000010",
    "370": "E08000016",
    "371": "E08000017",
    "372": "E08000018",
    "373": "E08000019",
    "380": "E08000032",
    "381": "E08000033",
    "382": "E08000034",
    "383": "E08000035",
    "384": "E08000036",
    "390": "E08000037",
    "391": "E08000021",
    "392": "E08000022",
    "393": "E08000023",
    "394": "E08000024",
    "420": "E06000053",
    "800": "E06000022",
    "801": "E06000023",
    "802": "E06000024",
    "803": "E06000025",
    "805": "E06000001",
    "806": "E06000002",
    "807": "E06000003",
    "808": "E06000004",
    "810": "E06000010",
    "811": "E06000011",
    "812": "E06000012",
    "813": "E06000013",
    "815": "E06000065",
    "816": "E06000014",
    "821": "E06000032",
    "822": "E06000055",
    "823": "E06000056",
    "825": "E06000060",
    "826": "E06000042",
    "830": "E10000007",
    "831": "E06000015",
    "835": "E10000009",
    "836": "E06000029",
    "837": "E06000028",
    "838": "E06000059",
    "839": "E06000058",
    "840": "E06000047",
    "841": "E06000005",
    "845": "E10000011",
    "846": "E06000043",
    "850": "E10000014",
    "851": "E06000044",
    "852": "E06000045",
    "855": "E10000018",
    "856": "E06000016",
    "857": "E06000017",
    "860": "E10000028",
    "861": "E06000021",
    "865": "E06000054",
    "866": "E06000030",
    "867": "E06000036",
    "868": "E06000040",
    "869": "E06000037",
    "870": "E06000038",
    "871": "E06000039",
    "872": "E06000041",
    "873": "E10000003",
    "874": "E06000031",
    "876": "E06000006",
    "877": "E06000007",
    "878": "E10000008",
    "879": "E06000026",
    "880": "E06000027",
    "881": "E10000012",
    "882": "E06000033",
    "883": "E06000034",
    "884": "E06000019",
    "885": "E10000034",
    "886": "E10000016",
    "887": "E06000035",
    "888": "E10000017",
    "889": "E06000008",
    "890": "E06000009",
    "891": "E10000024",
    "892": "E06000018",
    "893": "E06000051",
    "894": "E06000020",
    "895": "E06000049",
    "896": "E06000050",
    "908": "E06000052",
    "909": "E10000006",
    "916": "E10000013",
    "919": "E10000015",
    "921": "E06000046",
    "925": "E10000019",
    "926": "E10000020",
    "928": "E10000021",
    "929": "E06000057",
    "931": "E10000025",
    "933": "E06000066",
    "935": "E10000029",
    "936": "E10000030",
    "937": "E10000031",
    "938": "E10000032",
    "940": "E06000061",
    "941": "E06000062",
    "942": "E06000063",
    "943": "E06000064",
}


def is_ons_code(code: str) -> bool:
    """True for a nine-character ONS code of an English upper-tier authority."""
    return bool(ONS_CODE.match(code.strip().upper()))


def ons_code(code: str, mapping: Mapping[str, str] | None = None) -> str:
    """The ONS code for an old LA code; ONS codes and unknown codes are returned unchanged.

    ``mapping`` (old code -> ONS code) takes precedence over the embedded table, for
    authorities created after it was made.
    """
    given = code.strip()
    if is_ons_code(given):
        return given.upper()
    # Old codes are sometimes written without leading zeros or as numbers ("845.0").
    old = given.split(".")[0].zfill(3) if given.replace(".", "").isdigit() else given
    if mapping and old in mapping:
        return mapping[old]
    return OLD_TO_ONS.get(old, given)
