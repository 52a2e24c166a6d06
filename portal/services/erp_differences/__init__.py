"""Differences between projects and their ERP jobs (issue 18): `compare` reads the ERP jobs'
codes through the connector and computes the differences; `listing` lists, counts and downloads
them; `actions` sends a project's missing codes for approval or adds the ERP's codes to it."""
