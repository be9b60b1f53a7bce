"""Permissions inside a GraphQL request.

One query can name several experiments, runs and models, so the auth middleware only checks
that the caller is signed in (``/graphql`` is AUTHENTICATED in auth/rules.py) and the resolvers
ask here, object by object. As in MLflow 3.18, a root field the caller may not read resolves to
null without an error, search runs drops the experiments the caller cannot read, and model
versions (top level or under a run) are filtered by the registered model's permission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the auth package loads only on servers that turn auth on
    from trackd.auth.service import AuthService
    from trackd.auth.store import User


class Access:
    """What the caller may read; everything when auth is off or the caller is an admin."""

    def __init__(self, auth: AuthService | None, user: User | None) -> None:
        self._auth = auth if user is not None and not user.is_admin else None
        self._user = user

    async def experiment(self, experiment_id: object) -> bool:
        if self._auth is None or self._user is None:
            return True
        permission = await self._auth.permission(self._user, "experiment", str(experiment_id))
        return permission.allows("read")

    async def run(self, run_id: str) -> bool:
        """READ on the run's experiment, and a ``(run, *)`` grant, where held, decides."""
        if self._auth is None or self._user is None:
            return True
        from trackd.auth import tiers
        owner = await self._auth.lookups.experiment_of("run", run_id)
        return owner is not None and await self._auth.meets(
            self._user, tiers.under_experiment(owner, tiers.RUN, "read"))

    async def readable_experiments(self, experiment_ids: Sequence[str],
                                   tier: str | None = None) -> list[str]:
        """The readable ones; none at all while ``tier`` (what is searched in them) is denied."""
        if tier is not None and self._auth is not None and self._user is not None:
            from trackd.auth import tiers
            if not await self._auth.meets(self._user, [tiers.Need(tier, "*", tiers.NOT_DENIED)]):
                return []
        return [i for i in experiment_ids if await self.experiment(i)]

    async def model_versions(self, versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._auth is None or self._user is None:
            return versions
        return await self._auth.readable(self._user, "registered_model", versions,
                                         lambda mv: str(mv.get("name")))
