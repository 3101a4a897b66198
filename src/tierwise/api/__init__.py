"""The REST API edge (FastAPI): ``/api/v1``, thin over the services."""
