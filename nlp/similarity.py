"""Is a new report the same problem as an open ticket? A score in 0..1 from category, place and problem.

    score = 0.3 × same category + 0.3 × place agreement + 0.4 × problem agreement

- place agreement: 1 for the same place, 0.6 when one contains the other (`3号楼` and
  `3号楼2单元`), 0 when either names none. Two different places are never the same problem: the
  score is 0 whatever else agrees.
- problem agreement: the larger of the overlap of the problems both name (`nlp.problems`: `下水道堵了`
  and `地漏往上冒` both name the drain) and the cosine of their content words (jieba tokens without
  punctuation, numbers, place words and the function words below).
- Two reports that share no problem are never the same: the score is 0 when the agreement is below
  `MIN_PROBLEM`, however alike category and place are (`车棚拉电线充电` is not the gas smell of the same
  building, `没有暖气了` is not the person trapped in its lift).

With the default threshold 0.6 (`nlp.duplicate_threshold`): the same category and place join when they
name the same problem; a more or less precise place of the same category needs a problem agreement of
0.3; without a place the same category needs 0.75; a different category joins only on a nearly identical
problem at the same place.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from nlp.classification import normalise_message
from nlp.problems import problem_overlap, problems_in
from nlp.segment import tokens

CATEGORY_WEIGHT, PLACE_WEIGHT, PROBLEM_WEIGHT = 0.3, 0.3, 0.4
NESTED_PLACE = 0.6
MIN_PROBLEM = 0.25

FUNCTION_WORDS = frozenset(
    "的 了 着 过 吗 呢 吧 啊 呀 哦 嘛 啦 都 又 也 还 就 才 很 太 好 真 是 在 有 没 不 和 跟 与 给 让 被 把 "
    "我 我们 我家 你 你们 他 她 它 他们 这 那 这个 那个 这里 那里 这边 那边 一个 一下 已经 现在 今天 昨天 "
    "号楼 单元 栋 幢 室 楼 小区 麻烦 请 谢谢 楼道 楼下 楼上 门口 家里 家 一楼 二楼 顶楼 地下室 附近 旁边 这儿 那儿 "
    "哪里 怎么 什么 谁 有人 没人 问题 事情 事 情况 居民 大家 物业 社区".split()
)


@dataclass(frozen=True)
class ReportFacts:
    """What the comparison needs of a report or a ticket."""

    words: frozenset[str]
    category: str
    location: str | None
    problems: frozenset[str] = frozenset()


def content_words(text: str) -> frozenset[str]:
    """The jieba tokens of `text` that carry meaning: no punctuation, numbers or function words."""
    return frozenset(
        token
        for token in tokens(normalise_message(text).casefold())
        if token not in FUNCTION_WORDS and any(unicodedata.category(ch).startswith("L") for ch in token)
    )


def facts(text: str, category: str, location: str | None) -> ReportFacts:
    """The facts of a text: its content words and problems (jieba segmentation: the costly part)."""
    return ReportFacts(content_words(text), category, location, problems_in(text))


FEATURES_VERSION = 1
"""Bump when `content_words` or `problems_in` change what they find: stored features of another version are
ignored and the text is read again (`stored_facts`)."""


def merge_features(report: ReportFacts) -> str:
    """What merging compares of a text (`ReportFacts.words` and `.problems`), as the JSON a ticket stores
    (`Ticket.merge_features`); its category and place are columns of their own, read with it."""
    payload = {"v": FEATURES_VERSION, "words": sorted(report.words), "problems": sorted(report.problems)}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


FEATURES_PREFIX = f'{{"v":{FEATURES_VERSION},'
"""How stored features of the current version begin (`merge_features`)."""

MAX_NEEDLES = 16
"""The most terms a follow-up's candidates are looked for by (`needles`); a message with more reads them all."""


def needles(report: ReportFacts) -> tuple[str, ...] | None:
    """The strings that stored features (`merge_features`) contain when they share a word or a problem with
    `report`: each term as JSON writes it, quotes included. A ticket whose features contain none of them has a
    problem agreement of 0 with `report` (below `MIN_PROBLEM`), so it is not what a follow-up is about, and the
    database need not return it (`storage.tickets.open_candidates`). Empty: no ticket can be; None: more than
    `MAX_NEEDLES` terms, every candidate is read."""
    terms = report.words | report.problems
    if len(terms) > MAX_NEEDLES:
        return None
    return tuple(sorted(json.dumps(term, ensure_ascii=False) for term in terms))


def stored_facts(features: str | None, text: str, category: str, location: str | None) -> ReportFacts:
    """A ticket's facts from its stored `features` (`merge_features`) without segmenting its text again; from
    `text` when it has none (a ticket written before they were stored) or they are of another version."""
    stored = _decoded(features) if features else None
    if stored is None:
        return facts(text, category, location)
    words, problems = stored
    return ReportFacts(words, category, location, problems)


@lru_cache(maxsize=8192)
def _decoded(features: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The words and problems of stored features (None: of another version). Kept by their text, which is all they
    depend on: every report reads its candidates' features again, and an open ticket's rarely change."""
    payload = json.loads(features)
    if payload.get("v") != FEATURES_VERSION:
        return None
    return frozenset(payload["words"]), frozenset(payload["problems"])


def best_possible(new: ReportFacts, category: str, location: str | None) -> float:
    """The highest `similarity` a ticket of `category` at `location` can have with `new`, whatever it names (its
    problem agreeing fully): a candidate below the threshold need not be read further."""
    place = place_agreement(new.location, location)
    if place is None:
        return 0.0
    return round(CATEGORY_WEIGHT * (new.category == category) + PLACE_WEIGHT * place + PROBLEM_WEIGHT, 4)


def other_category_may_match(place: float, threshold: float) -> bool:
    """Whether a ticket of another category can reach `threshold` at this place agreement (its problem agreeing
    fully): which candidates duplicate detection must read besides those of the report's category."""
    return round(PLACE_WEIGHT * place + PROBLEM_WEIGHT, 4) >= threshold


def place_agreement(a: str | None, b: str | None) -> float | None:
    """1 same, NESTED_PLACE when one contains the other, 0 when a place is missing, None when they differ."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if a.startswith(b) or b.startswith(a):
        return NESTED_PLACE
    return None


def word_overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """The cosine of two word sets (sets are taken as they are: every report's candidates are compared with it)."""
    first = a if isinstance(a, (set, frozenset)) else set(a)
    second = b if isinstance(b, (set, frozenset)) else set(b)
    if not first or not second:
        return 0.0
    return len(first & second) / math.sqrt(len(first) * len(second))


def problem_agreement(new: ReportFacts, old: ReportFacts) -> float:
    """How surely two reports name the same problem, 0..1 (see the module docstring)."""
    return max(problem_overlap(new.problems, old.problems), word_overlap(new.words, old.words))


def similarity(new: ReportFacts, old: ReportFacts) -> float:
    place = place_agreement(new.location, old.location)
    problem = problem_agreement(new, old)
    if place is None or problem < MIN_PROBLEM:
        return 0.0
    category = 1.0 if new.category == old.category else 0.0
    score = CATEGORY_WEIGHT * category + PLACE_WEIGHT * place + PROBLEM_WEIGHT * problem
    return round(score, 4)
