"""Reports: the weekly sub-processor report (`shadowmap collector report weekly`), built from the
usage rollup kept at ingest, the catalog's vendor facts, the register and open alerts."""
