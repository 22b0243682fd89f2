"""Token accounting over every stored call of a run, by agent and by stage."""

from __future__ import annotations

from c2v.case import CallRecord
from c2v.models import TokenTotals, TokenUsage


def token_totals(calls: list[CallRecord]) -> TokenTotals:
    by_agent: dict[str, TokenUsage] = {}
    by_stage: dict[str, TokenUsage] = {}
    total = TokenUsage()
    for call in calls:
        for reply in call.replies:
            total = total + reply.usage
            by_agent[call.tag.agent] = by_agent.get(call.tag.agent, TokenUsage()) + reply.usage
            stage = f"{call.tag.agent}.{call.tag.stage}"
            by_stage[stage] = by_stage.get(stage, TokenUsage()) + reply.usage
    return TokenTotals(
        input=total.input, output=total.output, total=total.total, by_agent=by_agent, by_stage=by_stage
    )
