"""Verifier options: typed declarations (`verifiers.options.Option`) checked by one routine, at construction and for
per-sample overrides; every built-in option declared with a doc; old-style plain defaults still work."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import pytest
from support.properties import given, settings, st

from verifiers import Option, OptionError, Sample, Status, Verdict, Verifier, get_verifier, hookimpl, list_verifiers
from verifiers.options import changed, check_config, declaration, defaults, describe_options
from verifiers.plugins import verifier_registry

REGISTERED = [entry.name for entry in verifier_registry()]


def typed_options() -> list[tuple[str, str, Option]]:
    """(verifier, option, declaration) for every typed option of every registered verifier."""
    return [
        (entry.name, key, declaration(value))
        for entry in verifier_registry()
        for key, value in (entry.attribute("options", {}) or {}).items()
        if declaration(value).kind != "any" or declaration(value).accepts is not None
    ]


def refused_and_accepted(option: Option) -> tuple[list[Any], list[Any]]:
    """Values the declaration must refuse, each next to the nearest values it must accept (the near-miss twins)."""
    if option.kind == "bool":
        return [1, 0, "true", None], [True, False]
    if option.kind == "choice":
        first = option.choices[0]
        recased = first.upper() if first.upper() != first else first.lower()
        return ["nope", recased, f" {first}", 1], list(option.choices)
    if option.kind == "str":
        return [1, b"x", *([""] if option.minimum else [])], [option.default if option.accepts else "x"]
    if option.kind == "int":
        low = int(option.minimum if option.minimum is not None else 0)
        refused: list[Any] = [low - 1, float(low), True, str(low)]
        accepted: list[Any] = [low, low + 1]
        if option.maximum is not None:
            refused.append(int(option.maximum) + 1)
            accepted.append(int(option.maximum))
        return refused, accepted
    if option.kind == "number":
        refused = [math.nan, math.inf, -math.inf, True, "1"]
        accepted = []
        if option.minimum is not None:
            refused.append(option.minimum - 0.001)
            accepted += [option.minimum, Fraction(option.minimum)]
        if option.above is not None:
            refused.append(option.above)
            accepted.append(option.above + 0.001)
        if option.maximum is not None:
            refused.append(option.maximum + 0.001)
            accepted.append(option.maximum)
        if option.below is not None:
            refused.append(option.below)
            accepted.append(option.below - 0.001)
        return refused, accepted
    return [12345, 1.5], [option.default]


# -- every registered verifier -----------------------------------------------------------------------------------


def test_builtin_verifiers_are_registered():
    assert {"exact", "numeric", "math.rule", "math.steps", "code", "lean", "judge", "weighted", "gated"} <= set(
        REGISTERED
    )


@pytest.mark.parametrize("name", REGISTERED)
def test_every_option_is_declared_with_a_one_line_doc(name):
    options = verifier_registry().entry(name).attribute("options", {})
    for key, value in options.items():
        assert isinstance(value, Option), f"{name}: option {key!r} is a plain default, not an Option"
        assert value.doc.strip() and "\n" not in value.doc, f"{name}: option {key!r} has no one-line doc"
        if value.kind != "any" or value.accepts is not None:  # `verifiers list` says what it accepts
            assert value.describe(), f"{name}: option {key!r} does not say what it accepts"
    verifier = get_verifier(name)
    assert verifier.config == defaults(options)  # the defaults pass their own declarations


@pytest.mark.parametrize(("name", "key", "option"), typed_options(), ids=lambda x: x if isinstance(x, str) else "")
def test_refused_values_name_the_verifier_and_option_and_boundaries_pass(name, key, option):
    factory = verifier_registry().entry(name).factory
    refused, accepted = refused_and_accepted(option)
    for value in refused:
        with pytest.raises(OptionError) as info:
            factory(**{key: value})
        message = str(info.value)
        assert message.startswith(f"{name}: option {key!r}"), message
        if option.kind != "any":
            assert f"must be {option.describe()}, got {value!r}" in message
    for value in accepted:
        assert factory(**{key: value}).config[key] == value


@pytest.mark.parametrize("name", REGISTERED)
def test_an_unknown_option_name_is_refused_listing_the_known_ones(name):
    with pytest.raises(OptionError, match=rf"verifier {name!r} does not take option\(s\) 'colour'; its options are: "):
        get_verifier(name, colour="red")


@pytest.mark.parametrize(("name", "key", "option"), [t for t in typed_options() if t[2].per_sample],
                         ids=lambda x: x if isinstance(x, str) else "")  # fmt: skip
def test_a_bad_per_sample_value_is_an_error_verdict_not_a_crash(name, key, option):
    verifier = get_verifier(name)
    value = refused_and_accepted(option)[0][0]
    verdict = verifier.verify(Sample("42", "42", metadata={key: value}))
    assert verdict.status is Status.ERROR and verdict.reward is None
    assert verdict.reason.startswith(f"bad option in the sample's metadata: {name}: option {key!r}"), verdict.reason


# -- near misses, spelled out --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "refused", "accepted"),
    [
        ("numeric", "rel_tol", -1e-12, 0),
        ("numeric", "percent", "Strip", "strip"),
        ("numeric", "min_sig_digits", 31, 30),
        ("math.steps", "approx_rel_tol", 1, 0.999),
        ("math.steps", "binding_window", -1, 0),
        ("length", "max_length", 0, 1e-9),
        ("bleu", "threshold", 1.0000001, 1),
        ("lean", "timeout", 0, 0.001),
        ("lean", "processes", 0, None),
        ("code", "alpha", -0.01, 0),
        ("choice", "choices", "ABCA", "ABCD"),
        ("choice", "choices", "abcd", "ABCD"),
        ("format", "tags", ["think", "think"], ["think", "answer"]),
        ("format", "tags", ["think answer"], ["think.answer"]),
        ("math.rule", "form", "decimals:", "decimals:2"),
        ("regex", "pattern", 3, "^x$"),
        ("judge", "template", "principles", "reference_grade"),
        ("judge", "max_length", 15, 16),
        ("exact", "strip", 0, False),
    ],
)
def test_near_misses(name, key, refused, accepted):
    with pytest.raises(OptionError, match=rf"^{name}: option {key!r}"):
        get_verifier(name, **{key: refused})
    assert get_verifier(name, **{key: accepted}).config[key] == accepted


def test_structured_options_say_what_is_wrong_inside():
    with pytest.raises(OptionError, match=r"^checklist: option 'items': item 1 needs exactly one kind"):
        get_verifier("checklist", items=[{"contain": "x"}])
    with pytest.raises(OptionError, match=r"^weighted: option 'components': components\[0\] weight must be"):
        get_verifier("weighted", components=[{"verifier": "numeric", "weight": -1}])
    with pytest.raises(OptionError, match=r"^code: option 'checker': unknown checker 'token'; known: tokens"):
        get_verifier("code", checker="token")
    with pytest.raises(OptionError, match=r"^judge\.principles: option 'principles': principle 2 must be"):
        get_verifier("judge.principles", principles=["polite", 3])
    assert get_verifier("checklist", items=[{"contains": "x"}]).config["items"] == [{"contains": "x"}]


def test_a_rule_between_options_stays_in_check_options():
    with pytest.raises(OptionError, match="'buffer' \\(6\\) must not exceed max_length \\(5\\)"):
        get_verifier("length", max_length=5, buffer=6)
    assert get_verifier("length", max_length=5, buffer=5).config["buffer"] == 5
    verdict = get_verifier("length", max_length=5).verify(Sample("x", metadata={"buffer": 6}))
    assert verdict.status is Status.ERROR and "must not exceed max_length" in verdict.reason


# -- the routine ---------------------------------------------------------------------------------------------------


def test_check_config_refuses_unknown_names_before_values():
    options = {"n": Option.integer(1, "a count")}
    with pytest.raises(OptionError, match=r"verifier 'v' does not take option\(s\) 'm'; its options are: n"):
        check_config("v", options, {"n": 0, "m": 1})
    with pytest.raises(OptionError, match=r"its options are: \(none\)"):
        check_config("v", {}, {"m": 1})
    check_config("v", options, {"n": 1})


def test_a_value_of_another_type_is_an_override_even_when_equal():
    """Attack: `{"strip": 1}` in a sample's metadata equals True: an equality test would wave it through unchecked."""
    assert changed({"strip": 1, "n": 2}, {"strip": True, "n": 2}) == {"strip": 1}
    assert changed({"x": 0.0}, {"x": 0}) == {"x": 0.0}
    assert changed({"x": 2}, {"x": 2}) == {}
    verdict = get_verifier("exact").verify(Sample(" 42", "42", metadata={"strip": 1}))
    assert verdict.status is Status.ERROR and "'strip' must be true or false, got 1" in verdict.reason
    assert get_verifier("exact").verify(Sample(" 42", "42", metadata={"strip": False})).status is Status.INCORRECT


def test_judge_backend_and_guards_cannot_come_from_a_sample():
    """Attack: a dataset column named `guards` (or `model`) would switch the guards off (or re-route the judge)."""
    judge = get_verifier("judge")
    opener = "Thought process:"  # what the guards refuse before any judge sees it
    assert get_verifier("judge", guards=False).verify(Sample(opener, "4")).status is Status.UNDECIDED  # call: honoured
    attacked = judge.verify(Sample(opener, "4", metadata={"guards": False}))
    assert attacked.status is Status.INCORRECT and attacked.reason.startswith("guard:")
    rerouted = Sample("So \\boxed{4}.", "4", metadata={"model": "/nowhere", "base_url": "http://x", "guards": False})
    assert judge.settings(rerouted) == judge.config
    assert judge.settings(Sample("x", "4", metadata={"threshold": 0.9}))["threshold"] == 0.9  # scoring: per sample


def test_describe_and_json_rows():
    assert Option.integer(1, "d").describe() == "a positive integer"
    assert Option.integer(None, "d", minimum=0, optional=True).describe() == "an integer >= 0 or None"
    assert Option.integer(3, "d", maximum=30).describe() == "an integer from 1 to 30"
    assert Option.number(0.5, "d", minimum=0, maximum=1).describe() == "a number in [0, 1]"
    assert Option.number(0.5, "d", minimum=0, below=1).describe() == "a number in [0, 1)"
    assert Option.number(1.0, "d", above=0).describe() == "a finite number > 0"
    assert Option.choice("a", "d", ["a", "b"]).describe() == "one of 'a', 'b'"
    assert Option(None, "d").describe() == ""
    rows = describe_options({"tags": Option(("a", "b"), "the tags"), "plain": object})
    assert rows[0] == {"name": "tags", "default": ["a", "b"], "doc": "the tags", "accepts": "any value",
                       "per_sample": True}  # fmt: skip
    assert rows[1]["default"] == repr(object) and rows[1]["doc"] == ""
    json.dumps(rows)


def test_a_huge_refused_value_is_shown_clipped():
    with pytest.raises(OptionError) as info:
        get_verifier("exact", strip="x" * 100_000)
    assert len(str(info.value)) < 400 and "100002 characters" in str(info.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.fractions(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(typed_options()), value=JSON)
def test_a_declaration_accepts_or_raises_option_error_never_anything_else(case, value):
    name, key, option = case
    try:
        option.check(name, key, value)
    except OptionError as exc:
        assert str(exc).startswith(f"{name}: option {key!r}")


# -- old style: a plain default -------------------------------------------------------------------------------------


class OldStyle(Verifier):
    """Test double: options as plain defaults, checked by the class's own check_options."""

    name = "test.old_style"
    options = {"limit": 3}

    @classmethod
    def check_options(cls, config):
        if not isinstance(config["limit"], int) or config["limit"] < 0:
            raise OptionError(f"{cls.name}: option 'limit' must be an integer >= 0, got {config['limit']!r}")

    def verify(self, sample: Sample) -> Verdict:
        config = self.resolve(sample)
        if isinstance(config, Verdict):
            return config
        return Verdict.from_bool(self.name, len(sample.response) <= config["limit"])


class OldStylePlugin:
    @hookimpl
    def register_verifiers(self, register):
        register(OldStyle)


def test_an_old_style_plugin_with_plain_defaults_still_works(register_plugin):
    register_plugin(OldStylePlugin())
    assert get_verifier(OldStyle.name).config == {"limit": 3}
    assert get_verifier(OldStyle.name, limit=5).verify(Sample("abcd")).status is Status.CORRECT
    assert OldStyle().verify(Sample("abcd")).status is Status.INCORRECT
    assert OldStyle().verify(Sample("abcd", metadata={"limit": 4})).status is Status.CORRECT
    bad = OldStyle().verify(Sample("abcd", metadata={"limit": -1}))
    assert bad.status is Status.ERROR and "'limit' must be an integer >= 0" in bad.reason
    with pytest.raises(OptionError, match="must be an integer >= 0"):
        OldStyle(limit="x")
    with pytest.raises(OptionError, match="does not take option"):
        OldStyle(limt=1)
    assert (
        repr(OldStyle(limit=5)) == "<OldStyle 'test.old_style' limit=5>"
        and repr(OldStyle()) == "<OldStyle 'test.old_style'>"
    )
    row = next(r for r in list_verifiers() if r["name"] == OldStyle.name)
    assert row["options"] == [{"name": "limit", "default": 3, "doc": "", "accepts": "any value", "per_sample": True}]
