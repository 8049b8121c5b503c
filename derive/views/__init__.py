"""The views stage: what a derivation looks like on the page.

Owns the documents (rendered through derive/templates/), LaTeX printing and escaping, the
network diagram, plots, the grading key JSON and PDF compilation. May import the engine
and the spec; only PDF compilation touches files, in its own temporary folder."""
