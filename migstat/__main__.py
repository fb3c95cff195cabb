from migstat.cli import entry

entry()
