"""Telling a question in another language (``assistant/english.py``): every English question of the eval
suites and short English questions pass; Korean and Khmer ones, and most French, German and Spanish ones, are
recognised. The detector is CLD2 (pycld2), whose tables are compiled into the package: nothing is downloaded."""

from __future__ import annotations

import pytest

from assistant import english
from assistant.evaluation import EVALS_DIR, read_items

SHORT_ENGLISH = """When? | Why? | Where? | Who? | How many? | How much? | When was that? | Where was that? |
Who said that? | And the economy? | What about defense? | And Cambodia? | Hun Manet? | Yoon? | Seoul? |
Phnom Penh? | Trade? | Demining? | KOICA? | ODA? | Kim Tae-hyo? | Summarize it | tl;dr | Summary please |
Main points? | Why so? | Really? | Since when? | By how much? | How come? | Who else? | Anything else? |
What else? | ok thanks | thanks! | Tell me more | More details? | Who is Hun Manet? | Who met whom? |
Where did they meet? | What was signed? | How many documents? | Trade volume? | When did relations resume? |
And peacekeeping? | What about the Mekong? | Angkor Wat? | Is it true? | Did Yoon visit Phnom Penh? |
Who hosted? | Twentyfold? | 150-fold? | In 1997? | Since 97? | Hun Manet's title? | Yoon Suk Yeol's role? |
What did Kim say? | Investment? | Korean investors? | Cambodian workers?"""

FOREIGN = {
    "ko": [
        "정상회담은 어디에서 열렸나요?",
        "무역은 얼마나 증가했나요?",
        "누가 서울을 방문했나요?",
        "비즈니스 포럼에는 몇 명이 참석했나요?",
        "캄보디아 총리는 누구인가요?",
        "이 기사는 무엇에 관한 것인가요?",
        "훈 마넷은 누구인가요?",
        "요약해 주세요",
        "언제요?",
    ],
    "km": [
        "កិច្ចប្រជុំកំពូលធ្វើឡើងនៅឯណា?",
        "តើពាណិជ្ជកម្មកើនឡើងប៉ុន្មាន?",
        "តើនរណាបានជួបលោកហ៊ុន ម៉ាណែត?",
        "តើនាយករដ្ឋមន្ត្រីកម្ពុជាជានរណា?",
        "តើអត្ថបទនេះនិយាយអំពីអ្វី?",
        "សង្ខេបអត្ថបទ",
        "នៅពេលណា?",
    ],
    "fr": [
        "Où s'est tenu le sommet ?",
        "De combien le commerce a-t-il augmenté ?",
        "Combien de personnes ont assisté au forum ?",
        "Quand les relations ont-elles été rétablies ?",
        "Qui est le Premier ministre du Cambodge ?",
        "Pourquoi le sommet a-t-il eu lieu à Séoul ?",
        "Quels accords ont été signés ?",
        "Quand était-ce ?",
        "Qui a rencontré Hun Manet ?",
    ],
    "de": [
        "Wie stark ist der Handel gewachsen?",
        "Wie viele Menschen nahmen am Forum teil?",
        "Wann wurden die Beziehungen wieder aufgenommen?",
        "Worum geht es in diesem Artikel?",
        "Welche Abkommen wurden unterzeichnet?",
        "Und die Wirtschaft?",
        "Wo fand der Gipfel statt?",
        "Wer hat Hun Manet getroffen?",
    ],
    "es": [
        "¿Dónde se celebró la cumbre?",
        "¿Cuánto ha crecido el comercio?",
        "¿Cuántas personas asistieron al foro?",
        "¿Quién es el primer ministro de Camboya?",
        "¿Y la economía?",
        "¿Cuándo fue eso?",
        "¿Qué dijo el presidente Yoon?",
    ],
}


def eval_questions() -> list[str]:
    return [item["question"] for path in sorted(EVALS_DIR.glob("*.jsonl")) for item in read_items(path)]


def test_no_question_of_the_eval_suites_is_taken_for_another_language():
    questions = eval_questions()
    assert len(questions) > 600
    assert [q for q in questions if english.is_foreign(q)] == []


def test_short_english_questions_and_bare_names_are_not_taken_for_another_language():
    questions = [q.strip() for q in SHORT_ENGLISH.split("|")]
    assert [q for q in questions if english.is_foreign(q)] == []


@pytest.mark.parametrize("language", ["ko", "km"])
def test_korean_and_khmer_questions_are_all_recognised(language):
    assert [q for q in FOREIGN[language] if not english.is_foreign(q)] == []


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_most_questions_in_latin_script_languages_are_recognised(language):
    # Short ones can stay unknown to the detector ("Quels accords ont été signés ?"): a question is only called
    # foreign when the detection is reliable, for no false alarm on English; most still are.
    found = [q for q in FOREIGN[language] if english.is_foreign(q)]
    assert len(found) >= 0.6 * len(FOREIGN[language]), found
    assert FOREIGN[language][0] in found


def test_text_the_detector_cannot_read_is_not_called_foreign():
    assert not english.is_foreign("Who met\x00 in Seoul?")
    assert not english.is_foreign("\udcff")
    assert not english.is_foreign("")
