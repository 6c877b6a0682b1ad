"""Shared test configuration.

Test modules start JAX while pytest collects them (module-level arrays), so
the first fit would find JAX's backend started and run its chains one after
another. Configure JAX as a user's first fit does, before any test module is
imported: one CPU device per core, so chains run in parallel.
"""

import skmmm

skmmm.configure()
