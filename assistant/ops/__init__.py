"""Operations tooling: backup and restore."""
