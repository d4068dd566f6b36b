"""Country names the app shows and finds: official short names, ISO3 codes, common names.

Names come from the catalogue (:func:`ewaste_tracker.catalog.country_names`: the UN M49 short
names the Global E-waste Monitor uses, "South Sudan", "Republic of Korea"), never from the map
layer's abbreviations ("S. Sudan"). :meth:`CountryNames.search` finds a country by its ISO3
code, its official name or any alias ("South Korea", "Ivory Coast", "UK"), ignoring case and
accents ("cote d'ivoire" finds Côte d'Ivoire).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["AGGREGATE_NAMES", "CountryNames", "country_names", "fold"]

AGGREGATE_NAMES = {"WLD": "World"}
"""Names of aggregates whose code is not their name (UN regions are named by their code)."""


def fold(text: str) -> str:
    """Lower case without accents or punctuation runs, for matching (``Côte`` → ``cote``)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


@dataclass(frozen=True)
class CountryNames:
    """Official names and aliases by code.

    Attributes
    ----------
    names
        Code → official short name (aggregates included).
    aliases
        Code → other names (may be empty).
    """

    names: Mapping[str, str]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def name(self, code: str) -> str:
        """Official name of ``code`` (the code itself when unknown)."""
        return str(self.names.get(code, AGGREGATE_NAMES.get(code, code)))

    def label(self, code: str) -> str:
        """``Name (ISO3)``, then the aliases that the name does not already say, e.g.
        ``Republic of Korea (KOR) · South Korea, Korea``; what a country list shows and
        its type-ahead filter matches."""
        name = self.name(code)
        if code == name:
            return name
        extra = [a for a in self.aliases.get(code, ()) if fold(a) not in fold(name)]
        return f"{name} ({code})" + (f" · {', '.join(extra[:4])}" if extra else "")

    def search(
        self, query: str, codes: Iterable[str] | None = None, *, limit: int = 20
    ) -> list[str]:
        """Codes matching ``query``, best first.

        Order: the exact ISO3 code, then exact names and aliases, then names and aliases
        starting with the query, then those containing it (each group by name).
        """
        q = fold(query)
        if not q:
            return []
        pool = list(self.names) if codes is None else list(codes)
        scored = []
        for code in pool:
            texts = [fold(self.name(code)), *(fold(a) for a in self.aliases.get(code, ()))]
            if q == fold(code):
                rank = 0
            elif q in texts:
                rank = 1
            elif any(t.startswith(q) for t in texts):
                rank = 2
            elif any(q in t for t in texts):
                rank = 3
            else:
                continue
            scored.append((rank, fold(self.name(code)), code))
        return [code for _, _, code in sorted(scored)[:limit]]

    def sorted_codes(self, codes: Sequence[str]) -> list[str]:
        """``codes`` in the alphabetical order of their names."""
        return sorted(codes, key=lambda c: fold(self.name(c)))


def country_names(table: pd.DataFrame | None = None) -> CountryNames:
    """:class:`CountryNames` from the catalogue (or a table ``iso3, name, aliases``)."""
    if table is None:
        from ewaste_tracker import catalog

        table = catalog.country_names()
    names = dict(zip(table["iso3"].astype(str), table["name"].astype(str), strict=True))
    names.update(AGGREGATE_NAMES)
    aliases = {
        code: tuple(a for a in str(text).split("|") if a.strip())
        for code, text in zip(table["iso3"].astype(str), table["aliases"].fillna(""), strict=True)
    }
    return CountryNames(names, aliases)
