"""The web studio: a page served by the hosted service at ``/`` that uses only the public v1 API."""
