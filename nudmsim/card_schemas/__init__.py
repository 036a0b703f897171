"""Declared schemas of the card kinds that ship today (pyhf's ``schemas/`` idea).

One module per family of cards, each registering its kinds with :func:`nudmsim.cards.register_card_schema`
on import; :data:`nudmsim.cards.CARD_SCHEMA_MODULES` lists them and :func:`nudmsim.cards.load` imports
them on the first card load.  Each :class:`~nudmsim.schema.Field` carries the unit and meaning of its key
(taken from the shipped cards' comments) and the default that the reading code relies on: defaults live here,
never in the code that reads a value.

=====================  ==========================================================================
module                 kinds
=====================  ==========================================================================
``sources``            ``pi_dar`` (SNS), ``halo`` (SHM), ``meson_source`` (stopped / in-flight K+), ``pp``
``experiment``         ``experiment`` (engine cards: COHERENT, XENON1T, Borexino, CRESST-III, DarkSide-50, E949, NA62, ATLAS W)
``collider``           (none: the tables of the ``collider / atlas_w`` response stage)
``cosmology``          ``cosmology``
=====================  ==========================================================================

The modules import only :mod:`nudmsim.schema`, :mod:`nudmsim.cards` and light constants, so loading a
card never pulls in the analyses (no import cycle: cards -> card_schemas -> schema).
"""
