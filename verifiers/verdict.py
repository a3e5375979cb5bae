"""The values every verifier speaks: `Sample` in, `Verdict` out.

All of them are frozen and JSON-safe, so a verdict can cross a process boundary, land in a
results file and come back unchanged (`Verdict.from_dict(v.to_dict()) == v`).
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Sample", "Status", "StepVerdict", "Verdict", "FrozenDict", "FrozenList", "json_safe", "DECIDED"]


class Status(str, enum.Enum):
    """How a verification ended.

    `UNDECIDED` means "this verifier cannot tell" (a cascade moves on); `ERROR` and `TIMEOUT` mean the
    verifier or its infrastructure failed and say nothing about the answer: they must never be read as 0.
    """

    CORRECT = "correct"
    INCORRECT = "incorrect"
    PARTIAL = "partial"
    UNDECIDED = "undecided"
    ERROR = "error"
    TIMEOUT = "timeout"

    @property
    def is_failure(self) -> bool:
        """True for outcomes that are infrastructure failures, not judgements of the answer."""
        return self in (Status.ERROR, Status.TIMEOUT)

    @property
    def is_decided(self) -> bool:
        """True when the verdict is a judgement of the answer (correct, incorrect or partial)."""
        return self in DECIDED

    def __str__(self) -> str:
        return self.value


DECIDED = frozenset({Status.CORRECT, Status.INCORRECT, Status.PARTIAL})


def json_safe(value: Any, *, _depth: int = 0) -> Any:
    """Return `value` as plain JSON data (dict/list/str/int/float/bool/None).

    Tuples and sets become lists, mapping keys become strings, non-finite floats become strings and anything
    else becomes its `repr`. Used for evidence so a verdict can always be written out.
    """
    if _depth > 64:
        return "<nested too deep>"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value, _depth=_depth + 1)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, _depth=_depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [json_safe(v, _depth=_depth + 1) for v in value]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return repr(value)


class FrozenDict(dict[str, Any]):
    """A read-only `dict`: what `Verdict.evidence` and `Verdict.aspects` are.

    A real `dict` subclass, so `json.dumps(verdict.evidence)` works as it does for any JSON data, while every
    mutating method raises, so a verdict cannot change after the fact. Unhashable, like `dict`.
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "a verdict's evidence and aspects are read-only; copy with dict(...) or make a new verdict with "
            "verdict.replace(evidence=...)"
        )

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy rebuild it whole (item by item would raise)
        return (type(self), (dict(self),))


class FrozenList(list[Any]):
    """A read-only `list`: the lists inside `Verdict.evidence`. Equal to a `list` with the same items."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a verdict's evidence is read-only; copy with list(...) to change a list in it")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = clear = extend = insert = pop = remove = reverse = sort = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))


def _frozen_json(value: Any) -> Any:
    """`value` (plain JSON data, as `json_safe` returns it) with every dict and list made read-only."""
    if isinstance(value, dict):
        return FrozenDict({k: _frozen_json(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList(_frozen_json(v) for v in value)
    return value


def _batch_size(value: Any) -> int:
    """A verdict's `batch_size`: a whole number >= 1; anything else reads as 1 (timed on its own), as a bad
    `elapsed_s` reads as 0 (not timed): timing must never cost the verdict."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 1
    return int(value) if value >= 1 and value == int(value) else 1


def _check_score(score: Any, where: str) -> float:
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise TypeError(f"{where}: score must be a number in [0, 1], got {score!r}")
    score = float(score)
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise ValueError(f"{where}: score must be a finite number in [0, 1], got {score!r}")
    return score


def _freeze(mapping: Mapping[str, Any] | None) -> FrozenDict:
    """Evidence as read-only JSON data: `json.dumps` takes it as it is, nothing can change it."""
    frozen: FrozenDict = _frozen_json(json_safe(dict(mapping or {})))
    return frozen


@dataclass(frozen=True)
class Sample:
    """One thing to verify: the model's `response` and what it is checked against.

    `reference` is whatever the domain needs (a gold answer, a test suite, a theorem statement).
    `metadata` carries per-sample verifier options (they win over call options) and free-form data.
    """

    response: str
    reference: Any = None
    prompt: str | None = None
    domain: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None

    def __post_init__(self) -> None:
        response = self.response
        if isinstance(response, bytes):
            response = response.decode("utf-8", errors="replace")
        elif response is None:
            response = ""
        elif not isinstance(response, str):
            response = str(response)
        object.__setattr__(self, "response", response)
        if self.prompt is not None and not isinstance(self.prompt, str):
            object.__setattr__(self, "prompt", str(self.prompt))
        if self.id is not None and not isinstance(self.id, str):
            object.__setattr__(self, "id", str(self.id))
        if not isinstance(self.metadata, Mapping):
            raise TypeError(f"Sample.metadata must be a mapping, got {type(self.metadata).__name__}")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __reduce__(self) -> tuple[Any, ...]:  # mapping proxies do not pickle; rebuild from plain values
        return (Sample, (self.response, self.reference, self.prompt, self.domain, dict(self.metadata), self.id))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "response": self.response,
            "reference": json_safe(self.reference),
            "prompt": self.prompt,
            "domain": self.domain,
            "metadata": json_safe(dict(self.metadata)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample:
        return cls(
            response=data.get("response", ""),
            reference=data.get("reference"),
            prompt=data.get("prompt"),
            domain=data.get("domain"),
            metadata=data.get("metadata") or {},
            id=data.get("id"),
        )

    def fingerprint(self) -> str:
        """A stable content hash (the id is not part of it: equal content verifies equally)."""
        payload = self.to_dict()
        payload.pop("id")
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8", errors="surrogatepass")).hexdigest()


@dataclass(frozen=True)
class StepVerdict:
    """The verdict on one unit inside a sample: a unit test, a proof step, a reasoning step, a checklist item."""

    name: str
    status: Status
    score: float = 0.0
    weight: float = 1.0
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "score", _check_score(self.score, f"step {self.name!r}"))
        weight = float(self.weight)
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"step {self.name!r}: weight must be finite and >= 0, got {self.weight!r}")
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "detail", str(self.detail))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "score": self.score,
            "weight": self.weight,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepVerdict:
        return cls(
            name=data["name"],
            status=Status(data["status"]),
            score=data.get("score", 0.0),
            weight=data.get("weight", 1.0),
            detail=data.get("detail", ""),
        )


@dataclass(frozen=True)
class Verdict:
    """What a verifier concluded about one sample. `score` is the reward in [0, 1].

    `elapsed_s` and `batch_size` are timing, not part of what was concluded (they are not compared): `elapsed_s`
    is the seconds spent on this sample, or, when `batch_size` > 1, an even share of one call that verified
    `batch_size` samples together (a model judge's batch), which says nothing about this sample alone.
    """

    status: Status
    score: float
    verifier: str
    reason: str = ""
    steps: tuple[StepVerdict, ...] = ()
    aspects: Mapping[str, float] = field(default_factory=dict)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    elapsed_s: float = field(default=0.0, compare=False)
    batch_size: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "score", _check_score(self.score, f"verdict of {self.verifier!r}"))
        object.__setattr__(self, "verifier", str(self.verifier))
        object.__setattr__(self, "reason", str(self.reason))
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, StepVerdict):
                raise TypeError(f"Verdict.steps must hold StepVerdict objects, got {type(step).__name__}")
        object.__setattr__(self, "steps", steps)
        aspects = {str(k): _check_score(v, f"aspect {k!r}") for k, v in dict(self.aspects).items()}
        object.__setattr__(self, "aspects", FrozenDict(aspects))
        object.__setattr__(self, "evidence", _freeze(self.evidence))
        elapsed = float(self.elapsed_s)
        object.__setattr__(self, "elapsed_s", elapsed if math.isfinite(elapsed) and elapsed >= 0 else 0.0)
        object.__setattr__(self, "batch_size", _batch_size(self.batch_size))

    def __reduce__(self) -> tuple[Any, ...]:  # rebuild from plain values (frozen containers refuse item-wise)
        aspects, evidence = dict(self.aspects), dict(self.evidence)
        return (Verdict, (self.status, self.score, self.verifier, self.reason, self.steps, aspects, evidence,
                          self.elapsed_s, self.batch_size))  # fmt: skip

    # -- constructors for the common outcomes -------------------------------------------------------------
    @classmethod
    def correct(cls, verifier: str, reason: str = "", **fields: Any) -> Verdict:
        return cls(Status.CORRECT, fields.pop("score", 1.0), verifier, reason, **fields)

    @classmethod
    def incorrect(cls, verifier: str, reason: str = "", **fields: Any) -> Verdict:
        return cls(Status.INCORRECT, fields.pop("score", 0.0), verifier, reason, **fields)

    @classmethod
    def undecided(cls, verifier: str, reason: str = "", **fields: Any) -> Verdict:
        return cls(Status.UNDECIDED, 0.0, verifier, reason, **fields)

    @classmethod
    def error(cls, verifier: str, reason: str, **fields: Any) -> Verdict:
        return cls(Status.ERROR, 0.0, verifier, reason, **fields)

    @classmethod
    def timeout(cls, verifier: str, reason: str, **fields: Any) -> Verdict:
        return cls(Status.TIMEOUT, 0.0, verifier, reason, **fields)

    @classmethod
    def from_bool(cls, verifier: str, ok: bool, reason: str = "", **fields: Any) -> Verdict:
        return cls.correct(verifier, reason, **fields) if ok else cls.incorrect(verifier, reason, **fields)

    # -- queries ----------------------------------------------------------------------------------------
    @property
    def is_correct(self) -> bool:
        return self.status is Status.CORRECT

    @property
    def reward(self) -> float | None:
        """The score when the verdict judged the answer; None for UNDECIDED, ERROR and TIMEOUT."""
        return self.score if self.status.is_decided else None

    def replace(self, **changes: Any) -> Verdict:
        data: dict[str, Any] = {
            "status": self.status,
            "score": self.score,
            "verifier": self.verifier,
            "reason": self.reason,
            "steps": self.steps,
            "aspects": dict(self.aspects),
            "evidence": dict(self.evidence),
            "elapsed_s": self.elapsed_s,
            "batch_size": self.batch_size,
        }
        data.update(changes)
        return Verdict(**data)

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_dict(self, *, timing: bool = True) -> dict[str, Any]:
        """The verdict as plain JSON data. `timing=False` leaves out `elapsed_s` and `batch_size`: only what was
        concluded, for comparing verdicts or embedding one in another's evidence (equal input, equal data).

        `batch_size` is written only when it is not 1, so verdicts timed one by one keep their old shape.
        """
        data: dict[str, Any] = {
            "status": self.status.value,
            "score": self.score,
            "verifier": self.verifier,
            "reason": self.reason,
            "steps": [s.to_dict() for s in self.steps],
            "aspects": dict(self.aspects),
            "evidence": json_safe(dict(self.evidence)),
        }
        if timing:
            data["elapsed_s"] = self.elapsed_s
            if self.batch_size != 1:
                data["batch_size"] = self.batch_size
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            status=Status(data["status"]),
            score=data["score"],
            verifier=data["verifier"],
            reason=data.get("reason", ""),
            steps=tuple(StepVerdict.from_dict(s) for s in data.get("steps", ())),
            aspects=data.get("aspects") or {},
            evidence=data.get("evidence") or {},
            elapsed_s=data.get("elapsed_s", 0.0),
            batch_size=data.get("batch_size", 1),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        return cls.from_dict(json.loads(text))
