"""A Workspace on the v1 emulator, built with no call to Azure Resource Manager or Entra ID.

Used by the tests' conftest and by ``benchmarks/azureml_requests.py``. azureml is imported only
inside the functions: the conftest cuts the SDK off from Azure before its first import.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integration.azureml.emulator import AzureMLEmulator

__all__ = ["emulator_authentication", "emulator_workspace", "unsigned_jwt"]


def emulator_workspace(emulator: AzureMLEmulator) -> Any:
    """Return a Workspace on `emulator`, from a service context (no Resource Manager call)."""
    from azureml._restclient.service_context import ServiceContext  # noqa: PLC0415
    from azureml.core import Workspace  # noqa: PLC0415

    context = ServiceContext(
        emulator.subscription_id,
        emulator.resource_group,
        emulator.workspace_name,
        emulator.workspace_id,
        emulator.discovery_url,
        emulator_authentication(emulator),
    )
    return Workspace._from_service_context(context, "emulated")


def emulator_authentication(emulator: AzureMLEmulator) -> Any:
    """Return an azureml authentication object for `emulator` (its subscription the only one)."""
    return _emulator_auth_class()(emulator.subscription_id)


def _emulator_auth_class() -> Any:
    """Return an azureml authentication class that sends a fixed token and never calls AAD."""
    from azureml.core.authentication import AbstractAuthentication  # noqa: PLC0415

    token = unsigned_jwt(
        {"exp": int(time.time()) + 10 * 365 * 86400, "tid": "emulated-tenant", "oid": "emulated"}
    )

    class EmulatorAuthentication(AbstractAuthentication):
        def __init__(self, subscription_id: str = "") -> None:
            super().__init__(cloud="AzureCloud")
            self.subscription_id = subscription_id

        def get_authentication_header(self) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        def _get_arm_token(self) -> str:
            return token

        def _get_graph_token(self) -> str:
            return token

        def _get_azureml_client_token(self) -> str:
            return token

        def _get_all_subscription_ids(self) -> tuple[list[Any], str]:
            from azureml.core.authentication import _SubscriptionInfo  # noqa: PLC0415

            return [_SubscriptionInfo("emulated", self.subscription_id)], "emulated-tenant"

        def _get_workspace(self, *_: object) -> None:
            return None

    return EmulatorAuthentication


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """Return a JWT with `claims`, unsigned: the SDK decodes tokens without verifying them."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
