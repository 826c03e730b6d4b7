"""One module per page: each defines a ``router`` that ``create_app`` includes."""
