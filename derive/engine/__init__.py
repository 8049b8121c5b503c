"""The engine stage: the network a validated spec describes, and its derivation.

Owns the activations and losses (one definition each, for the per-scalar and the matrix
form), the network, the chain-rule derivation, the rounding policy and numeric
evaluation. May import `derive.spec` only; opens no file."""
