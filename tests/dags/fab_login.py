"""Log in through the FAB auth manager as a browser would, behind uvicorn's proxy-header handling.

Run as a script by test_secure_cookies.py, in a process of its own: it needs its
own AIRFLOW_HOME, database and auth manager, which the DAG tests' process must
not share. Argument: FORWARDED_ALLOW_IPS. Prints, as JSON, the attributes of
each cookie the login sets, per client address.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys

import httpx
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

DOMAIN = "airflow.acme.example"
GATEWAY_ADDRESS = "203.0.113.9"
FROM_THE_GATEWAY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"198.51.100.7, {GATEWAY_ADDRESS}"}
USER, PASSWORD = "admin", "a-long-test-password"


def app(forwarded_allow_ips: str) -> ProxyHeadersMiddleware:
    from airflow.api_fastapi.app import create_app
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
    from airflow.utils import db

    db.resetdb()
    api = create_app(apps="core")
    with get_application_builder() as builder:
        security = builder.sm
        security.add_user(USER, "Test", "Admin", "admin@example.com", security.find_role("Admin"), PASSWORD)
    return ProxyHeadersMiddleware(api, trusted_hosts=forwarded_allow_ips)


async def login(asgi_app: ProxyHeadersMiddleware, client_ip: str) -> dict[str, list[str]]:
    transport = httpx.ASGITransport(app=asgi_app, client=(client_ip, 43210))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{DOMAIN}") as client:
        page = await client.get("/auth/login/", headers=FROM_THE_GATEWAY)
        csrf = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert csrf, "no CSRF token on FAB's login page"
        # The session cookie may be Secure; httpx would not send it over the http the proxy spoke.
        session = page.headers["set-cookie"].split(";", 1)[0]
        client.cookies.clear()
        response = await client.post(
            "/auth/login/",
            headers={**FROM_THE_GATEWAY, "Cookie": session, "Referer": f"https://{DOMAIN}/auth/login/"},
            data={"username": USER, "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
    assert response.status_code == 302, f"login failed: {response.status_code}"
    return {
        header.split("=", 1)[0]: sorted(part.strip().lower() for part in header.split(";")[1:])
        for header in response.headers.get_list("set-cookie")
    }


def main() -> None:
    asgi_app = app(sys.argv[1])
    print(json.dumps({ip: asyncio.run(login(asgi_app, ip)) for ip in sys.argv[2:]}))


if __name__ == "__main__":
    main()
