"""Sections: level-1 / level-2 headings found by their numbering sequence, and their canonical kind.

Examples are real snippets (SEEDS), constructed hard cases of the genre (TRICKY), cases that broke
an earlier version (BUGS_FOUND) and known failures (HARD_XFAIL, strict: a fix is noticed).
Each expected heading is ``(level, number, title, canonical)``.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import document_from_text, read_document
from pipeline.sections import canonical_kind, segment
from tests.conftest import SAMPLE_DOCS, SAMPLE_GOLD, SEED_GOLD, SEEDS, SHARED

Heading = tuple[int, "str | None", str, "str | None"]


@dataclass(frozen=True)
class Example:
    name: str
    text: str
    headings: list[Heading]


# ------------------------------------------------------------------------------------------------
# Real snippets from the seed reports (paragraphs shortened)
# ------------------------------------------------------------------------------------------------
SEEDS_EXAMPLES = [
    Example(
        "000 lost numbers 2、/4、, indicator items, indented 五、",
        "\n重庆市璧山区广普镇人民政府\n2024年度整体支出绩效自评报告\n\n一、基本情况\n（一）单位构成\n"
        "重庆市璧山区广普镇人民政府统筹设置内设机构5个。\n（二）职能职责\n正文。\n（三）预算及支出情况\n正文。\n"
        "2、 主要成效\n（一）多措并举加强管理，助力财政提质增效\n一是硬化预算刚性约束。\n"
        "三、绩效评价情况及结论\n（一）绩效评价情况\n1.安全隐患处理及时率（3分）\n消防安全排查整治隐患124个。\n"
        "2.补贴补助发放及时率（3分）\n正文。\n8.  预算执行率（10分）\n正文。\n（二）绩效评价结论\n"
        "本次绩效评价综合得分99.09分，绩效评价等级为“优”。\n4、 需要重点关注的问题\n一是专业能力与思想认识有待提升。\n"
        "    五、工作建议\n    一是强化能力建设，夯实管理基础。\n",
        [(1, "一", "基本情况", "basic_info"), (2, "一", "单位构成", None), (2, "二", "职能职责", None),
         (2, "三", "预算及支出情况", "finance"), (1, "2", "主要成效", "achievements"),
         (2, "一", "多措并举加强管理，助力财政提质增效", None),
         (1, "三", "绩效评价情况及结论", "evaluation"), (2, "一", "绩效评价情况", "evaluation"),
         (2, "二", "绩效评价结论", "conclusion"), (1, "4", "需要重点关注的问题", "problems"),
         (1, "五", "工作建议", "suggestions")]),
    Example(
        "001 level-4 (1)(2) under 1. are items; (2)/(3) after （一） are level 2",
        "三、部门预算绩效分析\n（一）部门预算总体绩效分析\n部门预算绩效自评满分100分，自评得分93.8分。\n"
        "1.履职效能（15分）\n（1）预算编审履职效果（5分）\n一是单位预算编制完整。\n（2）预算执行履职效果（5分）\n"
        "正文。\n（四）绩效结果应用情况\n1、 内部应用情况\n正文。\n3、整改反馈情况分析\n（1）结果整改\n正文。\n"
        "（2） 应用反馈\n我单位未收到整改意见。\n四、评价结论及建议\n（一）评价结论\n正文。\n（2） 存在问题\n"
        "一是预算控制率有待提高。\n（3） 改进建议\n正文。\n",
        [(1, "三", "部门预算绩效分析", "evaluation"), (2, "一", "部门预算总体绩效分析", "evaluation"),
         (2, "四", "绩效结果应用情况", "result_use"), (1, "四", "评价结论及建议", "conclusion"),
         (2, "一", "评价结论", "conclusion"), (2, "2", "存在问题", "problems"),
         (2, "3", "改进建议", "suggestions")]),
    Example(
        "001 bookmark artefact before （一）",
        "一、部门（单位）基本情况\n[bookmark: _GoBack]（一）机构组成\n正文。\n（2） 机构职能\n正文。\n",
        [(1, "一", "部门（单位）基本情况", "basic_info"), (2, "一", "机构组成", None),
         (2, "2", "机构职能", None)]),
    Example(
        "002 run-on suggestion headings and items with bookmark",
        "评报告如下：\n一、基本情况\n（一）单位基本情况\n1. 职能职责\n（1）坚持促进经济发展、增加农民收入。\n"
        "（2）加强基层党的建设。\n2. 单位构成\n正文。\n（二）预算及支出情况\n正文。\n二、主要成效\n正文。\n"
        "三、绩效评价情况及结论\n（一）绩效评价情况\n1. 预算执行率（10分）\n正文。\n"
        "2. [bookmark: _GoBack]政务信息公开率（10分）\n正文。\n4、 需重点关注的问题\n一是预算编制不够精细。\n五、有关建议\n"
        "（一）建议加强政策学习，提高思想认识。组织单位人员认真学习《预算法》。\n"
        "（二）进一步加强绩效目标设定的科学合理性、匹配性。完善适合街道基层工作的绩效指标。\n",
        [(1, "一", "基本情况", "basic_info"), (2, "一", "单位基本情况", "basic_info"),
         (2, "二", "预算及支出情况", "finance"), (1, "二", "主要成效", "achievements"),
         (1, "三", "绩效评价情况及结论", "evaluation"), (2, "一", "绩效评价情况", "evaluation"),
         (1, "4", "需重点关注的问题", "problems"), (1, "五", "有关建议", "suggestions"),
         (2, "一", "建议加强政策学习，提高思想认识", None),
         (2, "二", "进一步加强绩效目标设定的科学合理性、匹配性", None)]),
    Example(
        "003 （一）、 and （2） 、 markers, lost 4、 5、, enclosure list",
        "三、政府性基金预算支出情况\n2024年度政府性基金预算支出49.11万元。\n4、 国有资本经营预算支出情况\n"
        "2024年度国有资本经营预算支出10.66万元。\n5、 社会保险基金预算支出情况\n无。\n六、部门整体支出绩效情况\n"
        "主要绩效如下：\n（一）、完成收入任务成效\n正文。\n（2） 、党建工作成效\n强化党建引领。\n"
        "（三）紧锣密鼓抓项目。\n一是牢牢树立大抓项目建设的导向。\n"
        "（五）狠抓安全生产，落实生产安全责任制。一是高度重视，落实安全责任。\n"
        "七、存在的问题及原因分析\n一是干部服务意识有待加强。\n\n8、 下一步改进措施\n"
        "（一）继续树立党建引领理念不动摇。一是增强自觉性。\n提升群众幸福指数。\n\n"
        "附件：1.部门整体支出绩效评价基础数据表\n2.部门整体支出绩效自评表\n  绥宁县长铺镇人民政府\n",
        [(1, "三", "政府性基金预算支出情况", "finance"), (1, "4", "国有资本经营预算支出情况", "finance"),
         (1, "5", "社会保险基金预算支出情况", "finance"), (1, "六", "部门整体支出绩效情况", "achievements"),
         (2, "一", "完成收入任务成效", None), (2, "2", "党建工作成效", None),
         (2, "三", "紧锣密鼓抓项目", None), (2, "五", "狠抓安全生产，落实生产安全责任制", None),
         (1, "七", "存在的问题及原因分析", "problems"), (1, "8", "下一步改进措施", "suggestions"),
         (2, "一", "继续树立党建引领理念不动摇", None)]),
    Example(
        "004 trailing 。 on titles, 1． items under 四, other",
        "一、基本情况\n（一）项目背景、内容。\n正文。\n（二）项目资金情况。\n1.项目资金到位及执行情况\n"
        "四、下一步改进措施\n\n1．加大对项目资金使用的监督力度。\n\n2．加强项目统筹管理。明确项目实施进度计划。\n"
        "五、绩效自评结果拟应用和公开情况\n正文。\n六、其他需要说明的问题\n\n无。\n附件：1.树人镇整体监控绩效自评表\n\n"
        "2.树人镇2023年项目绩效自评表\n",
        [(1, "一", "基本情况", "basic_info"), (2, "一", "项目背景、内容", None),
         (2, "二", "项目资金情况", "finance"), (1, "四", "下一步改进措施", "suggestions"),
         (1, "五", "绩效自评结果拟应用和公开情况", "result_use"),
         (1, "六", "其他需要说明的问题", "other")]),
]

# ------------------------------------------------------------------------------------------------
# Hard cases of the genre
# ------------------------------------------------------------------------------------------------
TRICKY = [
    Example("lost level-1 number right after 一 with level-2 children",
            "一、基本情况\n（一）概况\n正文。\n2、 主要成效\n正文。\n三、存在问题\n正文。\n",
            [(1, "一", "基本情况", "basic_info"), (2, "一", "概况", None),
             (1, "2", "主要成效", "achievements"), (1, "三", "存在问题", "problems")]),
    Example("1、 2、 items under 一 are level 3 even where 2 is the next level-1 number",
            "一、项目概况\n（一）项目制定背景\n1、项目背景\n正文。\n2、项目内容\n正文。\n二、项目绩效\n",
            [(1, "一", "项目概况", "basic_info"), (2, "一", "项目制定背景", None),
             (1, "二", "项目绩效", "achievements")]),
    Example("1. is never a lost level-1 number (only 、 survives from 一、)",
            "一、基本情况\n正文。\n2.主要成效\n正文。\n",
            [(1, "一", "基本情况", "basic_info")]),
    Example("（2） is level 2 only after a （一） under the same level-1 heading",
            "一、基本情况\n（2）机构职能\n正文。\n二、支出情况\n（一）收入情况\n（2）支出情况\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "支出情况", "finance"),
             (2, "一", "收入情况", "finance"), (2, "2", "支出情况", "finance")]),
    Example("run-on level-2 heading: title up to the first 。",
            "一、建议\n（一）强化预算约束。严格执行预算，杜绝无预算支出。\n",
            [(1, "一", "建议", "suggestions"), (2, "一", "强化预算约束", None)]),
    Example("run-on heading with a colon",
            "一、基本情况：本单位为镇人民政府，内设机构5个。\n",
            [(1, "一", "基本情况", "basic_info")]),
    Example("indented headings with ideographic and ordinary spaces",
            "\u3000\u3000一、基本情况\n    （一）单位概况\n",
            [(1, "一", "基本情况", "basic_info"), (2, "一", "单位概况", "basic_info")]),
    Example("full-width （一） and （一）、 and half-width (二)",
            "一、基本情况\n（一）、职能职责\n(二)人员编制情况\n",
            [(1, "一", "基本情况", "basic_info"), (2, "一", "职能职责", None),
             (2, "二", "人员编制情况", None)]),
    Example("一． with a full-width full stop",
            "一．项目基本情况\n二．项目绩效自评工作开展情况\n",
            [(1, "一", "项目基本情况", "basic_info"), (1, "二", "项目绩效自评工作开展情况", "evaluation")]),
    Example("portal auto-summary line: inline 一、 is not at a line start",
            "财政专项扶贫资金绩效自评报告 一、绩效目标分解下达情况 1、财政专项扶贫资金下达预算及项目情况。 年度资金40万元\n"
            "财政专项扶贫资金绩效自评报告\n一、绩效目标分解下达情况\n1、财政专项扶贫资金下达预算及项目情况。\n"
            "2、财政专项扶贫资金项目绩效目标设定情况。\n二、绩效自评开展情况\n",
            [(1, "一", "绩效目标分解下达情况", "basic_info"), (1, "二", "绩效自评开展情况", "evaluation")]),
    Example("portal boilerplate lines are not headings",
            "欢迎来到南县政协网站!\n您现在的位置: 首页 > 工作动态\n【字体: 】 【发布时间:2022-04-15 14:54】\n"
            "一、基本情况\n（一）部门整体支出概况。\n1、收入:792.22万元。\n2、支出:799.12万元。\n"
            "（二）部门整体支出绩效目标。\n",
            [(1, "一", "基本情况", "basic_info"), (2, "一", "部门整体支出概况", "finance"),
             (2, "二", "部门整体支出绩效目标", None)]),
    Example("一是/二是 lead phrases and signature lines are not sections",
            "四、存在问题\n一是预算编制不够精细。二是绩效意识不强。\n二是执行进度偏慢。\n某某镇人民政府\n2024年8月20日\n",
            [(1, "四", "存在问题", "problems")]),
    Example("decimals and years at a line start are not markers",
            "一、收支情况\n2.5万元用于办公。\n2024.1起执行。\n二、存在问题\n",
            [(1, "一", "收支情况", "finance"), (1, "二", "存在问题", "problems")]),
    Example("二、三季度 at a line start is not a heading",
            "一、基本情况\n二、三季度完成项目验收。\n二、主要成效\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "主要成效", "achievements")]),
    Example("a title may start with a numeral word",
            "一、基本情况\n二、三项重点工作完成情况\n三、一年来存在的问题\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "三项重点工作完成情况", "achievements"),
             (1, "三", "一年来存在的问题", "problems")]),
    Example("a Chinese 一、二、三、 list inside a section is items",
            "二、存在问题\n一、资金使用不规范\n二、绩效意识不强\n三、档案管理不完善\n三、改进建议\n",
            [(1, "二", "存在问题", "problems"), (1, "三", "改进建议", "suggestions")]),
    Example("a second report on the same page restarts at 一",
            "一、基本情况\n二、存在问题\n\n2023年度项目支出绩效自评报告\n一、项目概况\n二、主要成效\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "存在问题", "problems"),
             (1, "一", "项目概况", "basic_info"), (1, "二", "主要成效", "achievements")]),
    Example("table-of-contents lines are skipped",
            "目录\n一、基本情况……………1\n二、存在问题……………3\n一、基本情况\n正文。\n二、存在问题\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "存在问题", "problems")]),
    Example("a marker alone on its line takes its title from the next line",
            "一、\n基本情况\n正文。\n",
            [(1, "一", "基本情况", "basic_info")]),
    Example("第一部分 divides the report: 一、 become level 2",
            "第一部分 部门概况\n一、部门职责\n（一）主要职能\n第二部分 绩效评价情况\n一、自评结论\n",
            [(1, "一", "部门概况", "basic_info"), (2, "一", "部门职责", None),
             (1, "二", "绩效评价情况", "evaluation"), (2, "一", "自评结论", "conclusion")]),
    Example("inline attachment opening the appended form is an unnumbered appendix heading",
            "安福全 zlnb210061 1 2019-05-22 False 附件: 项目支出绩效自评表 (2022年度) 项目名称 委托业务项目",
            [(1, None, "附件", "appendix")]),
    Example("level-1 fallback: an unknown opening heading is basic_info, a later one other",
            "一、项目背景\n二、工作安排\n",
            [(1, "一", "项目背景", "basic_info"), (1, "二", "工作安排", "other")]),
]

# ------------------------------------------------------------------------------------------------
# Cases that broke an earlier version of this segmenter
# ------------------------------------------------------------------------------------------------
# ------------------------------------------------------------------------------------------------
# Real-page layouts (issue 7): tables of contents, file names, lost numbers, Arabic top levels
# ------------------------------------------------------------------------------------------------
REAL_PAGES = [
    Example("a table of contents without page numbers is skipped; the report starts where its "
            "first entry comes again",
            "某镇2023年度部门整体支出绩效自评报告\n目  录\n一、部门基本情况\n二、绩效评价情况\n"
            "三、存在的问题\n一、部门基本情况\n正文。\n二、绩效评价情况\n正文。\n三、存在的问题\n正文。\n",
            [(1, "一", "部门基本情况", "basic_info"), (1, "二", "绩效评价情况", "evaluation"),
             (1, "三", "存在的问题", "problems")]),
    Example("a table of contents with page numbers is skipped",
            "目录\n一、部门基本情况 1\n二、绩效评价情况……3\n一、部门基本情况\n正文。\n二、绩效评价情况\n正文。\n",
            [(1, "一", "部门基本情况", "basic_info"), (1, "二", "绩效评价情况", "evaluation")]),
    Example("a file name printed as a line is not a heading",
            "三、绩效分析及评价结论.doc\n一、基本情况\n正文。\n二、存在问题\n正文。\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "存在问题", "problems")]),
    # 临河区 优抚对象生活补助 (h23): （二） lost entirely, （三） down to its closing bracket
    Example("unnumbered lines standing where the numbering skips are the lost headings",
            "二、绩效目标完成情况分析\n（一）资金投入情况分析\n收到资金2330.9万元。\n"
            "总体绩效情况分析\n按计划执行。\n)总体绩效目标完成情况分析\n完成发放。\n"
            "（四）绩效指标完成情况分析\n正文。\n",
            [(1, "二", "绩效目标完成情况分析", "achievements"),
             (2, "一", "资金投入情况分析", "finance"), (2, None, "总体绩效情况分析", "evaluation"),
             (2, None, "总体绩效目标完成情况分析", "achievements"),
             (2, "四", "绩效指标完成情况分析", "achievements")]),
    Example("an unnumbered line is not a heading where no number is missing",
            "一、基本情况\n总体情况分析\n正文。\n二、存在问题\n正文。\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "存在问题", "problems")]),
    Example("more candidate lines than missing numbers: none is guessed",
            "（一）甲\n总体情况分析\n正文。\n资金使用情况\n正文。\n（三）丙\n",
            [(2, "一", "甲", None), (2, "三", "丙", None)]),
    # A report whose whole level-1 list lost its Chinese numbers (or never had them)
    Example("all level-1 numbers lost: 1、 headings are level 1",
            "1、 基本情况\n（一）单位概况\n2、 主要成效\n",
            [(1, "1", "基本情况", "basic_info"), (2, "一", "单位概况", "basic_info"),
             (1, "2", "主要成效", "achievements")]),
    Example("with no Chinese level, 1. headings are level 1 and (1) level 2",
            "某街道2023年度部门整体支出绩效自评报告\n1、基本情况\n辖8个社区。\n2、绩效评价工作情况\n"
            "（1）产出情况\n完成任务。\n（2）效益情况\n满意度95%。\n3、存在的问题\n进度偏慢。\n",
            [(1, "1", "基本情况", "basic_info"), (1, "2", "绩效评价工作情况", "evaluation"),
             (2, "1", "产出情况", None), (2, "2", "效益情况", None),
             (1, "3", "存在的问题", "problems")]),
    Example("with no Chinese level, numbered items that are sentences stay items",
            "1.基本情况\n主要工作如下:\n1.完成道路修缮3公里。\n2.完成绿化面积2000平方米。\n"
            "2.存在的问题\n进度偏慢。\n",
            [(1, "1", "基本情况", "basic_info"), (1, "2", "存在的问题", "problems")]),
    Example("a Chinese top level present: Arabic items under it stay items",
            "一、基本情况\n1、完成情况\n2、资金情况\n二、存在问题\n",
            [(1, "一", "基本情况", "basic_info"), (1, "二", "存在问题", "problems")]),
]

BUGS_FOUND = [
    # A repeated （二） was counted as an item run, so the real （三） after it looked like "the next
    # item" and was dropped: runs now have to start at 1.
    Example("a number printed twice does not swallow the next heading",
            "一、主要成效\n（一）甲\n（二）乙\n（二）丙\n（三）丁\n",
            [(1, "一", "主要成效", "achievements"), (2, "一", "甲", None), (2, "二", "乙", None),
             (2, "三", "丁", None)]),
    # "一、" alone on a line took the whole next paragraph as its title.
    Example("a marker alone on its line does not take a paragraph as title",
            "一、\n本单位共有在职人员58人，其中行政编制30人，事业编制28人，全年收入2023万元，支出2023万元。\n",
            [(1, "一", "", "basic_info")]),
]

# ------------------------------------------------------------------------------------------------
# Known failures
# ------------------------------------------------------------------------------------------------
HARD_XFAIL = [
    # After 三、 with items 1、 2、 3、, a lost-number "4、" continues the item run: ambiguous, read
    # as an item (a person would look at the phrase: 需关注的问题 is a report part, not an item).
    Example("lost 4、 right after items 1、 2、 3、",
            "三、主要成效\n1、党建\n2、项目\n3、民生\n4、 需关注的问题\n五、建议\n",
            [(1, "三", "主要成效", "achievements"), (1, "4", "需关注的问题", "problems"),
             (1, "五", "建议", "suggestions")]),
]

CANONICAL = [
    # (title, level, kind) — first-named kind wins; the head of the phrase decides
    ("部门（单位）基本情况", 1, "basic_info"),
    ("绩效目标分解下达情况", 1, "basic_info"),
    ("部门资金收支情况", 1, "finance"),
    ("一般公共预算支出情况", 1, "finance"),
    ("项目资金使用及管理情况分析", 1, "finance"),
    ("部门整体支出绩效情况", 1, "achievements"),
    ("绩效目标自评完成情况分析", 1, "achievements"),
    ("项目绩效实现情况", 1, "achievements"),
    ("部门预算绩效分析", 1, "evaluation"),
    ("绩效评价情况及结论", 1, "evaluation"),
    ("项目绩效自评工作开展情况", 1, "evaluation"),
    ("评价结论及建议", 1, "conclusion"),
    ("需要重点关注的问题", 1, "problems"),
    ("存在的问题及原因分析", 1, "problems"),
    ("下一步改进措施", 1, "suggestions"),
    ("绩效自评结果拟应用和公开情况", 1, "result_use"),
    ("其他需要说明的问题", 1, "other"),
    ("综合评价情况及评价结论", 1, "evaluation"),
    ("偏离绩效目标的原因和下一步改进措施", 1, "problems"),
    ("部门整体支出绩效自评结果拟应用和公开情况", 1, "result_use"),
    ("其他需要说明的情况", 1, "other"),
    ("单位基本情况", 2, "basic_info"),
    ("单位构成", 2, None),
    ("项目概况", 2, "basic_info"),
    ("自评得分情况", 2, "evaluation"),
    ("部门整体绩效目标实现情况", 2, "achievements"),
    ("项目资金使用及管理情况", 2, "finance"),
    ("项目决策情况", 2, None),
    ("人员概况", 2, None),
    ("部门整体支出概况", 2, "finance"),
    ("部门整体支出绩效目标", 2, None),
    ("结余分配和结转结余情况", 2, "finance"),
    ("其他“两本”预算和重点领域项目情况", 2, None),
    ("项目资金到位情况分析", 2, "finance"),
    ("中央、市级下达专项转移支付预算", 2, "finance"),
    ("总体绩效目标完成情况分析", 2, "achievements"),
    ("完成收入任务成效", 2, None),
    ("绩效评价结论", 2, "conclusion"),
    ("评价结果", 2, "conclusion"),
    ("其他方面的问题", 2, "problems"),
    ("建议加强政策学习，提高思想认识", 2, None),
    ("绩效结果应用情况", 2, "result_use"),
]

MARKER_FIRST = set("第一二三四五六七八九十(0123456789附")


def _headings(text: str) -> list[Heading]:
    doc = document_from_text(text, "t.txt")
    sections = segment(doc)
    for s in sections:
        # the start is the marker's first character, and the number is inside the marker; an
        # unnumbered heading starts at its title (or at the remnant of a lost bracket)
        if s.rule.endswith(":unnumbered"):
            assert doc.text[s.title_start:].startswith(s.title), s
            continue
        assert unicodedata.normalize("NFKC", doc.text[s.start]) in MARKER_FIRST, s
        if s.number is not None:
            assert s.number in doc.norm[s.start:s.title_start], s
    return [(s.level, s.number, s.title, s.canonical) for s in sections]


def _params(examples: list[Example], xfail: bool = False) -> list[object]:
    marks = [pytest.mark.xfail(strict=True, reason="known limitation")] if xfail else []
    return [pytest.param(e, id=e.name, marks=marks) for e in examples]


@pytest.mark.parametrize("example", [*_params(SEEDS_EXAMPLES), *_params(TRICKY),
                                     *_params(REAL_PAGES), *_params(BUGS_FOUND),
                                     *_params(HARD_XFAIL, xfail=True)])
def test_headings(example: Example) -> None:
    assert _headings(example.text) == example.headings


@pytest.mark.parametrize("title,level,kind", CANONICAL, ids=[f"L{c[1]}-{c[0]}" for c in CANONICAL])
def test_canonical_kind(title: str, level: int, kind: str | None) -> None:
    assert canonical_kind(title, level) == kind


def test_sections_end_at_next_heading_of_same_or_higher_level() -> None:
    text = "一、基本情况\n（一）概况\n正文。\n（二）职能\n正文。\n二、存在问题\n正文。\n"
    doc = document_from_text(text, "t.txt")
    one, a, b, two = segment(doc)
    assert one.end == two.start and a.end == b.start and b.end == two.start
    assert two.end == doc.body_end == len(text)
    assert [s.seq for s in (one, a, b, two)] == [0, 1, 2, 3]
    assert text[one.title_start:].startswith("基本情况") and one.rule == "cn_top"


def test_headings_after_body_end_are_not_sought() -> None:
    text = "一、基本情况\n正文。\n\nSheet1\n\n\t\t一级指标\t\t二级指标\t\t分值\n\n\t\t产出指标\t\t数量指标\t\t5\n\n二、附表说明\n"
    doc = document_from_text(text, "t.txt")
    assert doc.body_end < len(text)
    assert [s.title for s in segment(doc)] == ["基本情况"]


# ------------------------------------------------------------------------------------------------
# The gold gate: every seed reaches the thresholds against its hand-made annotation
# ------------------------------------------------------------------------------------------------
def _norm_title(s: object) -> str:
    import re

    s = unicodedata.normalize("NFKC", str(s or ""))
    return re.sub(r"[\s\"'“”‘’「」《》()（）:：,，.。、;；]", "", s)


def _score(doc_path: Path, gold_path: Path) -> dict[int, tuple[int, int, int]] | dict[str, object]:
    """Per level: (true positives, predicted, gold) as tools/score.py matches them, plus the
    canonical tally (correct, compared) on matched sections whose gold kind is set."""
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    sections = segment(read_document(doc_path))
    out: dict[str, object] = {}
    right = compared = 0
    for level in (1, 2):
        gs = [g for g in gold["sections"] if g["level"] == level]
        ps = [p for p in sections if p.level == level]
        used: set[int] = set()
        for g in gs:
            for i, p in enumerate(ps):
                gt, pt = _norm_title(g["title"]), _norm_title(p.title)
                if i not in used and abs(p.start - g["start"]) <= 12 and gt and pt and (gt in pt or pt in gt):
                    used.add(i)
                    if g.get("canonical"):
                        compared += 1
                        right += p.canonical == g["canonical"]
                    break
        out[f"L{level}"] = (len(used), len(ps), len(gs))
    out["canonical"] = (right, compared)
    return out


def _f1(tp: int, n_pred: int, n_gold: int) -> float:
    p = tp / n_pred if n_pred else float(n_gold == 0)
    r = tp / n_gold if n_gold else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _seed_pairs() -> list[tuple[Path, Path]]:
    gold_dir = SEED_GOLD if SEED_GOLD.is_dir() else SHARED / "gold"
    docs_dir = SEEDS if SEEDS.is_dir() else SHARED / "seeds"
    return [(p, gold_dir / f"{p.stem}.json") for p in sorted(docs_dir.glob("*.txt"))
            if (gold_dir / f"{p.stem}.json").is_file()]


@pytest.mark.parametrize("doc_path,gold_path", _seed_pairs(), ids=lambda p: p.stem)
def test_seed_reaches_thresholds(doc_path: Path, gold_path: Path) -> None:
    score = _score(doc_path, gold_path)
    assert _f1(*score["L1"]) == 1.0, score  # type: ignore[misc]
    assert _f1(*score["L2"]) >= 0.90, score  # type: ignore[misc]
    right, compared = score["canonical"]  # type: ignore[misc]
    assert compared == 0 or right / compared >= 0.95, score


def test_samples_level1_f1() -> None:
    gold_dir = SAMPLE_GOLD if SAMPLE_GOLD.is_dir() else SHARED / "samples" / "gold"
    docs_dir = SAMPLE_DOCS if SAMPLE_DOCS.is_dir() else SHARED / "samples" / "docs"
    pairs = [(p, gold_dir / f"{p.stem}.json") for p in sorted(docs_dir.glob("*.txt"))
             if (gold_dir / f"{p.stem}.json").is_file()]
    if not pairs:
        pytest.skip("no sample gold available")
    tp = n_pred = n_gold = 0
    for doc_path, gold_path in pairs:
        a, b, c = _score(doc_path, gold_path)["L1"]  # type: ignore[misc]
        tp, n_pred, n_gold = tp + a, n_pred + b, n_gold + c
    floor = json.loads((Path(__file__).with_name("floors.json")).read_text(encoding="utf-8"))
    assert _f1(tp, n_pred, n_gold) >= floor["samples"]["sections_l1_f1"] - 1e-9


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------
PIECES = ["一、", "二、", "三、", "2、", "4、", "1.", "2.", "（一）", "（二）", "（2）", "（1）", "(3)", "（一）、",
          "第一部分", "第二章", "附件：", "附件: ", "基本情况", "存在问题", "建议", "。", "，", "：", " ", "\u3000",
          "\n", "\n\n", "\t", "\t\t", "[bookmark: _GoBack]", "……1", "报告", "十", "二十三、", "99.", "Sheet1"]
report_like = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=80).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(report_like, st.text(max_size=300)))
def test_segment_never_raises_and_starts_increase(text: str) -> None:
    doc = document_from_text(text, "prop.txt")
    sections = segment(doc)
    starts = [s.start for s in sections]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for i, s in enumerate(sections):
        assert s.seq == i and s.level in (1, 2)
        assert 0 <= s.start < len(text) and s.start <= s.end <= len(text)
        assert s.start <= s.title_start <= len(text)


# Run-on pages: the whole report on one line, headings in the middle of it (portal and
# document-sharing renderings). Made up in the genre; long enough to count as a run-on line.
RUN_ON = ("某镇2022年度衔接资金项目支出绩效自评报告一、项目基本情况(一)项目概况某镇现有政府工作人员64人,"
          "县财政局下达某镇奖励资金28.6万元,该项资金专项用于政府行政运行保障。(二)项目绩效目标一是全力提高"
          "基层政府服务农村能力;二是全力保障镇政府行政运行。二、项目资金情况项目资金28.6万元于2022年10月"
          "30日下达,全部为财政资金,做到了专款专用。三、绩效目标完成情况分析资金支出严格执行相关财务制度,"
          "做到了专款专用。四、自评结论经自评,该项目得分98分,等级为优。")


def test_headings_in_the_middle_of_a_run_on_line() -> None:
    assert "\n" not in RUN_ON and len(RUN_ON) >= 200
    found = [(s.level, s.number, s.title, s.canonical) for s in segment(document_from_text(RUN_ON, "x.txt"))]
    assert found == [(1, "一", "项目基本情况", "basic_info"), (2, "一", "项目概况", "basic_info"),
                     (2, "二", "项目绩效目标", None), (1, "二", "项目资金情况", "finance"),
                     (1, "三", "绩效目标完成情况分析", "achievements"), (1, "四", "自评结论", "conclusion")]


@pytest.mark.parametrize("text", [
    # a skipped number in the middle of a line is prose, not a heading (一、 then 三、)
    RUN_ON.replace("二、项目资金情况", "三、项目资金情况").replace("三、绩效目标", "五、绩效目标")
          .replace("四、自评结论", "六、自评结论"),
    # markers whose words are no heading phrase: a list inside a sentence
    "全年共开展活动多次,主要包括以下内容:一、走访慰问困难群众和留守儿童共计一百二十余户次并送去米面油等物资,"
    "二、组织志愿者清理河道垃圾三十余吨并宣传环境保护知识" * 3,
])
def test_run_on_markers_that_are_not_headings(text: str) -> None:
    titles = [s.title for s in segment(document_from_text(text, "x.txt")) if s.rule.endswith(":inline")]
    assert titles == [] or titles == ["项目基本情况", "项目概况", "项目绩效目标"]
