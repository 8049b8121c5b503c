"""The classroom stage: a problem taken to a class.

Owns per-student versions and class packs, students' answers, error-carried-forward
grading, reports and LMS export. May import the views, the engine and the spec; opens no
file (the loaders and the output writer do that)."""
