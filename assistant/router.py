"""The ``auto`` route's decision: which of naive, agentic, finetuned or hybrid answers a question.

    signals = Signals(confidence=0.41, threshold=0.55, top_sources=["hr/leave.md"], adapter="hr-v1",
                      changed_sources=["hr/leave.md"], multi_part=False)
    decide(signals)  # Decision(route="agentic", reason="the adapter hr-v1 was trained before hr/leave.md changed ...")

Transparent rules, in the order below; each decision names the signal that made it. The numbers
they compare come from the collection itself: ``threshold`` is the collection's calibrated
retrieval gate (``assistant.calibration``), so "the index holds a good match" means what the
collection's own made questions showed it to mean, not a constant fitted to one corpus.

1. No index for the collection: the fine-tuned model if an adapter exists, else the bare model.
2. The best-matching documents changed (or were deleted) after the adapter's training snapshot:
   never the fine-tuned model alone, and not the hybrid either (its weights hold the old fact);
   the RAG routes answer.
3. The question has two parts ("Who ... and when ...?", ``rag.agentic.nodes.decompose``): agentic,
   which retrieves for each part, unless the latency budget is below what agentic costs.
4. Retrieval confidence below the collection's threshold: the index likely lacks the answer. An
   adapter that is not stale and *knows its facts* answers from its weights (finetuned);
   otherwise agentic rewrites the question and retries (or naive abstains, within a tight budget).
5. Confident retrieval: the adapter learned the best-matching document, it is unchanged and the
   adapter knows its facts -> hybrid (the fine-tuned model reads the retrieved context, as RAFT
   trains it to); otherwise naive, the cheapest grounded route.

"Knows its facts" is measured, not assumed: the share of held-out wordings of its trained facts
(else of its trained questions) the adapter answered right when its training ended
(``finetune.recall``), at least ``KNOWS`` = 0.5, i.e. an answer from the weights is more likely right
than wrong. An adapter without that measurement (trained before it existed) does not answer alone.
Before this rule, the quick preset's adapter (recall near 0: it teaches the answer form) took every
low-confidence question and got 0 of 19 right (benchmarks/RESULTS.md, bench_router).

The latency budget (``--budget-s``) compares with each route's typical cost on 2 cores with the
default model, from benchmarks/RESULTS.md (bench_rag, p50): naive 0.4-1.3 s, agentic 0.6-2.4 s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# p50 seconds on 2 cores with the default model (benchmarks/RESULTS.md, bench_rag): the agentic
# route's graph costs up to about twice the naive route's single pass.
AGENTIC_COST_S = 2.5
# An answer from the weights must be more likely right than wrong (see the module docstring).
KNOWS = 0.5


@dataclass(frozen=True)
class Signals:
    indexed: bool = True  # the collection has an index to retrieve from
    confidence: float | None = None  # the calibrated gate's score for the question
    threshold: float | None = None  # the collection's calibrated gate threshold
    margin: float | None = None  # best sentence score minus the best from another document
    top_sources: list[str] = field(default_factory=list)  # documents of the best sentences, best first
    adapter: str | None = None  # the adapter the fine-tuned routes would use (None: none trained)
    adapter_sources: list[str] = field(default_factory=list)  # documents its dataset was built from
    changed_sources: list[str] = field(default_factory=list)  # of those, changed or deleted since training
    adapter_recall: float | None = None  # share of its trained facts it recalled at training's end (None: not measured)
    adapter_recall_on: str = "not measured"  # which questions that share is over
    multi_part: bool = False  # the question asks two things
    budget_s: float | None = None  # the caller's latency budget

    @property
    def confident(self) -> bool:
        return self.confidence is not None and self.threshold is not None and self.confidence >= self.threshold

    @property
    def adapter_knows(self) -> bool:
        return self.adapter is not None and self.adapter_recall is not None and self.adapter_recall >= KNOWS

    def recall_text(self) -> str:
        if self.adapter_recall is None:
            return f"the adapter {self.adapter}'s recall of its facts was not measured (retrain it to measure)"
        return f"the adapter {self.adapter} recalled {self.adapter_recall:.0%} of {self.adapter_recall_on} (below {KNOWS:.0%})"

    @property
    def stale_for_question(self) -> list[str]:
        """Changed training documents among the question's best-matching ones."""
        return [s for s in self.top_sources if s in self.changed_sources]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["confident"] = self.confident
        return out


@dataclass(frozen=True)
class Decision:
    route: str
    reason: str  # one sentence that names the signal
    signals: Signals
    retrieval_s: float = 0.0  # what reading the signals cost in retrieval (the rest is the decision itself)

    def to_step(self, seconds: float) -> dict:
        return {"step": "router", "chosen": self.route, "reason": self.reason, "signals": self.signals.to_dict(),
                "seconds": round(seconds, 4), "retrieval_s": round(self.retrieval_s, 4)}


def _name(source: str) -> str:
    return source.rsplit("/", 1)[-1]


def decide(s: Signals) -> Decision:
    fits_agentic = s.budget_s is None or s.budget_s >= AGENTIC_COST_S
    if not s.indexed:
        if s.adapter:
            return Decision("finetuned", f"the collection has no index, so the fine-tuned adapter {s.adapter} answers", s)
        return Decision("base", "the collection has no index and no adapter is trained: the bare model answers", s)
    stale = s.stale_for_question
    if s.adapter and stale:
        route = "agentic" if s.multi_part and fits_agentic else "naive"
        return Decision(route, f"the adapter {s.adapter} was trained before {_name(stale[0])} changed, so the fine-tuned "
                               "model is stale for this question: answered from the index", s)
    if s.multi_part and fits_agentic:
        return Decision("agentic", "the question asks two things: agentic retrieves for each part", s)
    conf = f"{s.confidence:.2f}" if s.confidence is not None else "?"
    thr = f"{s.threshold:.2f}" if s.threshold is not None else "?"
    if not s.confident:
        if s.adapter_knows and not s.changed_sources:
            return Decision("finetuned", f"retrieval confidence {conf} is below the collection's threshold {thr}: the index "
                                         f"holds no good match, so the fine-tuned adapter {s.adapter} answers from its weights "
                                         f"(it recalled {s.adapter_recall:.0%} of {s.adapter_recall_on})", s)
        why = f"; {s.recall_text()}, so not from its weights" if s.adapter and not s.changed_sources else ""
        if fits_agentic:
            return Decision("agentic", f"retrieval confidence {conf} is below the collection's threshold {thr}: agentic "
                                       f"rewrites the question and retries{why}", s)
        return Decision("naive", f"retrieval confidence {conf} is below the threshold {thr} and the budget leaves no time "
                                 "to retry: naive answers or declines", s)
    learned = s.adapter and s.top_sources and s.top_sources[0] in s.adapter_sources
    if learned and s.adapter_knows:
        return Decision("hybrid", f"confident retrieval ({conf} >= {thr}) from {_name(s.top_sources[0])}, which the adapter "
                                  f"{s.adapter} learned (recalling {s.adapter_recall:.0%} of {s.adapter_recall_on}) and which "
                                  "has not changed: the fine-tuned model reads the context", s)
    why = f"; {s.recall_text()}, so not the hybrid" if learned else ""
    return Decision("naive", f"confident retrieval ({conf} >= {thr}): naive answers from the best sentences{why}", s)
