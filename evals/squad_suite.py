"""Write the ``squad-dev`` eval suite from the reader's validation articles: the SQuAD 2.0 dev articles that
``assistant train`` holds back (same seed, same split), as documents in ``evals/documents/squad-dev/`` and
their questions in ``evals/squad_dev.jsonl``. No question of these articles was trained on.

    .venv/bin/python evals/squad_suite.py ../shared/data/squad/squad2-dev-30-articles.json

SQuAD (Rajpurkar et al. 2018) is CC BY-SA 4.0; the documents keep the articles' titles.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import squad  # noqa: E402
from assistant.train import TrainConfig  # noqa: E402

DOCUMENTS = ROOT / "evals" / "documents" / "squad-dev"
SUITE = ROOT / "evals" / "squad_dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("squad2", type=Path, help="the SQuAD 2.0-format file assistant train reads")
    args = parser.parse_args(argv)
    defaults = TrainConfig(squad2=args.squad2, squad1=None, out=Path())
    articles = squad.load_articles(args.squad2)
    _, held = squad.split_articles([a["title"] for a in articles], defaults.validation_articles, defaults.seed)
    DOCUMENTS.mkdir(parents=True, exist_ok=True)
    for article in articles:
        if article["title"] in held:
            title = article["title"].replace("_", " ")
            body = "\n".join(p["context"].strip() for p in article["paragraphs"])
            (DOCUMENTS / f"{article['title'].lower()}.txt").write_text(f"# {title}\n{body}\n", encoding="utf-8")
    rows = []
    for q in squad.questions(articles, held):
        if q.answers:
            evidence = [q.sentences[q.answer_sentence]] if q.answer_sentence >= 0 else []
            row = {
                "kind": "fact",
                "reference": q.answers[0],
                "key_facts": [sorted(set(q.answers))],
                "evidence": evidence,
            }
        else:
            row = {"kind": "unanswerable", "reference": "", "key_facts": [], "evidence": []}
        rows.append({"id": f"squad-{q.qid}", "question": q.question, **row})
    SUITE.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} questions on {len(held)} articles → {SUITE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
