"""The public API: exactly the names promised, documented, and cheap to import (no SDK)."""

from __future__ import annotations

import enum
import importlib
import importlib.metadata
import importlib.util
import inspect
import pickle
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import aml_promotion
from aml_promotion import exceptions, ports, testing

# Names the module binds that are not API: `from __future__ import annotations` and the
# TYPE_CHECKING guard.
NOT_API = {"annotations", "TYPE_CHECKING"}

CONTRACT = {
    # The names issue 2 promises, which other tooling and our own checks call.
    "decide", "load_settings", "promote", "Decision", "Verdict", "PromotionPolicy", "MetricRule",
    "Goal", "Settings", "PromotionResult", "ModelVersion", "exceptions",
}  # fmt: skip

SDK_ROOTS = ("azureml", "azure", "mlflow", "sqlalchemy", "alembic", "msrest", "adal")


def public_names(module: ModuleType) -> set[str]:
    """Names a module exposes: not private, not an imported submodule, not typing machinery."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name not in NOT_API
        and not (isinstance(value, ModuleType) and name not in module.__all__)
    }


def test_all_is_exactly_the_public_names_and_sorted() -> None:
    """aml_promotion.__all__ lists every public name, nothing else, in sorted order."""
    assert aml_promotion.__all__ == sorted(aml_promotion.__all__)
    assert set(aml_promotion.__all__) == public_names(aml_promotion)


@pytest.mark.parametrize("module", [exceptions, ports, testing])
def test_public_modules_export_what_they_define(module: ModuleType) -> None:
    """A public module's __all__ is sorted, resolves, and lists every public thing it defines."""
    assert module.__all__ == sorted(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }
    assert defined <= set(module.__all__)


def test_the_contracts_names_are_exported() -> None:
    """Every name issue 2 promises is importable from aml_promotion."""
    assert set(aml_promotion.__all__) >= CONTRACT


def test_the_contracts_shapes() -> None:
    """Verdict, Goal, Decision, PromotionResult and ModelVersion have the promised members."""
    assert {v.name for v in aml_promotion.Verdict} == {"PROMOTE", "REJECT", "FORCE"}
    assert {g.name for g in aml_promotion.Goal} == {"MAXIMIZE", "MINIMIZE"}
    for member in ("verdict", "promote", "comparisons", "to_dict", "to_json", "to_markdown"):
        assert hasattr(aml_promotion.Decision, member) or member in attrs_fields(
            aml_promotion.Decision
        )
    assert callable(aml_promotion.Decision._repr_html_)
    assert {"decision", "model", "baseline"} <= attrs_fields(aml_promotion.PromotionResult)
    assert {"name", "version", "id"} <= attrs_fields(aml_promotion.ModelVersion)
    assert {"policy"} <= attrs_fields(aml_promotion.Settings)


def attrs_fields(cls: type) -> set[str]:
    import attrs  # noqa: PLC0415 - only this helper needs it

    return {field.name for field in attrs.fields(cls)}


def test_the_signatures_of_the_three_functions() -> None:
    """The signatures: decide is positional, promote keyword-only, load_settings takes a source."""
    assert list(inspect.signature(aml_promotion.decide).parameters)[:3] == [
        "candidate",
        "baseline",
        "policy",
    ]
    promote = inspect.signature(aml_promotion.promote).parameters
    for name in ("experiment_name", "run_id", "settings", "backend", "dry_run"):
        assert promote[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert {"model_path", "metrics"} <= set(promote)
    assert promote["dry_run"].default is False
    assert next(iter(inspect.signature(aml_promotion.load_settings).parameters)) == "source"


def documented_objects() -> list[tuple[str, object]]:
    found = []
    for module in (aml_promotion, exceptions, ports, testing):
        for name in module.__all__:
            thing = getattr(module, name)
            if isinstance(thing, ModuleType):
                continue
            found.append((f"{module.__name__}.{name}", thing))
            if inspect.isclass(thing) and not issubclass(thing, enum.Enum):
                found.extend(
                    (f"{module.__name__}.{name}.{attr}", member)
                    for attr, member in vars(thing).items()
                    if not attr.startswith("_")
                    and (inspect.isfunction(member) or isinstance(member, property | classmethod))
                )
    return found


@pytest.mark.parametrize(("name", "thing"), documented_objects())
def test_every_public_function_and_class_has_a_docstring(name: str, thing: object) -> None:
    """Each public function, class, method and property says what it does."""
    if isinstance(thing, classmethod):
        thing = thing.__func__
    doc = inspect.getdoc(thing)
    assert doc, f"{name} has no docstring"
    assert doc.strip()[0].isupper() or doc.strip()[0] in "`\"'", f"{name}: {doc!r}"


def test_the_exception_hierarchy() -> None:
    """Every error is a PromotionError; bad input is also a ValueError, as documented."""
    for name in exceptions.__all__:
        error = getattr(exceptions, name)
        if issubclass(error, Exception) and name != "SettingsWarning":
            assert issubclass(error, exceptions.PromotionError), name
    assert issubclass(exceptions.SettingsError, ValueError)
    assert issubclass(exceptions.UsageError, ValueError)
    assert issubclass(exceptions.CredentialsError, ValueError)
    assert issubclass(exceptions.BackendNotInstalledError, ImportError)
    assert issubclass(exceptions.RunNotFoundError, LookupError)
    assert issubclass(exceptions.TransientRegistryError, exceptions.RegistryError)
    assert issubclass(exceptions.SettingsWarning, UserWarning)


def test_errors_carry_their_data() -> None:
    """The errors keep structured fields, and compute a message that shows no secret."""
    missing = exceptions.BackendNotInstalledError("mlflow", extra="mlflow")
    assert (missing.backend, missing.extra) == ("mlflow", "mlflow")
    assert str(missing) == (
        'the mlflow backend needs its optional dependencies: pip install "aml-promotion[mlflow]"'
    )
    credentials = exceptions.CredentialsError("AZURE_CREDENTIALS lacks keys", missing=["tenantId"])
    assert credentials.missing == ("tenantId",)
    state = exceptions.RunStateError(run_id="r1", status="Failed")
    assert (state.run_id, state.status) == ("r1", "Failed")
    assert exceptions.TransientRegistryError("429", retry_after=3).retry_after == 3
    problem = exceptions.SettingsProblem(path="$.x", message="bad")
    assert str(exceptions.SettingsError([problem])) == (
        "1 problem with the settings:\n  - bad @ $.x"
    )


def test_the_version_is_read_lazily_from_the_installed_metadata() -> None:
    """aml_promotion.__version__ is the installed distribution's version."""
    assert aml_promotion.__version__ == importlib.metadata.version("aml-promotion")


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    """Module __getattr__ answers only __version__."""
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = aml_promotion.nope  # type: ignore[attr-defined]


def test_the_package_is_typed() -> None:
    """py.typed ships with the package (PEP 561)."""
    assert (Path(aml_promotion.__file__).parent / "py.typed").is_file()


def modules_importable_without_their_sdk() -> list[str]:
    names = ["aml_promotion", "aml_promotion.testing", "aml_promotion.ports"]
    names += [
        name
        for name in ("aml_promotion.adapters.mlflow", "aml_promotion.adapters.azureml")
        if importlib.util.find_spec(name) is not None
    ]
    return names


@pytest.mark.parametrize("module", modules_importable_without_their_sdk())
def test_importing_imports_no_sdk(module: str) -> None:
    """Importing the package, its fakes or an adapter module loads no SDK (they load lazily)."""
    code = (
        f"import sys, {module}\n"
        f"roots = {SDK_ROOTS!r}\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in roots)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert result.stdout.split() == []


def test_import_aml_promotion_leaves_its_heavy_dependencies_for_later() -> None:
    """The heavy dependencies (cattrs, tenacity) load with settings or a retry, not with import."""
    code = (
        "import sys, aml_promotion\n"
        "print(' '.join(m for m in ('cattrs', 'tenacity', 'logging') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert result.stdout.split() == []


def test_the_users_import_leaves_what_only_some_calls_need_for_later() -> None:
    """The user's import loads no cattrs or tenacity: each saves 5 ms or more, so waits (#17)."""
    wanted = ("cattrs", "tenacity")
    code = (
        "import sys\n"
        "from aml_promotion import promote, decide, load_settings\n"
        f"print(' '.join(m for m in {wanted!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert result.stdout.split() == []


def test_star_import_gives_the_public_names() -> None:
    """A star import binds exactly __all__."""
    namespace: dict[str, object] = {}
    exec("from aml_promotion import *", namespace)  # noqa: S102 - the statement under test
    assert set(namespace) - {"__builtins__"} == set(aml_promotion.__all__)


@pytest.mark.parametrize(
    "error",
    [
        exceptions.TransientRegistryError("503", retry_after=2),
        exceptions.RunNotFoundError("no run", run_id="r1"),
        exceptions.SettingsError([exceptions.SettingsProblem(path="$.a", message="bad")]),
        exceptions.RunStateError(run_id="r1", status="Failed"),
        exceptions.ModelFileError("none", wanted="m.pkl"),
        exceptions.BackendNotInstalledError("mlflow", extra="mlflow"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_survive_pickling(error: exceptions.PromotionError) -> None:
    """An error raised in a worker process (multiprocessing, joblib) reaches the parent whole."""
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
