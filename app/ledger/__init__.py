"""The custodial ledger: double-entry, append-only, integer fen. Imports no feature."""
