"""The shop site: catalogue, world (the application), tasks, HTML/text rendering, server."""
