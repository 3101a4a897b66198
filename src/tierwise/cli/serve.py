"""``tierwise serve``: the web dashboard and the REST API over a project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierwise.cli.common import err, reported
from tierwise.cli.options import ProjectOpt
from tierwise.i18n import _


def serve(
    project: ProjectOpt = Path("."),
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(
        help="server processes; one per core serves concurrent users fastest")] = 1,
) -> None:
    """Serve the web dashboard and the REST API of a project.

    The dashboard is at http://HOST:PORT/ (by default http://127.0.0.1:8000/), in English,
    简体中文 and 繁體中文. Log in there with a user of the project's store; add the first one
    with `tierwise user add NAME --role admin`, more with `tierwise user add` as an admin.

    The REST API is under http://HOST:PORT/api/v1: log in with POST /api/v1/auth/login, or send
    an API token from `tierwise user token NAME` as `Authorization: Bearer TOKEN`. Its OpenAPI
    schema is at /openapi.json.
    """
    try:
        import uvicorn

        from tierwise.api.app import create_app
    except ModuleNotFoundError as exc:
        err.print(_("error: the server needs its extra ({module} is missing): "
                    "pip install 'tierwise[server]'").format(module=exc.name), markup=False)
        raise typer.Exit(1) from None
    with reported():
        application = create_app(project)
    err.print(_("dashboard: {url}/ (log in with a user of the project's store; add the first "
                "with `tierwise user add NAME --role admin`)").format(url=f"http://{host}:{port}"),
              soft_wrap=True, highlight=False)
    err.print(_("REST API: {url}/api/v1 (schema at /openapi.json)").format(
        url=f"http://{host}:{port}"), soft_wrap=True, highlight=False)
    # Only these peers may name the client in X-Forwarded-For (lockout and limits count by it).
    proxies = ",".join(application.state.project.spec.security.trusted_proxies)
    if workers > 1:
        import os

        from tierwise.api.app import PROJECT_ENV

        # Each worker process builds its own app (and store connections) from the project path.
        os.environ[PROJECT_ENV] = str(project.resolve())
        uvicorn.run("tierwise.api.app:create_app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="info", proxy_headers=True,
                    forwarded_allow_ips=proxies)
        return
    uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=True,
                forwarded_allow_ips=proxies)
