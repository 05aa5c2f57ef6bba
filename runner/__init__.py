"""benchwarden runner: runs on benchmark machines and in CI; never touches the database."""
