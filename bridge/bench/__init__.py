"""``continuo bench``: latency, throughput, capacity and startup of the live daemon.

``run`` runs every measurement and returns one result dict; ``model`` measures the model in
this process; ``osc`` and ``midi`` drive a real daemon (``daemon``) over UDP loopback and
JACK; ``report`` prints, writes and plots the result. The method and the figures are in
``docs/latency.md``.
"""
