"""One module per page (or set of routes): each defines a ``router`` that ``create_app``
includes, and a page registers itself with ``csc_insight.web.pages.register``. Modules whose
names start with an underscore are helpers, not pages."""
