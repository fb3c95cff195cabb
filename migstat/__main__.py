from migstat.cli import app

app(prog_name="migstat")
