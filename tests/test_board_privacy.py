"""Masking (ledger/privacy.py) and a leak test: no public page or API response shows a phone, ID or real name."""

from __future__ import annotations

import io
import random
import re
import sys
import unicodedata

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from board.readonly import read_only_engine
from board.web import create_app
from handlers import texts
from ledger import privacy
from ledger.clock import ManualClock
from ledger.privacy import _DIGIT, FEW_NAMES, mask_name, mask_numbers, mask_text
from settings.models import Settings
from settings.secrets import BoardSecrets
from tests.board_ledger import SATURDAY_NOON, replay


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678找我", "电话138****5678找我"),
        ("打 138 1234 5678", "打 138****5678"),
        ("打138-1234-5678吧", "打138****5678吧"),
        ("+86 13812345678", "138****5678"),
        ("手机：１３８１２３４５６７８", "手机：138****5678"),
        ("身份证110105199001011234", "身份证110***********1234"),
        ("身份证号11010519900101123x。", "身份证号110***********123X。"),
        ("老身份证110105900101123", "老身份证110********1123"),
        ("物业电话 010-62345678", "物业电话 010****5678"),
        ("物业电话 0755 1234 5678", "物业电话 075*****5678"),
    ],
)
def test_numbers_are_masked_inside_free_text(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


@pytest.mark.parametrize(
    "text",
    ["3号楼2单元302室", "11月28日 09:30", "2026-11-23", "评价 12 满意", "#12", "5号楼门口路灯坏了", "温度 23.5 度", ""],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert mask_numbers(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话＋8613812345678", "电话138****5678"),
        ("电话8613812345678", "电话138****5678"),
        ("电话0086-138-1234-5678。", "电话138****5678。"),
        ("打138.1234.5678", "打138****5678"),
        ("打138\u30001234\u30005678", "打138****5678"),
        ("打138\u00a01234\u00a05678", "打138****5678"),
        ("打138  1234  5678", "打138****5678"),
        ("身份证110101 19900307 1234", "身份证110***********1234"),
        ("身份证110101-19900307-1234", "身份证110***********1234"),
        ("身份证１１０１０１－１９９００３０７－１２３Ｘ", "身份证110***********123X"),
        ("物业(010)12345678", "物业010****5678"),
        ("物业（010）12345678", "物业010****5678"),
        ("物业０１０－１２３４５６７８", "物业010****5678"),
        ("物业 (0755) 1234 5678", "物业 075*****5678"),
        ("打①③⑧①②③④⑤⑥⑦⑧", "打138****5678"),
        ("电话¹³⁸¹²³⁴⁵⁶⁷⁸", "电话138****5678"),
        ("电话𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "电话138****5678"),
    ],
)
def test_numbers_in_every_written_form_are_masked(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked
    hidden = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))[-11:-4]
    assert hidden not in re.sub(r"[^0-9]", "", masked)


def test_every_character_read_as_a_digit_counts_towards_the_digits_a_number_needs() -> None:
    """Texts with fewer digits than any number has are not searched: what counts as a digit must include every
    character the search reads as one (its NFKC form is an ASCII digit)."""
    digits = [
        chr(code) for code in range(sys.maxunicode + 1)
        if len(folded := unicodedata.normalize("NFKC", chr(code))) == 1 and folded.isascii() and folded.isdigit()
    ]  # fmt: skip
    assert len(digits) > 100 and all(_DIGIT.fullmatch(character) for character in digits)


def test_texts_are_read_character_by_character_however_many_characters_were_met(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The translation table gives each character's plain form, also past the characters it keeps."""
    monkeypatch.setattr(privacy._PlainTable, "KEPT", 3)
    monkeypatch.setattr(privacy, "_PLAIN", privacy._PlainTable())
    text = "电话：１３８\u2014１２３４\u3000５６７８，\t②③⁴₅ 13812345678\n"
    assert privacy._plain(text) == "".join(map(privacy._plain_character, text))
    assert len(privacy._plain(text)) == len(text) and len(privacy._PLAIN) == 3
    assert privacy._plain("１３８") == "138"
    assert mask_text(text) == "电话：138****5678，\t②③⁴₅ 138****5678\n"


def test_a_name_made_of_digits_does_not_break_number_masking() -> None:
    assert mask_text("8说电话13812345678，找8", ["8"]) == "8*说电话138****5678，找8*"
    assert mask_text("3号楼 8楼 13812345678", ["8", "3号"]) == "3*楼 8*楼 138****5678"
    assert mask_text("张阿姨 13812345678", ["张阿姨", "138"]) == "张** 138****5678"


def test_names_are_masked_to_their_first_character() -> None:
    assert [mask_name(n) for n in ("张阿姨", "李叔", "王", "")] == ["张**", "李*", "王*", ""]
    assert mask_text("@张阿姨 @王芳 收到，张阿姨说", ["张阿姨"]) == "@张** @王芳 收到，张**说"
    assert texts.mask_name is mask_name  # the bot's texts use the same implementation


_NAMES = ("张阿姨", "张阿", "阿姨", "张", "王芳", "8", "138", "3号", "小8", "8号", "１2", "李1")
_PIECES = (*_NAMES, "说", "电话", "13812345678", "139 8765 4321", "8", "88", "０", "3", "号楼", " ", "，", "@")
# Names no text here holds: with them a call has more than `FEW_NAMES` names and masks through the alternation.
_ABSENT = tuple(f"甲乙丙{n}" for n in range(FEW_NAMES + 1))


def test_few_names_are_masked_as_the_alternation_masks_them() -> None:
    """Up to `FEW_NAMES` names are looked for one by one, more through one compiled alternation: the same text
    either way, names that overlap, share a start or are made of digits included."""
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))
        names = rng.sample(_NAMES, rng.randint(0, 5))
        assert mask_text(text, names) == mask_text(text, [*names, *_ABSENT]), (text, names)
    assert mask_text("张阿姨说张阿说阿姨", ["张阿", "张阿姨", "阿姨"]) == "张**说张*说阿*"
    assert mask_text("18号楼8号小8", ["8", "8号", "小8"]) == "18号楼8*小*"


PHONE, PHONE_SPACED, LANDLINE = "13812345678", "139 8765 4321", "021-61234567"
ID_NUMBER, ID_IN_NAME = "110105199001011234", "11010519850202456X"
SEEDED = [
    "@time 2026-11-27 09:00",
    f"[1-3号楼业主群] 张阿姨: 3号楼2单元下水道堵了，我电话{PHONE}，有事打给我",
    f"[1-3号楼业主群] 李{PHONE_SPACED}: 3号楼2单元下水道也堵了",
    f"[4-6号楼业主群] 赵{ID_IN_NAME}: 5号楼独居老人需要助餐，身份证{ID_NUMBER}",
    f"[1-3号楼业主群] 王芳: 进度 7 已联系物业 {LANDLINE}，师傅电话{PHONE_SPACED}",
    "[4-6号楼业主群] 李军: 接单 8",
    f"[4-6号楼业主群] 李军: 办结 8 已联系赵{ID_IN_NAME}家属，身份证 {ID_NUMBER} 已登记",
    "[1-3号楼业主群] 孙大爷: 1号楼电梯坏了，电话＋86 138.8765.1234，物业（010）62345678",
    "[私聊] 钱阿姨: 4号楼楼道灯不亮了，我是2单元的钱小梅",
]
SECRETS = [PHONE, PHONE_SPACED, PHONE_SPACED.replace(" ", ""), LANDLINE, "61234567", ID_NUMBER, ID_IN_NAME,
           "张阿姨", "138.8765", "87651234", "62345678", "钱小梅"]  # fmt: skip


def _public_urls(client: TestClient) -> list[str]:
    urls = ["/", "/stats", "/stats?week=2026-11-23", "/export.csv", "/export.xlsx", "/openapi.json"]
    urls += [f"/?status={s}" for s in ("open", "overdue", "resolved")] + ["/?grid=g1", "/?grid=g2"]
    for fmt in ("json", "xml"):
        urls += [f"/open311/v2/services.{fmt}", f"/open311/v2/requests.{fmt}", f"/open311/v2/services/drainage.{fmt}"]
        urls += [f"/open311/v2/requests.{fmt}?status=open", f"/open311/v2/requests.{fmt}?service_request_id=1,2"]
    numbers = re.findall(r'href="/tickets/(\d+)"', client.get("/").text)
    assert numbers, "the wall links to its tickets"
    for number in numbers:
        urls += [f"/tickets/{number}", f"/open311/v2/requests/{number}.json", f"/open311/v2/requests/{number}.xml"]
    return urls


def _readable(body: bytes, url: str) -> str:
    if url.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(body)).active
        return "\n".join(" ".join(str(v) for v in row if v is not None) for row in sheet.iter_rows(values_only=True))
    return body.decode("utf-8-sig")


def test_no_public_page_or_api_response_leaks_a_number_or_a_name(settings: Settings, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'huiyin.db'}"
    replay(settings, url)
    replay(settings, url, SEEDED, id_prefix="seeded")
    app = create_app(settings, read_only_engine(url), ManualClock(SATURDAY_NOON), BoardSecrets("s", "k"))
    client = TestClient(app)
    seen = []
    for page in _public_urls(client):
        response = client.get(page)
        assert response.status_code == 200, page
        body = _readable(response.content, page)
        for secret in SECRETS:
            assert secret not in body, f"{secret} leaks on {page}"
        seen.append(body)
    everything = "\n".join(seen)
    # The masked forms are there: the texts were shown, not dropped.
    assert "138****5678" in everything and "139****4321" in everything and "021****4567" in everything
    assert "110***********1234" in everything and "张**" in everything and "赵*****************" in everything
