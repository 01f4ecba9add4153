"""Problems in a routing rules file, in words an administrator can act on (`rules check`)."""

from __future__ import annotations

from services.routing.config import Projects, RoutingRules, Rule, parse_routing_rules


def _always_matches(rule: Rule, projects: Projects) -> bool:
    """Whether the rule takes every case that meets its conditions (it never falls through)."""
    if rule.outcome is not None:
        return True
    project = projects.get(rule.then)
    return (
        project is not None
        and project.receives_referrals
        and project.capacity is None
        and rule.when.project_has_capacity is None
    )


def check_rules(rules: RoutingRules, projects: Projects) -> list[str]:
    """Unknown projects, rules that an earlier rule always shadows, and a missing catch-all."""
    problems: list[str] = []
    known = ", ".join(p.id for p in projects)
    for rule in rules:
        if rule.project is not None and rule.project not in projects:
            problems.append(
                f"rule {rule.id}: then: unknown project {rule.project} (known: {known})"
            )
        limited = rule.when.project_has_capacity
        if limited is not None and limited not in projects:
            problems.append(
                f"rule {rule.id}: when.project_has_capacity: unknown project {limited} "
                f"(known: {known})"
            )
    for index, later in enumerate(rules.rules):
        for earlier in rules.rules[:index]:
            if _always_matches(earlier, projects) and earlier.when.implied_by(later.when):
                needs = earlier.when.items()
                why = f"needs only {earlier.when.describe()}" if needs else "has no conditions"
                problems.append(
                    f"rule {later.id}: can never be reached: rule {earlier.id} comes first, "
                    f"{why} and always matches"
                )
                break
    if rules.rules:
        last = rules.rules[-1]
        if last.when.items() or not _always_matches(last, projects):
            problems.append(
                f"rule {last.id}: the last rule is not a catch-all (empty `when` and a project "
                "in uitvoering without capacity limit, or an outcome): some cases match no rule"
            )
    return problems


def check_rules_document(data: dict[str, object], projects: Projects, source: str) -> list[str]:
    """Every problem of a parsed TOML document: invalid rules (naming rule id and field, and
    the known condition fields) and then ``check_rules`` over the valid ones."""
    version, rules, problems = parse_routing_rules(data, source)
    ids = [rule.id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"{source}: rule id(s) used twice: {', '.join(duplicates)}")
        return problems
    if rules:
        problems.extend(
            f"{source}: {p}" for p in check_rules(RoutingRules(version or "?", rules), projects)
        )
    return problems
