"""The dataset as a Frictionless Data Package: tables, source texts, README and CITATION.cff."""

from app.read.datapackage.package import write_folder, write_zip

__all__ = ["write_folder", "write_zip"]
