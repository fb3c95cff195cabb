"""Standardized workbooks: the template writer and realistic sample submissions."""
