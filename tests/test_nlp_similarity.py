"""The duplicate score and the service directory, as pure functions."""

from __future__ import annotations

import pytest

from nlp.faq import match_faq
from nlp.similarity import content_words, facts, place_agreement, similarity, word_overlap
from settings.models import FaqEntry


def test_content_words_drop_punctuation_numbers_and_function_words() -> None:
    assert content_words("3号楼2单元的下水道又堵了！！") == {"下水道", "堵了"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("3号楼2单元", "3号楼2单元", 1.0),
        ("3号楼", "3号楼2单元", 0.6),
        ("3号楼2单元", "3号楼", 0.6),
        (None, "3号楼", 0.0),
        (None, None, 0.0),
        ("3号楼", "13号楼", None),  # a suffix is not a containment
        ("2号楼", "3号楼", None),
    ],
)
def test_place_agreement(a: str | None, b: str | None, expected: float | None) -> None:
    assert place_agreement(a, b) == expected


def test_word_overlap_is_a_cosine_of_word_sets() -> None:
    assert word_overlap({"下水道", "堵"}, {"下水道", "堵", "臭"}) == pytest.approx(2 / 6**0.5)
    assert word_overlap(set(), {"下水道"}) == 0.0


@pytest.mark.parametrize(
    ("new", "old", "joins"),
    [
        (("电梯又坏了", "facilities", "5号楼"), ("电梯坏了", "facilities", "5号楼"), True),
        (("单元门关不上", "facilities", "5号楼"), ("电梯坏了", "facilities", "5号楼"), False),  # another problem
        (("地漏往上冒污水", "drainage", "3号楼"), ("下水道堵了", "drainage", "3号楼2单元"), True),  # same, other words
        (("车棚拉了根电线给电瓶车充电", "parking_fire", "2号楼"), ("煤气味很重", "parking_fire", "2号楼"), False),
        (("家里没有暖气了", "facilities", "1号楼"), ("电梯困人了", "facilities", "1号楼"), False),
        (("下水道堵了", "drainage", "3号楼"), ("下水道堵了返水", "drainage", "3号楼2单元"), True),
        (("下水道堵了", "drainage", "2号楼"), ("下水道堵了", "drainage", "3号楼"), False),
        (("又停电了冰箱坏了", "power", None), ("又停电了，冰箱要坏了", "power", None), True),
        (("又停电了", "power", None), ("路灯不亮", "power", None), False),
        (("下水道堵了臭死了", "sanitation", "3号楼"), ("楼道灯不亮", "power", "3号楼"), False),
    ],
)
def test_similarity_against_the_default_threshold(
    new: tuple[str, str, str | None], old: tuple[str, str, str | None], joins: bool
) -> None:
    assert (similarity(facts(*new), facts(*old)) >= 0.6) is joins


def test_similarity_is_zero_for_different_places_whatever_else_agrees() -> None:
    assert similarity(facts("电梯坏了", "facilities", "2号楼"), facts("电梯坏了", "facilities", "3号楼")) == 0.0


DIRECTORY = [
    FaqEntry(id="yibao", keywords=["医保"], answer="医保：三号窗口"),
    FaqEntry(id="yibaoka", keywords=["医保卡", "补办"], answer="医保卡补办：社保大厅"),
    FaqEntry(id="dibao", keywords=["低保"], answer="低保：一号窗口"),
]


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("请问低保怎么申请？", "dibao"),
        ("医保怎么交", "yibao"),
        ("医保卡丢了怎么补办", "yibaoka"),  # the entry covering more of the question wins
        ("请问ＤＩＢＡＯ", None),
        ("居住证在哪里办", None),
    ],
)
def test_the_directory_entry_covering_most_of_the_question_answers(text: str, entry: str | None) -> None:
    found = match_faq(text, DIRECTORY)
    assert (found.id if found else None) == entry
