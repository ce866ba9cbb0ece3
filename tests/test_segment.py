"""Segmentation: the seeds' layouts and kinds, each text layout, and boilerplate splitting."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from analyzer.segment import is_boilerplate, segment
from analyzer.sentences import split_sentences

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
EDITORIAL = SEEDS / "000_a88b574ac107b0a8.txt"
PLAIN = SEEDS / "001_16602f8ba67b567c.txt"
AD = (
    "Want your project in front of crypto’s top minds? "
    "Feature it in our next industry report, where data meets impact."
)

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles in ../shared/seeds are not here")

# Three paragraphs long enough to wrap, with a hyphenated word and a sentence glued without a space.
PARAGRAPHS = [
    "Mark Carney met Xi Jinping in Beijing this week, signaling a shift in how Canada wants to play "
    "the global game. While Donald Trump pushes more countries away with his “America First” trade "
    "rules, Canada is looking for other options.",
    "Carney also met with Li again this week and with Zhao Leji, who heads China’s rubber-stamp "
    "parliament.He posted on X afterward, thanking Li for the “warm welcome” and said they talked "
    "about working together on trade, energy and more sustainable economies.",
    "Since October 2024, Canada has slapped tariffs on Chinese electric vehicles and steel, kicked "
    "TikTok’s offices out of the country, and banned cameras made by Hikvision.",
]


def kinds_and_texts(text: str) -> list[tuple[str, str]]:
    return [(paragraph.kind, paragraph.text) for paragraph in segment(text)]


def assert_indices_in_order(text: str) -> None:
    assert [paragraph.index for paragraph in segment(text)] == list(range(len(segment(text))))


@needs_seeds
def test_editorial_seed_kinds_one_paragraph_per_line() -> None:
    text = EDITORIAL.read_text(encoding="utf-8")
    paragraphs = segment(text)
    kinds = {paragraph.index: paragraph.kind for paragraph in paragraphs}
    assert [paragraph.index for paragraph in paragraphs] == list(range(len(paragraphs)))
    assert len(paragraphs) == sum(1 for line in text.splitlines() if line.strip())
    assert paragraphs[0].kind == "headline"
    assert paragraphs[0].text.startswith("Mark Carney’s Beijing Mission")
    assert paragraphs[0].text.endswith("Xi Jinping")
    headings = [paragraph.text for paragraph in paragraphs if paragraph.kind == "heading"]
    assert headings == [
        "The High-Stakes Handshake",
        "Beyond the Border",
        "The New Trade Realpolitik",
        "Beijing and Ottawa test a second try at diplomacy",
    ]
    assert [(paragraph.kind, paragraph.text) for paragraph in paragraphs if paragraph.kind == "boilerplate"] == [
        ("boilerplate", AD)
    ]
    assert paragraphs[-1].kind == "boilerplate"
    assert sum(kind == "body" for kind in kinds.values()) == len(paragraphs) - 6
    assert paragraphs[1].kind == "body" and paragraphs[1].text.startswith("Mark Carney just sat down")
    assert "allies.Xi wants" in paragraphs[10].text  # the scraping defect is kept, not "repaired"


@needs_seeds
def test_editorial_seed_with_the_ad_glued_onto_a_paragraph() -> None:
    """The advertising sentence glued to the next story's lead becomes its own paragraph."""
    editorial = EDITORIAL.read_text(encoding="utf-8").rstrip("\n")
    lead = PLAIN.read_text(encoding="utf-8").split("\n")[0]
    assert editorial.endswith("where data meets impact.")
    paragraphs = segment(f"{editorial}{lead}\n")
    assert [(paragraph.kind, paragraph.text) for paragraph in paragraphs[-2:]] == [("boilerplate", AD), ("body", lead)]
    assert paragraphs[-1].text.startswith("Mark Carney met Xi Jinping")
    assert [paragraph.index for paragraph in paragraphs] == list(range(len(paragraphs)))


@needs_seeds
def test_plain_seed_kinds_blank_line_separated() -> None:
    paragraphs = segment(PLAIN.read_text(encoding="utf-8"))
    assert [paragraph.index for paragraph in paragraphs] == list(range(14))
    # The plain report opens with its lead paragraph (no title), and has one inner heading.
    assert [paragraph.kind for paragraph in paragraphs] == ["body"] * 3 + ["heading"] + ["body"] * 10
    assert paragraphs[3].text == "Beijing and Ottawa test a second try at diplomacy"
    assert paragraphs[0].text.startswith("Mark Carney met Xi Jinping in Beijing this week")
    assert paragraphs[-1].text.endswith("banned cameras made by Hikvision.")
    assert "“America First”" in paragraphs[0].text


@needs_seeds
def test_both_seeds_share_their_news_paragraphs() -> None:
    editorial = {paragraph.text for paragraph in segment(EDITORIAL.read_text(encoding="utf-8"))}
    plain = [paragraph.text for paragraph in segment(PLAIN.read_text(encoding="utf-8"))]
    assert sum(text in editorial for text in plain) >= 5


def test_empty_and_blank_input_give_no_paragraphs() -> None:
    assert segment("") == []
    assert segment(" \n\r\n\t\n") == []


def test_layouts_agree_blank_line_one_per_line_and_hard_wrapped() -> None:
    title = "Carney Goes to Beijing"
    blank = "\n\n".join([title, *PARAGRAPHS])
    expected = [("headline", title)] + [("body", paragraph) for paragraph in PARAGRAPHS]
    assert kinds_and_texts(blank) == expected
    assert kinds_and_texts("\n".join([title, *PARAGRAPHS])) == expected
    for width in (40, 60, 72, 79):
        wrapped = "\n\n".join([title, *(textwrap.fill(paragraph, width) for paragraph in PARAGRAPHS)])
        assert wrapped.count("\n") > 10
        assert kinds_and_texts(wrapped) == expected, width


def test_hard_wrapped_break_at_a_hyphen_keeps_the_word_whole() -> None:
    wrapped = textwrap.fill(PARAGRAPHS[1], 44)
    assert "rubber-\nstamp" in wrapped
    assert kinds_and_texts(wrapped + "\n\n" + textwrap.fill(PARAGRAPHS[0], 44)) == [
        ("body", PARAGRAPHS[1]),
        ("body", PARAGRAPHS[0]),
    ]


def test_hard_wrapped_heading_and_byline_inside_a_block_stay_separate() -> None:
    wrapped = "\n\n".join(textwrap.fill(paragraph, 70) for paragraph in PARAGRAPHS)
    last = textwrap.fill(PARAGRAPHS[0], 70)
    text = f"Carney Goes to Beijing\nBy Jane Doe\n\n{wrapped}\n\nBeyond the Border\n\n{last}"
    kinds = [kind for kind, _ in kinds_and_texts(text)]
    assert kinds == ["headline", "boilerplate", "body", "body", "body", "heading", "body"]


def test_hard_wrapped_list_items_start_paragraphs_and_keep_their_continuations() -> None:
    item = textwrap.fill(f"- {PARAGRAPHS[2]}", 70, subsequent_indent="  ")
    first, last = (textwrap.fill(paragraph, 70) for paragraph in PARAGRAPHS[:2])
    text = f"{first}\n\nKey points:\n{item}\n- A short item.\n\n{last}"
    assert kinds_and_texts(text) == [
        ("body", PARAGRAPHS[0]),
        ("body", "Key points:"),
        ("body", f"- {PARAGRAPHS[2]}"),
        ("body", "- A short item."),
        ("body", PARAGRAPHS[1]),
    ]


def test_blank_line_blocks_with_one_paragraph_per_line_inside() -> None:
    text = (
        "Carney Goes to Beijing\nBy Jane Doe\n\n"
        "The first paragraph.\nThe second paragraph, on its own line.\n\nThe third."
    )
    assert kinds_and_texts(text) == [
        ("headline", "Carney Goes to Beijing"),
        ("boilerplate", "By Jane Doe"),
        ("body", "The first paragraph."),
        ("body", "The second paragraph, on its own line."),
        ("body", "The third."),
    ]


def test_crlf_bom_and_whitespace_are_normalised_curly_quotes_kept() -> None:
    text = "\n\n".join(["Carney Goes to Beijing", *PARAGRAPHS])
    messy = text.replace("\n", "\r\n").replace("Mark Carney", "Mark\u00a0 Carney").replace("steel,", "steel,\t")
    messy = "\ufeff" + messy
    assert kinds_and_texts(messy) == kinds_and_texts(text)
    assert all("\r" not in piece and "\ufeff" not in piece for _, piece in kinds_and_texts(messy))
    assert "“warm welcome”" in kinds_and_texts(messy)[2][1]
    assert_indices_in_order(messy)


def test_markdown_headings_are_headings_without_their_markers() -> None:
    text = (
        "# Carney goes to Beijing\n\nThe lead paragraph.\n\n## What comes next ##\n\nMore text.\n\n"
        "Setext Heading\n--------------\nLast text."
    )
    assert kinds_and_texts(text) == [
        ("headline", "Carney goes to Beijing"),
        ("body", "The lead paragraph."),
        ("heading", "What comes next"),
        ("body", "More text."),
        ("heading", "Setext Heading"),
        ("body", "Last text."),
    ]


def test_headings_need_to_be_short_capitalised_and_unpunctuated() -> None:
    text = (
        "Carney Goes to Beijing\n\nThe lead.\n\nIs this the end of the old order?\n\n"
        "and then there was silence\n\nWhat Was Decided\n\n"
        "Carney said Canada and China have common ground in clean energy agriculture and finance and much more besides"
    )
    assert [kind for kind, _ in kinds_and_texts(text)] == ["headline", "body", "body", "body", "heading", "body"]
    assert kinds_and_texts("iPhone Sales Slump in China\n\nThe lead.")[0] == ("headline", "iPhone Sales Slump in China")


def test_headline_comes_after_leading_boilerplate() -> None:
    assert [kind for kind, _ in kinds_and_texts("ADVERTISEMENT\n\nCarney Goes to Beijing\n\nThe lead.")] == [
        "boilerplate",
        "headline",
        "body",
    ]


def test_boilerplate_lines_are_their_own_paragraphs() -> None:
    text = "\n\n".join(
        [
            "Carney Goes to Beijing",
            "By Jane Doe and John Roe, Reuters",
            "Photo: Mark Schiefelbein / Getty Images",
            PARAGRAPHS[0],
            "Subscribe to our newsletter for the week’s top stories.",
            PARAGRAPHS[1],
            "(Reuters)",
            "Reporting by Jane Doe; Editing by John Roe",
            "© 2025 Example Media Inc. All rights reserved.",
        ]
    )
    assert [kind for kind, _ in kinds_and_texts(text)] == [
        "headline", "boilerplate", "boilerplate", "body", "boilerplate", "body",
        "boilerplate", "boilerplate", "boilerplate",
    ]


def test_boilerplate_sentences_are_split_off_the_start_and_end_of_a_paragraph() -> None:
    text = f"Sign up for our free newsletter.{PARAGRAPHS[2]} Follow us on X for live updates. Share this article"
    assert kinds_and_texts(text) == [
        ("boilerplate", "Sign up for our free newsletter."),
        ("body", PARAGRAPHS[2]),
        ("boilerplate", "Follow us on X for live updates. Share this article"),
    ]
    assert_indices_in_order(text)


def test_boilerplate_in_the_middle_of_a_paragraph_stays_body() -> None:
    text = "The council voted on Tuesday. Click here for the vote. The mayor welcomed it."
    assert kinds_and_texts(text) == [("body", text)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Advertisement",
        "SPONSORED CONTENT",
        "This article is sponsored by Acme Bank.",
        "Want your brand in front of 2 million readers?",
        "Promote your startup in our weekly roundup.",
        "Subscribe now for unlimited access.",
        "Sign up for our morning briefing.",
        "Get the Daily Brief newsletter in your inbox.",
        "Follow us on Instagram.",
        "Follow The Ledger on Twitter for updates.",
        "Share this story",
        "Read more: Canada’s trade deficit explained",
        "Click here to read the full report.",
        "We use cookies to give you the best experience.",
        "By Jane Doe",
        "By Jane Doe, Staff Writer",
        "Additional reporting by John Roe in Ottawa",
        "Photo: Jane Doe/Reuters",
        "Jane Doe/Getty Images",
        "Image caption, Officials met in Ottawa",
        "(AP)",
        "Copyright 2024 The Example Post.",
        "All rights reserved.",
        # one more per pattern, so that the word prefilter (BOILERPLATE_WORDS) is checked on each
        "Advertise with us",
        "Partner with us to reach our readers.",
        "Get your project featured in our next issue.",
        "Paid partnership",
        "Log in to keep reading.",
        "Tap here to listen.",
        "Skip to main content",
        "Listen to this article",
        "Related: The cost of housing",
        "Most popular",
        "Trending",
        "More from Business:",
        "Join our newsletters for more.",
        "Cookie settings",
        "Photographs by Jane Doe",
        "Video: Officials meet in Ottawa",
        "Credit: Jane Doe",
        "Graphics: Jane Doe",
        "Image source, Getty Images",
        "Photo courtesy of the ministry",
        "(c) 2024 Example Media",
        "©Example Media",
        "Jane Doe / AFP",
        "Officials in Ottawa / EPA-EFE",
        "Jane Doe / Shutterstock",
        "(Bloomberg)",
        # datelines and update stamps
        "Last updated: 17 January 2005",
        "Published 3 March 2021, 10:32 GMT",
        "Updated 2 hours ago",
        "Page last updated at 14:30 GMT, Monday, 17 January 2005",
        "Posted on March 3, 2021 at 9:15 am",
        "Tuesday, 1 March",
        "2000 GMT",
        # photo credits and captions
        "Liam Fox (Photo: PA)",
        "Photo: Reuters",
        "(Image: Getty Images)",
        "Picture: AP",
        "Pictured: The minister in Ottawa",
        "Jane Doe (Getty Images)",
        "(PA)",
        "Images courtesy of AFP, AP, EPA, Getty Images and Reuters",
        "Photo credits - Alamy; Press Association; Getty Images",
        # reprint notes, disclaimers and prompts
        "This article was originally published on The Conversation.",
        "A version of this article appeared in print on 3 March.",
        "Republished with permission.",
        "The views expressed in this article are the author's own.",
        "Views are my own.",
        "Find us on Instagram at @example",
        "Media playback is not supported on this device",
        "If you have a story suggestion email news@example.com.",
        "READ MORE: Who votes for Geert Wilders?",
    ],
)
def test_boilerplate_patterns(sentence: str) -> None:
    assert is_boilerplate(sentence)
    assert [kind for kind, _ in kinds_and_texts(f"The lead paragraph.\n\n{sentence}")] == ["body", "boilerplate"]


@pytest.mark.parametrize(
    "sentence",
    [
        "By Friday, the talks had collapsed.",
        "By the Numbers",
        "The advertising market shrank by 4% last year.",
        "State-sponsored hackers targeted Canadian lawmakers, the agency said.",
        "The bill will be paid by taxpayers.",
        "The plan was promoted by the trade minister.",
        "Millions of people sign up for health insurance each year.",
        "He posted on X afterward, thanking Li for the welcome.",
        "Readers can share their views at a public meeting on Monday.",
        "The photo shows Carney and Xi shaking hands.",
        # real BBC sentences that the credit and sponsorship patterns once took for furniture
        "The application for .mobi was sponsored by technology firms including Nokia, Microsoft and T-Mobile.",
        "Compiled by Central Banking Publications and sponsored by the UK's Royal Bank of Scotland, the survey "
        "found 39 nations out of 65 questioned were increasing their euro holdings, with 29 cutting back on the US dollar.",
        "This report was published by the IMF on Tuesday.",
        "The virus first appeared in Wuhan.",
        "17 January 2005 was a cold day.",
        "The price was 12.50 a share.",
        "The views expressed by the protesters were heard.",
        "Facebook, Twitter and Google were summoned by the committee.",
        "She shared a bikini shot with a caption about body acceptance.",
        # a link label glued to article text (no full stop after the link's title) stays body
        "READ MORE: Dutch Muslims reflect on Geert Wilders before vote As many as 13 million people were "
        "eligible to vote in Wednesday's election and 28 parties took part.",
    ],
)
def test_news_sentences_are_not_boilerplate(sentence: str) -> None:
    assert not is_boilerplate(sentence)


def test_question_headline_and_question_heading() -> None:
    """A question first line is the headline; a short plain question that a paragraph of several
    sentences answers is a heading."""
    text = "\n\n".join(["Should scientists engage in activism?", PARAGRAPHS[0], "Who pays for it?", PARAGRAPHS[1]])
    assert [kind for kind, _ in kinds_and_texts(text)] == ["headline", "body", "heading", "body"]
    assert kinds_and_texts("Rivals of the £400 Apple...\n\nThe lead. It goes on.")[0] == ("headline", "Rivals of the £400 Apple...")


@pytest.mark.parametrize(
    "question",
    [
        "If they can fund football, why not fund music?",  # a comma: an argument (real BBC)
        "So what is the gap between Labour and the Tories nowadays?",  # a connective (real BBC)
        "Has there been a better Six Nations match than Saturday's epic in Paris?",  # long (real BBC)
        "Has everyone forgot about the Breville pie maker??",  # "??": a reader's comment (real BBC)
        "- What is up?",  # a list item
    ],
)
def test_questions_inside_an_article_stay_body(question: str) -> None:
    text = "\n\n".join(["Carney Goes to Beijing", PARAGRAPHS[0], question, PARAGRAPHS[1]])
    assert [kind for kind, _ in kinds_and_texts(text)] == ["headline", "body", "body", "body"]


def test_a_short_question_is_body_when_no_paragraph_of_several_sentences_follows() -> None:
    assert [kind for kind, _ in kinds_and_texts(f"{PARAGRAPHS[0]}\n\nWho pays for it?\n\nNobody knows.")] == ["body"] * 3
    assert [kind for kind, _ in kinds_and_texts(f"{PARAGRAPHS[0]}\n\nWho pays for it?")] == ["body", "body"]
    assert kinds_and_texts("Who pays for it?") == [("body", "Who pays for it?")]  # a lone question is text, not a title


def test_datelines_and_captions_are_boilerplate_not_headings() -> None:
    text = "\n\n".join([
        "Carney Goes to Beijing", "Last updated: 17 January 2005", "Liam Fox (Photo: PA)", PARAGRAPHS[0],
        "(Image: Getty Images)", "Beyond the Border", PARAGRAPHS[1], "Published 3 March 2021, 10:32 GMT",
    ])
    assert [kind for kind, _ in kinds_and_texts(text)] == [
        "headline", "boilerplate", "boilerplate", "body", "boilerplate", "heading", "body", "boilerplate",
    ]


@pytest.fixture(scope="module")
def bbc() -> dict[str, str]:
    from models.packages import bbc_articles

    return dict(bbc_articles())


def test_bbc_question_headlines_are_headlines(bbc: dict[str, str]) -> None:
    """Every BBC article whose first line is a question (16 of them) gets it as its headline."""
    questions = {key: text for key, text in bbc.items() if text.split("\n", 1)[0].rstrip().endswith("?")}
    assert len(questions) >= 10 and "business/266.txt" in questions
    for key, text in questions.items():
        paragraphs = segment(text)
        assert paragraphs[0].kind == "headline", key
        assert paragraphs[1].kind == "body", key
    assert segment(bbc["business/266.txt"])[0].text == "Could Yukos be a blessing in disguise?"


def test_bbc_questions_after_the_first_line_are_never_headings(bbc: dict[str, str]) -> None:
    """The BBC corpus has no question headings: its one-sentence questions inside articles stay body."""
    inner = [
        (key, paragraph)
        for key, text in bbc.items()
        for paragraph in segment(text)[1:]
        if paragraph.text.endswith("?") and len(split_sentences(paragraph.text)) == 1
    ]
    assert len(inner) >= 10
    assert all(paragraph.kind == "body" for _, paragraph in inner), [p.text for _, p in inner if p.kind != "body"]


def test_bbc_fixture_date_and_kick_off_time_are_boilerplate(bbc: dict[str, str]) -> None:
    paragraphs = segment(bbc["sports/179.txt"])
    assert [(p.kind, p.text) for p in paragraphs[:4]] == [
        ("headline", "Blackburn v Burnley"),
        ("heading", "Ewood Park"),
        ("boilerplate", "Tuesday, 1 March"),
        ("boilerplate", "2000 GMT"),
    ]


def test_copyright_sign_inside_a_word_is_not_boilerplate():
    """Mis-decoded UTF-8 ("cafÃ©", common on scraped pages) holds a "©": its sentence stays body,
    while a real notice ("© 2005 BBC", "Photo ©John Smith") is boilerplate."""
    lead = "Headline here\n\nThe first body paragraph is long enough to be body text for sure.\n\n"
    for text, kind in (("Prices at the cafÃ© rose to Â£5 on Monday, the owner said.", "body"),
                       ("The council met on Tuesday and it was a cafÃ©.", "body"),
                       ("© 2005 BBC", "boilerplate"), ("Photo ©John Smith", "boilerplate"), ("Copyright © Reuters", "boilerplate")):
        assert [p.kind for p in segment(lead + text)][2:] == [kind], text


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_line_break_inside_a_sentence_is_not_a_heading(newline):
    text = newline.join(["Budget row", "", "The mayor said on Monday", "that the budget was balanced. It is a shameful lie."])
    assert [(p.kind, p.text) for p in segment(text)] == [
        ("headline", "Budget row"), ("body", "The mayor said on Monday that the budget was balanced. It is a shameful lie.")]
