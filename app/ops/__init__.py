"""Operations: backups of the running database and their restore (`opstats db backup|restore`)."""
