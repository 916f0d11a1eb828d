"""门户 the web layer: app factory, pages, JSON API, templates, static assets."""
