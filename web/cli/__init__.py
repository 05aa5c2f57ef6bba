"""The `benchwarden` command: one module per group of commands, `main` in `web.cli.main`.

Every command returns an exit code; user errors print one ``error:`` line on
stderr and exit non-zero, never a traceback. Only this package reads
``argparse`` namespaces: the modules it calls take plain values.
"""
