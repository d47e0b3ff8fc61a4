"""README's code tables and the code agree: quantumleap/codes.py defines each code once (issue 11, defect 9)."""

import ast
import re
from pathlib import Path

from quantumleap import codes

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "Error answers": codes.ERRORS,
    "Signal refusals": codes.SIGNAL_REFUSALS,
    "Risk checks before every order": codes.RISK_CHECKS,
    "Order refusals": codes.ORDER_REFUSALS,
    "Strategy refusals": codes.STRATEGY_REFUSALS,
}


def readme_code_tables() -> dict[str, list[list[str]]]:
    """Each README table whose first column is `code`, as rows of cells, under the heading above it."""
    tables: dict[str, list[list[str]]] = {}
    heading, rows = "", None
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if rows is None and cells[0] == "code":
                rows = tables.setdefault(heading, [])
            elif rows is not None and not set(cells[0]) <= {"-"}:
                rows.append(cells)
        else:
            rows = None
    return tables


def codes_in(cell: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", cell)


def test_every_readme_code_table_is_a_registry_family():
    tables = readme_code_tables()
    found = {next(family for family in TABLES if heading.startswith(family)) for heading in tables}
    assert found == set(TABLES), sorted(tables)


def test_each_readme_table_lists_exactly_its_family():
    for heading, rows in readme_code_tables().items():
        family = TABLES[next(name for name in TABLES if heading.startswith(name))]
        listed = [code for row in rows for code in codes_in(row[0])]
        assert len(listed) == len(set(listed)), f"{heading}: a code listed twice"
        assert set(listed) == set(family), f"{heading}: README {sorted(set(listed) ^ set(family))} differ"


def test_readme_gives_each_error_its_status():
    rows = next(rows for heading, rows in readme_code_tables().items() if heading.startswith("Error answers"))
    assert {codes_in(row[0])[0]: int(row[1]) for row in rows} == {code: s for code, (s, _) in codes.ERRORS.items()}


def test_a_code_means_one_thing():
    names = [code for family in codes.FAMILIES.values() for code in family]
    assert len(names) == len(set(names))
    assert all(codes.meaning(code) for code in names)


def _codes_raised(tree: ast.AST) -> set[str]:
    """Codes the source hands to refusals: Violation, TradingError, BrokerError, code=, reject_code."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            position = {"Violation": 0, "TradingError": 0, "RiskViolation": 0, "BrokerError": 1}.get(name)
            args = node.args
            if position is not None and len(args) > position and isinstance(args[position], ast.Constant):
                found.add(args[position].value)
            for keyword in node.keywords:
                if keyword.arg in ("code", "reject_code") and isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if getattr(target, "attr", None) == "reject_code" and isinstance(node.value, ast.Constant):
                found.add(node.value.value)
        if any(getattr(target, "id", None) == "code" for target in targets) and isinstance(node.value, ast.Constant):
            found.add(node.value.value)  # a class attribute: IllegalTransition.code
        if isinstance(node, ast.Dict) and any(
            isinstance(v, ast.Constant) and v.value == "broker_error" for v in node.values
        ):
            found.update(v.value for v in node.values if isinstance(v, ast.Constant))  # CODE_NAMES
    return {code for code in found if isinstance(code, str) and code}


def test_every_code_the_engine_answers_with_is_registered():
    sources = [
        path
        for app in ("accounts", "backtests", "quantumleap", "risk", "strategies", "trading")
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    raised = set().union(*(_codes_raised(ast.parse(path.read_text())) for path in sources))
    registered = {code for family in codes.FAMILIES.values() for code in family}
    # credential_* codes stay inside the broker adapter: they are never an API answer.
    unregistered = {code for code in raised - registered if not code.startswith("credential_")}
    assert not unregistered, f"codes answered but not defined in quantumleap/codes.py: {sorted(unregistered)}"
    assert {"illegal_transition", "no_key", "invalid_key", "position_flat", "unknown_symbol"} <= raised
