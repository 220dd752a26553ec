"""`Versions`: how `MlflowBackend` finds model versions: baselines, by run, by tag."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from aml_promotion._domain.policy import BaselineKind, BaselineStrategy
from aml_promotion._retry import RetryPolicy, retrying
from aml_promotion.adapters.mlflow._errors import _InvalidError, _NotFoundError
from aml_promotion.adapters.mlflow._filters import _RUN_ID, _quote
from aml_promotion.exceptions import BaselineNotFoundError, RegistryError, TransientRegistryError
from aml_promotion.ports import ModelVersion, unsupported_strategy

if TYPE_CHECKING:
    from aml_promotion.adapters.mlflow._session import MlflowSession

__all__ = ["Versions", "to_version"]

_TAGGED_PAGE = 200

_BY_VERSION = ("version_number DESC",)
_BY_NAME_AND_VERSION = ("name DESC", "version_number DESC")
# Where a model's versions alone are searched by ``name LIKE``, not ``name =`` (see _by_name):
# a server (not Databricks': no scheme), whatever its database, and a PostgreSQL database; not
# a sqlite file (its planner gains nothing).
_LIKE_SCHEMES = frozenset({"http", "https", "postgresql"})
# What LIKE takes as a pattern, in one SQL dialect or another: such names are matched by "=".
_LIKE_SPECIAL = frozenset("%_\\[]")

# A model version's status: only READY versions have their files (DESIGN §3, usable versions).
_READY = "READY"
_PENDING = "PENDING_REGISTRATION"
_FAILED = "FAILED_REGISTRATION"
# How long a pending version of this very run is waited for before giving up (see find_by_run).
_PENDING_WAIT = RetryPolicy(attempts=20, timeout=60.0, wait_initial=0.5, wait_max=5.0, jitter=0.0)


def _usable(held: Any) -> bool:
    """Whether a model version is usable: registered, not failed nor still pending."""
    status = getattr(held, "status", None)
    return status is None or str(status) == _READY


def _of_logged(held: Any, model_id: str) -> bool:
    """Whether a model version was registered from the logged model `model_id`."""
    return (
        str(getattr(held, "model_id", None) or "") == model_id
        or str(getattr(held, "source", None) or "") == f"models:/{model_id}"
    )


def to_version(held: Any, experiment_name: str | None = None) -> ModelVersion:
    """Return an MLflow model version as ours."""
    name, number = str(held.name), int(held.version)  # a str over HTTP, an int locally
    return ModelVersion(
        name=name,
        version=number,
        id=f"{name}/{number}",
        run_id=str(held.run_id) if held.run_id else None,
        experiment_name=experiment_name,
        tags={str(key): str(value) for key, value in (held.tags or {}).items()},
        source=str(held.source) if held.source else None,
        uri=f"models:/{name}/{number}",
    )


class Versions:
    """Where model versions are looked up: the searches of `MlflowBackend`'s registry.

    Args:
        session: The backend's connection to MLflow.
    """

    def __init__(self, session: MlflowSession) -> None:
        self._session = session
        self._gateway = session.gateway
        self._seen: set[str] = set()

    def has_versions(self, name: str) -> bool:
        """Whether a search or read of this backend has seen a version of the model `name`.

        Then the registered model exists (unless deleted since), and a registration need not
        read it first.
        """
        return name in self._seen

    def _name_filter(self, name: str) -> str:
        quoted = _quote(name)
        if quoted is None:
            raise RegistryError(
                f"cannot search MLflow for a model name holding both quotes: {name!r}"
            )
        return f"name = {quoted}"

    def _name_pattern(self, name: str) -> str | None:
        """The ``name LIKE`` filter of `name`'s versions alone, or None where "=" is kept."""
        quoted = _quote(name)
        if (
            quoted is None
            or self._session.unity_catalog
            or self._session.registry_scheme not in _LIKE_SCHEMES
            or _LIKE_SPECIAL.intersection(name)
        ):
            return None
        return f"name LIKE {quoted}"

    def _by_name(
        self,
        what: str,
        name: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool] = _usable,
        retry: bool = True,
    ) -> list[Any]:
        r"""Return MLflow's entities of `name`'s versions that `keep` keeps, highest first.

        The search has no other condition. On a server (or a PostgreSQL database) it is
        ``name LIKE '<name>'`` ordered by name then version number, not ``name = '<name>'``
        ordered by version number: the same versions, for a name without LIKE's special
        characters (``% _ \ [ ]``: such a name is matched by "="; MLflow's stores compare
        case in LIKE, and a version of another name is passed over all the same). MLflow's
        store joins every search to the tags that mark prompts; with ``name =`` the name is a
        constant on both sides of that join, PostgreSQL estimates that it keeps one row, and so
        sorts every version of the model to return the highest (twice: its tags are read by
        the same query), 200 ms at 100,000 versions. With ``LIKE`` it reads the highest from
        the primary key's index, in under 1 ms (docs/reliability.md).
        """
        pattern = self._name_pattern(name)
        if pattern is None:
            return self._search_held(
                what, self._name_filter(name), limit=limit, keep=keep, retry=retry, name=name
            )
        return self._search_held(
            what,
            pattern,
            limit=limit,
            keep=lambda held: str(held.name) == name and keep(held),
            retry=retry,
            order_by=_BY_NAME_AND_VERSION,
        )

    def _search(
        self,
        what: str,
        filter_string: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool] = _usable,
        retry: bool = True,
        name: str | None = None,
        cheap: Callable[[Any], bool] | None = None,
    ) -> list[ModelVersion]:
        """Return the versions that match and that `keep` keeps, highest first, `limit` at most.

        `keep` filters client-side; by default it keeps the usable versions (READY): one whose
        registration failed or is still pending is never a baseline. The first page holds one
        version when one is wanted, so the usual case costs one query. With Unity Catalog the
        search is by `name` alone and `cheap` stands for the rest of `filter_string`.
        """
        found = self._search_held(
            what, filter_string, limit=limit, keep=keep, retry=retry, name=name, cheap=cheap
        )
        return [to_version(held) for held in found]

    def _search_held(
        self,
        what: str,
        filter_string: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool],
        retry: bool = True,
        name: str | None = None,
        cheap: Callable[[Any], bool] | None = None,
        order_by: Sequence[str] = _BY_VERSION,
    ) -> list[Any]:
        if self._session.unity_catalog and name is not None:
            return self._unity(what, name, limit=limit, keep=keep, cheap=cheap, retry=retry)
        found: list[Any] = []
        pages = self._pages(
            what,
            filter_string,
            retry=retry,
            first_page=1 if limit == 1 else _TAGGED_PAGE,
            order_by=list(order_by),
        )
        for page in pages:
            for held in page:
                if keep(held):
                    found.append(held)
                    if limit is not None and len(found) >= limit:
                        return found
        return found

    def _pages(
        self,
        what: str,
        filter_string: str,
        *,
        retry: bool,
        first_page: int = _TAGGED_PAGE,
        order_by: list[str] | None = None,
    ) -> Iterator[Any]:
        """Yield the pages of a version search, one request each, as they are asked for.

        The first page holds `first_page` versions, the next ones 200; `order_by` is left out
        when None (Unity Catalog takes none). The names seen are remembered (`has_versions`).
        """
        ordered = {} if order_by is None else {"order_by": order_by}
        token: str | None = None
        page_size = first_page
        while True:
            paging = {} if token is None else {"page_token": token}
            search = functools.partial(
                self._session.client.search_model_versions,
                filter_string=filter_string,
                **ordered,
                max_results=page_size,
                **paging,
            )
            page = self._call(what, search, retry=retry)
            self._seen.update(str(held.name) for held in page)
            yield page
            token = getattr(page, "token", None)
            if not token:
                return
            page_size = _TAGGED_PAGE

    def _call(self, what: str, call: Callable[[], Any], *, retry: bool) -> Any:
        """Make `call` through the gateway: retried, or once (inside a caller's own retries)."""
        return self._gateway.call(what, call) if retry else self._gateway.once(what, call)

    def _unity(
        self,
        what: str,
        name: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool],
        cheap: Callable[[Any], bool] | None,
        retry: bool,
    ) -> list[Any]:
        """Search as Unity Catalog allows: one condition (the name), no order_by.

        Every page of the model's versions is read (200 a page), ordered and filtered here:
        `cheap` on what the search gives, then `keep` on each remaining version read in full
        (Unity Catalog's search gives no tags), highest first, until `limit` are kept.
        """
        listed = [
            held
            for page in self._pages(what, self._name_filter(name), retry=retry)
            for held in page
        ]
        found: list[Any] = []
        for held in sorted(listed, key=lambda version: int(version.version), reverse=True):
            if cheap is not None and not cheap(held):
                continue
            number = str(held.version)
            read = functools.partial(self._session.client.get_model_version, name, number)
            full = self._call(what, read, retry=retry)
            if keep(full):
                found.append(full)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks among the versions of `name`, or None.

        The latest version is found with one query ordered by version number, limited to one
        result, never by listing every version; a tag by a filter on the tag; a number directly;
        an alias by its holder (``get_model_version_by_alias``); a stage (MLflow 2 registries)
        as the highest version in it, read from the versions newest first. Only usable versions
        count: one whose registration failed or is still pending is passed over (an alias or a
        version number that points at one gives no baseline).

        Raises:
            BaselineNotFoundError: The strategy pins a version that does not exist.
            RegistryError: MLflow failed (never taken as "no baseline").
        """
        if strategy.kind is BaselineKind.ALIAS:
            return self._alias_holder(name, strategy.name or "")
        if strategy.kind is BaselineKind.STAGE:
            return self._in_stage(name, strategy.name or "")
        if strategy.kind is BaselineKind.VERSION:
            number = str(strategy.version_number)
            held = self.held_version(name, number)
            if held is None:
                raise BaselineNotFoundError(model_name=name, strategy=str(strategy))
            if not _usable(held):
                raise BaselineNotFoundError(
                    model_name=name,
                    strategy=str(strategy),
                    detail=f"version {number} is not usable: its registration failed or is pending",
                )
            return to_version(held)
        if strategy.kind is BaselineKind.TAG:
            tagged = self._tagged(name, strategy.tag_key or "", strategy.tag_value or "", limit=1)
            return tagged[0] if tagged else None
        found = self._by_name(f"find the latest version of model {name!r}", name, limit=1)
        return to_version(found[0]) if found else None

    def latest_held(self, name: str) -> Any:
        """Return MLflow's own entity of the latest usable version of `name`, or None.

        Raises:
            RegistryError: MLflow failed.
        """
        found = self._by_name(f"find the latest version of model {name!r}", name, limit=1)
        return found[0] if found else None

    def held_by_tag(self, what: str, name: str, key: str, value: str, *, retry: bool) -> Any:
        """Return the highest version of `name` tagged `key` = `value` that did not fail, or None.

        A pending one is returned as it is (the caller waits for it): MLflow's entity.

        Raises:
            RegistryError: MLflow failed.
        """
        quoted = _quote(value)
        name_filter = self._name_filter(name)
        exact = quoted is not None and "`" not in key and not self._session.unity_catalog
        found = self._search_held(
            what,
            f"{name_filter} AND tags.`{key}` = {quoted}" if exact else name_filter,
            limit=1,
            keep=lambda held: str(held.status) != _FAILED and (held.tags or {}).get(key) == value,
            retry=retry,
            name=name,
        )
        return found[0] if found else None

    def held_version(self, name: str, number: str) -> Any:
        """Return MLflow's own entity of version `number` of `name`, or None: there is none.

        Whether it is usable is the caller's to tell (`_usable`).

        Raises:
            RegistryError: MLflow failed.
        """
        try:
            held = self._gateway.call(
                f"read version {number} of model {name!r}",
                lambda: self._session.client.get_model_version(name, number),
            )
        except _NotFoundError:
            return None
        self._seen.add(str(held.name))  # a version of it was read: the registered model exists
        return held

    def held_by_alias(self, name: str, alias: str) -> Any:
        """Return MLflow's own entity of the version alias `alias` of `name` points at, or None.

        Whether it is usable is the caller's to tell (`_usable`).

        Raises:
            RegistryError: MLflow failed.
        """
        try:
            held = self._gateway.call(
                f"read alias {alias!r} of model {name!r}",
                lambda: self._session.client.get_model_version_by_alias(name, alias),
            )
        except (_NotFoundError, _InvalidError):
            # No such model, or no such alias (MLflow says INVALID_PARAMETER_VALUE for that).
            return None
        self._seen.add(str(held.name))  # a version of it was read: the registered model exists
        return held

    def _alias_holder(self, name: str, alias: str) -> ModelVersion | None:
        held = self.held_by_alias(name, alias)
        return to_version(held) if held is not None and _usable(held) else None

    def _in_stage(self, name: str, stage: str) -> ModelVersion | None:
        # get_latest_versions is deprecated (and warns); a search with the stage compared
        # client-side reads the same thing, newest first, and stops at the first in the stage.
        if self._session.unity_catalog:
            raise unsupported_strategy(BaselineStrategy.stage(stage), "Unity Catalog")
        wanted = stage.casefold()
        found = self._by_name(
            f"find the latest version of model {name!r} in stage {stage!r}",
            name,
            limit=1,
            keep=lambda held: _usable(held) and str(held.current_stage or "").casefold() == wanted,
        )
        return to_version(found[0]) if found else None

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest usable version of `name` registered from `run_id`, or None.

        A version whose registration failed does not count (the run is registered again). A
        version still pending is waited for, within a bound: it counts once it is ready.

        Raises:
            RegistryError: MLflow failed, or a version of this run stayed pending.
        """
        if not _RUN_ID.match(run_id):
            return None  # not an id MLflow could have given a run
        what = f"find the version of model {name!r} registered from run {run_id!r}"
        return self.settled_by_run(what, name, run_id, retry=True)

    def find_by_logged_model(self, name: str, run_id: str, model_id: str) -> ModelVersion | None:
        """Return the highest usable version of `name` registered from logged model `model_id`.

        Like `find_by_run`, but only a version whose source is ``models:/<model_id>`` (or whose
        ``model_id`` is it) counts: another model logged by the same run is another model.

        Raises:
            RegistryError: MLflow failed, or a version of this model stayed pending.
        """
        if not _RUN_ID.match(run_id):
            return None  # not an id MLflow could have given a run
        what = f"find the version of model {name!r} registered from logged model {model_id!r}"
        return self.settled_by_run(what, name, run_id, retry=True, model_id=model_id)

    def settled_by_run(
        self, what: str, name: str, run_id: str, *, retry: bool, model_id: str | None = None
    ) -> ModelVersion | None:
        """Return the highest version of a run that did not fail, once it is no longer pending."""
        found = self._search_held(
            what,
            f"{self._name_filter(name)} AND run_id = '{run_id}'",
            limit=1,
            keep=lambda held: (
                str(held.status) != _FAILED and (model_id is None or _of_logged(held, model_id))
            ),
            retry=retry,
            name=name,
            cheap=lambda held: str(held.run_id or "") == run_id,
        )
        return self.settled(found[0]) if found else None

    def settled(self, held: Any) -> ModelVersion | None:
        """Return the version `held` (MLflow's entity) once it is no longer pending, if usable.

        A pending version is read again until it is ready or failed, within a bound; a failed
        one gives None.

        Raises:
            RegistryError: MLflow failed, or the version stayed pending.
        """
        if str(held.status) == _PENDING:
            held = self._wait_until_settled(held)
        return to_version(held) if _usable(held) else None

    def _wait_until_settled(self, held: Any) -> Any:
        # A concurrent registration (of this run, or of this copy) or our own lost answer is
        # being copied: registering again would make a second version, so wait, within a bound.
        name, number = str(held.name), str(held.version)
        what = f"wait for version {number} of model {name!r} to finish registering"
        for attempt in retrying(_PENDING_WAIT):
            with attempt:
                held = self._gateway.call(
                    what, lambda: self._session.client.get_model_version(name, number)
                )
                if str(held.status) == _PENDING:
                    raise TransientRegistryError(
                        f"version {number} of model {name!r} is still {_PENDING}"
                    )
                return held
        raise AssertionError("unreachable: retrying() yields until success or raises")

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return every version of `name` whose tag `key` is `value`, highest version first.

        Raises:
            RegistryError: MLflow failed.
        """
        return self._tagged(name, key, value, limit=None)

    def _tagged(self, name: str, key: str, value: str, *, limit: int | None) -> list[ModelVersion]:
        quoted = _quote(value)
        if quoted is None or "`" in key or self._session.unity_catalog:
            return self._tagged_by_scan(name, key, value, limit=limit)
        filter_string = f"{self._name_filter(name)} AND tags.`{key}` = {quoted}"
        return self._search_all(
            f"find the versions of model {name!r} tagged {key}={value}",
            filter_string,
            limit=limit,
        )

    def _search_all(
        self, what: str, filter_string: str, *, limit: int | None
    ) -> list[ModelVersion]:
        return self._search(what, filter_string, limit=limit)

    def _tagged_by_scan(
        self, name: str, key: str, value: str, *, limit: int | None
    ) -> list[ModelVersion]:
        # MLflow's filter grammar cannot quote this key or value: read the versions, newest
        # first, a page at a time, and stop as soon as enough are found.
        found = self._by_name(
            f"list the versions of model {name!r}",
            name,
            limit=limit,
            keep=lambda held: _usable(held) and (held.tags or {}).get(key) == value,
        )
        return [to_version(held) for held in found]
