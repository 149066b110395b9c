"""The analysis layer: what the book claims, computed from records (no training, no plots).

Each submodule is imported by name (``from lvae.analysis import table1``); this file
imports none of them, so the package costs nothing to import and submodules stay apart.

* ``claims``: a claim with its verdict and evidence; the Welch test and interval behind it.
* ``sphere``: chapter 1, fixed-sigma VAEs on a circle against the hypersphere theorem.
* ``table1``: chapter 2, Table 1 on the 2-D problem: settings, claims, regions, generation.
* ``dynamics``: chapter 3, training dynamics (sigma's trajectory, rises and drops).
* ``images``: chapter 4, image experiments (rankings, bounds, edge statistics).
"""
