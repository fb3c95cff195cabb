"""The submission portal: country offices upload workbooks and get their verdict back.

``$MIGSTAT_HOME/portal/`` holds everything it writes: ``portal.sqlite`` (accounts, hashed API
tokens, sessions, uploads and their progress, the audit log), ``queue.sqlite`` (the huey job
queue), ``archive/`` (every uploaded file, immutable, by sha256, before anything else happens;
``migstat load`` then archives what it loads in ``$MIGSTAT_HOME/archive/`` as always), ``staging/``,
``secret`` (the cookie signing key), pid and log files of the server and the worker.
"""
