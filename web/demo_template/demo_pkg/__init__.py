"""The demo project: two small workloads whose speed the demo history changes."""
