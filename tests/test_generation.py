"""The default extractive backend on the real pipeline: grounded answers, refusals, corrections."""

from itertools import pairwise

import pytest


def test_number_answer_is_direct_then_quoted_with_citation(bot):
    answer = bot.ask("How much has trade grown since 1997?")
    assert answer.kind == "answer" and answer.text.startswith("Twentyfold.")
    assert "[1]" in answer.text
    cite = answer.citations[0]
    assert cite.paragraph == 5 and "twentyfold" in cite.text
    assert bot.corpus.documents[0].text[cite.start : cite.end] == cite.text


def test_exact_date_is_refused_plainly(bot):
    answer = bot.ask("What is the exact date of the summit?")
    assert answer.refused and answer.text.startswith("The article does not say")


@pytest.mark.parametrize(
    ("question", "says"),
    [
        # The copula goes back before the verb it is an auxiliary of, or that the parse hangs on the subject.
        ("When was the lighthouse built?", "when the lighthouse was built."),
        ("When was the lighthouse first built?", "when the lighthouse was first built."),
        (
            "When are the free trade agreement negotiations on services and investment expected to be completed?",
            "when the free trade agreement negotiations on services and investment are expected to be completed.",
        ),
        # ... and after the subject when nothing follows it.
        ("What is the exact date of the summit?", "what the exact date of the summit is."),
        ("Who is the biggest investor in Cambodia?", "who the biggest investor in Cambodia is."),
    ],
)
def test_a_refusal_restates_the_question_in_statement_order(bot, question, says):
    answer = bot.ask(question)
    assert answer.refused and answer.text.startswith(f"The article does not say {says}"), answer.text


@pytest.mark.parametrize(
    ("question", "right", "wrong"),
    [
        ("Why was the summit held in Phnom Penh?", "Seoul", "Phnom Penh"),
        ("Why did trade grow thirtyfold?", "twentyfold", "thirtyfold"),
        ("Why were relations reestablished in 2005?", "1997", "2005"),
        ("What did Yoon discuss with Hun Sen?", "Hun Manet", "Hun Sen"),
        # Paraphrased: the place is corrected by a place, not by the nearest name ("a Cambodian leader").
        ("Why was the meeting of leaders staged in Phnom Penh rather than in Korea?", "Seoul", "Phnom Penh"),
        # "He noted that trade…" lends its speaker from the sentence before.
        ("What did Moon Jae-in tell his guest about growth in commerce?", "President Yoon", "Moon Jae-in"),
        # A weekday by a weekday; a rank and a relative year by the article's own.
        ("So the two leaders met on a Friday in Seoul — what came out of that meeting?", "Thursday", "Friday"),
        ("Is South Korea the largest investor in Cambodia?", "second-largest investor", "largest investor"),
        ("Why won't the mine-clearing program start until next year?", "this year", "next year"),
        # A premise that reverses what the evidence says, and one country's initiative for another's.
        ("Why did Cambodia reject the Audacious Initiative?", "“endorsed”", "“reject”"),
        ("Why did South Korea criticise Cambodia over sanctions?", "“praised”", "“criticise”"),
        ("Why was the demining project cancelled?", "“commence”", "“cancelled”"),
        # Of two verbs in the sentence, the one in the clause the question is about.
        ("Why did people-to-people exchanges fall?", "“grown”", "“fall”"),
        ("Why did trade decline after 1997?", "“increased”", "“decline”"),
        # A person given the other leader's title, after the name or in front of it.
        ("Is Hun Manet the president of Cambodia?", "Prime Minister Hun Manet", "president"),
        ("What did Prime Minister Yoon announce?", "President Yoon Suk Yeol", "Prime Minister"),
        (
            "Why did Cambodia endorse North Korea's initiative?",
            "South Korea’s Audacious Initiative",
            "North Korea's initiative",
        ),
    ],
)
def test_false_premises_are_corrected(bot, question, right, wrong):
    answer = bot.ask(question)
    assert answer.kind == "correction"
    assert f"it says {right}, not {wrong}" in answer.text
    assert answer.citations


@pytest.mark.parametrize(
    "question",
    [
        "What did Yoon and Prime Minister Hun Manet agree?",
        "What did President Yoon discuss with Prime Minister Hun Manet?",
    ],
)
def test_right_titles_next_to_each_other_are_no_premise_to_correct(bot, question):
    assert bot.ask(question).kind == "answer"


def test_off_topic_question_is_refused_without_quoting(bot):
    answer = bot.ask("Who won the 2022 World Cup?")
    assert answer.refused and not answer.citations


def test_who_question_names_the_person(bot):
    answer = bot.ask("Who did Yoon Suk Yeol meet in Seoul?")
    assert answer.text.split("“")[0].strip() == "Cambodian Prime Minister Hun Manet."
    assert answer.citations[0].paragraph == 1
    # Both of a pair when neither is named: "between President Yoon Suk Yeol and … Hun Manet".
    both = bot.ask("Who met in Seoul?").text.split("“")[0]
    assert both.strip() == "President Yoon Suk Yeol and Cambodian Prime Minister Hun Manet."
    assert bot.ask("Who was the Korean leader at the summit?").text.startswith("President Yoon Suk Yeol. “")


def test_who_is_answered_by_the_country_that_does_it_when_no_person_does(bot):
    assert bot.ask("Who is the second-largest investor in Cambodia?").text.startswith("South Korea. “")
    history = [{"role": "user", "content": "What is the Audacious Initiative?"}]
    assert bot.chat("Who endorsed it?", history).text.startswith("Cambodia. “")
    # "a Cambodian leader" is an adjective, not a party: people still answer "who attended".
    assert "Yoon" in bot.ask("Who attended the summit?").text.split("“")[0]


def test_what_someone_announced_is_answered_where_they_announce_it(bot):
    answer = bot.ask("What did Kim Tae-hyo announce?")
    assert answer.citations[0].text.startswith("Additionally, Kim announced a new demining project")


def test_multi_part_question_cites_each_part(bot):
    answer = bot.ask("When were relations reestablished, and how much has trade volume grown since then?")
    assert "1997" in answer.text and "twentyfold" in answer.text
    assert len(answer.citations) >= 2


def test_multi_part_question_no_part_of_which_is_answered_is_refused(bot):
    # The drills sentence matches the words, but holds neither a place nor a frequency.
    refused = bot.ask("Where will the joint drills be held, and how often?")
    assert refused.refused and "does not answer" in refused.text
    # The demining sentence holds one of the two asked-for values ("this year"): answered, not refused.
    answered = bot.ask("Where is the new demining project going to happen, and when is it due to start?")
    assert not answered.refused and "demining project" in answered.text


@pytest.mark.parametrize(
    ("question", "country"),
    [
        ("Which country endorsed the Audacious Initiative?", "Cambodia"),
        ("Which country's initiative did Cambodia endorse?", "South Korea"),
        ("Workers from which country did Cambodia send back home?", "North Korea"),
    ],
)
def test_which_country_is_answered_with_a_country_the_question_does_not_name(bot, question, country):
    answer = bot.ask(question)
    assert answer.text.split("“")[0].strip() == f"{country}."


def test_which_country_is_refused_when_the_evidence_names_only_the_countries_asked_about(bot):
    # The investor sentence names South Korea (second-largest), never the country ranked first.
    answer = bot.ask("Which country is the single biggest source of capital for Cambodia, ahead of Korea?")
    assert answer.refused and "second-largest investor" in answer.text


@pytest.mark.parametrize(
    "question",
    ["Who is the biggest investor in Cambodia?", "What is the largest source of foreign investment in Cambodia?"],
)
def test_asking_for_the_top_rank_is_refused_with_the_rank_the_article_gives(bot, question):
    # Nothing is claimed, so nothing is corrected; "Is South Korea the largest investor?" is (see above).
    answer = bot.ask(question)
    assert (
        answer.refused
        and answer.text.startswith("The article does not say")
        and "second-largest investor" in answer.text
    )


@pytest.mark.parametrize(
    "question",
    [
        "How many peacekeepers will Cambodia send?",  # "two countries committed to … peacekeeping"
        "How many Cambodians live in South Korea?",  # "six key documents"
        "What percentage of Cambodia's investment comes from Korea?",  # "twentyfold" is no percentage
        "How old is Hun Manet?",
        "How long did the summit last?",  # "the first visit … in a decade" is no duration of the summit
        # "How much X" names what is measured: "150-fold" measures exchanges, not aid; "… South Korea" after
        # a number does not make it count Korean investment.
        "How much official development assistance does South Korea give Cambodia each year?",
        "How much Korean investment is there in Cambodia?",
    ],
)
def test_a_number_that_counts_something_else_is_not_an_answer(bot, question):
    assert bot.ask(question).refused


@pytest.mark.parametrize(
    ("question", "start"),
    [
        ("How many people attended the business forum?", "250 participants."),  # named differently, same clause
        ("How many agreements were signed at the summit?", "Six key documents."),
        ("When did the summit take place?", "On Thursday."),
        ("When is the demining project due to start?", "This year."),
        ("How long had it been since a Cambodian leader last visited South Korea?", "A decade."),
        # A two-digit year is the article's year it abbreviates, not a number the article never mentions.
        ("trade up how much since 97?", "Twentyfold."),
        ("How much has trade grown since '97?", "Twentyfold."),
        # Both pieces of "Korean-Cambodian" qualify the families counted; "a Cambodian leader" beside "six
        # key documents" does not make that figure a count of them.
        ("how many Korean-Cambodian families are there?", "10,000 multicultural families."),
    ],
)
def test_counts_and_times_of_the_thing_asked_are_answered_directly(bot, question, start):
    answer = bot.ask(question)
    assert not answer.refused and answer.text.startswith(start)


def test_a_time_or_firm_belonging_to_something_else_is_not_an_answer(bot):
    # "… and achieving carbon neutrality by 2050" dates carbon neutrality, not the trade agreement.
    assert "2050" not in bot.ask("When will the free trade agreement be signed?").text.split("“")[0]
    # The forum's own name does not name the companies at it.
    assert bot.ask("Which companies took part in the business forum?").refused


def test_a_breakdown_answered_by_one_total_is_refused(bot):
    answer = bot.ask("Of the people at the business forum, how many came from Korea and how many from Cambodia?")
    assert answer.refused and "one figure for all of that" in answer.text and "250 participants" in answer.text
    # Two counts with two different figures are both answered.
    both = bot.ask("How many documents were signed, and how many people attended the business forum?")
    assert not both.refused and both.text.startswith("Six key documents. 250 participants.")


def test_swapped_owners_are_corrected_through_aliases_and_synonyms(bot):
    answer = bot.ask("Why did Seoul throw its weight behind Phnom Penh's blueprint for a nuclear-free Korea?")
    assert answer.kind == "correction" and "South Korea’s Audacious Initiative" in answer.text


def test_paraphrased_question_is_answered_in_the_articles_words(bot):
    answer = bot.ask("By what multiple has commerce between the pair expanded?")
    assert answer.text.startswith("Twentyfold.")
    person = bot.ask("Who came to Korea as Cambodia's head of government?")
    assert person.text.startswith("Hun Manet.")


def test_what_the_article_is_about_quotes_its_lede(bot):
    answer = bot.ask("What is this article about?")
    assert not answer.refused and "strategic partnership" in answer.text
    assert [c.paragraph for c in answer.citations] == [1, 2, 3]


@pytest.mark.parametrize(
    ("question", "starts"),
    [
        ("How long since a Cambodian leader visited South Korea?", "A decade."),
        ("When will the demining project start?", "This year."),
        ("Who is the Cambodian Prime Minister who attended the summit?", "Hun Manet."),
    ],
)
def test_direct_first_sentences(bot, question, starts):
    assert bot.ask(question).text.startswith(starts)


def test_a_rarer_subject_word_outweighs_a_shared_verb(bot):
    # The forum sentence shares "attended"; the summit sentences name who was there.
    answer = bot.ask("Who attended the summit?")
    assert not answer.refused and "Yoon" in answer.text.split("“")[0]


def test_a_surname_the_article_gives_in_full_elsewhere_is_a_person(bot):
    assert bot.ask("Who unveiled the new landmine clearing project?").text.startswith("Kim.")


def test_money_asked_in_other_words_still_needs_an_amount(bot):
    assert bot.ask("How much aid money does Korea hand Cambodia each year?").refused


def test_who_is_a_named_person_describes_them_without_naming_someone_else(bot):
    answer = bot.ask("Who is Kim Tae-hyo?")
    assert answer.text.startswith("“Kim Tae-hyo of South Korea’s National Security Office")


def test_what_a_document_said_is_read_from_its_reporting_verb(bot):
    answer = bot.ask("What did the joint statement say about defense?")
    assert "anti-terror training" in answer.text


def test_a_part_the_article_leaves_open_is_named(bot):
    answer = bot.ask("How many documents were signed, and what are their titles?")
    assert answer.text.startswith("Six key documents.")
    assert answer.text.endswith("The article does not answer: “what are their titles?”")


def test_asking_what_something_never_mentioned_was_like_is_refused(bot):
    answer = bot.ask("What was the weather like in Seoul on the day of the summit?")
    assert answer.refused and answer.text == "The article does not mention the weather."
    assert not bot.ask("What is the partnership like?").refused  # the article does describe that


def test_a_place_asked_for_must_be_named_in_the_evidence(bot):
    assert bot.ask("Which province of Cambodia will the landmine clearance work begin in?").refused


def test_a_year_must_belong_to_what_is_asked_about(bot):
    # 1997 is when relations were reestablished, not when the summit happened.
    assert bot.ask("In what calendar year did this meeting of leaders happen?").refused
    assert bot.ask("In what year did the two states restore formal links?").text.startswith("1997.")


def test_each_part_of_a_two_topic_question_gets_its_own_sentence(bot):
    answer = bot.ask("What did the two countries agree on security and on the economy?")
    assert "peacekeeping" in answer.text and "free trade agreement" in answer.text


def test_day_of_the_week_is_answered_from_the_weekday_sentence(bot):
    answer = bot.ask("On which day of the week did the summit take place?")
    assert not answer.refused and "Thursday" in answer.text


def test_what_someone_said_needs_them_as_the_speaker(bot):
    refused = bot.ask("What did Hun Manet say in his speech at the summit?")
    assert refused.refused and refused.text.startswith("The article does not say what Hun Manet said")
    answered = bot.ask("What did Kim Tae-hyo say about Cambodia?")
    assert not answered.refused and "praised" in answered.text


def test_names_not_given_in_the_article_are_refused(bot):
    assert bot.ask("What are the names of the six documents?").refused
    assert bot.ask("Who hosted the Korea-Cambodia Business Forum?").refused


def test_stream_yields_growing_text_then_the_answer(bot):
    parts = list(bot.stream("How many people attended the business forum?"))
    texts, final = parts[:-1], parts[-1]
    assert len(texts) >= 2 and all(b.startswith(a) for a, b in pairwise(texts))
    assert texts[-1] == final.text and "250" in final.text


def test_a_much_weaker_sentence_naming_someone_does_not_answer_a_who_question(bot):
    # The decade sentence is the one about the question but names nobody; Kim Tae-hyo's sentence, at 0.58 of
    # its support, names someone who did something else.
    answer = bot.ask("Who was the Cambodian leader who last visited South Korea a decade ago?")
    assert answer.refused and "Kim" not in answer.text.split("“")[0]
    assert "in a decade" in answer.text


@pytest.mark.parametrize(
    ("question", "first", "continuation"),
    [
        ("What were the signed documents about?", "six key documents", "These agreements focused on"),
        (
            "The national security official from Seoul — what were the two main things he had to say?",
            "Kim Tae-hyo",
            "Additionally, Kim announced",
        ),
    ],
)
def test_an_open_answer_runs_on_into_the_sentence_that_continues_it(bot, question, first, continuation):
    # The continuation scores low on its own words ("These agreements" never says "documents"), yet it goes on
    # about what the answer's sentence introduced.
    answer = bot.ask(question)
    assert first in answer.citations[0].text
    assert any(c.text.startswith(continuation) for c in answer.citations[1:])
