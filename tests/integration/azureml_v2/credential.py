"""A credential that hands out a fixed token, offline: the SDKs never call Entra ID.

Used by the tests' conftest and by ``benchmarks/azureml_v2_requests.py``; azure-core is imported
only when a token is asked for.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["StaticCredential"]


class StaticCredential:
    """An ``azure.core.credentials.TokenCredential`` that hands out a fixed token, offline.

    Args:
        token: The token it hands out (valid for an hour from each request).
    """

    def __init__(self, token: str = "emulated-token") -> None:  # noqa: S107 - not a secret
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken  # noqa: PLC0415

        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:  # noqa: ARG002
        from azure.core.credentials import AccessTokenInfo  # noqa: PLC0415

        self.scopes.append(scopes)
        return AccessTokenInfo(self.token, int(time.time()) + 3600)
