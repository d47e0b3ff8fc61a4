"""Mutation score of the pure cores, per file, from the results `mutmut run` left in mutants/.

Run from the repository root after `mutmut run` (`make mutation` does both). A mutant
counts as killed when a test failed or timed out on it (an infinite loop); it counts
against the score when it survived, had no test, or ended some other way. Mutants
listed in the equivalents file (no test can tell them from the code) are left out.

The equivalents file names each mutant by a key that survives code motion: the file,
the function (``Class.method`` for a method) and the line the mutant changes, before
and after, with runs of whitespace collapsed; mutmut's own names (``…__mutmut_17``)
shift whenever a function gains or loses a mutant.

Exits 1 when a file's score is below the threshold, 2 when there are no results.
"""

import argparse
import math
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

KILLED = frozenset({"killed", "timeout", "caught by type check"})
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")


def normalize(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines() if line.strip())


@dataclass(frozen=True)
class Key:
    """Where a mutant is and what it changes, independent of mutmut's numbering."""

    file: str
    function: str
    line: str
    mutant: str


@dataclass
class FileScore:
    path: str
    statuses: Counter = field(default_factory=Counter)
    equivalent: int = 0
    not_killed: list[tuple[str, str, Key]] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + self.equivalent

    @property
    def killed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in KILLED)

    @property
    def scored(self) -> int:
        return self.total - self.equivalent - self.statuses["skipped"]

    @property
    def score(self) -> float:
        return 100.0 if self.scored == 0 else 100.0 * self.killed / self.scored

    @property
    def shown(self) -> str:
        """The score rounded down to 0.1 %, so that 100.0 % means every mutant was killed."""
        return f"{math.floor(self.score * 10) / 10:.1f} %"


def function_of(name: str) -> str:
    function, class_name = orig_function_and_class_names_from_key(name)
    return f"{class_name}.{function}" if class_name else function


def mutant_key(path: str, name: str) -> Key:
    removed, added = [], []
    for line in get_diff_for_mutant(name, path=path).splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
    return Key(path, function_of(name), normalize("\n".join(removed)), normalize("\n".join(added)))


def load_equivalents(path: Path) -> dict[Key, str]:
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text("utf-8")).get("mutant", [])
    found = {}
    for entry in entries:
        key = Key(entry["file"], entry["function"], normalize(entry["line"]), normalize(entry["mutant"]))
        if not entry.get("reason", "").strip():
            raise SystemExit(f"{path}: {key.file} {key.function}: every equivalent mutant needs a reason.")
        found[key] = entry["reason"]
    return found


def collect(only: list[str], equivalents: dict[Key, str]) -> tuple[list[FileScore], set[Key], list[Key]]:
    """Scores per file; the equivalents that matched; the ones that matched a killed mutant."""
    scores, matched, killed_equivalents = [], set(), []
    listed_functions = {(key.file, key.function) for key in equivalents}
    for source in walk_mutatable_files():
        path = str(source)
        if only and not any(path == entry or path.startswith(entry.rstrip("/") + "/") for entry in only):
            continue
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        score = FileScore(path)
        for name, exit_code in sorted(data.exit_code_by_key.items()):
            status = status_by_exit_code[exit_code]
            if status in KILLED and status != "timeout" and (path, function_of(name)) not in listed_functions:
                score.statuses[status] += 1  # no need to read its diff
                continue
            key = mutant_key(path, name) if status != "not checked" else None
            if key in equivalents:
                matched.add(key)
                if status in KILLED:
                    killed_equivalents.append(key)
                else:
                    score.equivalent += 1
                    continue
            score.statuses[status] += 1
            if status not in KILLED and status != "skipped":
                score.not_killed.append((name, status, key))
            elif status == "timeout":
                score.timeouts.append(name)
        scores.append(score)
    return scores, matched, killed_equivalents


def enforced(path: str, not_enforced: set[str]) -> bool:
    """False for a file named in not_enforced, or under a folder named there (``strategies/core/``)."""
    return not any(path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in not_enforced)


def report(scores: list[FileScore], threshold: float, markdown: bool, not_enforced: set[str]) -> bool:
    """Print the table; True when every enforced file reaches the threshold."""
    width = max([len(s.path) for s in scores] + [len("overall")])
    if markdown:
        print("| file | mutants | killed | equivalent | not killed | score |")
        print("|---|---:|---:|---:|---:|---:|")
    else:
        print(f"{'file':<{width}}  mutants  killed  equiv.  not killed  score")
    total = FileScore("overall")
    for s in [*scores, total]:
        if s is total:
            for other in scores:
                total.statuses.update(other.statuses)
                total.equivalent += other.equivalent
        not_killed = s.scored - s.killed
        mark = "" if s is total or s.score >= threshold else f"  below {threshold:g} %"
        if mark and enforced(s.path, not_enforced) is False:
            mark += " (not enforced)"
        if markdown:
            print(f"| `{s.path}` | {s.total} | {s.killed} | {s.equivalent} | {not_killed} | {s.shown}{mark[1:]} |")
        else:
            counts = f"{s.total:>7}  {s.killed:>6}  {s.equivalent:>6}  {not_killed:>10}"
            print(f"{s.path:<{width}}  {counts}  {s.shown:>7}{mark}")
    return all(s.score >= threshold for s in scores if enforced(s.path, not_enforced))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=95.0, help="per-file score to reach, in percent")
    parser.add_argument("--equivalents", type=Path, default=EQUIVALENTS)
    parser.add_argument("--only", action="append", default=[], help="report this file or folder only (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="the table as Markdown (for the README)")
    parser.add_argument(
        "--not-enforced", action="append", default=[], help="report this file's (or folder's/) score, never fail on it"
    )
    args = parser.parse_args(argv)

    config()  # reads [tool.mutmut] from ./pyproject.toml
    equivalents = load_equivalents(args.equivalents)
    scores, matched, killed_equivalents = collect(args.only, equivalents)
    if not scores:
        print("No mutation results: run `mutmut run` (or `make mutation`) first.")
        return 2
    passed = report(scores, args.threshold, args.markdown, set(args.not_enforced))

    for s in scores:
        for name, status, key in s.not_killed:
            where = f"{key.file} {key.function}" if key else s.path
            change = f": {key.line!r} -> {key.mutant!r}" if key else ""
            print(f"  {status}: {where}{change}  (mutmut show {name})")
    for s in scores:
        for name in s.timeouts:
            print(f"  timeout (counted as killed: the tests ran past their time limit): {name}")
    for key in killed_equivalents:
        print(f"  listed as equivalent but killed, remove it: {key.file} {key.function}: {key.line!r}")
    checked = {s.path for s in scores}
    for key in equivalents:
        if key not in matched and key.file in checked:
            print(f"  listed as equivalent but no longer generated: {key.file} {key.function}: {key.line!r}")
    if not passed:
        print(f"Mutation score below {args.threshold:g} % in at least one file.")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
