"""A third-party plugin that uses only the public API."""

from verifiers import Verdict, Verifier, hookimpl


class Palindrome(Verifier):
    """The response reads the same backwards (ignoring case and spaces)."""

    name = "palindrome"
    domains = ("palindromes",)

    def verify(self, sample):
        text = "".join(sample.response.lower().split())
        return Verdict.from_bool(self.name, bool(text) and text == text[::-1], evidence={"normalized": text})


@hookimpl
def register_verifiers(register):
    register(Palindrome)
