"""Word frequencies of one passage of text.

Each chunk gets {"source": str, "text": str} and returns every word's count in that passage plus its ten most
frequent words. Merge by adding the `counts` of all chunks.

A word is a run of ASCII letters, optionally joined by apostrophes ("people's"), compared in lower case; hyphens,
dashes and other punctuation separate words ("good-humoured" is two words).
"""
import re
from collections import Counter

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
TOP = 10


def main(passage):
    words = WORD.findall(passage["text"].lower())
    counts = Counter(words)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return {
        "source": passage.get("source", ""),
        "words": len(words),
        "distinct": len(counts),
        "top": [[word, count] for word, count in top],
        "counts": dict(sorted(counts.items())),
    }
