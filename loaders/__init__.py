"""Spec-driven loading of migration workbooks into the raw DuckDB store.

``workbook`` reads a file into plain grids, ``parse`` turns grids into records through a layout
spec (pure), ``store`` writes the raw tables, and ``load`` runs it all over files and folders.
"""
