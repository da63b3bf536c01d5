"""Write a synthetic fact-sheet project of a given size, the same bytes for the same size.

The project is complete and passes `factsheet check` with no problem: a corpus of
articles (one per five incidents), source records with their SHA-256, actors with cited
roles, incidents with about ten cited facts each (some fields disputed between two
articles), statements quoted verbatim, related incidents, and a copy of the shipped
``mkdocs.yml`` and ``site_templates/``.  Every quote is a passage of its article, so the
check does the full work of verifying it.

    python benchmarks/generate.py 5000 benchmarks/out/5000

Seeded by the size, so two runs write byte-identical projects.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import random
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_SYLLABLES = ("ka", "ra", "da", "zaw", "ma", "sul", "ha", "ni", "ba", "qu", "tel", "ya",
              "mi", "sha", "dor", "al", "ku", "fa", "rim", "sa", "no", "beh", "ja", "lu")
_TARGETS = ("embassy compound", "airport base", "coalition camp", "government building",
            "checkpoint", "logistics convoy", "oil field office", "military academy")
_ACTOR_KINDS = ("government", "military", "militia", "agency", "person", "party", "group")
_OUTLETS = ("Wire", "Herald", "Monitor", "Tribune", "Observer", "Post", "Courier")
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
          "ten", "eleven", "twelve")


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _say(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _day(d: date) -> str:
    return f"{calendar.month_name[d.month]} {d.day}"


class Project:
    """The records of a synthetic project, worked out before anything is written."""

    def __init__(self, incidents: int):
        self.rng = random.Random(incidents)
        self.n_incidents = incidents
        self.n_articles = max(2, incidents // 5)
        self.n_actors = max(4, incidents // 10)
        self.n_statements = max(2, incidents // 10)
        self.articles: list[list[str]] = [[] for _ in range(self.n_articles)]
        self.files: dict[str, str] = {}

    # -- pieces ------------------------------------------------------------------------

    def make_actors(self) -> None:
        rng = self.rng
        self.actors = []
        for i in range(self.n_actors):
            kind = _ACTOR_KINDS[i % len(_ACTOR_KINDS)]
            name = f"{_name(rng, 2)} {_name(rng, 3)}"
            if kind != "person":
                name = f"the {name} {kind.replace('-', ' ')}".removeprefix("the ").title()
            self.actors.append({"id": f"actor-{i:05d}", "name": name, "kind": kind,
                                "role": f"{rng.choice(('leading', 'regional', 'local'))} "
                                        f"{kind} in {_name(rng, 2)} province"})

    def make_incidents(self) -> None:
        rng = self.rng
        start = date(2015, 1, 1)
        self.incidents = []
        for i in range(self.n_incidents):
            when = start + timedelta(days=(i * 7) // 10)
            a = i // 5
            b = (i * 7 + 3) % self.n_articles
            if b == a:
                b = (a + 1) % self.n_articles
            rockets = rng.randint(2, 12)
            self.incidents.append({
                "id": f"incident-{i:05d}", "date": when, "a": a, "b": b,
                "district": _name(rng, 2), "city": _name(rng, 3),
                "target": rng.choice(_TARGETS), "rockets": rockets,
                # every third incident: the second article counts differently
                "rockets_b": rockets + 1 if i % 3 == 0 else rockets,
                "killed": rng.randint(0, 6), "injured": rng.randint(1, 20),
                "blamed": rng.randrange(self.n_actors),
                "condemned": rng.randrange(self.n_actors),
                "officials": rng.randrange(self.n_actors),
            })

    def write_incident_sentences(self) -> None:
        for n, inc in enumerate(self.incidents):
            actors = self.actors
            words = _WORDS[inc["rockets"]] if inc["rockets"] < len(_WORDS) else str(inc["rockets"])
            serial = f"operation {n + 1}"
            inc["quotes"] = {
                "date": f"In {serial}, on {_day(inc['date'])}, {words} rockets were fired "
                        f"at the {inc['target']} in {inc['city']}",
                "place_a": f"the {inc['district']} district of {inc['city']} was hit in "
                           f"{serial}",
                "killed": f"killing {inc['killed']} people in {serial}",
                "injured": f"and wounding {inc['injured']} others near the {inc['target']}",
                "blamed": f"{actors[inc['officials']]['name']} blamed "
                          f"{actors[inc['blamed']]['name']} for {serial}",
                "place_b": f"rockets landed in {inc['district']}, {inc['city']}, in {serial}",
                "rockets_b": f"reported {inc['rockets_b']} rockets in {serial}",
                "condemned": f"{actors[inc['condemned']]['name']} condemned {serial} "
                             f"as “reckless”",
            }
            q = inc["quotes"]
            self.articles[inc["a"]].append(
                f"{q['date']}, {q['killed']} {q['injured']}. Officials said {q['place_a']}. "
                f"{q['blamed']}, according to a statement.")
            self.articles[inc["b"]].append(
                f"Witnesses {q['rockets_b']}, and said {q['place_b']}. {q['condemned']}.")

    def make_statements(self) -> None:
        rng = self.rng
        self.statements = []
        for i in range(self.n_statements):
            inc = self.incidents[(i * 10 + 3) % self.n_incidents]
            speaker = self.actors[rng.randrange(self.n_actors)]
            text = (f"We hold those behind the attack on the {inc['target']} in "
                    f"{inc['city']} responsible, and we will answer it")
            said = inc["date"] + timedelta(days=1)
            sentence = f"On {_day(said)}, {speaker['name']} said: “{text}.”"
            self.articles[inc["a"]].append(sentence)
            self.statements.append({"id": f"statement-{i:05d}", "speaker": speaker["id"],
                                    "date": said, "text": text, "about": inc["id"],
                                    "article": inc["a"], "day": _day(said)})

    def write_actor_sentences(self) -> None:
        for i, actor in enumerate(self.actors):
            actor["quote"] = f"{actor['name']}, a {actor['role']},"
            self.articles[i % self.n_articles].append(
                f"{actor['quote']} has been named in earlier reports.")

    # -- files --------------------------------------------------------------------------

    def write_articles(self) -> None:
        rng = self.rng
        start = date(2015, 1, 1)
        self.sources = []
        for i, body in enumerate(self.articles):
            outlet = f"{_name(rng, 2)} {_OUTLETS[i % len(_OUTLETS)]}"
            published = start + timedelta(days=i * 7 // 2 + 3)
            title = f"Rockets hit {_name(rng, 3)} as tensions rise, report {i + 1}"
            text = (f"{title}\n\nBy {outlet}\n\n{outlet} reported on "
                    f"{_day(published)}, {published.year}.\n\n"
                    + "\n\n".join(body) + "\n")
            raw = text.encode("utf-8")
            name = f"corpus/{i:05d}_{hashlib.sha256(raw).hexdigest()[:16]}.txt"
            self.files[name] = text
            self.sources.append({"id": f"source-{i:05d}", "corpus": name, "title": title,
                                 "outlet": outlet, "published": published,
                                 "sha256": hashlib.sha256(raw).hexdigest(),
                                 "url": f"https://news.example/{i}" if i % 2 else None})

    def source_files(self) -> None:
        for s in self.sources:
            lines = [f"id: {s['id']}", f"corpus: {s['corpus']}", f"sha256: {s['sha256']}",
                     "outlet:", f"  value: {_say(s['outlet'])}", "  basis: stated",
                     "  evidence: The byline names the outlet.", "  quotes:",
                     f"    - {_say('By ' + s['outlet'])}",
                     f"title: {_say(s['title'])}", "published:",
                     f"  value: {s['published'].isoformat()}", "  basis: stated",
                     "  evidence: The article gives the day it reported.", "  quotes:",
                     f"    - {_say(_day(s['published']) + ', ' + str(s['published'].year))}"]
            if s["url"]:
                lines.append(f"url: {s['url']}")
            self.files[f"facts/sources/{s['id']}.yaml"] = "\n".join(lines) + "\n"

    def actor_files(self) -> None:
        for i, a in enumerate(self.actors):
            source = self.sources[i % self.n_articles]["id"]
            text = (f"id: {a['id']}\nname: {_say(a['name'])}\nkind: {a['kind']}\n"
                    f"aliases:\n  - {_say(a['name'].split()[-1])}\nclaims:\n  role:\n"
                    f"    - value: {_say(a['role'])}\n      citations:\n"
                    f"        - source: {source}\n          quote: {_say(a['quote'])}\n")
            self.files[f"facts/actors/{a['id']}.yaml"] = text

    def incident_files(self) -> None:
        for n, inc in enumerate(self.incidents):
            a, b = self.sources[inc["a"]]["id"], self.sources[inc["b"]]["id"]
            q = inc["quotes"]
            officials = self.actors[inc["officials"]]["id"]

            def claim(value: object, source: str, quote: str, detail: str | None = None,
                      according_to: str | None = None) -> str:
                out = f"    - value: {_say(value) if isinstance(value, str) else value}\n"
                if detail:
                    out += f"      detail: {_say(detail)}\n"
                out += f"      citations:\n        - source: {source}\n"
                out += f"          quote: {_say(quote)}\n"
                if according_to:
                    out += f"          according_to: {according_to}\n"
                return out

            title = f"Rocket attack on the {inc['target']} in {inc['city']} ({n + 1})"
            related = ""
            if n:
                related = f"related:\n  - {self.incidents[n - 1]['id']}\n"
            parts = [
                f"id: {inc['id']}\n",
                f"title: {_say(title)}\n",
                "kind: attack\n", f"date: {inc['date'].isoformat()}\n",
                f"place: {_say(inc['district'] + ', ' + inc['city'])}\n", related, "claims:\n",
                "  date:\n", claim(inc["date"].isoformat(), a, q["date"]),
                "  place:\n", claim(f"{inc['district']}, {inc['city']}", a, q["place_a"])
                + f"        - source: {b}\n          quote: {_say(q['place_b'])}\n",
                "  target:\n", claim(f"The {inc['target']}", a, q["date"]),
                "  rockets:\n", claim(inc["rockets"], a, q["date"]),
            ]
            if inc["rockets_b"] != inc["rockets"]:
                parts.append(claim(inc["rockets_b"], b, q["rockets_b"], according_to=None))
            else:
                parts[-1] = parts[-1].rstrip("\n") + "\n" + (
                    f"        - source: {b}\n          quote: {_say(q['rockets_b'])}\n")
            parts += [
                "  killed:\n", claim(inc["killed"], a, q["killed"], "people"),
                "  injured:\n", claim(inc["injured"], a, q["injured"], None, officials),
                "  blamed_on:\n", claim(self.actors[inc["blamed"]]["id"], a, q["blamed"],
                                        according_to=officials),
                "  condemned_by:\n", claim(self.actors[inc["condemned"]]["id"], b,
                                           q["condemned"]),
            ]
            self.files[f"facts/incidents/{inc['id']}.yaml"] = "".join(parts)

    def statement_files(self) -> None:
        for s in self.statements:
            source = self.sources[s["article"]]["id"]
            text = (f"id: {s['id']}\nspeaker: {s['speaker']}\ndate:\n"
                    f"  value: {s['date'].isoformat()}\n  basis: stated\n"
                    f"  evidence: The article gives the day.\n  quotes:\n"
                    f"    - {_say('On ' + s['day'])}\nmedium: remarks\n"
                    f"text: {_say(s['text'])}\nabout:\n  - {s['about']}\ncitations:\n"
                    f"  - source: {source}\n    quote: {_say(s['text'])}\n")
            self.files[f"facts/statements/{s['id']}.yaml"] = text

    def build(self) -> dict[str, str]:
        """Every file of the project, by path."""
        self.make_actors()
        self.make_incidents()
        self.write_incident_sentences()
        self.make_statements()
        self.write_actor_sentences()
        self.write_articles()
        self.source_files()
        self.actor_files()
        self.incident_files()
        self.statement_files()
        return self.files


def generate(incidents: int, target: Path) -> dict[str, int]:
    """Write a project with ``incidents`` incidents into ``target`` (replacing it)."""
    files = Project(incidents).build()
    if target.exists():
        shutil.rmtree(target)
    for folder in ("corpus", "facts/sources", "facts/actors", "facts/incidents",
                   "facts/statements"):
        (target / folder).mkdir(parents=True)
    for path, text in files.items():
        (target / path).write_text(text, encoding="utf-8")
    shutil.copy(REPO / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", target / "site_templates")
    counts: dict[str, int] = {}
    for path in files:
        kind = path.split("/")[-2]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("incidents", type=int, help="how many incidents (e.g. 500, 5000)")
    parser.add_argument("target", help="the project folder to write (replaced)")
    args = parser.parse_args(argv)
    counts = generate(args.incidents, Path(args.target))
    print(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
