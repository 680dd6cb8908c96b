"""The schema of a database as one typed model (:mod:`yamlbase.structure.model`): built by reflection, compared,
and turned into changes. See DESIGN: the structure flow ends in the same changelog the update flow reads."""
