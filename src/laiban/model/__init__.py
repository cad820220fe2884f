"""Domain types and vocabularies. Imports nothing else of Laiban's."""
