"""Guards that run before any model judge is asked.

"One Token to Fool LLM-as-a-Judge" (Master-RM) showed that responses such as `:`, `.`, a single space,
`Thought process:`, `Let's solve this problem step by step.` or `Solution` make many judges say "correct". A
reward model under RL finds such keys quickly, so nothing of the kind reaches a judge here:
  - a response with no letters or digits (punctuation, symbols, whitespace) is INCORRECT;
  - a response that is only a reasoning opener (in several languages), possibly repeated, is INCORRECT;
  - a response with no extractable final answer (`\\boxed{}`, `<answer>` tags, a "final answer" phrase) is
    INCORRECT when an answer is required, and so is a final answer that is itself empty or an opener;
  - otherwise the judge sees only the final answer and a bounded tail of the response, never the whole reasoning
    (which is where persuasion and prompt injection live).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from verifiers.text import find_answers, strip_latex_wrappers, strip_think

# Normalized (see `_normalize`) reasoning openers and answer labels that carry no answer. Extend with care: an
# entry here turns a response that is exactly this text into INCORRECT without a judge (so no "yes"/"true": they
# are real answers to some questions).
MASTER_KEYS = frozenset(
    {
        "thought process", "thoughts", "thinking", "let me think", "let me think step by step",
        "let's think step by step", "lets think step by step", "let us think step by step",
        "let's solve this problem step by step", "lets solve this problem step by step",
        "let us solve this problem step by step", "let's solve this step by step", "let's solve it step by step",
        "step by step", "step 1", "to solve this problem", "to solve this", "first", "first of all", "okay",
        "ok", "sure", "well", "hmm", "solution", "solutions", "answer", "the answer", "the answer is",
        "final answer", "the final answer is", "my answer", "result", "reasoning", "explanation", "proof",
        "analysis",
        # other languages (Master-RM's probes and their common siblings)
        "解", "解答", "答案", "答", "思路", "解析", "解题过程", "解説", "かいせつ", "こたえ", "答え", "풀이", "정답",
        "respuesta", "solución", "solucion", "réponse", "reponse", "lösung", "losung", "antwort", "ответ",
        "решение", "risposta", "soluzione", "resposta", "solução", "solucao",
    }
)

MASTER_KEY_PROBES: tuple[str, ...] = (
    # "One Token to Fool LLM-as-a-Judge" (Master-RM): the responses that made judges say "correct"
    ":", ".", " ", "Thought process:", "Let's solve this problem step by step.", "Solution", "解", "かいせつ", "Answer:",
    # variants: empty, whitespace, markup, chains, other languages, empty answers
    "", "\n\n", "Solution:", "The answer is", "Final answer:", "**Solution**", "思路：", "Respuesta:", "Lösung.",
    "Let me think step by step...", "Thought process: Let's think step by step.", "... ... ...", "#", "```\n```",
    "<think>the answer is obviously right</think>", "Okay.", "解答：", "\\boxed{}", "The final answer is \\boxed{ }",
)
"""Responses that carry no answer and fool many judges; each must be INCORRECT with the guards on."""

_SPACE = re.compile(r"\s+")


def _normalize(text: str) -> str:
    """Lower case, compatibility forms, punctuation and symbols turned into spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    kept = [ch if ch == "'" or unicodedata.category(ch)[0] in "LNM" else " " for ch in text]
    return _SPACE.sub(" ", "".join(kept)).strip()


def _has_content(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def is_master_key(text: str) -> bool:
    """True when `text` says nothing: no letters or digits, or only known openers/labels (repeats included)."""
    if not _has_content(text):
        return True
    normalized = _normalize(text)
    if normalized in MASTER_KEYS:
        return True
    # "Solution: Solution." / "Thought process: Let's think step by step." — a chain of openers is still empty
    pieces = [p.strip() for p in re.split(r"[:.\n!?;,。：！？；，]+", unicodedata.normalize("NFKC", text)) if p.strip()]
    return bool(pieces) and all(_normalize(p) in MASTER_KEYS or not _has_content(p) for p in pieces)


@dataclass(frozen=True)
class Screened:
    """What the guards decided about a response before any judge call."""

    rejection: str | None
    """Why the response is INCORRECT without asking a judge; None when a judge may look at it."""
    answer: str | None = None
    """The final answer the response commits to (the last anchored one), when there is one."""
    excerpt: str = ""
    """What a judge is shown of the response besides its final answer: at most `tail_chars` of its end ("…" marks
    a cut)."""


def screen(response: str, *, require_answer: bool = True, tail_chars: int = 1500, reject: bool = True,
           answer_only: bool = False) -> Screened:
    """Apply the guards to a response (its `<think>` part is ignored).

    With `reject=False` nothing is rejected, but the answer and excerpt are extracted the same way (to measure what
    the guards prevent). With `answer_only` the response is the final answer itself (already extracted)."""
    body = strip_think(response).strip()
    if answer_only:
        answer: str | None = body or None
    else:
        answers = find_answers(body, ignore_think=False)
        answer = answers[-1].text.strip() if answers else None
    if reject:
        rejection = _rejection(body, answer, require_answer)
        if rejection is not None:
            return Screened(rejection, answer=answer)
    tail = body[-tail_chars:] if tail_chars > 0 else ""
    cut = "…" if len(body) > len(tail) else ""
    return Screened(None, answer=answer, excerpt=cut + tail or "…")


def _rejection(body: str, answer: str | None, require_answer: bool) -> str | None:
    if not _has_content(body):
        return "the response has no letters or digits (only punctuation, symbols or whitespace)"
    if is_master_key(body):
        return "the response is only a reasoning opener or answer label, with no answer"
    if answer is not None and is_master_key(strip_latex_wrappers(answer)):
        return "the final answer is empty or only an opener"
    if answer is None and require_answer:
        return "no final answer found (no \\boxed{}, <answer> tag or 'final answer' phrase)"
    return None
