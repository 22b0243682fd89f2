"""Token accounting over every stored call of a run, by agent, stage and model, with costs."""

from __future__ import annotations

from collections.abc import Mapping

from c2v.case import CallRecord
from c2v.llm.prices import DEFAULT_PRICES, Price, match_model
from c2v.models import TokenTotals, TokenUsage


def token_totals(calls: list[CallRecord], prices: Mapping[str, Price] | None = None) -> TokenTotals:
    """Sum every reply of ``calls`` (repairs and re-asks included) and estimate its cost."""
    table = DEFAULT_PRICES if prices is None else prices
    by_agent: dict[str, TokenUsage] = {}
    by_stage: dict[str, TokenUsage] = {}
    by_model: dict[str, TokenUsage] = {}
    cost_by_agent: dict[str, float] = {}
    cost_by_stage: dict[str, float] = {}
    unpriced: set[str] = set()
    total = TokenUsage()
    for call in calls:
        stage = f"{call.tag.agent}.{call.tag.stage}"
        for reply in call.replies:
            total = total + reply.usage
            by_agent[call.tag.agent] = by_agent.get(call.tag.agent, TokenUsage()) + reply.usage
            by_stage[stage] = by_stage.get(stage, TokenUsage()) + reply.usage
            by_model[reply.model] = by_model.get(reply.model, TokenUsage()) + reply.usage
            price = match_model(reply.model, table)
            if price is None:
                unpriced.add(reply.model)
                continue
            cost = price.cost(reply.usage)
            cost_by_agent[call.tag.agent] = cost_by_agent.get(call.tag.agent, 0.0) + cost
            cost_by_stage[stage] = cost_by_stage.get(stage, 0.0) + cost
    return TokenTotals(
        input=total.input,
        output=total.output,
        total=total.total,
        by_agent=by_agent,
        by_stage=by_stage,
        by_model=by_model,
        cost_usd=_usd(sum(cost_by_agent.values())),
        cost_by_agent={k: _usd(v) for k, v in cost_by_agent.items()},
        cost_by_stage={k: _usd(v) for k, v in cost_by_stage.items()},
        unpriced_models=sorted(unpriced),
    )


def _usd(value: float) -> float:
    return round(value, 6)
