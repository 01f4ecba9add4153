"""The application: use cases, configuration, logging and the composition root."""
