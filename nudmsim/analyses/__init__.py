"""Analyses: each module wires source x process x detector card into CLI-visible processes
(``register_process``), fits and limits (``register_analysis``).  Modules here are imported by
:func:`nudmsim.registry.load_all`."""
