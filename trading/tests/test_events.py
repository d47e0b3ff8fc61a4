"""Events are defined once (issue 12): every type is a member of ``EventType``, written by its one constructor
in an events module (``trading/events/``, ``risk/events.py``, ``strategies/events.py``, ``backtests/events.py``),
and nothing else writes an event or spells a type."""

import ast
from pathlib import Path

from trading.core.orders import OrderTrigger
from trading.events import EventType
from trading.events.orders import ORDER_MOVE_EVENTS

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("accounts", "backtests", "bench", "quantumleap", "risk", "strategies", "trading")
WRITERS = {"event_record"}
# Types no code records, each with why it stays.
UNRECORDED: dict[EventType, str] = {}


def _is_events_module(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    return relative.name == "events.py" or relative.parts[:2] == ("trading", "events")


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in SOURCE_FOLDERS
        for path in (ROOT / folder).rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts)
    )


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def test_the_scan_sees_the_apps_and_their_events_modules():
    names = {str(path.relative_to(ROOT)) for path in _sources()}
    assert {"trading/events/__init__.py", "risk/events.py", "strategies/events.py", "backtests/events.py"} <= names
    assert {"trading/services/moves.py", "strategies/lifecycle.py", "bench/audit_bench.py"} <= names
    assert not any("/tests/" in name for name in names)


def test_only_the_events_modules_write_events():
    offenders = []
    for path in _sources():
        if _is_events_module(path):
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call):
                called = node.func
                name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", None)
                if name in WRITERS:
                    offenders.append(_where(path, node))
            elif isinstance(node, ast.ImportFrom) and any(alias.name in WRITERS for alias in node.names):
                offenders.append(_where(path, node))
    assert offenders == [], "record events through their constructors, not event_record"


def test_no_module_spells_an_event_type():
    spelled = {member.value for member in EventType}
    offenders = [
        f"{_where(path, node)} {node.value}"
        for path in _sources()
        if path.relative_to(ROOT) != Path("trading/events/__init__.py")
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Constant) and node.value in spelled
    ]
    assert offenders == [], "name an event type by its EventType member"


def _constructors() -> dict[str, list[tuple[str, set[str]]]]:
    """Each public function named *_event in an events module: where it is and the EventType members it names."""
    found: dict[str, list[tuple[str, set[str]]]] = {}
    for path in filter(_is_events_module, _sources()):
        for node in _tree(path).body:
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_event") and not node.name.startswith("_"):
                members = {
                    named.attr
                    for named in ast.walk(node)
                    if isinstance(named, ast.Attribute)
                    and isinstance(named.value, ast.Name)
                    and named.value.id == "EventType"
                }
                found.setdefault(node.name, []).append((_where(path, node), members))
    return found


def test_every_event_type_has_exactly_one_constructor_named_after_it():
    constructors = _constructors()
    for member in EventType:
        name = f"{member.name.lower()}_event"
        if member in UNRECORDED:
            assert name not in constructors, f"{member} is recorded: take it off UNRECORDED"
            continue
        assert name in constructors, f"{member} has no constructor {name}"
        ((where, members),) = constructors[name]  # one definition
        assert members == {member.name}, f"{where} {name} records {members}"
    expected = {f"{member.name.lower()}_event" for member in EventType}
    assert set(constructors) <= expected, "a constructor for no event type"


def test_every_move_of_the_order_state_machine_records_its_own_event():
    assert set(ORDER_MOVE_EVENTS) == set(OrderTrigger)
    assert len(set(ORDER_MOVE_EVENTS.values())) == len(OrderTrigger)


def test_constructors_take_typed_keyword_only_arguments():
    loose = [
        f"{_where(path, node)} {node.name}"
        for path in filter(_is_events_module, _sources())
        for node in _tree(path).body
        if isinstance(node, ast.FunctionDef)
        and node.name.endswith("_event")
        and not node.name.startswith("_")
        and (
            node.args.args
            or node.args.posonlyargs
            or node.args.vararg
            or node.args.kwarg
            or node.returns is None
            or any(argument.annotation is None for argument in node.args.kwonlyargs)
        )
    ]
    assert loose == []
