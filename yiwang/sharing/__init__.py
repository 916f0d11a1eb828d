"""一网协同 sharing between departments: requests, grants, masking per field, the data-exchange API, usage."""
