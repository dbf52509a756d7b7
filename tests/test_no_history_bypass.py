"""No write skips the audited history: bulk writes, deletions and history-less saves are refused, and none is coded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import transaction

from cases.history import HistoryWriteError, chained_history_models
from cases.models import BreachCase, HistoryBypassError, Organization

TRACKED = sorted((model.instance_type for model in chained_history_models()), key=lambda model: model.__name__)
ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".venv", "venv", "node_modules", "__pycache__", "staticfiles", "var"}
EXEMPT = (ROOT / "cases" / "migrations", ROOT / "tests")
# Reviewed exceptions, each with its reason.
ALLOWED = {
    "cases/management/commands/bench_dossier.py": "synthetic benchmark rows, in a throwaway database only",
}

pytestmark = pytest.mark.django_db


def _a_field(model) -> str:
    return next(f.attname for f in model._meta.concrete_fields if not f.primary_key)


@pytest.mark.parametrize("model", TRACKED, ids=lambda model: model.__name__)
def test_bulk_writes_are_refused(model):
    field = _a_field(model)
    with pytest.raises(HistoryBypassError):
        model.objects.update(**{field: None})
    with pytest.raises(HistoryBypassError):
        model.objects.filter(pk=1).update(**{field: None})
    with pytest.raises(HistoryBypassError):
        model.objects.bulk_update([model(pk=1)], [field])
    with pytest.raises(HistoryBypassError):
        model.objects.all().delete()


@pytest.mark.parametrize("model", TRACKED, ids=lambda model: model.__name__)
def test_deleting_a_record_is_refused(model):
    with pytest.raises(HistoryBypassError):
        model(pk=1).delete()


@pytest.mark.parametrize("model", TRACKED, ids=lambda model: model.__name__)
def test_saving_without_a_history_row_is_refused(model):
    instance = model()
    instance.skip_history_when_saving = True
    with pytest.raises(HistoryBypassError), transaction.atomic():
        instance.save()
    with pytest.raises(HistoryBypassError), transaction.atomic():
        model().save_without_historical_record()
    assert not model.objects.exists()


def test_related_managers_refuse_bulk_writes_too(open_case):
    case = open_case()
    with pytest.raises(HistoryBypassError):
        case.obligations.update(state="done")
    with pytest.raises(HistoryBypassError):
        case.obligations.all().delete()
    with pytest.raises(HistoryBypassError):
        case.organization.cases.filter(pk=case.pk).update(title="x")


def test_an_existing_record_cannot_be_deleted(open_case):
    case = open_case()
    ob = case.obligations.first()
    for record in (case, ob, case.organization):
        with pytest.raises(HistoryBypassError), transaction.atomic():
            record.delete()
    assert BreachCase.objects.filter(pk=case.pk).exists()


def test_bulk_create_is_refused():
    with transaction.atomic():
        try:
            Organization.objects.bulk_create([Organization(name="Ghost", code="ghost")])
        except HistoryBypassError:
            return
    raise AssertionError("bulk_create() wrote a record without a history row")


# transactional_db: the refusal must come before anything is committed. Only unsaved records are
# used, so the flush at teardown finds the (append-only) history tables empty.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", TRACKED, ids=lambda model: model.__name__)
def test_a_tracked_save_outside_a_transaction_is_refused_before_writing(model):
    with pytest.raises(HistoryWriteError, match=r"transaction\.atomic"):
        model().save()
    assert not model.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_organisation_saved_outside_a_transaction_is_not_written():
    with pytest.raises(HistoryWriteError):
        Organization(name="Autocommit", code="autocommit").save()
    assert not Organization.objects.exists()
    assert not Organization.history.exists()


# --- static scan ---------------------------------------------------------------------------------

# Managers and reverse accessors through which a tracked model's queryset is reached.
MANAGER_ATTRS = {"objects", "_default_manager", "_base_manager", "history"}
QUERYSET_WRITES = {"update", "delete", "bulk_update", "bulk_create", "_update", "_raw_delete"}
ALWAYS_FORBIDDEN_CALLS = {"save_without_historical_record", "_raw_delete", "bulk_update"}


def _tracked_accessors() -> set[str]:
    names = set()
    for model in TRACKED:
        for relation in model._meta.related_objects:
            if relation.related_model in TRACKED:
                names.add(relation.get_accessor_name())
    return names


def _chain(node: ast.AST) -> list[ast.AST]:
    """The receiver chain of an attribute access: `A.objects.filter(x).update` -> [A, objects, filter(), ...]."""
    chain = []
    while True:
        chain.append(node)
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return chain


def bypasses(source: str, filename: str = "<source>") -> list[str]:
    """The history bypasses coded in `source`, as "file:line: what" strings."""
    tracked_names = {model.__name__ for model in TRACKED}
    accessors = _tracked_accessors()
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        what = None
        if isinstance(node, ast.Attribute) and node.attr == "skip_history_when_saving":
            if isinstance(node.ctx, ast.Store | ast.Del):
                what = "sets skip_history_when_saving"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            if any(isinstance(a, ast.Constant) and a.value == "skip_history_when_saving" for a in node.args):
                what = "sets skip_history_when_saving"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ALWAYS_FORBIDDEN_CALLS:
                what = f"calls {method}()"
            elif method in QUERYSET_WRITES:
                chain = _chain(node.func.value)
                via_manager = any(
                    isinstance(n, ast.Attribute)
                    and n.attr in MANAGER_ATTRS
                    and isinstance(n.value, ast.Name)
                    and n.value.id in tracked_names
                    for n in chain
                )
                via_accessor = any(isinstance(n, ast.Attribute) and n.attr in accessors for n in chain)
                if via_manager or via_accessor:
                    what = f"calls {method}() on a tracked model's queryset"
        if what:
            found.append(f"{filename}:{node.lineno}: {what}")
    return found


def _project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
            continue
        if any(path.is_relative_to(exempt) for exempt in EXEMPT) or relative.as_posix() in ALLOWED:
            continue
        files.append(path)
    return files


def test_no_history_bypass_is_coded():
    files = _project_files()
    assert ROOT / "cases" / "services" / "cases.py" in files
    found = [hit for path in files for hit in bypasses(path.read_text(), str(path.relative_to(ROOT)))]
    assert not found, "writes that skip the audited history:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'BreachCase.objects.filter(pk=1).update(title="x")',
        "Obligation.objects.select_for_update().filter(case=case).update(state='done')",
        "BreachCase._base_manager.filter(pk=1).update(title='x')",
        "case.obligations.all().delete()",
        "case.evidence.update(description='')",
        "Organization.objects.bulk_create(orgs)",
        "Obligation.objects.bulk_update(obligations, ['state'])",
        "qs._raw_delete(qs.db)",
        "BreachCase.history.filter(pk=1).delete()",
        "case.save_without_historical_record()",
        "case.skip_history_when_saving = True",
        "setattr(case, 'skip_history_when_saving', True)",
    ],
)
def test_the_scan_finds_a_bypass(source):
    assert bypasses(source)


@pytest.mark.parametrize(
    "source",
    [
        "digest.update(chunk)",
        "keys.update(values)",
        "Session.objects.filter(session_key=key).delete()",
        "if hasattr(self, 'skip_history_when_saving'): pass",
        "BreachCase.objects.filter(pk=1).exists()",
    ],
)
def test_the_scan_leaves_other_code_alone(source):
    assert not bypasses(source)
