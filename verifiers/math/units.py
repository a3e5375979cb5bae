"""Units of measurement in answers: find them (no sympy) and convert them (sympy.physics.units, imported lazily).

`split_unit(text)` takes an answer in comparison form apart into the value and what follows it:

- a unit expression built from known unit names (`km`, `m/s^2`, `kJ\\,mol^{-1}`, `\\text{ hours}`,
  `\\mathrm{m}`, `square meters`) -> `Unit` with its canonical text (`km`, `m*s^-2`, `kJ*mol^-1`, `h`, `m`, `m^2`);
- plain nouns that name no unit (`12 sequences`, `5 \\text{ apples}`) -> a label, which does not change the value;
- words that hedge or negate (`5 or six`, `6 probably maybe not`, `7 and 8`) -> nothing is split: the answer keeps
  its words and the comparison sees them.

`convert(unit)` gives the unit's exact scale to SI and its dimension. The units library is sympy's
`sympy.physics.units`: its scale factors are exact rationals (5000 m and 5 km are equal exactly, as the rest of
the comparison semantics requires; pint's are floats) and sympy is already a dependency. Names are looked up in
the table below only; model text never reaches `getattr` or a parser of the library.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = ["Unit", "convert", "split_unit"]

# canonical name -> (sympy.physics.units attribute, or "@name" for a dimension of its own, exact factor)
_BASE: dict[str, tuple[str, Fraction]] = {
    "m": ("meter", Fraction(1)),
    "km": ("meter", Fraction(1000)),
    "cm": ("meter", Fraction(1, 100)),
    "mm": ("meter", Fraction(1, 1000)),
    "um": ("meter", Fraction(1, 10**6)),
    "nm": ("meter", Fraction(1, 10**9)),
    "dm": ("meter", Fraction(1, 10)),
    "ft": ("foot", Fraction(1)),
    "inch": ("inch", Fraction(1)),
    "mi": ("mile", Fraction(1)),
    "yd": ("yard", Fraction(1)),
    "ly": ("lightyear", Fraction(1)),
    "g": ("gram", Fraction(1)),
    "kg": ("gram", Fraction(1000)),
    "mg": ("gram", Fraction(1, 1000)),
    "ug": ("gram", Fraction(1, 10**6)),
    "t": ("gram", Fraction(10**6)),
    "lb": ("pound", Fraction(1)),
    "oz": ("pound", Fraction(1, 16)),
    "s": ("second", Fraction(1)),
    "ms": ("second", Fraction(1, 1000)),
    "us": ("second", Fraction(1, 10**6)),
    "ns": ("second", Fraction(1, 10**9)),
    "min": ("second", Fraction(60)),
    "h": ("second", Fraction(3600)),
    "day": ("second", Fraction(86400)),
    "week": ("second", Fraction(604800)),
    "year": ("@calendar_year", Fraction(1)),
    "month": ("@calendar_year", Fraction(1, 12)),
    "dollar": ("@dollar", Fraction(1)),
    "cent": ("@dollar", Fraction(1, 100)),
    "euro": ("@euro", Fraction(1)),
    "GBP": ("@pound_sterling", Fraction(1)),
    "yen": ("@yen", Fraction(1)),
    "rupee": ("@rupee", Fraction(1)),
    "degC": ("@celsius", Fraction(1)),
    "degF": ("@fahrenheit", Fraction(1)),
    "L": ("liter", Fraction(1)),
    "mL": ("liter", Fraction(1, 1000)),
    "cL": ("liter", Fraction(1, 100)),
    "dL": ("liter", Fraction(1, 10)),
    "mol": ("mole", Fraction(1)),
    "mmol": ("mole", Fraction(1, 1000)),
    "N": ("newton", Fraction(1)),
    "kN": ("newton", Fraction(1000)),
    "J": ("joule", Fraction(1)),
    "kJ": ("joule", Fraction(1000)),
    "MJ": ("joule", Fraction(10**6)),
    "cal": ("joule", Fraction(4184, 1000)),
    "kcal": ("joule", Fraction(4184)),
    "W": ("watt", Fraction(1)),
    "kW": ("watt", Fraction(1000)),
    "MW": ("watt", Fraction(10**6)),
    "Pa": ("pascal", Fraction(1)),
    "kPa": ("pascal", Fraction(1000)),
    "MPa": ("pascal", Fraction(10**6)),
    "atm": ("pascal", Fraction(101325)),
    "bar": ("pascal", Fraction(10**5)),
    "Hz": ("hertz", Fraction(1)),
    "kHz": ("hertz", Fraction(1000)),
    "MHz": ("hertz", Fraction(10**6)),
    "GHz": ("hertz", Fraction(10**9)),
    "V": ("volt", Fraction(1)),
    "A": ("ampere", Fraction(1)),
    "mA": ("ampere", Fraction(1, 1000)),
    "K": ("kelvin", Fraction(1)),
    "ohm": ("ohm", Fraction(1)),
    "rad": ("radian", Fraction(1)),
    "deg": ("degree", Fraction(1)),
}
# words and spellings -> canonical name (plural `s` is taken off before the look-up, see `_name`)
_ALIASES: dict[str, str] = {
    "meter": "m",
    "metre": "m",
    "kilometer": "km",
    "kilometre": "km",
    "centimeter": "cm",
    "centimetre": "cm",
    "millimeter": "mm",
    "millimetre": "mm",
    "micrometer": "um",
    "μm": "um",
    "µm": "um",
    "nanometer": "nm",
    "foot": "ft",
    "feet": "ft",
    "inches": "inch",
    "mile": "mi",
    "yard": "yd",
    "gram": "g",
    "gm": "g",
    "kilogram": "kg",
    "milligram": "mg",
    "μg": "ug",
    "µg": "ug",
    "tonne": "t",
    "pound": "lb",
    "lbs": "lb",
    "ounce": "oz",
    "sec": "s",
    "second": "s",
    "millisecond": "ms",
    "μs": "us",
    "µs": "us",
    "minute": "min",
    "mins": "min",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "days": "day",
    "weeks": "week",
    "yr": "year",
    "yrs": "year",
    "years": "year",
    "months": "month",
    "l": "L",
    "liter": "L",
    "litre": "L",
    "ml": "mL",
    "milliliter": "mL",
    "millilitre": "mL",
    "mole": "mol",
    "newton": "N",
    "joule": "J",
    "kilojoule": "kJ",
    "calorie": "cal",
    "kilocalorie": "kcal",
    "watt": "W",
    "kilowatt": "kW",
    "pascal": "Pa",
    "hertz": "Hz",
    "volt": "V",
    "ampere": "A",
    "amp": "A",
    "kelvin": "K",
    "ohms": "ohm",
    "Ω": "ohm",
    "radian": "rad",
    "dollars": "dollar",
    "usd": "dollar",
    "cents": "cent",
    "euros": "euro",
    "rupees": "rupee",
    "$": "dollar",
    "€": "euro",
    "£": "GBP",
    "¥": "yen",
    "₹": "rupee",
}
_COMPOUND: dict[str, str] = {"mph": "mi/h", "kph": "km/h", "kmh": "km/h", "rpm": "1/min", "kWh": "kW*h"}
_POWER_WORDS = {"square": 2, "sq": 2, "cubic": 3, "cu": 3}
HEDGE_WORDS = frozenset(
    "or and not no nor either neither maybe perhaps probably possibly likely unlikely might guess unsure but "
    "except unless otherwise if approximately about roughly around".split()
)
"""Words after a value that make it several answers or a hedge: never dropped as a unit or label."""

_NOT_LABELS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve hundred thousand million billion trillion "
    "dozen score gross half halve third quarter fourth fifth sixth seventh eighth ninth tenth percent permille "
    "squared cubed square cube root roots factorial power powers times plus minus over reciprocal inverse negative "
    "positive opposite double triple twice thrice more less fewer greater least most than exactly only "
    "wrong incorrect false true right correct never none nothing uncertain doubtful supposedly possible impossible "
    "undefined unknown invalid error nan infinite infinity maybe perhaps probably possibly likely unlikely "
    "approximately about roughly around nearly almost circa estimated estimate lakh crore grand kilo mega giga tera "
    "milli micro nano pico ppm ppb basis mille per nope bogus untrue falsch faux unknown unsure".split()
)
_SCALE_WORD = re.compile(r"(?:illions?|teens?|ties|ths|th)$")
_SI_PREFIX_WORDS = ("kilo", "mega", "giga", "tera", "milli", "micro", "nano", "pico", "centi", "deci", "hecto", "deca")
_TOKEN = re.compile(
    r"(?P<wrap>\\(?:text|textrm|mathrm|mbox|rm|operatorname|textnormal)\s*\{(?P<inner>[^{}]{0,200})\})"
    r"|(?P<word>[A-Za-zμµΩ]+)"
    r"|(?P<exp>\^\s*(?:\{\s*[-+]?\s*[0-9]{1,2}\s*\}|[-+]?[0-9]))"
    r"|(?P<op>/|\\cdot(?![A-Za-z])|\*|\\times(?![A-Za-z]))"
    r"|(?P<space>\s+|\\[,;:! ]|~)"
    r"|(?P<other>\\[A-Za-z]+|.)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Unit:
    """A unit expression: canonical factors `((name, power), ...)` in written order; `text` is canonical."""

    factors: tuple[tuple[str, int], ...]

    @property
    def text(self) -> str:
        return "*".join(name if p == 1 else f"{name}^{p}" for name, p in self.factors)


def _name(word: str) -> str | None:
    """The canonical unit for a word (`hours` -> `h`, `km` -> `km`), or None. Symbols are case-sensitive (`Mm` is
    not `mm`, `T` is not `t`); only whole words (`Hours`, `Meters`) may differ in case."""
    if word in _BASE:
        return word
    if word in _ALIASES:
        return _ALIASES[word]
    lower = word.lower()
    if len(lower) < 3:
        return None
    for stem in (lower, lower[:-1] if lower.endswith("s") else "", lower[:-2] if lower.endswith("es") else ""):
        if len(stem) >= 3 and stem in _ALIASES:
            return _ALIASES[stem]
    return None


def _parse_unit(tokens: list[tuple[str, str]]) -> Unit | None:
    """A unit expression from (kind, text) tokens: names with powers joined by spaces, `*`, `\\cdot`, `/`, `per`."""
    factors: list[tuple[str, int]] = []
    sign = 1
    pending_power = 1
    expect_name = True
    for kind, text in tokens:
        if kind == "space":
            continue
        if kind == "op" or (kind == "word" and text.lower() == "per"):
            if expect_name and factors:
                return None
            sign = -1 if text in ("/",) or text.lower() == "per" else sign
            expect_name = True
            continue
        if kind == "exp":
            if not factors or expect_name:
                return None
            power = int(re.sub(r"[^0-9-]", "", text))
            name, p = factors[-1]
            factors[-1] = (name, p * power)
            continue
        if kind == "word" and text.lower() in _POWER_WORDS:
            pending_power = _POWER_WORDS[text.lower()]
            continue
        if kind != "word":
            return None
        parts = _expand(text)
        if parts is None:
            return None
        for name, p in parts:
            factors.append((name, p * pending_power * sign))
        pending_power = 1
        expect_name = False
    if not factors or expect_name:
        return None
    return Unit(tuple(factors))


def _expand(word: str) -> list[tuple[str, int]] | None:
    if word in _COMPOUND:
        num, _, den = _COMPOUND[word].partition("/")
        out = [] if num == "1" else [(n, 1) for n in num.split("*")]
        return out + ([(den, -1)] if den else [])
    name = _name(word)
    return None if name is None else [(name, 1)]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "inner":
            kind = "wrap"
        if kind == "wrap":
            out.extend(("wrapped-" + k if k != "space" else k, t) for k, t in _tokens(m.group("inner")))
        else:
            out.append((kind, m.group()))
    return out


def split_unit(text: str) -> tuple[str, Unit | None, str]:
    """(value text, unit or None, the noun label taken off or "") for an answer in comparison form.

    Only a tail after a value is looked at: the value must end in a digit, `}`, `)` or `\\pi`, and hold no
    letters outside LaTeX commands (so `5x` and `2y` keep their variables).
    """
    if len(text) > 400 or not re.search(r"[A-Za-zμµΩ]", text):
        return text, None, ""
    tokens = [(k.removeprefix("wrapped-"), t, k.startswith("wrapped-")) for k, t in _tokens(text)]
    cut = len(tokens)
    while cut > 0 and tokens[cut - 1][0] in ("word", "exp", "op", "space"):
        cut -= 1
    tail = tokens[cut:]
    glued = bool(tail) and tail[0][0] == "word" and not tail[0][2]  # `6K`, `0xfff…`: no space, no `\text`
    words = [t for k, t, _ in tail if k == "word"]
    if not words:
        return text, None, ""
    # a leading operator or power belongs to the value (`2^3 m`: the `^3` is the value's)
    while tail and tail[0][0] in ("op", "exp", "space"):
        if tail[0][0] != "space":
            return text, None, ""
        tail = tail[1:]
    value = "".join(t for _, t, _ in tokens[:cut]).strip()
    value_core = re.sub(r"\\[A-Za-z]+", "", value)
    if not value or not re.search(r"(?:[0-9})]|\\pi)\s*$", value) or re.search(r"[A-Za-z]", value_core.split("=")[-1]):
        return text, None, ""
    if any(w.lower() in HEDGE_WORDS for w in words):
        return text, None, ""
    wrapped = any(w for k, _, w in tail if k == "word")
    unit = _parse_unit([(k, t) for k, t, _ in tail])
    if unit is not None:
        if not wrapped and all(len(w) == 1 for w in words) and any(w not in ("m", "g", "s") for w in words):
            return text, None, ""  # `5x`: a variable, not a unit
        return value, unit, ""
    if glued:
        return text, None, ""  # letters glued to the value are no label
    if all(len(w) >= 3 for w in words) and len(words) <= 4 and not any(_changes_meaning(w) for w in words):
        return value, None, " ".join(_label_word(w) for w in words)  # a noun label: `12 sequences`
    return text, None, ""


def _label_word(word: str) -> str:
    """A label word for comparison: a plain word without case and plural (`Apples` -> `apple`); a short or
    mixed-case one as written (`MeV` is not `meV`, `Cal` is not `cal`)."""
    if len(word) <= 4 or not word[1:].islower():
        return word
    return word.lower().removesuffix("s")


def _changes_meaning(word: str) -> bool:
    """A word after a value that is no label: it scales (`thousand`, `dozen`, `hundredths`), operates (`squared`,
    `factorial`), judges or hedges (`wrong`, `impossible`); or a unit name we cannot convert (`microseconds`)."""
    w = word.lower()
    return (
        w in _NOT_LABELS
        or w.removesuffix("s") in _NOT_LABELS
        or bool(_SCALE_WORD.search(w))
        or any(w.startswith(prefix) and len(w) > len(prefix) + 2 for prefix in _SI_PREFIX_WORDS)
    )


@functools.lru_cache(maxsize=1024)
def convert(unit: Unit) -> tuple[Any, tuple[tuple[str, int], ...]]:
    """(exact scale factor to SI as a sympy number, dimension as sorted (base, power) pairs) of `unit`."""
    import sympy
    import sympy.physics.units as u
    from sympy.physics.units.systems.si import SI, dimsys_SI

    scale: Any = sympy.Integer(1)
    dims: dict[str, int] = {}
    for name, power in unit.factors:
        attr, factor = _BASE[name]
        if attr.startswith("@"):
            base_scale, part = sympy.Integer(1), {attr[1:]: 1}
        else:
            quantity = getattr(u, attr)
            base_scale = SI.get_quantity_scale_factor(quantity)
            deps = dimsys_SI.get_dimensional_dependencies(SI.get_quantity_dimension(quantity))
            part = {str(d.name): int(p) for d, p in deps.items()}
        scale = scale * (sympy.Rational(factor.numerator, factor.denominator) * base_scale) ** power
        for d, p in part.items():
            dims[d] = dims.get(d, 0) + p * power
    return scale, tuple(sorted((d, p) for d, p in dims.items() if p))
