"""Price table for cost estimates: US dollars per million input and output tokens.

The built-in figures are public list prices for standard (non-batch, non-cached) requests,
as of late 2025 (the Claude 5.x entries: December 2026, from Anthropic's model pages);
providers change them, and Azure deployments or proxies may bill differently. Override or
extend them in ``api_config.json`` under ``"prices"``. A model is matched by its exact name,
else by the longest table entry its name starts with, so a dated name
(``gpt-4.1-2025-04-14``) finds ``gpt-4.1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import Field

from c2v.models import Strict, TokenUsage


class LongPrompt(Strict):
    """The rates of a call whose prompt has more than ``over`` input tokens."""

    over: int = Field(gt=0)
    input: float = Field(ge=0)
    output: float = Field(ge=0)


class Price(Strict):
    """US dollars per million tokens; ``long_prompt`` for models billed in tiers by prompt length."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    long_prompt: LongPrompt | None = None

    def cost(self, usage: TokenUsage) -> float:
        """The cost of one call's ``usage`` (a tier applies to a call, not to a sum of calls)."""
        rates: Price | LongPrompt = self
        if self.long_prompt is not None and usage.input > self.long_prompt.over:
            rates = self.long_prompt
        return (usage.input * rates.input + usage.output * rates.output) / 1_000_000


DEFAULT_PRICES: dict[str, Price] = {
    name: Price(input=i, output=o)
    for name, (i, o) in {
        "offline-transcript": (0.0, 0.0),
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "gpt-5": (1.25, 10.00),
        "gpt-5-mini": (0.25, 2.00),
        "gpt-5-nano": (0.05, 0.40),
        "gpt-5-chat": (1.25, 10.00),
        "gpt-5.1": (1.25, 10.00),
        "o4-mini": (1.10, 4.40),
        "gemini-2.5-pro": (1.25, 10.00),
        "gemini-2.5-flash": (0.30, 2.50),
        "gemini-2.5-flash-lite": (0.10, 0.40),
        "claude-fable-5-1": (10.00, 50.00),
        "claude-opus-5-5": (4.00, 20.00),
        "claude-opus-5": (5.00, 25.00),
        "claude-sonnet-5-5": (2.00, 10.00),
        "claude-sonnet-5": (2.00, 10.00),
        "claude-opus-4-8": (5.00, 25.00),
        "claude-opus-4-5": (5.00, 25.00),
        "claude-opus-4-1": (15.00, 75.00),
        "claude-sonnet-4-5": (3.00, 15.00),
        "claude-sonnet-4": (3.00, 15.00),
        "claude-haiku-4-5": (1.00, 5.00),
    }.items()
}
#: Up to 100,000 prompt tokens $0.10 / $0.50, above that $0.50 / $2.50.
DEFAULT_PRICES["claude-haiku-5-5"] = Price(
    input=0.10, output=0.50, long_prompt=LongPrompt(over=100_000, input=0.50, output=2.50)
)


P = TypeVar("P")


def match_model(model: str, table: Mapping[str, P]) -> P | None:
    """``model``'s row of a table keyed by model name: exact name first, then the longest prefix."""
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name)]
    return table[max(prefixes, key=len)] if prefixes else None
