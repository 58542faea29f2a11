"""`sstar models`: the models sstar knows, their sizes and where each is found."""

from __future__ import annotations

import dataclasses
import json

import typer
from rich.markup import escape
from rich.table import Table

from sstar.cli.common import stdout, user_errors
from sstar.models import cache_dir, list_models


@user_errors
def models(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """List the models, their sizes and where each is found (cache, installed packages, or not installed).

    --json adds descriptions and the exact packages of each model."""
    infos = list_models()
    if as_json:
        stdout.print_json(json.dumps([dataclasses.asdict(i) for i in infos]))
        return
    table = Table(title=f"models (cache: {cache_dir()})", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("found", no_wrap=True)
    table.add_column("where / how to install", overflow="fold")
    for info in infos:
        name = f"{info.name} *" if info.default else info.name
        if info.found == "not installed":
            found, where = "[red]not installed[/]", escape(f"pip install 'sstar[{info.extra}]'")
        else:
            found, where = f"[green]{info.found}[/]", escape(info.path or "")
        table.add_row(name, f"{info.size / 1e6:,.0f} MB", found, where)
    stdout.print(table)
    stdout.print("* the default. All are Apache-2.0. --json adds descriptions and the packages of each.", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
