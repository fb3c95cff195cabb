"""Share of a corpus of real-world spellings that resolves, and how many resolve wrongly.

Usage: .venv/bin/python bench/label_resolution.py [CORPUS.csv] [--codelist countries] [--show]
CORPUS.csv has columns label,expected_code (default tests/data/nationality_spellings.csv).
Prints, for aliases only (``Resolver.resolve``) and with the fuzzy step (``Resolver.match``):
correct, wrong (a wrong code is worse than none) and unresolved; ``--show`` lists the misses.
Also the time to resolve every distinct label, as labels per second.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from migstat.codes import Resolver, build_resolver

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests/data/nationality_spellings.csv"


def read_corpus(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["label"], row["expected_code"]) for row in csv.DictReader(handle)]


def score(
    resolver: Resolver, corpus: list[tuple[str, str]], codelist: str
) -> dict[str, dict[str, list[tuple[str, str, str | None, str]]]]:
    """{'alias': {...}, 'fuzzy': {...}}, each {'correct'|'wrong'|'unresolved': [(label,
    expected, found, method)]}."""
    results: dict[str, dict[str, list[tuple[str, str, str | None, str]]]] = {
        mode: {"correct": [], "wrong": [], "unresolved": []} for mode in ("alias", "fuzzy")
    }
    for label, expected in corpus:
        alias = resolver.resolve(codelist, label)
        match = resolver.match(codelist, label)
        for mode, found, method in (
            ("alias", alias, "alias"),
            ("fuzzy", match.code, match.method),
        ):
            outcome = "unresolved" if found is None else "correct" if found == expected else "wrong"
            results[mode][outcome].append((label, expected, found, method))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--codelist", default="countries")
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args()
    corpus = read_corpus(args.corpus)
    resolver = build_resolver()
    started = time.perf_counter()
    results = score(resolver, corpus, args.codelist)
    seconds = time.perf_counter() - started
    total = len(corpus)
    print(f"corpus: {args.corpus} ({total} labels, code list {args.codelist})")
    for mode, title in (("alias", "aliases only"), ("fuzzy", "aliases + fuzzy")):
        counts = {outcome: len(rows) for outcome, rows in results[mode].items()}
        print(
            f"{title:>16}: correct {counts['correct']}/{total} "
            f"({100 * counts['correct'] / total:.1f} %), wrong {counts['wrong']} "
            f"({100 * counts['wrong'] / total:.1f} %), unresolved {counts['unresolved']}"
        )
    print(f"{total / seconds:.0f} labels/s (alias and fuzzy, first resolution, one process)")
    if args.show:
        for outcome in ("wrong", "unresolved"):
            for label, expected, found, method in results["fuzzy"][outcome]:
                print(f"  {outcome:>10}: {label!r} expected {expected}, got {found} ({method})")


if __name__ == "__main__":
    main()
