import pytest

from assistant.language import capitalized_spans, proper_words, quantities, tokens
from assistant.question import (
    QuestionAnalyser,
    analyse,
    answer_type,
    expand_synonyms,
    is_multi_part,
    parts,
    resolve_aliases,
    resolve_synonyms,
)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("trade volume has increased twentyfold", ["20fold"]),
        ("grew 20-fold, then 20 times", ["20fold", "20fold"]),
        ("150-fold", ["150fold"]),
        ("around 10,000 families", ["10000"]),
        ("in 1997 and by 2050", ["1997year", "2050year"]),
        ("six key documents", ["6"]),
        ("the second-largest investor", ["2ord"]),
    ],
)
def test_quantities_normalise_numbers(text, keys):
    assert [q.key for q in quantities(text)] == keys


def test_tokens_stem_drop_stopwords_and_add_number_keys():
    assert tokens("Trade has grown twentyfold") == ["trade", "grown", "twentyfold", "#20fold"]


def test_capitalized_spans_skip_sentence_initial_common_words():
    proper = proper_words(["He met President Yoon Suk Yeol in Seoul."])
    spans = [s.text for s in capitalized_spans("During the summit President Yoon Suk Yeol spoke in Seoul.", proper)]
    assert spans == ["President Yoon Suk Yeol", "Seoul"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people attended the forum?", "number"),
        ("What is the exact date of the summit?", "date"),
        ("What are the names of the six documents?", "names"),
        ("Who did Yoon meet?", "person"),
        ("In which city was the summit held?", "place"),
        ("Where does South Korea rank among investors?", "other"),
        ("On which day of the week was it?", "day"),
        ("What was the trade volume in dollars?", "money"),
        ("Why was it important?", "reason"),
        ("What did Hun Manet say in his speech?", "statement"),
        ("What is this article about?", "overview"),
        ("Summarize it, please", "overview"),
        ("What did the article say about trade?", "statement"),
        ("Who is Kim Tae-hyo?", "identity"),
        ("Who is the president?", "person"),
        ("How often will the drills take place?", "frequency"),
        ("Which Cambodian cabinet ministers travelled with Hun Manet?", "person"),
        ("Name the fields in which the two leaders vowed to cooperate.", "other"),
        ("Which country is the second-largest investor in Cambodia?", "country"),
        ("In which country was the summit held?", "place"),
        ("How did Yoon describe the partnership?", "statement"),
        ("Which month is the demining project set to commence?", "date"),
        ("How come the summit was held in Seoul?", "reason"),
        ("Could you summarize what the Cambodian premier's trip to South Korea involved?", "other"),
        ("Give me a summary of the article", "overview"),
        ("Where did the details about the announcement come from?", "other"),
    ],
)
def test_answer_types(question, kind):
    assert answer_type(question) == kind


def test_multi_part_questions():
    assert is_multi_part("When were relations reestablished, and how much has trade grown?")
    assert not is_multi_part("How much has trade grown since 1997?")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "When were relations reestablished, and how much has trade grown?",
            ["When were relations reestablished?", "how much has trade grown?"],
        ),
        (
            "How many documents were signed, and by what year is carbon neutrality due?",
            ["How many documents were signed?", "by what year is carbon neutrality due?"],
        ),
        (
            "What did they agree on security and on the economy?",
            ["What did they agree on security?", "What did they agree on the economy?"],
        ),
        ("What were discussions at the Business Forum about?", ["What were discussions at the Business Forum about?"]),
        ("Did trade and investment grow?", ["Did trade and investment grow?"]),
    ],
)
def test_parts_split_one_question_per_thing_asked(question, expected):
    assert parts(question) == expected


def test_aliases_resolve_shorthand_but_keep_literal_places():
    aliases = {"Phnom Penh": "Cambodia"}
    assert resolve_aliases("Ties between Seoul and Phnom Penh", aliases) == "Ties between Seoul and Cambodia"
    assert (
        resolve_aliases("Why was the summit held in Phnom Penh?", aliases) == "Why was the summit held in Phnom Penh?"
    )


def test_follow_up_borrows_previous_question():
    history = [
        {"role": "user", "content": "What happened at the business forum?"},
        {"role": "assistant", "content": "…"},
    ]
    q = analyse("How many people attended it?", history)
    assert q.is_follow_up and "business forum" in q.query
    assert not analyse("How many people attended the Korea-Cambodia Business Forum?", []).is_follow_up


def test_analyser_knows_article_names_and_demonyms(bot):
    analyser: QuestionAnalyser = bot.scorer.analyser
    assert analyser.known_name("Hun Manet") and analyser.known_name("South Korean")
    assert not analyser.known_name("Hun Sen") and not analyser.known_name("Phnom Penh")


def test_synonyms_put_questions_in_the_articles_words():
    synonyms = {"commerce": "trade", "head of government": "Prime Minister", "government": "administration"}
    assert resolve_synonyms("Has Commerce grown?", synonyms) == "Has trade grown?"
    # The longest phrase wins, and words inside other words are left alone.
    assert resolve_synonyms("Who is the head of government?", synonyms) == "Who is the Prime Minister?"
    assert resolve_synonyms("e-commerce and commercenter", synonyms) == "e-commerce and commercenter"
    # Hyphens and spaces inside a phrase are interchangeable.
    assert resolve_synonyms("the head-of-government's trip", synonyms) == "the Prime Minister's trip"


def test_synonyms_match_the_plural_and_ing_forms_of_a_listed_word():
    listed = {
        "backed": "endorsed",
        "treaty": "agreement",
        "head of government": "Prime Minister",
        "talks": "summit",
        "trip": "visit",
        "trips": "visits",
        "promised": "pledged",
    }
    synonyms = expand_synonyms(listed, keep=frozenset({"promising", "sectors"}))
    assert (
        resolve_synonyms("Cambodia gave its backing to the plan", synonyms) == "Cambodia gave its endorsed to the plan"
    )
    assert resolve_synonyms("Were treaties signed?", synonyms) == "Were agreement signed?"
    assert resolve_synonyms("both heads of government", synonyms) == "both Prime Minister"
    # A plural key is never made singular ("talks" is the summit, "talk" a verb), and a listed form keeps its entry.
    assert resolve_synonyms("What did they talk about?", synonyms) == "What did they talk about?"
    assert resolve_synonyms("two trips", synonyms) == "two visits"
    # A form the article uses itself is the article's word, not a synonym.
    assert (
        resolve_synonyms("They promised. Which promising sectors?", synonyms)
        == "They pledged. Which promising sectors?"
    )


def test_two_digit_years_are_written_out_as_the_article_year_they_abbreviate(bot):
    analyser = bot.scorer.analyser
    assert analyser.full_years("trade up how much since 97?") == "trade up how much since 1997?"
    assert analyser.full_years("what changed after ’97 and before 2050") == "what changed after 1997 and before 2050"
    # Counts and numbers no article year ends in stay as they are.
    for text in ("in 50 years", "How many in 97 sectors?", "since 13?", "since 97.5"):
        assert analyser.full_years(text) == text
