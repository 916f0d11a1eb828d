"""CKAN-compatible Action API v3: the catalogue as CKAN clients and harvesters expect to see it."""
