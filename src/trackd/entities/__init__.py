"""Plain records passed between the store, the services and the API, one module per resource.

Each knows its MLflow JSON shape (``to_json``), because that shape is the contract: the API
layer only chooses which record to send.
"""
