"""One test per cleaning rule, each on a short excerpt of the sample file that needs it."""
from __future__ import annotations

import pytest

from ingest.clean import (
    ad_score,
    clean_text,
    drop_ad_blocks,
    drop_boilerplate_lines,
    drop_duplicate_paragraphs,
    drop_link_lines,
    extract_header_line,
    fullwidth_punctuation,
    has_html,
    html_to_text,
    is_ad_line,
    looks_like_pdf_extraction,
    normalize_newlines,
    rejoin_cut_lines,
    rejoin_pdf_lines,
    repair_mojibake,
    split_front_matter,
    strip_markdown_bold,
    tidy_whitespace,
)
from ingest.loaders import RawText


def _raw(text: str, fmt: str = "txt") -> RawText:
    return RawText("excerpt.txt", "/tmp/excerpt.txt", "0" * 64, text, fmt)


# 000: PDF extraction, a blank line between every line, page-leading spaces.
EXCERPT_000 = """ 关于在全市经信系统开展“四讲四比”

主题活动的实施方案

为了贯彻落实市委关于“视使命为生命，凭发展论英雄，

以项目比能力，从担当看品格”的指示精神，经市经信委党

委研究，决定在我市经信系统中开展“讲政治比忠诚、讲使

命比担当、讲项目比实干、讲规矩比干净”主题活动。

一、指导思想

坚持以习近平总书记系列重要讲话精神为指导，全面贯

彻党的十八大以来历次中央全会精神和省市党代会精神，引

导全市经信系统广大干部职工视使命为生命、凭发展论英雄、

以项目比能力、从担当看品格，坚持项目为重，突出实干担

当, 切实肩负起加快岳阳发展的历史责任。
 讲使命，就是要视组织信任为责任，视责任为使命，视

使命为生命，视发展为己任，在其位谋其政，任其职尽其责。
"""

# 001: Markdown headings and bold lead-ins, a paragraph cut mid-sentence.
EXCERPT_001 = """# 全市加速推进新型工业化工作会议讲话

李爱武

(2017年3月7日)

## **二、推进要强化力度**

**一是要紧跟政策风向。**政策就是项目和资源，政策就是资金和投入。要加大对工业的支持力度，做到力量向工业集中、政策向

工业倾斜、资源向工业配置、资金向工业投放。
"""

# 002: advertising block before the title.
EXCERPT_002 = """仅供学习 禁止外传
酷乐文行
自建平台、实时分享
根据实际需求和形式任务不断迭代
现在订阅立享前3年的所有权益和资料 

【打击倒卖活动】
举报倒卖会员资料的人，举报成功免费赠送一年会员材料！
会员群：                      免费QQ群：         






在2020年全市干部大会上的讲话
同志们：
今天上午，召开了全市三级干部大会，对“四个年”活动开展和农业农村等工作进行了安排部署，下午又分组进行了充分讨论。
"""

# 003: traditional characters, pinyin glosses, ASCII commas, header line, mojibake, site furniture.
EXCERPT_003 = """在全市“建功新時代、再創(chuàng)新輝煌”解放思想大討論活動總結大會上的講話
發(fā)布時間:2021-06-20 來源: 讀后感 點擊:
市委市政府決定,召開今天的解放思想大討論活動總結會議,目的就是要在全市廣大黨員干部群眾中,持續(xù)樹牢鮮明導向。下面,再強調三點意見:
一、認識再強化,在解放思想中增強危機感、緊迫感
要把現(xiàn)實的緊迫感、發(fā)展的危機感轉變?yōu)榘l(fā)展的責任感和使命感。
相關熱詞搜索:解放思想 建功 新時代 大會上 再創(chuàng)
熱點文章閱讀
"""

# 004: Jekyll front matter, <p> paragraphs, source line and trailing link lines.
EXCERPT_004 = """---
layout: post
title: "全面开启“四大会战”坚决打赢翻身仗"
date: 2022-02-18 14:51:45 +0800
categories: jingzhouribao
tags: 荆州日报新闻
---
<p>本报讯(融媒体记者吴文鹏汪飞)2月13日，洪湖市“四大家”召开联席会议。</p>
 <p>市领导彭均辉等出席会议，各乡镇区街道党(工)委书记参加会议。</p><p class="em_media">（文章来源：荆州日报）</p>

<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202182281417543>

[返回荆州日报新闻](//finews.withounder.com/category/jingzhouribao.html)｜[返回首页](//finews.withounder.com/)
"""


def test_normalize_newlines():
    assert normalize_newlines("\ufeff第一行\r\n第二\u200b行\r第三行\xa0完") == "第一行\n第二行\n第三行 完"


def test_front_matter_parsed_and_removed():
    text, meta = split_front_matter(EXCERPT_004)
    assert text.startswith("<p>本报讯")
    assert meta["title"] == "全面开启“四大会战”坚决打赢翻身仗"
    assert meta["date"].startswith("2022-02-18 14:51:45")
    assert meta["categories"] == "jingzhouribao" and meta["tags"] == "荆州日报新闻"


@pytest.mark.parametrize("text", ["正文\n---\ntitle: x\n---\n", "---\n: : [unclosed\n---\n正文", "---\n只是一行\n---\n正文"])
def test_front_matter_only_when_yaml_mapping_at_top(text):
    assert split_front_matter(text) == (text, {})


def test_html_fragments_in_txt_become_lines():
    body, _ = split_front_matter(EXCERPT_004)
    assert has_html(body)
    text, _ = html_to_text(body, fragment=True)
    lines = text.split("\n")
    assert lines[0] == "本报讯(融媒体记者吴文鹏汪飞)2月13日，洪湖市“四大家”召开联席会议。"
    assert lines[2] == "（文章来源：荆州日报）"
    assert "<" not in text.replace("<http", "")  # the autolink survives as text for the link rule
    assert any(line.startswith("<http://finews") for line in lines)


def test_angle_brackets_that_are_not_tags_survive():
    assert not has_html("对照《湖南省贯彻落实<中国制造 2025>建设制造强省五年行动计划》")
    text, _ = html_to_text("<p>对照<中国制造 2025>规划</p>", fragment=True)
    assert text == "对照<中国制造 2025>规划"


def test_html_page_structure():
    page = (
        "<html><head><title>标题</title><style>.a{}</style></head><body><nav>导航</nav><header>页眉</header>"
        "<h2>一、总体要求</h2><div>第一段<br>第二行</div><table><tr><td>甲</td><td>乙</td></tr></table>"
        "<script>track()</script><footer>页脚</footer></body></html>"
    )
    text, meta = html_to_text(page)
    assert meta == {"title": "标题"}
    assert text.split("\n") == ["## 一、总体要求", "第一段", "第二行", "甲 乙"]


def test_mojibake_repaired_or_dropped():
    # 003: GBK bytes read one byte off after a gloss splice; the realigned bytes give back 發.
    assert repair_mojibake("危機感轉變?yōu)榘l(fā)展的責任感") == "危機感轉變發(fā)展的責任感"
    assert repair_mojibake("從我?guī)ь^做起") == "從我頭做起"
    # 003: the same damage, found from the gloss hanging on an ASCII trail byte.
    assert repair_mojibake("人以上!败洯h(huán)境”方面") == "人以上!軟環(huán)境”方面"
    # UTF-8 read as GBK: 发展 -> 鍙戝睍.
    assert repair_mojibake("促进经济鍙戝睍和社会进步，鍙戝睍") == "促进经济发展和社会进步，发展"
    assert repair_mojibake("文本\ufffd\ue000锟斤拷完") == "文本完"


def test_mojibake_repair_leaves_clean_text_alone():
    text = "我们要坚持新发展理念，推进高质量发展。宣城GX科创走廊、北纬X°、发(fā)展。“工业强市”"
    assert repair_mojibake(text) == text


def test_pinyin_glosses_width_and_simplification_in_clean_text():
    text, _ = clean_text(_raw("持續(xù)樹牢“思想大解放”,ＧＤＰ增長１２％。"))
    assert text == "持续树牢“思想大解放”，GDP增长12%。"


def test_link_lines_dropped_and_inline_links_unwrapped():
    text = "\n".join([
        "正文第一段。",
        "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202182281417543>",
        "https://example.com/a/b.html",
        "[返回荆州日报新闻](//finews.withounder.com/category/jingzhouribao.html)｜[返回首页](//finews.withounder.com/)",
        "详见[政府网站](http://www.gov.cn/x.html)公告，或访问 http://www.gov.cn/y 查看。",
    ])
    assert drop_link_lines(text) == "正文第一段。\n详见政府网站公告，或访问  查看。"


def test_ascii_punctuation_between_cjk_becomes_fullwidth():
    line = "市委市政府決定,召開今天的會議:目的就是要持續樹牢;X干部,都能夠(工)作?好!"
    assert fullwidth_punctuation(line) == "市委市政府決定，召開今天的會議：目的就是要持續樹牢；X干部，都能夠（工）作？好！"
    kept = "时间 14:51:45，共3,000元，版本1.5; see p. 3, and (2017) or f(x)"
    assert fullwidth_punctuation(kept) == kept
    assert fullwidth_punctuation("(2017年3月7日)") == "（2017年3月7日）"


def test_markdown_bold_removed_headings_reported():
    text, headings = strip_markdown_bold(EXCERPT_001)
    assert "**" not in text
    assert "## 二、推进要强化力度" in text
    assert "\n一是要紧跟政策风向。政策就是项目和资源" in text
    assert headings == ["一是要紧跟政策风向。"]  # "## **…**" is a Markdown heading already


def test_header_line_becomes_metadata():
    text, meta = extract_header_line("在全市大会上的講話\n發布時間：2021-06-20 來源：讀后感 點擊：\n市委市政府決定。")
    assert text == "在全市大会上的講話\n市委市政府決定。"
    assert meta == {"date": "2021-06-20", "origin": "读后感"}


def test_sentence_with_a_date_is_not_a_header_line():
    text = "标题\n2021年6月20日，市委召开会议，部署全年工作，时间紧任务重。"
    assert extract_header_line(text) == (text, {})


def test_boilerplate_lines_dropped_source_kept_as_origin():
    text = "\n".join([
        "要把现实的紧迫感转变为发展的责任感。",
        "相關熱詞搜索:解放思想 建功 新時代 大會上 再創",
        "熱點文章閱讀",
        "上一篇：关于某某的通知",
        "责任编辑：张三",
        "【打印】【关闭】",
        "（文章来源：荆州日报）",
    ])
    cleaned, meta = drop_boilerplate_lines(text)
    assert cleaned == "要把现实的紧迫感转变为发展的责任感。"
    assert meta == {"origin": "荆州日报"}


def test_leading_ad_block_dropped_title_kept():
    text = drop_ad_blocks(EXCERPT_002)
    assert text.lstrip().startswith("在2020年全市干部大会上的讲话\n同志们：")
    for ad in ("酷乐文行", "订阅", "倒卖", "QQ群", "自建平台"):
        assert ad not in text


def test_trailing_and_isolated_ad_lines_dropped():
    text = "\n".join([
        "第一，上下同心抓发展。统一思想才能统一行动。",
        "更多精彩内容请关注微信公众号，扫码加入会员群",
        "第二，千帆竞逐抓发展。",
        "同志们，攻坚的冲锋号已经吹响。",
        "本资料仅供学习 禁止外传",
        "免费下载更多资料",
    ])
    assert drop_ad_blocks(text) == "第一，上下同心抓发展。统一思想才能统一行动。\n第二，千帆竞逐抓发展。\n同志们，攻坚的冲锋号已经吹响。"


@pytest.mark.parametrize("sentence", [
    "全市共有会员企业300家，会员单位要带头订阅党报党刊。",
    "要发挥商会会员企业作用，为会员提供免费培训和下载服务，关注企业诉求。",
    "市工商联和商会要纳入招商，要对商会会员进行评选，刺激商会为我们多带项目、多带资金。",
])
def test_real_sentences_mentioning_ad_words_are_kept(sentence):
    assert not is_ad_line(sentence, strict=True)
    text = f"第一，上下同心抓发展。统一思想才能统一行动。\n{sentence}\n第二，千帆竞逐抓发展。"
    assert drop_ad_blocks(text) == text


def test_ad_score_prefers_slogans_over_prose():
    assert ad_score("会员群：  免费QQ群：")[1] > ad_score("全市共有会员企业300家，会员单位要带头学习。")[1]


def test_pdf_lines_rejoined_headings_kept():
    assert looks_like_pdf_extraction(EXCERPT_000)
    text = rejoin_pdf_lines(EXCERPT_000)
    lines = text.split("\n")
    assert lines[0] == "关于在全市经信系统开展“四讲四比”主题活动的实施方案"
    assert "视使命为生命，凭发展论英雄，以项目比能力，从担当看品格" in lines[1]
    assert lines[2] == "一、指导思想"
    assert lines[3].startswith("坚持以习近平") and lines[3].endswith("历史责任。")
    assert lines[4] == "讲使命，就是要视组织信任为责任，视责任为使命，视使命为生命，视发展为己任，在其位谋其政，任其职尽其责。"


def test_ordinary_text_is_not_taken_for_pdf():
    assert not looks_like_pdf_extraction(EXCERPT_002)
    assert not looks_like_pdf_extraction(EXCERPT_003)
    assert not looks_like_pdf_extraction(EXCERPT_001)


def test_cut_lines_rejoined_only_for_long_prose():
    text, _ = strip_markdown_bold(EXCERPT_001)
    joined = rejoin_cut_lines(text)
    assert "做到力量向工业集中、政策向工业倾斜、资源向工业配置" in joined
    assert "# 全市加速推进新型工业化工作会议讲话\n\n李爱武\n\n(2017年3月7日)" in joined  # title lines untouched
    title = "在全市“建功新时代、再创新辉煌”解放思想大讨论活动总结大会上的讲话\n市委市政府决定，召开今天的会议。"
    assert rejoin_cut_lines(title) == title


def test_duplicate_paragraphs_removed_short_headings_kept():
    paragraph = "要坚决贯彻市委的决策部署，真正做到唯项目为大、项目为重、项目为先。"
    text = f"（一）\n{paragraph}\n（一）\n{paragraph.replace('，', '， ')}\n新的一段内容，不会重复出现在别处。"
    assert drop_duplicate_paragraphs(text) == f"（一）\n{paragraph}\n（一）\n新的一段内容，不会重复出现在别处。"


def test_whitespace_tidied():
    text = "  切实做到 “讲使命”；新增 100  家以上。 \n\n\n\n下一段\t\t内容 "
    assert tidy_whitespace(text) == "切实做到“讲使命”；新增 100 家以上。\n\n下一段 内容"


def test_clean_text_on_003_excerpt_runs_rules_in_order():
    text, meta = clean_text(_raw(EXCERPT_003))
    assert text.split("\n")[0] == "在全市“建功新时代、再创新辉煌”解放思想大讨论活动总结大会上的讲话"
    assert "市委市政府决定，召开今天的解放思想大讨论活动总结会议，" in text
    assert "一、认识再强化，在解放思想中增强危机感、紧迫感" in text
    assert "转变发展的责任感" in text
    for gone in ("(chuàng)", "发布时间", "相关热词", "热点文章", "?"):
        assert gone not in text
    assert meta["date"] == "2021-06-20" and meta["origin"] == "读后感"


def test_clean_text_on_004_excerpt():
    text, meta = clean_text(_raw(EXCERPT_004))
    assert text == (
        "本报讯（融媒体记者吴文鹏汪飞）2月13日，洪湖市“四大家”召开联席会议。\n"
        "市领导彭均辉等出席会议，各乡镇区街道党（工）委书记参加会议。"
    )
    assert meta["title"] == "全面开启“四大会战”坚决打赢翻身仗"
    assert meta["origin"] == "荆州日报"


def test_clean_text_on_001_excerpt_keeps_bold_headings_for_the_chunker():
    text, meta = clean_text(_raw(EXCERPT_001, "md"))
    assert "\n一是要紧跟政策风向。政策就是项目和资源" in text
    assert "政策向工业倾斜" in text
    assert meta["bold_headings"] == "一是要紧跟政策风向。"
