"""Page views: each reads its URL, calls the services and renders one template."""
