"""`continuo data build`: manifests, sources, cleaning, the token cache."""
