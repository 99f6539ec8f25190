# FerretDB v1.24 (SQLite) creates the _id index on `_ferretdb_sjson->"_id"` but queries `_ferretdb_sjson->'$._id'`.
# SQLite uses an expression index only for the same expression, so every find, update and delete by _id scanned
# the whole table. Querying with the index's own path lets SQLite search the index.
s|IDColumn = DefaultColumn + "->'\$\._id'"|IDColumn = DefaultColumn + "->'_id'"|
