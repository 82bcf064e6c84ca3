"""Human play: the terminal player and the browser page (``palaestra play ID``)."""
