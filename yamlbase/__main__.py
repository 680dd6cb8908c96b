"""``python -m yamlbase`` runs the command line."""

from yamlbase.cli import main

main()
