"""Run by the Airflow API server at start, whatever the sign-in mode (airflow-platform).

Not part of the Pulumi program: components/airflow/auth.py ships this file's text
as (the end of) the chart's `apiServer.apiServerConfig`, which chart 1.22.0 mounts
as the API server's webserver_config.py; the FAB auth manager's Flask app executes
it when the API server starts, before it serves a request (providers-fab www/app.py,
`flask_app.config.from_pyfile`). The chart renders the text with Helm's `tpl`, so
it must never hold two opening braces in a row. No `from __future__` import: with
`auth.mode: oidc` it follows webserver_config.py in the same file.

The fix: a UI or REST request's token is checked with synchronous database queries
on the API server's event loop (airflow/api_fastapi/auth/managers/base_auth_manager.py,
`get_user_from_token`: RevokedToken.is_revoked, then the FAB auth manager's
deserialize_user; apache/airflow #66493). When the requests of running tasks hold
every connection of the API server's pool, each in a worker thread that needs the
event loop to give it back, the loop waits for a connection only it can free: the
whole API server stalls for the pool's 30 s timeout, and the request fails with a
500. The runtime suite (tests/runtime, eight DAG runs while a person watches the grid,
2 busy cores) failed that way in 2 runs of 4 with 2 + 2 connections per component, and in
1 of 11 with the API server at 3 + 4 (components/database_pools.py): rarer, not gone.
Here the same checks run in a worker thread (anyio's, as FastAPI runs a sync
dependency), so the loop keeps serving while they wait for a connection.

It replaces the method only on the Airflow versions whose code it was read from;
on any other it leaves Airflow as it is and says so in the API server's log.
"""

import logging
from typing import Any

import airflow
import anyio.to_thread
from airflow.api_fastapi.auth.managers.base_auth_manager import BaseAuthManager
from airflow.models.revoked_token import RevokedToken
from jwt import InvalidTokenError

_fixes_log = logging.getLogger("airflow_platform.api_server_fixes")
# The versions whose BaseAuthManager.get_user_from_token this copies (the same in both). Private,
# as every name here: FAB loads each upper-case name of webserver_config.py into its Flask config.
_TOKEN_CHECK_READ_FROM = ("3.2.2", "3.3.2")


async def _get_user_from_token_off_the_loop(self: BaseAuthManager, token: str) -> Any:
    """BaseAuthManager.get_user_from_token of Airflow 3.3.2, its database queries in a worker thread."""
    try:
        payload = await self._get_token_validator().avalidated_claims(token)
    except InvalidTokenError as e:
        _fixes_log.error("JWT token is not valid: %s", e)
        raise e

    def user_from_claims() -> Any:
        if (jti := payload.get("jti")) and RevokedToken.is_revoked(jti):
            raise InvalidTokenError("Token has been revoked")
        try:
            return self.deserialize_user(payload)
        except (ValueError, KeyError) as e:
            _fixes_log.error("Couldn't deserialize user from token, JWT token is not valid: %s", e)
            raise InvalidTokenError(str(e)) from e

    return await anyio.to_thread.run_sync(user_from_claims)


if airflow.__version__ in _TOKEN_CHECK_READ_FROM:
    BaseAuthManager.get_user_from_token = _get_user_from_token_off_the_loop
    _fixes_log.info("airflow-platform: token checks run off the event loop (apache/airflow #66493)")
else:
    _fixes_log.warning(
        "airflow-platform: token checks left on the event loop: written for Airflow %s, this is %s",
        " and ".join(_TOKEN_CHECK_READ_FROM),
        airflow.__version__,
    )
