"""GraphQL at ``/graphql``: MLflow's schema, as a thin layer over trackd's services.

``schema.graphql`` declares the types, ``schema.py`` builds them and maps fields onto the REST
shapes the services already produce, ``resolvers.py`` holds one function per root field,
``limits.py`` refuses oversized queries before they run, ``access.py`` applies permissions.
"""
