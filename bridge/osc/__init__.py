"""OSC: the protocol registry, codec, router and UDP transport."""
