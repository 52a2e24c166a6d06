"""Connectors between the portal and the accounting systems (ERPs).

`formats` holds every ERP-specific rule, `base` the connector interface, `reference` the
embedded reference ERP, `sage100_files` the Sage 100 Contractor file connector and `cli` the
commands accounting staff use on the reference ERP.
"""
