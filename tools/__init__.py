"""Scripts of the build: what the Makefile runs besides the app."""
