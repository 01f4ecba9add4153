"""Benchmark the routing decision: ``python -m bench.routing [--decisions N] [--seed S]``.

Times ``services.routing.route`` (a pure function) over N generated, varied case facts with the
shipped configuration and prints decisions/s next to the target of issue 4 (>= 20,000/s).
The facts are generated before the clock starts, so only routing is measured.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from services.routing import CaseFacts, load_projects, load_routing_rules, load_wijken, route

TARGET_PER_SECOND = 20_000
CONFIG = Path(__file__).resolve().parents[1] / "config"
AGE_BANDS = ("0-17", "18-27", "28-44", "45-66", "67+", None)
EARLIER = (
    Outcome.NO_CONTACT,
    Outcome.NO_RESPONSE_AFTER_CONTACT,
    Outcome.ADVICE_OR_QUICK_FIX,
    Outcome.NO_HELP_NEEDED,
)


def generate(count: int, seed: int) -> list[CaseFacts]:
    """Facts that reach every default rule: mostly plain cases, like a real month."""
    rng = random.Random(seed)
    types = list(PartnerType)
    result: list[CaseFacts] = []
    for _ in range(count):
        partner_types = frozenset(rng.sample(types, k=rng.choices((1, 2, 3), (80, 15, 5))[0]))
        kinds = frozenset(
            {SignalKind.FINAL_DELIVERY_SIGNAL if rng.random() < 0.03 else SignalKind.EARLY_SIGNAL}
        )
        result.append(
            CaseFacts(
                gemeentecode="0141",
                # 7600-7612: a few PC4s lie outside Almelo's wijken.
                pc4=str(7600 + rng.randrange(13)),
                partner_types=partner_types,
                kinds=kinds,
                total_amount=Decimal(rng.randrange(2_000, 500_000)) / 100,
                crisis=rng.random() < 0.02,
                warm_handover=rng.random() < 0.03,
                age_band=rng.choice(AGE_BANDS),
                earlier_outcomes=tuple(rng.sample(EARLIER, k=rng.choices((0, 1), (85, 15))[0])),
                project_load={"doorbraakmethode": rng.randrange(300, 400)},
            )
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    projects = load_projects(CONFIG)
    wijken = load_wijken(CONFIG, projects)
    rules = load_routing_rules(CONFIG / "routing.toml")
    cases = generate(args.decisions, args.seed)

    started = time.perf_counter()
    decisions = [route(case, rules, projects, wijken) for case in cases]
    elapsed = time.perf_counter() - started

    per_second = len(decisions) / elapsed
    console = Console()
    mix = Table(title=f"{len(decisions):,} routing decisions by rule")
    mix.add_column("rule")
    mix.add_column("decisions", justify="right")
    for rule_id, count in Counter(d.rule_id for d in decisions).most_common():
        mix.add_row(rule_id, f"{count:,}")
    console.print(mix)
    verdict = "meets" if per_second >= TARGET_PER_SECOND else "MISSES"
    console.print(
        f"routing: {per_second:,.0f} decisions/s ({elapsed:.2f} s) — "
        f"target ≥ {TARGET_PER_SECOND:,}/s: {verdict}"
    )


if __name__ == "__main__":
    main()
