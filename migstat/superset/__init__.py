"""Apache Superset over the published warehouse: dashboards as code, provisioned and served.

One room, one job per module:

* :mod:`~migstat.superset.spec`: the dashboards DSL (``superset/dashboards/*.yml`` as typed,
  cross-checked specs);
* :mod:`~migstat.superset.warehouse`: mart column types and the warehouse's SQLAlchemy URI;
* :mod:`~migstat.superset.charts`: a chart's form data and query context;
* :mod:`~migstat.superset.bundle`: the v1 import bundle and its deterministic zip;
* :mod:`~migstat.superset.paths`, :mod:`~migstat.superset.credentials`,
  :mod:`~migstat.superset.install`, :mod:`~migstat.superset.control`: Superset's environment,
  secrets, provisioning and server (``migstat superset install|up|down|status``);
* ``provision.py`` and ``superset_config.py`` run inside Superset's own environment (they import
  nothing from migstat); ``requirements.txt`` and ``constraints.txt`` pin that environment.
"""
