"""Places and names: region aliases, the regions a relevance phrase names, and matching a
report's loose wording ("pancreatic NETs", "APAC") to the labels it lists ("Pancreas",
"Asia-Pacific")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "best_match",
    "group_of",
    "is_country_name",
    "is_region_name",
    "normalized",
    "region_of_country",
    "regions_named",
]

# common names of the world's regions, normalised (see normalized)
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "north america": ("north america", "north american", "us and canada"),
    "europe": ("europe", "european", "eu", "western europe", "emea"),
    "asia pacific": ("asia pacific", "apac", "asia", "asian", "asia and pacific"),
    "middle east and africa": ("middle east and africa", "mea", "middle east", "africa"),
    "south america": (
        "south america",
        "latin america",
        "latam",
        "central and south america",
        "south and central america",
    ),
}
# countries a report's prose names as a sentence's subject ("The U.S. held 38 % ..."),
# normalised (see normalized), with their common short forms, and their regions
_COUNTRIES_BY_REGION = {
    "north america": "united states|u s|us|usa|u s a|canada|mexico",
    "south america": "brazil|argentina|chile|colombia|peru",
    "europe": """germany|france|united kingdom|uk|u k|britain|great britain|italy|spain|
        netherlands|belgium|switzerland|austria|sweden|norway|denmark|finland|poland|russia|
        turkey|ireland|portugal|greece|czech republic|hungary|romania""",
    "asia pacific": """china|japan|india|south korea|korea|australia|new zealand|indonesia|
        thailand|malaysia|singapore|vietnam|philippines|taiwan|hong kong|pakistan|bangladesh""",
    "middle east and africa": """saudi arabia|united arab emirates|uae|israel|iran|egypt|nigeria|
        south africa|kenya|morocco|qatar|kuwait""",
}
COUNTRY_REGION: dict[str, str] = {
    " ".join(name.split()): region
    for region, names in _COUNTRIES_BY_REGION.items()
    for name in names.split("|")
}
COUNTRY_NAMES = frozenset(COUNTRY_REGION)
DEVELOPED = ("north america", "europe")
EMERGING = ("asia pacific", "middle east and africa", "south america")
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "developed": DEVELOPED,
    "mature": DEVELOPED,
    "high income": DEVELOPED,
    "emerging": EMERGING,
    "developing": EMERGING,
    "low and middle income": EMERGING,
}
GLOBAL_WORDS = ("global", "globally", "worldwide", "all regions", "world")
_REST = re.compile(r"^rest of( the)? world$")


def normalized(text: str) -> str:
    """Lower case, ``&`` as ``and``, punctuation as spaces: ``"Asia-Pacific"`` ->
    ``"asia pacific"``."""
    text = text.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _contains(phrase: str, alias: str) -> bool:
    return re.search(rf"\b{re.escape(alias)}\b", phrase) is not None


def group_of(name: str) -> str | None:
    """The world region a name stands for (``"APAC"`` -> ``"asia pacific"``), or None."""
    key = normalized(name)
    return next((group for group, aliases in REGION_GROUPS.items() if key in aliases), None)


def region_of_country(name: str) -> str | None:
    """The world region of a country reports commonly name (``"the U.S."`` -> ``"north
    america"``), or None."""
    return COUNTRY_REGION.get(normalized(name).removeprefix("the "))


def is_region_name(name: str) -> bool:
    """Whether a name is a world region (or "Rest of the World"), not a country."""
    return group_of(name) is not None or _REST.match(normalized(name)) is not None


def is_country_name(name: str) -> bool:
    """Whether a name is one of the countries reports commonly name (``"the U.S."``)."""
    return normalized(name).removeprefix("the ") in COUNTRY_NAMES


def regions_named(
    phrase: str, regions: Iterable[str], countries: Mapping[str, Iterable[str]] | None = None
) -> tuple[list[str], str]:
    """The regions a geographic-relevance phrase names, and how they were found.

    Parameters
    ----------
    phrase : str
        E.g. "North America & EU, moving to APAC", "Most pronounced in emerging markets".
    regions : iterable of str
        The scenario's regions.
    countries : mapping of region to its countries, optional
        A country named in the phrase names its region.

    Returns
    -------
    named : list of str
        In the order of ``regions``; empty when the phrase names none.
    how : str
        ``"global"``, ``"named"`` or ``"none"``.
    """
    text = normalized(phrase)
    regions = list(regions)
    if any(_contains(text, word) for word in GLOBAL_WORDS):
        return regions, "global"
    named: set[str] = set()
    for region in regions:
        group = group_of(region)
        aliases = {normalized(region), *(REGION_GROUPS.get(group, ()) if group else ())}
        if any(_contains(text, alias) for alias in aliases if alias):
            named.add(region)
        for word, groups in CLASS_WORDS.items():
            if _contains(text, word) and group in groups:
                named.add(region)
    for region, names in (countries or {}).items():
        for country in names:
            key = normalized(country)
            if key and not key.startswith("rest of") and _contains(text, key):
                named.add(region)
    ordered = [r for r in regions if r in named]
    return ordered, "named" if ordered else "none"


# --- matching loose wording to listed labels -------------------------------------------------

_FILLER = frozenset({"the", "of", "and", "for", "in", "on", "a", "an", "to", "by", "with"})


def _tokens(text: str) -> list[str]:
    return [t for t in normalized(text).split() if t not in _FILLER]


def _stem(word: str) -> str:
    for ending in ("ies", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


def _same_word(a: str, b: str) -> bool:
    if a == b or _stem(a) == _stem(b):
        return True
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    shorter = min(len(a), len(b))
    return common >= 5 and common >= shorter - 3


def _score(name: str, label: str) -> float:
    """How well a loose name fits a label, 0 to 1: the share of the name's words found
    in the label times the square root of the share of the label's main words found
    (an abbreviation in the label's parentheses, "(PRRT)", is a full match)."""
    inside = " ".join(re.findall(r"\(([^)]*)\)", label))
    main = _tokens(re.sub(r"\([^)]*\)", " ", label))
    extra = _tokens(inside)
    words = _tokens(name)
    if not words or not (main or extra):
        return 0.0
    joined = "".join(words)
    initials = "".join(w[0] for w in main)
    if (
        normalized(name) == normalized(label)
        or joined in extra
        or (len(joined) >= 2 and joined == initials and len(main) >= 2)
    ):
        return 1.0
    found = sum(any(_same_word(w, m) for m in (*main, *extra)) for w in words)
    covered = sum(any(_same_word(w, m) for w in words) for m in main) if main else 0
    return (found / len(words)) * ((covered / len(main)) ** 0.5 if main else 0.5)


def best_match(name: str, labels: Iterable[str], threshold: float = 0.34) -> str | None:
    """The label a loose name stands for, or None when none fits well or two fit
    equally ("pancreatic NETs" -> "Pancreas"; "APAC" -> "Asia-Pacific")."""
    labels = list(labels)
    group = group_of(name)
    if group is not None:
        same = [label for label in labels if group_of(label) == group]
        if len(same) == 1:
            return same[0]
    scored = sorted(((_score(name, label), label) for label in labels), reverse=True)
    if not scored or scored[0][0] < threshold:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]
