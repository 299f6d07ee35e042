"""Files to the event table: discovery and archives (:mod:`.sources`), format files
(:mod:`.formats`), format detection (:mod:`.detect`), the parse engines (:mod:`.parse`), node
identity (:mod:`.nodes`, :mod:`.bundleset`), clocks (:mod:`.clocks`) and the loader that ties
them together (:mod:`.load`)."""
