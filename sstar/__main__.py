from sstar.cli.main import app

app()
