"""The Return aggregate (an RMA): one stream per return."""
