"""Example table for ``extract_amounts``: snippets and the money expressions expected in them.

SEEDS are real snippets from the seed and sample reports (their gold annotations and notes);
TRICKY are forms of the genre the seeds do not show (ranges, Chinese numerals, 亿元, separators,
money 万 against count 万, masked values); BUGS_FOUND pin mistakes found while building the
extractor; HARD_XFAIL are known failures, strict so that a fix is noticed.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from extractors.amounts import extract_amounts
from pipeline.ingest import document_from_text


@dataclass(frozen=True)
class Example:
    """A snippet and every amount expected in it, in text order, as (text, value_yuan, unit);
    ``labels``, when given, are the expected labels of those amounts, ``rules`` their rule ids."""

    text: str
    expected: list[tuple[str, float, str]]
    labels: list[str | None] | None = None
    rules: list[str] | None = None


SEEDS = [
    Example("收入预算：2024年度收入合计3402.07万元，较上年决算数增加520.46万元，增加18.06%，",
            [("3402.07万元", 34020700.0, "万元"), ("520.46万元", 5204600.0, "万元")],
            labels=["收入合计", "决算数增加"]),
    Example("其中：基本支出2207.79万元，占64.9%；项目支出1194.27万元，占35.1%。",
            [("2207.79万元", 22077900.0, "万元"), ("1194.27万元", 11942700.0, "万元")],
            labels=["基本支出", "项目支出"]),
    Example("四是拨付本级生态环保资金66万，推进七零水库、山坪塘、无名支流水环境整治项目加快实施，"
            "投入本级森林防火经费10万元，助力建设森林防火通道1.48公里，全力守护绿水青山。",
            [("66万", 660000.0, "万"), ("10万元", 100000.0, "万元")],
            labels=["生态环保资金", "经费"], rules=["money.arabic_bare", "money.arabic"]),
    Example("交通劝导站全年上岗1250站次，录入劝导日志3.5万余条，为交通安全保驾护航。", []),
    Example("持续美化增绿，修剪维护绿化带1.6万平方米，增补绿化面积2000平方米，100%保障了市政设施维护率。",
            []),
    Example("完成城区内绿化带、行道树修枝剪形约15万平方米，绿化带裸土补植红叶石楠3.4万株，"
            "清理违规占用高速公路绿化地种菜约8000平方米并全部全部绿化。", []),
    Example("积极帮贫济困，发放低保救助金156万元、特困救助金388万元、高龄失能补贴16万元、"
            "高龄营养补贴62万元，补贴补助发放达标率100%。",
            [("156万元", 1560000.0, "万元"), ("388万元", 3880000.0, "万元"),
             ("16万元", 160000.0, "万元"), ("62万元", 620000.0, "万元")],
            labels=["低保救助金", "特困救助金", "补贴", "高龄营养补贴"]),
    Example("宝城镇人民政府2024年年初预算收入1354.29万元、中期调整预算收入245.09万元，"
            "调整后财政拨款收入1599.38万元。",
            [("1354.29万元", 13542900.0, "万元"), ("245.09万元", 2450900.0, "万元"),
             ("1599.38万元", 15993800.0, "万元")],
            labels=["年初预算收入", "中期调整预算收入", "财政拨款收入"]),
    Example("发放各类城乡困难群众低保金、供养金、救助金1281 人次864.589万元，发放高龄老人营养补贴"
            "15468人次89.837万元，元旦、春节期间慰问困难群众117人2.9万元。",
            [("864.589万元", 8645890.0, "万元"), ("89.837万元", 898370.0, "万元"),
             ("2.9万元", 29000.0, "万元")],
            labels=["救助金", "高龄老人营养补贴", None]),
    Example("对发展养殖业的脱贫户按饲养量每户给予800-1000元的产业扶持",
            [("800", 800.0, "元"), ("1000元", 1000.0, "元")],
            rules=["money.range_first", "money.arabic"]),
    Example("对2019-2021年道路保洁项目开展重点绩效评价,涉及资金6.5亿元。",
            [("6.5亿元", 650000000.0, "亿元")], labels=["资金"]),
    Example("2019至2021年期间项目预算总额 73,387.27万元,截止 2021年 12 月 31 日,已经支出70,909.19万元。",
            [("73,387.27万元", 733872700.0, "万元"), ("70,909.19万元", 709091900.0, "万元")],
            labels=["项目预算总额", "支出"]),
    Example("各村村干报酬为支部书记年均31112元发放(2592元/月",
            [("31112元", 31112.0, "元"), ("2592元", 2592.0, "元")]),
    Example("项目,项目全年预算数*元,执行数*元,完成预算的100%。", []),
    Example("项目全年预算数78.*元,执行数78.*元,完成预算的100%", []),
    Example("全市林地面积145.29万公顷,森林面积133.14万公顷,森林覆盖率达69.83%,森林蓄积1.26亿立方米。",
            []),
    Example("占地面积2000平方米,产量10万斤,利润为2万元,", [("2万元", 20000.0, "万元")],
            labels=["利润"]),
    Example("2. 深入推进“万企兴万村”行动。", []),
    Example("(阿左财发〔2024〕56号)文件要求", []),
    Example("其中：一般公共预算：2023.37万\n\t其中：基本支出：1575.2万",
            [("2023.37万", 20233700.0, "万"), ("1575.2万", 15752000.0, "万")],
            labels=["一般公共预算", "基本支出"]),
    Example("2024年度政府性基金预算支出49.11万元，主要用于香料厂D级危房改造项目工作经费。",
            [("49.11万元", 491100.0, "万元")], labels=["政府性基金预算支出"]),
    Example("共完成9个市政基础设施建设项目，验收结算金额约146.42万元。",
            [("146.42万元", 1464200.0, "万元")], labels=["金额"]),
    Example("2024年项目预算支出共计448.17万元，其中业务工作经费0万元，运行维护经费0万元，专项资金0万元，",
            [("448.17万元", 4481700.0, "万元"), ("0万元", 0.0, "万元"), ("0万元", 0.0, "万元"),
             ("0万元", 0.0, "万元")],
            labels=["项目预算支出", "业务工作经费", "经费", "专项资金"]),
    Example("新建C25砼排水沟1300m(规格:0.6*0.6)砼、浆砌石。", []),
]

TRICKY = [
    # Chinese numerals, with the 万/亿 of the unit belonging to the numeral.
    Example("三千五百万元", [("三千五百万元", 35000000.0, "万元")], rules=["money.chinese"]),
    Example("十二亿三千万元", [("十二亿三千万元", 1230000000.0, "万元")]),
    Example("补助五十元", [("五十元", 50.0, "元")], labels=["补助"]),
    Example("发放两万元", [("两万元", 20000.0, "万元")]),
    Example("项目资金一百二十万元", [("一百二十万元", 1200000.0, "万元")], labels=["项目资金"]),
    Example("合同金额壹万元整", [("壹万元", 10000.0, "万元")]),
    Example("五十余万元", [("五十余万元", 500000.0, "余万元")]),
    Example("资金六十万用于修路", [("六十万", 600000.0, "万")], rules=["money.chinese_bare"]),
    Example("投入数十万元", []),  # an order of magnitude, not a figure
    Example("几十万元的设备", []),
    Example("破除城乡二元结构", []),
    Example("正月十五元宵节", []),
    Example("一元复始，万象更新", []),
    # Ranges: the first end takes the unit of the second.
    Example("每户800—1000元", [("800", 800.0, "元"), ("1000元", 1000.0, "元")]),
    Example("每户800至1000元", [("800", 800.0, "元"), ("1000元", 1000.0, "元")]),
    Example("每户800～1000元", [("800", 800.0, "元"), ("1000元", 1000.0, "元")]),
    Example("补助10-20万元", [("10", 100000.0, "万元"), ("20万元", 200000.0, "万元")]),
    Example("每人500元-800元", [("500元", 500.0, "元"), ("800元", 800.0, "元")]),
    # Units and multipliers.
    Example("1.2亿元", [("1.2亿元", 120000000.0, "亿元")]),
    Example("资金1.2亿，", [("1.2亿", 120000000.0, "亿")]),
    Example("资金1万亿，", [("1万亿", 1000000000000.0, "万亿")]),
    Example("GDP 1.2万亿元", [("1.2万亿元", 1200000000000.0, "万亿元")]),
    Example("5千元", [("5千元", 5000.0, "千元")]),
    Example("5千万元", [("5千万元", 50000000.0, "千万元")]),
    Example("投入20万余元", [("20万余元", 200000.0, "万余元")]),
    Example("投入资金50余万元", [("50余万元", 500000.0, "余万元")]),
    Example("3402.07万元", [("3402.07万元", 34020700.0, "万元")]),  # exact, not 34020699.99…
    Example("0.07万元", [("0.07万元", 700.0, "万元")]),
    # Full-width digits, separators and spaces.
    Example("支出１２３４．５万元", [("１２３４．５万元", 12345000.0, "万元")]),
    Example("人员经费 ≤ 1,059.39 万元", [("1,059.39 万元", 10593900.0, "万元")]),
    Example("资金总额 1599.38 万元", [("1599.38 万元", 15993800.0, "万元")], labels=["资金总额"]),
    Example("项目3个，300万元", [("300万元", 3000000.0, "万元")]),  # a Chinese comma is no separator
    # Money 万 against count 万.
    Example("全镇常住人口2.3万，", []),
    Example("受益群众2万人", []),
    Example("补贴户数1.2万", []),
    Example("年人均纯收入1.2万", [("1.2万", 12000.0, "万")]),
    Example("共投入66万，", [("66万", 660000.0, "万")]),
    Example("100万美元", []),
    Example("万元", []),
    Example("万", []),
    # Masked and non-money.
    Example("*元", []),
    Example("2024年元旦慰问", []),
]

BUGS_FOUND = [
    # hostile tests (issue 10): the sign was dropped (-5.2万元 read as +52,000), and scientific
    # notation was read as money (1e308元 as 308 yuan)
    Example("年末结余-5.2万元，较上年减少。", [("-5.2万元", -52000.0, "万元")]),
    Example("项目支出-12.5万元（调减）", [("-12.5万元", -125000.0, "万元")]),
    Example("范围800-1000元", [("800", 800.0, "元"), ("1000元", 1000.0, "元")]),
    Example("清单:\n-5万元用于办公", [("5万元", 50000.0, "万元")]),   # a bullet, not a sign
    Example("总额1e308元，另1E+24元，再2.5e3万元", []),
    # A lazy numeral stopped at 十二亿三 and read 千万元 as the unit: 1,200,000,003 × 10^7.
    Example("共计十二亿三千万元", [("十二亿三千万元", 1230000000.0, "万元")]),
    # A year and a figure joined by a comma are not one grouped number (2024,300 → 300).
    Example("2024,300万元", [("300万元", 3000000.0, "万元")]),
    # A bare 万 after a money word that names something else: the head noun is 群众.
    Example("项目资金惠及群众1.2万", []),
    # jieba tags 积极争取 as a set phrase (l): it was taken into the label.
    Example("积极争取上级专项资金333万元", [("333万元", 3330000.0, "万元")], labels=["上级专项资金"]),
    # A text layer that prints a space after the decimal point (a portal page, sample h16): the
    # figure is 35.3万元, not 3万元; a list item "1. 20万元" at a line start stays item + 20万元.
    Example("预算35. 3万元,2022年全年实际支付35. 3万元,使用率100%。",
            [("35. 3万元", 353000.0, "万元"), ("35. 3万元", 353000.0, "万元")]),
    Example("1. 20万元用于道路硬化\n2. 30万元用于路灯安装", [("20万元", 200000.0, "万元"),
                                                       ("30万元", 300000.0, "万元")]),
]

HARD_XFAIL = [
    # Mixed 万 and 千 in one figure: read as 2千元 only.
    Example("奖励1万2千元", [("1万2千元", 12000.0, "元")]),
    # A range in Chinese numerals whose first end has no unit.
    Example("补助五至十万元", [("五", 50000.0, "万元"), ("十万元", 100000.0, "万元")]),
]


def _cases() -> list[object]:
    return [*SEEDS, *TRICKY, *BUGS_FOUND,
            *[pytest.param(e, marks=pytest.mark.xfail(strict=True)) for e in HARD_XFAIL]]


@pytest.mark.parametrize("example", _cases(), ids=lambda e: e.text[:24])
def test_amounts(example: Example) -> None:
    doc = document_from_text(example.text, "example.txt")
    amounts = extract_amounts(doc)
    for amount in amounts:
        assert doc.text[amount.start:amount.end] == amount.text
        assert amount.rule.startswith("money.")
    assert [(a.text, a.value_yuan, a.unit) for a in amounts] == example.expected
    if example.labels is not None:
        assert [a.label for a in amounts] == example.labels
    if example.rules is not None:
        assert [a.rule for a in amounts] == example.rules


def test_amounts_are_in_text_order_and_do_not_overlap() -> None:
    doc = document_from_text("".join(e.text for e in SEEDS + TRICKY), "all.txt")
    amounts = extract_amounts(doc)
    assert all(a.end <= b.start for a, b in zip(amounts, amounts[1:]))
